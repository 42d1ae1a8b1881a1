package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/diff/render"
	"github.com/corsaudit/corsaudit/internal/lab"
	"github.com/corsaudit/corsaudit/internal/plural"
	"github.com/corsaudit/corsaudit/pipeline"
)

// demoOptions are the flags of `corsaudit demo`.
type demoOptions struct {
	Format string
}

func newCmdDemo(ios iostreams, runF func(*demoOptions) error) *cobra.Command {
	opts := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Audit a small fleet started in-process on loopback (12 instances, one drifted, one down, an LB that redirects OPTIONS on one of two paths)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runDemo(cmd.Context(), ios, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Format, "format", "o", "table", "report format: "+joinFormats())
	return cmd
}

func joinFormats() string {
	s := ""
	for i, f := range render.Formats() {
		if i > 0 {
			s += ", "
		}
		s += f
	}
	return s
}

// demoFleet is the demo's running fleet (lab.Demo) and the config that
// audits it.
type demoFleet struct {
	lab    *lab.Lab
	config *config.Config
}

func (f *demoFleet) Close() { f.lab.Close() }

// startDemoFleet starts lab.Demo in-process and takes its config, with
// short timeouts: every instance is on loopback.
func startDemoFleet() (*demoFleet, error) {
	l, err := lab.StartDemo()
	if err != nil {
		return nil, err
	}
	cfg := l.Config()
	cfg.Timeout = 2 * time.Second
	cfg.Deadline = time.Minute
	cfg.Targets[0].Name = "shop-api"
	cfg.Targets[0].Paths = slices.Clone(lab.DemoPaths)
	return &demoFleet{lab: l, config: &cfg}, nil
}

func runDemo(ctx context.Context, ios iostreams, opts *demoOptions) error {
	renderer, err := pickRenderer(opts.Format, true, ios.colour(""))
	if err != nil {
		return err
	}
	fleet, err := startDemoFleet()
	if err != nil {
		return incompleteError(fmt.Errorf("demo: start fleet: %w", err))
	}
	defer fleet.Close()
	fmt.Fprintf(ios.errOut, "corsaudit demo: %s at %s\n", fleet.lab.Scenario.Summary, fleet.lab.URL)
	built, err := fleet.config.Build()
	if err != nil {
		return incompleteError(fmt.Errorf("demo: %w", err))
	}
	rep, err := pipeline.Audit(ctx, built, pipeline.Options{Log: ios.errOut, Version: reportVersion()})
	if rep == nil {
		return incompleteError(fmt.Errorf("demo: %w", err))
	}
	if err := renderer.Render(ios.out, rep); err != nil {
		return incompleteError(err)
	}
	fmt.Fprint(ios.errOut, demoExplanation(rep))
	if err != nil {
		return incompleteError(err)
	}
	return nil
}

// demoExplanation says in three lines what the demo's findings mean.
func demoExplanation(rep *diff.Report) string {
	return fmt.Sprintf(`
What this shows (%s, one per cause):
  verdict-drift: web-07 still runs the old CORS config, so PUT and X-Request-Id fail for users who land on it, on both paths: one finding for everything that config explains, the requests through the load balancer that land on it included (its share); unreachable: web-12 is down and is left out of every majority.
  lb-redirect: the load balancer answers every OPTIONS preflight on /v1/cart with a 301, and browsers reject redirected preflights, so every non-simple request there fails through it whatever the instances say.
  Each finding ends with a curl command that reproduces it (direct ones use --connect-to to reach one instance with the public Host).
`, plural.Count(rep.Summary.Findings, "finding"))
}

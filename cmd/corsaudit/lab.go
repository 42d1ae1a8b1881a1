package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/corsaudit/corsaudit/internal/lab"
	"github.com/corsaudit/corsaudit/internal/plural"
)

// labOptions are the flags of `corsaudit lab`.
type labOptions struct {
	Scenario string
	Dir      string
	List     bool
}

// defaultLabScenario is the scenario `corsaudit lab` starts without --scenario.
const defaultLabScenario = "nginx-round-robin"

func newCmdLab(ios iostreams, runF func(*labOptions) error) *cobra.Command {
	opts := &labOptions{}
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Start a local nginx, haproxy or varnish in front of instances on loopback, in a misconfiguration to audit",
		Long: `Start one lab scenario: a few instances on 127.0.0.1 behind a real nginx,
haproxy or varnish (or varnish in front of haproxy) configured to show one
load balancer or cache pitfall (or none), print the corsaudit config that
audits it, and run until Ctrl-C:

  corsaudit lab --scenario nginx-cache-leak > lab.yaml
  corsaudit audit --config lab.yaml      # in another terminal

Scenarios: ` + strings.Join(lab.Names(), ", ") + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runLab(cmd.Context(), ios, opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Scenario, "scenario", "s", defaultLabScenario, "scenario to start (see --list)")
	f.StringVar(&opts.Dir, "dir", "", "directory for the proxy config, pid file and cache (default: a temporary one, removed on exit)")
	f.BoolVar(&opts.List, "list", false, "list the scenarios and exit")
	return cmd
}

func runLab(ctx context.Context, ios iostreams, opts *labOptions) error {
	if opts.List {
		for _, sc := range lab.Scenarios() {
			shows := "no finding"
			if len(sc.Findings) > 0 {
				shows = strings.Join(sc.Findings, ", ")
			}
			fmt.Fprintf(ios.out, "%-30s %s (shows: %s)\n", sc.Name, sc.Summary, shows)
		}
		return nil
	}
	sc, err := lab.Lookup(opts.Scenario)
	if err != nil {
		return usageError(err)
	}
	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "corsaudit-lab-"); err != nil {
			return incompleteError(fmt.Errorf("lab: %w", err))
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageError(fmt.Errorf("lab: --dir: %w", err))
	}
	l, err := lab.Start(ctx, sc, dir)
	if err != nil {
		return incompleteError(err)
	}
	defer l.Close()
	cfg, err := l.ConfigYAML()
	if err != nil {
		return incompleteError(err)
	}
	if _, err := ios.out.Write(cfg); err != nil {
		return incompleteError(fmt.Errorf("lab: %w", err))
	}
	proxy := string(sc.Proxy)
	if sc.Front != nil {
		proxy = string(sc.Front.Proxy) + " in front of " + proxy + " (" + l.Inner + ")"
	}
	fmt.Fprintf(ios.errOut, "corsaudit lab: %s on %s (%s, %s in %s); save the config above and run `corsaudit audit --config FILE`; Ctrl-C stops\n",
		proxy, l.URL, plural.Count(len(l.Instances), "instance"), l.ConfigPath, dir)
	select {
	case <-ctx.Done():
	case <-l.Exited():
		return incompleteError(fmt.Errorf("lab: %s exited: %s", sc.Proxy, strings.TrimSpace(l.Output())))
	}
	if err := l.Close(); err != nil {
		return incompleteError(err)
	}
	return nil
}

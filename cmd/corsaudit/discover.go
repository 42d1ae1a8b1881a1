package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/internal/escape"
	"github.com/corsaudit/corsaudit/internal/plural"
	"github.com/corsaudit/corsaudit/pipeline"
)

// discoverOptions are the flags of `corsaudit discover`.
type discoverOptions struct {
	audit  auditOptions
	Format string
	// Output is where the JSON inventory goes (implies --format json).
	Output string
}

func newCmdDiscover(ios iostreams, runF func(*discoverOptions) error) *cobra.Command {
	opts := &discoverOptions{}
	cmd := &cobra.Command{
		Use:   "discover",
		Short: "List the instances of every target, as the providers find them, and how the load balancer routes each probed request (nothing is probed)",
		Long: `List every target's instances and, when the provider knows the load
balancer's routing (ALB listener rules, GCP URL map), the rule, action and
pools of each probed path and step, the pools no probe reaches (not
audited), and the findings the routes show without a request (a rule that
redirects or answers preflights itself).

Exit 0 when the inventory is listed, whatever those findings say (audit
judges them with --fail-on), so that "discover --output fleet.json" scripts
for sharded audits keep working; 2 on a config error, including a load
balancer that sends no probed request to any discovered instance; 3 when
discovery could not complete.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.audit.flags = cmd.Flags()
			if opts.Output != "" && !cmd.Flags().Changed("format") {
				opts.Format = "json"
			}
			if runF != nil {
				return runF(opts)
			}
			return runDiscover(cmd, ios, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.audit.ConfigFile, "config", "c", "", "config `FILE` (YAML)")
	cmd.Flags().StringVarP(&opts.Format, "format", "o", "table", "`FORMAT`: table (or text) or json, any case (json: the inventory that audit --inventory --shard probes from)")
	cmd.Flags().StringVar(&opts.Output, "output", "", "write the JSON inventory to `FILE` (atomically) instead of stdout")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func runDiscover(cmd *cobra.Command, ios iostreams, opts *discoverOptions) error {
	format, err := normalizeFormat(opts.Format, []string{"table", "json"}, "table", false)
	if err != nil {
		return usageError(fmt.Errorf("discover: %w", errors.Unwrap(err)))
	}
	opts.Format = format
	if opts.Format == "json" {
		return runDiscoverInventory(cmd, ios, opts)
	}
	if opts.Output != "" {
		return usageError(errors.New("discover: --output writes the JSON inventory: not with --format table"))
	}
	built, err := opts.audit.prepareDiscovery() // discover sends nothing: no secret is read
	if err != nil {
		return err
	}
	inv, derr := pipeline.DiscoverInventory(cmd.Context(), built, version, ios.errOut)
	if inv == nil {
		return usageError(derr)
	}
	for i := range inv.Targets {
		if i > 0 {
			fmt.Fprintln(ios.out)
		}
		writeDiscoverTarget(ios.out, &inv.Targets[i])
	}
	if derr != nil {
		return incompleteError(derr)
	}
	return nil
}

// writeDiscoverTarget writes one target of the inventory as discover's
// table: its instances, then, when the load balancer routes requests, the
// route of each path and step, the pools left out, and the findings of
// the routes. Every value goes through escape.Text.
func writeDiscoverTarget(w io.Writer, t *pipeline.InventoryTarget) {
	c := escape.Text
	fmt.Fprintf(w, "%s  %s  (%s)\n", c(t.Name), c(t.URL), plural.Count(len(t.Instances), "instance"))
	pools := slices.ContainsFunc(t.Instances, func(in discovery.Instance) bool { return in.Pool != "" })
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	head := "  ID\tADDRESS\tGROUP\tWEIGHT\tZONE\tHEALTH\tNOTE"
	if pools {
		head = "  ID\tADDRESS\tGROUP\tPOOL\tWEIGHT\tZONE\tHEALTH\tNOTE"
	}
	fmt.Fprintln(tw, head)
	for _, in := range t.Instances {
		weight := ""
		if in.Weight != 0 {
			weight = strconv.Itoa(in.Weight)
		}
		health := in.Health
		if in.HealthReason != "" {
			health += " (" + in.HealthReason + ")"
		}
		cols := []string{in.ID, dash(in.Addr), dash(in.Group)}
		if pools {
			cols = append(cols, dash(in.Pool))
		}
		cols = append(cols, dash(weight), dash(in.Zone), dash(health), in.Skip)
		for k := range cols {
			cols[k] = c(cols[k])
		}
		fmt.Fprintf(tw, "  %s\n", strings.Join(cols, "\t"))
	}
	tw.Flush()
	if len(t.Routing) > 0 {
		fmt.Fprintln(w, "  routes (what the load balancer does with each probed request):")
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "    PATH\tREQUEST\tRULE\tACTION\tPROBES")
		for _, e := range t.Routing {
			req := e.Method
			if e.Step == audit.StepPreflight {
				req += " (preflight)"
			}
			action := e.Describe()
			if e.Note != "" {
				action += "; note: " + e.Note
			}
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\n", c(e.Path), c(req), c(e.Rule), c(action), c(probeIDs(e.Probes)))
		}
		tw.Flush()
	}
	for _, lo := range t.LeftOut {
		fmt.Fprintf(w, "  not audited: %s\n", c(pipeline.LeftOutNote(lo)))
	}
	if len(t.Findings) > 0 {
		fmt.Fprintln(w, "  findings from the routes alone (nothing sent; audit reports them too):")
		for _, f := range t.Findings {
			fmt.Fprintf(w, "    %-7s  %s  %s\n", f.Severity, f.Kind, c(f.Message))
			if f.Reproduce != "" {
				fmt.Fprintf(w, "             $ %s\n", c(f.Reproduce))
			}
		}
	}
}

// probeIDs lists probe ids, the first five and how many more.
func probeIDs(ids []string) string {
	if len(ids) > 5 {
		return fmt.Sprintf("%s and %d more", strings.Join(ids[:5], ", "), len(ids)-5)
	}
	return strings.Join(ids, ", ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return escape.Text(s)
}

// newCmdConfig is `corsaudit config check [FILE]`.
func newCmdConfig(ios iostreams) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Work with config files"}
	var file string
	check := &cobra.Command{
		Use:   "check [FILE]",
		Short: "Validate a config file (FILE or --config FILE) without probing anything",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 1 && file != "" && args[0] != file:
				return usageError(fmt.Errorf("config check: give the file once: %s or --config %s", args[0], file))
			case len(args) == 1:
				file = args[0]
			case file == "":
				return usageError(errors.New("config check: give the file: corsaudit config check FILE (or --config FILE)"))
			}
			o := &auditOptions{ConfigFile: file, flags: cmd.Flags()}
			cfg, err := o.load()
			if err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil { // reads no secret, builds no provider
				return o.invalid(err)
			}
			for _, t := range cfg.Targets {
				if w := pipeline.MixedContentWarning(t.Name, t.URL, t.Policy.Origins); w != "" {
					fmt.Fprintf(ios.errOut, "corsaudit: %s\n", w)
				}
			}
			fmt.Fprintf(ios.out, "config %s: ok (%s)\n", file, plural.Count(len(cfg.Targets), "target"))
			return nil
		},
	}
	check.Flags().StringVarP(&file, "config", "c", "", "config file (YAML); or give it as the argument")
	cmd.AddCommand(check)
	return cmd
}

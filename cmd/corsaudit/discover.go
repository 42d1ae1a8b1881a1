package main

import (
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

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
		Short: "List the instances of every target, as the providers find them (nothing is probed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.audit.flags = cmd.Flags()
			opts.audit.noSecrets = true // discover sends nothing
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
	cfg, err := opts.audit.prepare()
	if err != nil {
		return err
	}
	built, err := cfg.Build()
	if err != nil {
		return usageError(err)
	}
	specs, derr := pipeline.Discover(cmd.Context(), built)
	for _, s := range specs {
		fmt.Fprintf(ios.out, "%s  %s  (%s)\n", escape.Text(s.Target.Name), escape.Text(s.Target.URL), plural.Count(len(s.Target.Instances), "instance"))
		tw := tabwriter.NewWriter(ios.out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  ID\tADDRESS\tGROUP\tWEIGHT\tZONE\tHEALTH\tNOTE")
		for _, in := range s.Target.Instances {
			weight := ""
			if in.Weight != 0 {
				weight = strconv.Itoa(in.Weight)
			}
			health := in.Health
			if in.HealthReason != "" {
				health += " (" + in.HealthReason + ")"
			}
			// Each cell may come from a discovery API: escaped, one line.
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", escape.Text(in.ID), dash(in.Addr), dash(in.Group), dash(weight), dash(in.Zone), dash(health), escape.Text(in.Skip))
		}
		tw.Flush()
	}
	if derr != nil {
		return incompleteError(derr)
	}
	return nil
}

// dash is s escaped for the terminal, "-" when empty.
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
			cfg, err := o.prepare()
			if err != nil {
				return err
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

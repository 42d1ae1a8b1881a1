package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/pipeline"
)

// gateOptions are the flags of `corsaudit gate`.
type gateOptions struct {
	audit        auditOptions
	Baseline     string
	Candidate    string
	PolicyFile   string
	MinInstances int
	Targets      []string
}

func newCmdGate(ios iostreams, runF func(*gateOptions) error) *cobra.Command {
	opts := &gateOptions{}
	cmd := &cobra.Command{
		Use:   "gate --config FILE --candidate GROUP (--baseline GROUP | --policy FILE)",
		Short: "Pre-deploy gate: fail when a candidate group's CORS verdicts differ from the baseline group or a policy",
		Long: `Audit the targets of the config and compare the candidate group (the new
target group, instance group or static group) with the majority of the
baseline group, or with a declared policy.

Exit 1 when any candidate instance decides any probe differently or is
unreachable, when the candidate group has fewer than --min-instances
reachable instances, or when the baseline group has no reachable instance
or no majority. Exit 2 when a group is not found: with --target, each named
target must have both groups; without it, targets with neither group are
skipped (a note on stderr), and one with only one of them is an error.
Exit 0 when the candidate matches.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.audit.flags = cmd.Flags()
			if runF != nil {
				return runF(opts)
			}
			return notRunMetrics(opts.audit.MetricsFile, runGate(cmd, ios, opts))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.audit.ConfigFile, "config", "c", "", "config `FILE` (YAML)")
	f.StringVar(&opts.Baseline, "baseline", "", "`GROUP` whose majority is the reference (e.g. blue)")
	f.StringVar(&opts.Candidate, "candidate", "", "`GROUP` that must match (e.g. green)")
	f.StringVar(&opts.PolicyFile, "policy", "", "YAML policy `FILE` (origins, methods, headers, credentials) to compare with instead of a baseline")
	f.IntVar(&opts.MinInstances, "min-instances", 1, "fail when the candidate group has fewer reachable instances in a target")
	f.StringArrayVar(&opts.Targets, "target", nil, "gate only the target `NAME` (repeatable; default: every target with the groups)")
	f.BoolVarP(&opts.audit.Insecure, "insecure", "k", false, "do not verify TLS certificates (LB and instances, every target)")
	addOutputFlags(f, &opts.audit.Format, &opts.audit.Output, &opts.audit.MetricsFile)
	addSettingFlags(f)
	addLogFlags(f, &opts.audit.Quiet, &opts.audit.Verbose)
	_ = cmd.MarkFlagRequired("config")
	_ = cmd.MarkFlagRequired("candidate")
	return cmd
}

func runGate(cmd *cobra.Command, ios iostreams, opts *gateOptions) error {
	switch {
	case opts.Baseline == "" && opts.PolicyFile == "":
		return usageError(errors.New("gate: give --baseline GROUP or --policy FILE"))
	case opts.Baseline != "" && opts.PolicyFile != "":
		return usageError(errors.New("gate: give --baseline or --policy, not both"))
	case opts.Baseline == opts.Candidate:
		return usageError(fmt.Errorf("gate: baseline and candidate are both %q", opts.Candidate))
	}
	built, err := opts.audit.prepare()
	if err != nil {
		return err
	}
	gate := diff.Gate{Baseline: opts.Baseline, Candidate: opts.Candidate, MinInstances: opts.MinInstances}
	if opts.PolicyFile != "" {
		pol, err := readPolicy(opts.PolicyFile)
		if err != nil {
			return usageError(err)
		}
		if built, err = built.WithPolicy(pol); err != nil {
			return usageError(fmt.Errorf("gate: the policy of %s:\n%w", opts.PolicyFile, indent(err)))
		}
		gate = diff.Gate{Candidate: opts.Candidate, Policy: true, MinInstances: opts.MinInstances}
	}
	// The gate is read in CI logs: a table unless asked otherwise.
	renderer, err := pickRenderer(opts.audit.Format, opts.audit.Output == "", ios.colour(opts.audit.Output))
	if err != nil {
		return err
	}
	popt := pipeline.Options{Diff: gate.Options(built.Config.Analyses), Select: selectTargets(gate, opts.Targets, ios.errOut)}
	rep, runErr := runAuditCmd(cmd, ios, &opts.audit, renderer, built, popt)
	if rep == nil {
		return runErr
	}
	failures := gate.Failures(rep)
	// The verdict goes to stderr with the logs, so stdout stays the report.
	printGate(ios.errOut, opts, failures)
	if runErr != nil {
		return runErr
	}
	if len(failures) > 0 {
		return &exitError{code: exitFindings}
	}
	return nil
}

// selectTargets keeps, before probing, the targets the gate compares
// (diff.Gate.Select); its notes go to log, its errors are usage errors.
func selectTargets(gate diff.Gate, names []string, log io.Writer) func([]audit.TargetSpec) ([]audit.TargetSpec, error) {
	return func(specs []audit.TargetSpec) ([]audit.TargetSpec, error) {
		targets := make([]discovery.Target, len(specs))
		for i, s := range specs {
			targets[i] = s.Target
		}
		keep, notes, err := gate.Select(targets, names)
		for _, n := range notes {
			fmt.Fprintln(log, n)
		}
		if err != nil {
			return nil, usageError(err)
		}
		out := make([]audit.TargetSpec, len(keep))
		for i, k := range keep {
			out[i] = specs[k]
		}
		return out, nil
	}
}

// readPolicy reads and validates a --policy file.
func readPolicy(path string) (config.Policy, error) {
	data, err := config.ReadFile(path)
	if err != nil {
		return config.Policy{}, fmt.Errorf("gate: policy: %w", err)
	}
	pol, err := config.ParsePolicy(data, path)
	if err != nil {
		return config.Policy{}, fmt.Errorf("gate: invalid policy:\n%w", indent(err))
	}
	return pol, nil
}

// printGate prints the gate's verdict in a form a reviewer reads in a CI log.
func printGate(w io.Writer, opts *gateOptions, failures []string) {
	ref := "baseline group " + opts.Baseline
	if opts.PolicyFile != "" {
		ref = "policy " + opts.PolicyFile
	}
	if len(failures) == 0 {
		fmt.Fprintf(w, "\ngate: PASS: candidate group %s matches the %s on every probe\n", opts.Candidate, ref)
		return
	}
	fmt.Fprintf(w, "\ngate: FAIL: candidate group %s differs from the %s:\n", opts.Candidate, ref)
	for _, f := range failures {
		fmt.Fprintf(w, "  - %s\n", f)
	}
}

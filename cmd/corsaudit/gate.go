package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/diff"
)

// gateOptions are the flags of `corsaudit gate`.
type gateOptions struct {
	audit        auditOptions
	Baseline     string
	Candidate    string
	PolicyFile   string
	MinInstances int
}

func newCmdGate(ios iostreams, runF func(*gateOptions) error) *cobra.Command {
	opts := &gateOptions{}
	cmd := &cobra.Command{
		Use:   "gate --config FILE --candidate GROUP (--baseline GROUP | --policy FILE)",
		Short: "Pre-deploy gate: fail when a candidate group's CORS verdicts differ from the baseline group or a policy",
		Long: `Audit the targets of the config and compare the candidate group (the new
target group, instance group or static group) with the majority of the
baseline group, or with a declared policy. Exit 1 when any candidate instance
decides any probe differently, is unreachable, or when the candidate group has
fewer than --min-instances instances; exit 0 when it matches.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.audit.flags = cmd.Flags()
			if runF != nil {
				return runF(opts)
			}
			return runGate(cmd, ios, opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.audit.ConfigFile, "config", "c", "", "config file (YAML)")
	f.StringVar(&opts.Baseline, "baseline", "", "group whose majority is the reference (e.g. blue)")
	f.StringVar(&opts.Candidate, "candidate", "", "group that must match (e.g. green)")
	f.StringVar(&opts.PolicyFile, "policy", "", "YAML policy (origins, methods, headers, credentials) to compare with instead of a baseline")
	f.IntVar(&opts.MinInstances, "min-instances", 1, "fail when the candidate group has fewer reachable instances in a target")
	addOutputFlags(f, &opts.audit.Format, &opts.audit.Output, &opts.audit.MetricsFile)
	addSettingFlags(f)
	_ = cmd.MarkFlagRequired("config")
	_ = cmd.MarkFlagRequired("candidate")
	return cmd
}

// gateKinds are the findings that say a candidate decides differently.
var gateKinds = map[diff.Kind]bool{
	diff.KindVerdictDrift: true, diff.KindSplit: true, diff.KindPolicyViolation: true, diff.KindUnreachable: true,
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
	cfg, built, err := opts.audit.prepare()
	if err != nil {
		return err
	}
	dopt := diff.Options{Baseline: opts.Baseline, Candidate: opts.Candidate, Checks: cfg.Checks}
	if opts.PolicyFile != "" {
		pol, err := readPolicy(opts.PolicyFile)
		if err != nil {
			return usageError(err)
		}
		for i := range built {
			built[i].policy = pol
		}
		dopt = diff.Options{Candidate: opts.Candidate, Policy: true, Checks: cfg.Checks}
	}
	// The gate is read in CI logs: a table unless asked otherwise.
	renderer, err := pickRenderer(opts.audit.Format, opts.audit.Output == "")
	if err != nil {
		return err
	}
	rep, runErr := runAuditCmd(cmd, ios, &opts.audit, renderer, cfg, built, dopt)
	if rep == nil {
		return runErr
	}
	failures := gateFailures(rep, opts)
	// The verdict goes to stderr with the logs, so stdout stays the report.
	printGate(ios.errOut, rep, opts, failures)
	if runErr != nil {
		return runErr
	}
	if len(failures) > 0 {
		return &exitError{code: exitFindings}
	}
	return nil
}

// readPolicy reads a policy file: origins, methods, headers, credentials.
func readPolicy(path string) (audit.Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return audit.Policy{}, fmt.Errorf("gate: policy: %w", err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return audit.Policy{}, fmt.Errorf("gate: policy %s: %w", path, err)
	}
	var pc PolicyConfig
	if err := decodeStrict(raw)(&pc); err != nil {
		return audit.Policy{}, fmt.Errorf("gate: policy %s: %w", path, err)
	}
	var errs []error
	if len(pc.Origins) == 0 {
		errs = append(errs, errors.New("origins: at least one origin is required"))
	}
	for j, o := range pc.Origins {
		if _, err := cors.ParseOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("origins[%d]: %w", j, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return audit.Policy{}, fmt.Errorf("gate: policy %s:\n%w", path, indent(err))
	}
	return audit.Policy{Origins: pc.Origins, Methods: cors.NormalizeMethods(pc.Methods), Headers: pc.Headers, Credentials: pc.Credentials}, nil
}

// gateFailures lists why the gate fails: findings about candidate
// instances, and targets with too few candidate instances.
func gateFailures(rep *diff.Report, opts *gateOptions) []string {
	var out []string
	candidates := map[string]map[string]bool{} // target -> instance ids
	for _, t := range rep.Targets {
		ids := map[string]bool{}
		n := 0
		for _, in := range t.Instances {
			if in.Group == opts.Candidate {
				ids[in.ID] = true
				if in.Reachable {
					n++
				}
			}
		}
		candidates[t.Name] = ids
		if n < opts.MinInstances {
			out = append(out, fmt.Sprintf("%s: candidate group %q has %d reachable instances, fewer than --min-instances %d", t.Name, opts.Candidate, n, opts.MinInstances))
		}
	}
	for _, f := range rep.Findings {
		if !gateKinds[f.Kind] {
			continue
		}
		var hit []string
		for _, id := range f.Instances {
			if candidates[f.Target][id] {
				hit = append(hit, id)
			}
		}
		baselineSplit := f.Kind == diff.KindSplit && len(hit) == 0 && opts.Baseline != ""
		if len(hit) == 0 && !baselineSplit {
			continue
		}
		probe := ""
		if f.Probe != nil {
			probe = fmt.Sprintf("%s from %s", f.Probe.Method, f.Probe.Origin)
			if len(f.Probe.Headers) > 0 {
				probe += " with " + strings.Join(f.Probe.Headers, ", ")
			}
		}
		if baselineSplit {
			out = append(out, fmt.Sprintf("%s: %s: the baseline group has no majority (%s): nothing to compare with", f.Target, probe, f.Observed))
			continue
		}
		sort.Strings(hit)
		out = append(out, fmt.Sprintf("%s: %s: %s\n      reference: %s\n      candidate: %s\n      %s",
			f.Target, probe, strings.Join(hit, ", "), f.Expected, f.Observed, f.Reproduce))
	}
	return out
}

// printGate prints the gate's verdict in a form a reviewer reads in a CI log.
func printGate(w io.Writer, rep *diff.Report, opts *gateOptions, failures []string) {
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

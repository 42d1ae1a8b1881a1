package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/diff/report"
)

// auditOptions are the flags of `corsaudit audit`.
type auditOptions struct {
	ConfigFile string
	// Without a config file: one target from the command line.
	URL            string
	Instances      []string // [ID=]ADDR
	Origins        []string
	Methods        []string
	Headers        []string
	Credentials    bool
	DirectScheme   string
	InstanceHeader string
	NoLB           bool

	Format      string
	Output      string
	MetricsFile string

	flags *pflag.FlagSet
}

func newCmdAudit(ios iostreams, runF func(*auditOptions) error) *cobra.Command {
	opts := &auditOptions{}
	cmd := &cobra.Command{
		Use:   "audit [URL]",
		Short: "Send the same CORS requests to every instance and through the load balancer, and report drift",
		Long: `Audit every target of the config file, or one target given on the command line:

  corsaudit audit --config corsaudit.yaml
  corsaudit audit https://api.example.com/v1/cart --instance 10.0.1.5:8080 --instance 10.0.1.6:8080 \
      --origin https://app.example.com --method GET --method PUT --header 'Content-Type'

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or config error,
3 discovery or audit could not complete (the partial report is still written).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.URL = args[0]
			}
			opts.flags = cmd.Flags()
			if runF != nil {
				return runF(opts)
			}
			return runAudit(cmd, ios, opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.ConfigFile, "config", "c", "", "config file (YAML)")
	f.StringArrayVar(&opts.Instances, "instance", nil, "instance to audit, [ID=]HOST:PORT (repeatable; without --config)")
	f.StringArrayVar(&opts.Origins, "origin", nil, "page origin the policy allows (repeatable; without --config)")
	f.StringArrayVar(&opts.Methods, "method", nil, "method the policy allows (repeatable; default GET)")
	f.StringArrayVar(&opts.Headers, "header", nil, "request header name the policy allows (repeatable)")
	f.BoolVar(&opts.Credentials, "credentials", false, "the policy allows credentialed requests")
	f.StringVar(&opts.DirectScheme, "direct-scheme", "", "scheme to reach instances directly (default: the URL's)")
	f.StringVar(&opts.InstanceHeader, "instance-header", "", "response header naming the instance that served a request")
	f.BoolVar(&opts.NoLB, "no-lb", false, "do not send requests through the load balancer")
	addOutputFlags(f, &opts.Format, &opts.Output, &opts.MetricsFile)
	addSettingFlags(f)
	return cmd
}

func addOutputFlags(f *pflag.FlagSet, format, output, metrics *string) {
	f.StringVarP(format, "format", "o", "", "report format: "+strings.Join(report.Formats(), ", ")+" (default table on a terminal, json otherwise)")
	f.StringVar(output, "output", "", "write the report to this file (atomically) instead of stdout")
	f.StringVar(metrics, "metrics-file", "", "also write Prometheus metrics to this file (node_exporter textfile collector)")
}

// commandLineConfig builds a one-target config from flags.
func (o *auditOptions) commandLineConfig() (map[string]any, error) {
	if o.URL == "" {
		return nil, errors.New("give --config FILE, or a URL with --instance and --origin")
	}
	var insts []any
	for _, s := range o.Instances {
		id, addr, ok := strings.Cut(s, "=")
		if !ok {
			id, addr = "", s
		}
		insts = append(insts, map[string]any{"id": id, "addr": addr})
	}
	t := map[string]any{
		"url":      o.URL,
		"discover": map[string]any{"static": map[string]any{"instances": insts}},
		"direct":   map[string]any{"scheme": o.DirectScheme},
		"lb":       map[string]any{"instance_header": o.InstanceHeader, "disabled": o.NoLB},
		"policy":   map[string]any{"origins": o.Origins, "methods": o.Methods, "headers": o.Headers, "credentials": o.Credentials},
	}
	return t, nil
}

// prepare loads and validates the config of an audit-like command.
func (o *auditOptions) prepare() (*Config, []builtTarget, error) {
	var cfg *Config
	var err error
	if o.ConfigFile != "" {
		if len(o.Instances) > 0 || o.URL != "" {
			return nil, nil, usageError(errors.New("give either --config or a URL with --instance, not both"))
		}
		cfg, err = loadConfig(o.ConfigFile, o.flags)
	} else {
		var t map[string]any
		t, err = o.commandLineConfig()
		if err != nil {
			return nil, nil, usageError(err)
		}
		cfg, err = loadConfig("", o.flags)
		if err == nil {
			var tc TargetConfig
			if err = decodeStrict(t)(&tc); err == nil {
				cfg.Targets = []TargetConfig{tc}
			}
		}
	}
	if err != nil {
		return nil, nil, usageError(err)
	}
	built, err := cfg.Validate()
	if err != nil {
		return nil, nil, usageError(fmt.Errorf("invalid config:\n%w", indent(err)))
	}
	return cfg, built, nil
}

func indent(err error) error {
	return errors.New("  " + strings.ReplaceAll(err.Error(), "\n", "\n  "))
}

// pickRenderer returns the renderer for --format; without one, a table when
// table is true, else JSON.
func pickRenderer(format string, table bool) (report.Renderer, error) {
	if format == "" {
		format = "json"
		if table {
			format = "table"
		}
	}
	r, err := report.Lookup(format)
	if err != nil {
		return nil, usageError(err)
	}
	return r, nil
}

// runAuditCmd runs an audit and writes its report and metrics; shared by
// audit and gate. The report is nil only when nothing could run; the error
// is an exitError (usage, or incomplete for a partial report).
func runAuditCmd(cmd *cobra.Command, ios iostreams, o *auditOptions, renderer report.Renderer,
	cfg *Config, built []builtTarget, dopt diff.Options) (*diff.Report, error) {
	if dopt.Checks == nil {
		dopt.Checks = cfg.Checks
	}
	run := &auditRun{cfg: cfg, built: built, diffOpt: dopt, log: ios.errOut}
	if ios.errIsTerminal {
		run.progress = ios.errOut
	}
	rep, runErr := run.run(cmd.Context())
	if rep == nil {
		return nil, runErr
	}
	if err := writeReport(ios.out, o.Output, renderer, rep); err != nil {
		return rep, incompleteError(err)
	}
	if o.MetricsFile != "" {
		var lastSuccess time.Time
		if runErr == nil {
			lastSuccess = time.Now()
		}
		err := report.WriteFileAtomic(o.MetricsFile, func(w io.Writer) error { return report.Metrics(w, rep, lastSuccess) })
		if err != nil {
			return rep, incompleteError(fmt.Errorf("metrics: %w", err))
		}
	}
	if runErr != nil {
		return rep, incompleteError(runErr)
	}
	return rep, nil
}

func writeReport(stdout io.Writer, path string, r report.Renderer, rep *diff.Report) error {
	if path == "" || path == "-" {
		return r.Render(stdout, rep)
	}
	return report.WriteFileAtomic(path, func(w io.Writer) error { return r.Render(w, rep) })
}

func runAudit(cmd *cobra.Command, ios iostreams, o *auditOptions) error {
	cfg, built, err := o.prepare()
	if err != nil {
		return err
	}
	renderer, err := pickRenderer(o.Format, ios.outIsTerminal && o.Output == "")
	if err != nil {
		return err
	}
	rep, err := runAuditCmd(cmd, ios, o, renderer, cfg, built, diff.Options{})
	if err != nil {
		return err
	}
	return failOn(cfg.FailOn, rep)
}

// failOn maps the findings to the exit code for --fail-on.
func failOn(level string, rep *diff.Report) error {
	if level == "never" {
		return nil
	}
	if max := rep.MaxSeverity(); max != "" && max.Rank() >= diff.Severity(level).Rank() {
		return &exitError{code: exitFindings}
	}
	return nil
}

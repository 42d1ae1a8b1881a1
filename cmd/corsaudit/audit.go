package main

import (
	"errors"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/diff/render"
	"github.com/corsaudit/corsaudit/pipeline"
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
	Paths          []string
	// Auth: the logged-in user's secret, from a variable or a file.
	AuthHeader, AuthCookie, AuthFromEnv, AuthFromFile string
	// TLS, for the LB and the instances (--insecure also with --config).
	Insecure                  bool
	CAFile, CertFile, KeyFile string

	Format      string
	Output      string
	MetricsFile string

	// Sharded: probe shard Shard ("K/N") of the inventory file.
	Inventory string
	Shard     string

	// Quiet: no progress, no log lines, no summary line (errors still
	// go to stderr). Verbose: each request on stderr as it is sent.
	Quiet, Verbose bool

	// MemProfile (hidden): write a heap profile here once the audit and
	// its comparison are done, before the report is written.
	MemProfile string
	// CPUProfile (hidden): write a CPU profile of the whole command here.
	CPUProfile string

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
			return notRunMetrics(opts.MetricsFile, runAudit(cmd, ios, opts))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.ConfigFile, "config", "c", "", "config `FILE` (YAML)")
	f.StringArrayVar(&opts.Instances, "instance", nil, "`[ID=]HOST:PORT` of an instance to audit (repeatable; without --config)")
	f.StringArrayVar(&opts.Origins, "origin", nil, "page `ORIGIN` the policy allows (repeatable; without --config)")
	f.StringArrayVar(&opts.Methods, "method", nil, "`METHOD` the policy allows (repeatable; default GET)")
	f.StringArrayVar(&opts.Headers, "header", nil, "request header `NAME` the policy allows (repeatable)")
	f.BoolVar(&opts.Credentials, "credentials", false, "the policy allows credentialed requests")
	f.StringVar(&opts.DirectScheme, "direct-scheme", "", "`SCHEME` (http or https) to reach instances directly (default: the URL's)")
	f.StringVar(&opts.InstanceHeader, "instance-header", "", "response header `NAME` naming the instance that served a request")
	f.BoolVar(&opts.NoLB, "no-lb", false, "do not send requests through the load balancer")
	f.StringArrayVar(&opts.Paths, "path", nil, "`PATH` to probe instead of the URL's (repeatable, e.g. /v1/cart)")
	f.StringVar(&opts.AuthHeader, "auth-header", "", "send the secret in the header `NAME` (e.g. Authorization) on credentialed requests")
	f.StringVar(&opts.AuthCookie, "auth-cookie", "", "send the secret as the cookie `NAME` on credentialed requests")
	f.StringVar(&opts.AuthFromEnv, "auth-from-env", "", "environment variable `VAR` holding the secret (the whole value, e.g. \"Bearer ...\")")
	f.StringVar(&opts.AuthFromFile, "auth-from-file", "", "`FILE` holding the secret")
	f.BoolVarP(&opts.Insecure, "insecure", "k", false, "do not verify TLS certificates (LB and instances; every target with --config)")
	f.StringVar(&opts.CAFile, "cacert", "", "also trust the CA certificates of this PEM `FILE`")
	f.StringVar(&opts.CertFile, "cert", "", "client certificate `FILE` (PEM) for mTLS")
	f.StringVar(&opts.KeyFile, "key", "", "client certificate's key `FILE` (PEM)")
	addOutputFlags(f, &opts.Format, &opts.Output, &opts.MetricsFile)
	addSettingFlags(f)
	addLogFlags(f, &opts.Quiet, &opts.Verbose)
	f.StringVar(&opts.Inventory, "inventory", "", "probe from the inventory `FILE` (written by corsaudit discover --format json); with --shard")
	f.StringVar(&opts.Shard, "shard", "", "probe shard `K/N` of the inventory (K from 0 to N-1) and write its observations for corsaudit merge")
	f.StringVar(&opts.MemProfile, "memprofile", "", "write a heap profile to `FILE` after the audit (for go tool pprof)")
	_ = f.MarkHidden("memprofile")
	f.StringVar(&opts.CPUProfile, "cpuprofile", "", "write a CPU profile of the run to `FILE` (for go tool pprof)")
	_ = f.MarkHidden("cpuprofile")
	return cmd
}

// addLogFlags adds --quiet and --verbose.
func addLogFlags(f *pflag.FlagSet, quiet, verbose *bool) {
	f.BoolVarP(quiet, "quiet", "q", false, "print no progress, log or summary line on stderr (errors only)")
	f.BoolVar(verbose, "verbose", false, "print each request on stderr as it is sent (secrets redacted)")
}

func addOutputFlags(f *pflag.FlagSet, format, output, metrics *string) {
	f.StringVarP(format, "format", "o", "", "report `FORMAT`: "+strings.Join(render.Formats(), ", ")+" (any case; text is table; default table on a terminal, json otherwise)")
	f.StringVar(output, "output", "", "write the report to `FILE` (atomically) instead of stdout")
	f.StringVar(metrics, "metrics-file", "", "also write Prometheus metrics to `FILE` (node_exporter textfile collector)")
}

// pickRenderer returns the renderer for --format (any case; "text" is
// "table"); without one, a table when table is true, else JSON.
//
// colour is whether the table may use colour: stdout is a terminal and
// NO_COLOR is not set (render.UseColor).
func pickRenderer(format string, table, colour bool) (render.Renderer, error) {
	if format == "" {
		format = "json"
		if table {
			format = "table"
		}
	}
	format, err := reportFormat(format)
	if err != nil {
		return nil, err
	}
	r, err := render.LookupWith(format, render.Options{Color: colour})
	if err != nil {
		return nil, usageError(err)
	}
	return r, nil
}

// runAuditCmd checks the outputs, runs the pipeline and writes the report
// and metrics; shared by audit and gate. The report is nil only when
// nothing could run; the error is an exitError (usage, or incomplete for a
// partial report).
func runAuditCmd(cmd *cobra.Command, ios iostreams, o *auditOptions, renderer render.Renderer,
	built *config.Built, popt pipeline.Options) (*diff.Report, error) {
	if err := checkOutputs(o.Output, o.MetricsFile); err != nil {
		return nil, usageError(err)
	}
	popt.Log, popt.Version = ios.errOut, reportVersion()
	if o.Quiet {
		popt.Log = io.Discard
	}
	if o.Verbose {
		popt.Sent = logRequest(ios.errOut)
	}
	var bar *progressBar
	if ios.errIsTerminal && !o.Quiet {
		bar = newProgressBar(ios.progressOut())
		popt.Progress = bar.update
	}
	rep, runErr := pipeline.Audit(cmd.Context(), built, popt)
	if bar != nil {
		bar.finish()
	}
	if err := writeMemProfile(o.MemProfile); err != nil {
		return rep, usageError(err)
	}
	if rep == nil {
		var ee *exitError
		if errors.As(runErr, &ee) {
			return nil, runErr
		}
		return nil, usageError(runErr)
	}
	if err := writeReport(ios.out, o.Output, renderer, rep); err != nil {
		return rep, incompleteError(err)
	}
	if !o.Quiet {
		noteReportWritten(ios, o.Output, rep)
	}
	var lastSuccess time.Time
	if runErr == nil {
		lastSuccess = time.Now()
	}
	if err := writeMetrics(o.MetricsFile, rep, lastSuccess); err != nil {
		return rep, incompleteError(err)
	}
	if runErr != nil {
		return rep, incompleteError(runErr)
	}
	return rep, nil
}

func runAudit(cmd *cobra.Command, ios iostreams, o *auditOptions) (err error) {
	stop, err := startCPUProfile(o.CPUProfile)
	if err != nil {
		return usageError(err)
	}
	defer func() {
		if serr := stop(); serr != nil && err == nil {
			err = incompleteError(serr)
		}
	}()
	if o.Inventory != "" || o.Shard != "" {
		return runShardAudit(cmd, ios, o)
	}
	built, err := o.prepare()
	if err != nil {
		return err
	}
	renderer, err := pickRenderer(o.Format, ios.outIsTerminal && o.Output == "", ios.colour(o.Output))
	if err != nil {
		return err
	}
	// Ad hoc: findings name the flags to change, not config keys.
	popt := pipeline.Options{Diff: diff.Options{FlagAdvice: o.ConfigFile == ""}}
	rep, err := runAuditCmd(cmd, ios, o, renderer, built, popt)
	if err != nil {
		return err
	}
	if rep.Fails() {
		return &exitError{code: exitFindings}
	}
	return nil
}

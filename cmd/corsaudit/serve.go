package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/exporter"
)

// serveOptions are the flags of `corsaudit serve`.
type serveOptions struct {
	ConfigFile       string
	Listen           string
	LogFormat        string
	ProbeConcurrency int

	flags *pflag.FlagSet
}

// defaultListen is where `serve` listens without --listen: loopback only.
const defaultListen = "127.0.0.1:9877"

// shutdownGrace bounds how long `serve` waits for requests in flight
// when it stops.
const shutdownGrace = 10 * time.Second

func newCmdServe(ios iostreams, runF func(*serveOptions) error) *cobra.Command {
	opts := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Audit every target on a schedule and serve the results to Prometheus (an exporter)",
		Long: `Run as a Prometheus exporter: audit each target of the config at start-up and
then every --interval, keep the latest results in memory and serve them:

  corsaudit serve --config corsaudit.yaml --listen 127.0.0.1:9877 --interval 10m

  /metrics              metrics of every target's latest audit (corsaudit_findings{target,kind,severity}...)
  /probe?target=NAME    audit NAME now and answer its metrics (blackbox_exporter's multi-target pattern)
  /                     the latest HTML report;  /report.json: the same as JSON
  /-/healthy, /-/ready  health and readiness;    POST /-/reload: reload the config (also SIGHUP)

It stops on Ctrl-C or SIGTERM. See docs/serve.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.flags = cmd.Flags()
			if runF != nil {
				return runF(opts)
			}
			return runServe(cmd.Context(), ios, opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.ConfigFile, "config", "c", "", "config file (YAML; required)")
	f.StringVar(&opts.Listen, "listen", defaultListen, "address to serve on (HOST:PORT; loopback unless told otherwise)")
	interval := durationFlag(config.Default().Interval.String())
	f.Var(&interval, "interval", "how often each target is audited (config `interval`)")
	f.StringVar(&opts.LogFormat, "log-format", "text", "log format on stderr: text or json")
	f.IntVar(&opts.ProbeConcurrency, "probe-concurrency", exporter.DefaultProbeConcurrency,
		"/probe audits in flight at once; more scrapes wait within their timeout, then get 503")
	addSettingFlags(f)
	// serve has no exit code for findings: alert on the metrics instead.
	_ = f.MarkHidden("fail-on")
	return cmd
}

// newLogger is the structured logger of --log-format on w.
func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

func runServe(ctx context.Context, ios iostreams, o *serveOptions) error {
	if o.ConfigFile == "" {
		return usageError(errors.New("serve: give --config FILE"))
	}
	log, err := newLogger(ios.errOut, o.LogFormat)
	if err != nil {
		return usageError(err)
	}
	// load reads the file, the CORSAUDIT_* variables and the flags again
	// and builds the config, once per load: at start-up and at each
	// reload.
	load := func() (*config.Built, error) {
		cfg, err := loadSettings(o.ConfigFile, o.flags)
		if err != nil {
			return nil, err
		}
		b, err := cfg.Build()
		if err != nil {
			return nil, fmt.Errorf("invalid config:\n%w", indent(err))
		}
		return b, nil
	}
	built, err := load()
	if err != nil {
		return usageError(err)
	}
	ex, err := exporter.New(built, exporter.Options{Load: load, Log: log, Version: reportVersion(), ProbeConcurrency: o.ProbeConcurrency})
	if err != nil {
		return usageError(err)
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return usageError(fmt.Errorf("serve: --listen: %w", err))
	}
	srv := &http.Server{Handler: ex.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	reload := func() { _ = ex.Reload() } // Reload logs the outcome
	onHangup.Store(&reload)
	defer onHangup.Store(nil)

	log.Info("listening", "address", "http://"+ln.Addr().String(), "targets", len(built.Targets), "interval", built.Config.Interval.String())
	runCtx, stopRuns := context.WithCancel(ctx)
	defer stopRuns()
	ran := make(chan struct{})
	go func() { ex.Run(runCtx); close(ran) }()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	log.Info("shutting down")
	stopRuns()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown: requests still in flight were cut", "err", err.Error())
	}
	<-ran
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return incompleteError(fmt.Errorf("serve: %w", serveErr))
	}
	return nil
}

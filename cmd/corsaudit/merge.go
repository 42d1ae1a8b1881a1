package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/diff/render"
	"github.com/corsaudit/corsaudit/diff/severity"
)

// mergeOptions are the flags and arguments of `corsaudit merge`.
type mergeOptions struct {
	Inputs      []string // JSON report files; "-" is standard input
	Format      string   // empty: table on a terminal, json otherwise
	Output      string
	MetricsFile string
	// FailOn, when set, replaces the runs' own fail_on.
	FailOn string
}

func newCmdMerge(ios iostreams, runF func(*mergeOptions) error) *cobra.Command {
	opts := &mergeOptions{}
	cmd := &cobra.Command{
		Use:   "merge REPORT.json...",
		Short: "Combine JSON reports from several shards or accounts into one",
		Long: `Combine the JSON reports of several runs (one per account, region or shard)
into one report, rendered in any format: scheduled jobs each write JSON, one
last step merges them for the dashboard, the metrics file or code scanning.

The shards of one sharded audit (audit --inventory fleet.json --shard K/N)
are merged by running the differ over all their observations: findings,
severities, summary and exit code are those of a single run over the whole
fleet.
Shards of another config or inventory, the same shard twice, or a missing
shard are errors (exit 2) naming the difference.

  corsaudit merge shards/shard-*.json --format sarif --output corsaudit.sarif

Reports (not shards) are combined as follows. Targets are concatenated. A target name may appear in several reports only
with the same URL and disjoint instances (one target sharded across jobs);
drift is then what each shard found among its own instances. The same
instance in two reports is an error. Findings are concatenated and the
summary recomputed; if any input is partial, so is the result. The merged
run lasted as long as the longest input (runs merged together run side by
side; the time between runs started apart is no part of any).

  corsaudit merge eu.json us.json --format sarif --output corsaudit.sarif
  corsaudit merge shards/*.json --metrics-file /var/lib/node_exporter/textfile/corsaudit.prom

A single input converts a report: corsaudit merge gate.json --format junit.

The exit code and the JUnit failures follow --fail-on when given, else the
runs' own fail_on (the shards' config; for reports, the strictest of
theirs, error for reports that do not record one), as a single run does.

Exit codes: 0 merged; 1 findings at or above the fail-on; 2 unreadable or
conflicting input; 3 an input report is partial (the merged report is
still written).`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError(errors.New("merge: give at least one JSON report"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Inputs = args
			if runF != nil {
				return runF(opts)
			}
			return notRunMetrics(opts.MetricsFile, runMerge(ios, opts))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Format, "format", "o", "", "report format: "+strings.Join(render.Formats(), ", ")+" (any case; text is table; default table on a terminal, json otherwise)")
	f.StringVar(&opts.Output, "output", "", "write the report to this file (atomically) instead of stdout")
	f.StringVar(&opts.MetricsFile, "metrics-file", "", "also write Prometheus metrics to this file (node_exporter textfile collector)")
	f.StringVar(&opts.FailOn, "fail-on", "", "exit 1 when a finding is at or above this severity: error, warning, info or never (default: the runs' own fail_on)")
	return cmd
}

func runMerge(ios iostreams, o *mergeOptions) error {
	var failOn diff.FailOn
	if o.FailOn != "" {
		var err error
		if failOn, err = severity.ParseFailOn(o.FailOn); err != nil {
			return usageError(fmt.Errorf("merge: --%w", err))
		}
	}
	renderer, err := pickRenderer(o.Format, ios.outIsTerminal && o.Output == "", ios.colour(o.Output))
	if err != nil {
		return err
	}
	if err := checkOutputs(o.Output, o.MetricsFile); err != nil {
		return usageError(fmt.Errorf("merge: %w", err))
	}
	reports, shards, err := mergeInputs(ios.in, o.Inputs)
	if err != nil {
		return usageError(err)
	}
	var merged *diff.Report
	if len(shards) > 0 {
		merged, err = mergeShards(shards)
	} else {
		merged, err = diff.MergeReports(reports...)
	}
	if err != nil {
		return usageError(err)
	}
	if failOn != "" {
		merged.FailOn = failOn
	}
	if err := writeReport(ios.out, o.Output, renderer, merged); err != nil {
		return incompleteError(fmt.Errorf("merge: %w", err))
	}
	noteReportWritten(ios, o.Output, merged)
	var lastSuccess time.Time
	if merged.Incomplete == "" {
		// The merged runs succeeded as of the last one's end.
		lastSuccess = mergeEnd(merged)
	}
	if err := writeMetrics(o.MetricsFile, merged, lastSuccess); err != nil {
		return incompleteError(fmt.Errorf("merge: %w", err))
	}
	if merged.Incomplete != "" {
		return incompleteError(fmt.Errorf("merge: partial report: %s", merged.Incomplete))
	}
	if merged.Fails() {
		return &exitError{code: exitFindings}
	}
	return nil
}

// decodeReport decodes one JSON report read from path.
func decodeReport(in io.Reader, path string) (*diff.Report, error) {
	var r diff.Report
	dec := json.NewDecoder(in)
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("merge: read %s: not a JSON report: %w", path, err)
	}
	if r.Tool != "corsaudit" {
		return nil, fmt.Errorf("merge: read %s: not a corsaudit report (tool %q)", path, r.Tool)
	}
	// A curl line from a file is code someone will paste: only what
	// corsaudit writes is printed again.
	for i := range r.Findings {
		r.Findings[i].Reproduce = diff.Untrusted(r.Findings[i].Reproduce)
	}
	return &r, nil
}

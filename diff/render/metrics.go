package render

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/corsaudit/corsaudit/diff"
)

// metric is one metric corsaudit exports: the one place its name and help
// are written, for the metrics file (Metrics) and the exporter
// (RunMetrics, served by `corsaudit serve`).
type metric struct{ name, help string }

var (
	findingsMetric      = metric{"corsaudit_findings", "Findings of the last run by target, kind and severity."}
	affectedShareMetric = metric{"corsaudit_affected_share", "Largest share of load balancer samples hit by a finding of this kind, per target (the load balancer's findings, and instances' causes whose answers it passes through)."}
	instancesMetric     = metric{"corsaudit_instances", "Instances probed in the last run, per target."}
	unreachableMetric   = metric{"corsaudit_instances_unreachable", "Probed instances that gave no HTTP answer in the last run, per target."}
	targetsMetric       = metric{"corsaudit_targets", "Targets audited in the last run."}
	probesMetric        = metric{"corsaudit_probes", "Browser scenarios probed in the last run, all its targets."}
	requestsMetric      = metric{"corsaudit_requests", "Requests sent in the last run."}
	durationMetric      = metric{"corsaudit_run_duration_seconds", "Wall-clock duration of the last run."}
	completeMetric      = metric{"corsaudit_run_complete", "1 when the last run completed, 0 when its report is partial or it could not run."}
	lastRunMetric       = metric{"corsaudit_last_run_timestamp_seconds", "Unix time the last run ended."}
	lastSuccessMetric   = metric{"corsaudit_last_success_timestamp_seconds", "Unix time of the last run that completed."}
	upMetric            = metric{"corsaudit_up", "1 when the last run of the target discovered and probed it (its report may be partial), 0 when it could not."}
)

// RunMetrics is what the metrics of a run say: the metrics file's one run
// of every target, or, in the exporter, the runs of one configured target.
// It is a prometheus.Collector of constant metrics made from these values
// (unchecked: which targets and kinds appear is known only at Collect).
type RunMetrics struct {
	// Target, when set, is the configured target these runs audit: the
	// run's own figures (targets, probes, requests, duration, complete,
	// timestamps) carry it as their target label, and corsaudit_up is
	// added. Empty: one run of every target, and they carry no label.
	Target string
	// Report gives the findings and the figures per target, probes and
	// requests; nil: none yet, and they are left out.
	Report *diff.Report
	// Ran says that a run has ended, described by Ended, Duration,
	// Complete and Up; false leaves those out.
	Ran bool
	// Ended is when the last run ended (zero: unknown, left out).
	Ended time.Time
	// Duration is the last run's, in seconds.
	Duration float64
	// Complete: the last run completed (its report is not partial).
	Complete bool
	// Up: the last run discovered and probed the target (with Target).
	Up bool
	// LastSuccess is when the last run that completed ended (zero: none,
	// left out, so that an alert on its absence or age fires).
	LastSuccess time.Time
}

// Describe sends nothing: RunMetrics is an unchecked collector.
func (m RunMetrics) Describe(chan<- *prometheus.Desc) {}

// Collect sends the metrics:
//
//	corsaudit_findings{target,kind,severity}     findings (every known kind of each target, 0 included)
//	corsaudit_affected_share{target,kind}        share of LB samples hit, where a finding says
//	corsaudit_instances{target}                  instances probed
//	corsaudit_instances_unreachable{target}      probed instances that never answered
//	corsaudit_targets                            targets audited
//	corsaudit_probes                             probes (browser scenarios), all targets
//	corsaudit_requests                           requests sent
//	corsaudit_run_duration_seconds               wall-clock duration of the run (merged: the longest)
//	corsaudit_run_complete                       1, or 0 for a partial report
//	corsaudit_last_run_timestamp_seconds         when the run ended
//	corsaudit_last_success_timestamp_seconds     when the last run that completed ended
//	corsaudit_up                                 with Target: 1 when the target was probed
//
// The metrics from corsaudit_targets down carry {target} when m.Target is
// set.
func (m RunMetrics) Collect(ch chan<- prometheus.Metric) {
	var runLabels, runValues []string
	if m.Target != "" {
		runLabels, runValues = []string{"target"}, []string{labelValue(m.Target)}
	}
	gauge := func(mt metric, labels []string, v float64, values ...string) {
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(mt.name, mt.help, labels, nil), prometheus.GaugeValue, v, values...)
	}
	run := func(mt metric, v float64) { gauge(mt, runLabels, v, runValues...) }

	if r := m.Report; r != nil {
		collectFindings(r, gauge)
		probes := 0
		probed, unreachable := map[string]int{}, map[string]int{}
		var names []string
		for _, t := range r.Targets {
			name := labelValue(t.Name)
			if _, seen := probed[name]; !seen {
				names = append(names, name)
			}
			probed[name] += 0
			unreachable[name] += 0
			for _, in := range t.Instances {
				if in.Skip == "" {
					probed[name]++
				}
				if in.Unreachable() {
					unreachable[name]++
				}
			}
			probes += len(t.Probes)
		}
		for _, name := range names {
			gauge(instancesMetric, []string{"target"}, float64(probed[name]), name)
			gauge(unreachableMetric, []string{"target"}, float64(unreachable[name]), name)
		}
		run(targetsMetric, float64(len(r.Targets)))
		run(probesMetric, float64(probes))
		run(requestsMetric, float64(r.Summary.Requests))
	}
	if m.Ran {
		run(durationMetric, m.Duration)
		complete := 0.0
		if m.Complete {
			complete = 1
		}
		run(completeMetric, complete)
		if !m.Ended.IsZero() {
			run(lastRunMetric, unixSeconds(m.Ended))
		}
		if m.Target != "" {
			up := 0.0
			if m.Up {
				up = 1
			}
			run(upMetric, up)
		}
	}
	if !m.LastSuccess.IsZero() {
		run(lastSuccessMetric, unixSeconds(m.LastSuccess))
	}
}

// collectFindings sends corsaudit_findings, every known kind of each
// target at its default severity (so that alerts see zeros, not absent
// series) plus whatever the report holds, and corsaudit_affected_share.
func collectFindings(r *diff.Report, gauge func(metric, []string, float64, ...string)) {
	type key struct{ target, kind, sev string }
	counts := map[key]int{}
	var order []key
	add := func(k key, n int) {
		if _, seen := counts[k]; !seen {
			order = append(order, k)
		}
		counts[k] += n
	}
	for _, t := range r.Targets {
		for _, ki := range diff.Kinds {
			add(key{labelValue(t.Name), string(ki.Kind), string(ki.Severity)}, 0)
		}
	}
	type shareKey struct{ target, kind string }
	shares := map[shareKey]float64{}
	var shareOrder []shareKey
	for _, f := range r.Findings {
		add(key{labelValue(f.Target), string(f.Kind), string(f.Severity)}, 1)
		if f.Share > 0 {
			k := shareKey{labelValue(f.Target), string(f.Kind)}
			if _, seen := shares[k]; !seen {
				shareOrder = append(shareOrder, k)
			}
			shares[k] = max(shares[k], f.Share)
		}
	}
	for _, k := range order {
		gauge(findingsMetric, []string{"target", "kind", "severity"}, float64(counts[k]), k.target, labelValue(k.kind), labelValue(k.sev))
	}
	for _, k := range shareOrder {
		gauge(affectedShareMetric, []string{"target", "kind"}, shares[k], k.target, labelValue(k.kind))
	}
}

// labelValue is s as a label value: valid UTF-8 (a name from a provider
// or a report file may not be), which client_golang requires.
func labelValue(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// Metrics writes the report's figures in the Prometheus text exposition
// format, for node_exporter's textfile collector or a Pushgateway: the
// metrics of RunMetrics for one run of every target, through a
// client_golang registry.
//
// lastSuccess is the time of the last run that completed; a zero value
// leaves the metric out, so alert on its age (or on its absence) to catch a
// job that stopped succeeding.
func Metrics(w io.Writer, r *diff.Report, lastSuccess time.Time) error {
	return writeRun(w, RunMetrics{Report: r, Ran: true, Ended: r.End(), Duration: r.Duration,
		Complete: r.Incomplete == "", LastSuccess: lastSuccess})
}

// NotRunMetrics writes the metrics of a run that could not start (a
// config error, an unreadable input: exit 2): corsaudit_run_complete 0,
// corsaudit_last_run_timestamp_seconds at, and lastSuccess when not zero
// (the previous file's, PreviousSuccess), so that an alert on its age
// fires. Nothing was audited: no finding or instance series, whose zeros
// would resolve alerts on them.
func NotRunMetrics(w io.Writer, at, lastSuccess time.Time) error {
	return writeRun(w, RunMetrics{Ran: true, Ended: at, LastSuccess: lastSuccess})
}

// writeRun writes m in the text format, through a registry.
func writeRun(w io.Writer, m RunMetrics) error {
	reg := prometheus.NewRegistry()
	if err := reg.Register(m); err != nil {
		return fmt.Errorf("report: metrics: %w", err)
	}
	return writeMetrics(w, reg)
}

// writeMetrics writes what g gathers in the Prometheus text exposition
// format.
func writeMetrics(w io.Writer, g prometheus.Gatherer) error {
	fams, err := g.Gather()
	if err != nil {
		return fmt.Errorf("report: metrics: %w", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range fams {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("report: metrics: %w", err)
		}
	}
	return nil
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// PreviousSuccess reads the last success from the metrics file at path, so
// that a failed run can carry it over and an alert on its age fires; zero
// when the file is missing, unreadable or has none.
func PreviousSuccess(path string) time.Time {
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(f)
	if err != nil {
		return time.Time{}
	}
	mf := fams[lastSuccessMetric.name]
	if mf == nil || len(mf.GetMetric()) == 0 || mf.GetMetric()[0].GetGauge() == nil {
		return time.Time{}
	}
	v := mf.GetMetric()[0].GetGauge().GetValue()
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return time.Time{}
	}
	sec, frac := math.Modf(v)
	return time.Unix(int64(sec), int64(frac*1e9))
}

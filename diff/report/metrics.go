package report

import (
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/proto"

	"github.com/corsaudit/corsaudit/diff"
)

// Metrics writes the report's figures in the Prometheus text exposition
// format, for node_exporter's textfile collector or a Pushgateway:
//
//	corsaudit_findings{kind,severity}            findings (every known kind, 0 included)
//	corsaudit_instances{target}                  instances probed
//	corsaudit_instances_unreachable{target}      probed instances that never answered
//	corsaudit_targets                            targets audited
//	corsaudit_probes                             probes (browser scenarios), all targets
//	corsaudit_requests                           requests sent
//	corsaudit_run_duration_seconds               wall-clock duration of the run (merged: the longest)
//	corsaudit_run_complete                       1, or 0 for a partial report
//	corsaudit_last_run_timestamp_seconds         when the run ended
//	corsaudit_last_success_timestamp_seconds     lastSuccess, when not zero
//
// lastSuccess is the time of the last run that completed; a zero value
// leaves the metric out, so alert on its age (or on its absence) to catch a
// job that stopped succeeding.
func Metrics(w io.Writer, r *diff.Report, lastSuccess time.Time) error {
	var fams families
	gauge := fams.gauge

	// Findings: every known kind at its default severity (so alerts see
	// zeros, not absent series), plus whatever the report holds.
	type ks struct {
		kind diff.Kind
		sev  diff.Severity
	}
	counts := map[ks]int{}
	for _, ki := range diff.Kinds {
		counts[ks{ki.Kind, ki.Severity}] += 0
	}
	for _, f := range r.Findings {
		counts[ks{f.Kind, f.Severity}]++
	}
	keys := make([]ks, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].kind != keys[b].kind {
			return keys[a].kind < keys[b].kind
		}
		return keys[a].sev < keys[b].sev
	})
	var findings []*dto.Metric
	for _, k := range keys {
		findings = append(findings, sample(float64(counts[k]), "kind", string(k.kind), "severity", string(k.sev)))
	}
	gauge("corsaudit_findings", "Findings of the last run by kind and severity.", findings...)

	var probed, unreachable []*dto.Metric
	probes := 0
	for _, t := range r.Targets {
		p, u := 0, 0
		for _, in := range t.Instances {
			if in.Skip == "" {
				p++
			}
			if in.Unreachable() {
				u++
			}
		}
		probes += len(t.Probes)
		probed = append(probed, sample(float64(p), "target", t.Name))
		unreachable = append(unreachable, sample(float64(u), "target", t.Name))
	}
	if len(probed) > 0 {
		gauge("corsaudit_instances", "Instances probed in the last run, per target.", probed...)
		gauge("corsaudit_instances_unreachable", "Probed instances that gave no HTTP answer in the last run, per target.", unreachable...)
	}
	gauge("corsaudit_targets", "Targets audited in the last run.", sample(float64(len(r.Targets))))
	gauge("corsaudit_probes", "Browser scenarios probed in the last run, all targets.", sample(float64(probes)))
	gauge("corsaudit_requests", "Requests sent in the last run.", sample(float64(r.Summary.Requests)))
	gauge("corsaudit_run_duration_seconds", "Wall-clock duration of the last run.", sample(r.Duration))
	complete := 1.0
	if r.Incomplete != "" {
		complete = 0
	}
	gauge("corsaudit_run_complete", "1 when the last run completed, 0 when its report is partial.", sample(complete))
	if end := r.End(); !end.IsZero() {
		gauge("corsaudit_last_run_timestamp_seconds", "Unix time the last run ended.", sample(unixSeconds(end)))
	}
	fams.lastSuccess(lastSuccess)
	return fams.write(w)
}

// NotRunMetrics writes the metrics of a run that could not start (a
// config error, an unreadable input: exit 2): corsaudit_run_complete 0,
// corsaudit_last_run_timestamp_seconds at, and lastSuccess when not zero
// (the previous file's, PreviousSuccess), so that an alert on its age
// fires. Nothing was audited: no finding or instance series, whose zeros
// would resolve alerts on them.
func NotRunMetrics(w io.Writer, at, lastSuccess time.Time) error {
	var fams families
	fams.gauge("corsaudit_run_complete", "1 when the last run completed, 0 when its report is partial.", sample(0))
	fams.gauge("corsaudit_last_run_timestamp_seconds", "Unix time the last run ended.", sample(unixSeconds(at)))
	fams.lastSuccess(lastSuccess)
	return fams.write(w)
}

// families are the metric families of one metrics file, in order.
type families []*dto.MetricFamily

// gauge adds a gauge family.
func (fams *families) gauge(name, help string, samples ...*dto.Metric) {
	*fams = append(*fams, &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help),
		Type: dto.MetricType_GAUGE.Enum(), Metric: samples})
}

// lastSuccess adds the last success, when not zero.
func (fams *families) lastSuccess(at time.Time) {
	if !at.IsZero() {
		fams.gauge(lastSuccessMetric, "Unix time of the last run that completed.", sample(unixSeconds(at)))
	}
}

// write writes the families in the Prometheus text format.
func (fams families) write(w io.Writer) error {
	for _, mf := range fams {
		if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
			return fmt.Errorf("report: metrics: %w", err)
		}
	}
	return nil
}

// sample is one gauge value with its labels (name, value pairs).
func sample(v float64, labels ...string) *dto.Metric {
	m := &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(v)}}
	for i := 0; i+1 < len(labels); i += 2 {
		m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(labels[i]), Value: proto.String(labels[i+1])})
	}
	return m
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// lastSuccessMetric is the metric a failed run carries over from the file
// it replaces (PreviousSuccess).
const lastSuccessMetric = "corsaudit_last_success_timestamp_seconds"

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
	mf := fams[lastSuccessMetric]
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

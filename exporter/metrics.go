package exporter

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/corsaudit/corsaudit/diff/render"
)

// The exporter's own metrics (the audits' are render.RunMetrics'), named
// as Prometheus names its own.
var (
	reloadOKDesc = prometheus.NewDesc("corsaudit_config_last_reload_successful",
		"1 when the last load of the config succeeded, 0 when it was refused (the previous config stays).", nil, nil)
	reloadAtDesc = prometheus.NewDesc("corsaudit_config_last_reload_success_timestamp_seconds",
		"Unix time of the last successful load of the config.", nil, nil)
)

// collector is the exporter's metrics: for each target of the current
// config, render.RunMetrics of its last complete audit and its last
// attempt, and the state of the config. It reads them under the
// exporter's lock at each scrape and sends constant metrics.
type collector struct{ e *Exporter }

// Describe sends nothing: the collector is unchecked (its targets and
// kinds are known only at Collect).
func (c collector) Describe(chan<- *prometheus.Desc) {}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	e := c.e
	e.mu.Lock()
	runs := make([]render.RunMetrics, 0, len(e.gen.run.Targets))
	for _, b := range e.gen.run.Targets {
		runs = append(runs, e.targets[b.Label].metrics())
	}
	reloadOK, reloadAt := 0.0, float64(e.reloadAt.UnixNano())/1e9
	if e.reloadOK {
		reloadOK = 1
	}
	e.mu.Unlock()
	for _, m := range runs {
		m.Collect(ch)
	}
	ch <- prometheus.MustNewConstMetric(reloadOKDesc, prometheus.GaugeValue, reloadOK)
	ch <- prometheus.MustNewConstMetric(reloadAtDesc, prometheus.GaugeValue, reloadAt)
}

// metrics are t's RunMetrics; call with the exporter's lock held.
func (t *target) metrics() render.RunMetrics {
	a := t.attempt
	return render.RunMetrics{Target: t.name, Report: t.last, Ran: a.done, Ended: a.ended, Duration: a.duration,
		Complete: a.complete, Up: a.up, LastSuccess: t.lastSuccess}
}

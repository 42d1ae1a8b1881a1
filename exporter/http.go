package exporter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/diff/render"
)

// Handler serves:
//
//	GET  /             the latest report of every target, one HTML page (diff.MergeReports of each target's last complete audit)
//	GET  /report.json  the same report as JSON
//	GET  /metrics      every target's metrics (render.RunMetrics), the config's state, Go and process metrics
//	GET  /probe?target=NAME  one audit of NAME now, its metrics (as blackbox_exporter's /probe)
//	GET  /-/healthy    200 while the process runs
//	GET  /-/ready      200 once every target's first audit has ended, else 503
//	POST /-/reload     reload the config (as SIGHUP); 500 with the reason when it is refused
//
// No endpoint sends CORS headers: no page of another origin may read them.
func (e *Exporter) Handler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{e}, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: promLog{e}, ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("GET /probe", e.probe)
	mux.HandleFunc("GET /{$}", e.page("text/html; charset=utf-8", render.HTML))
	mux.HandleFunc("GET /report.json", e.page("application/json", render.JSON))
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, r *http.Request) {
		text(w, http.StatusOK, "corsaudit is healthy.")
	})
	mux.HandleFunc("GET /-/ready", func(w http.ResponseWriter, r *http.Request) {
		if waiting := e.waiting(); len(waiting) > 0 {
			text(w, http.StatusServiceUnavailable, "not ready: waiting for the first audit of "+strings.Join(waiting, ", "))
			return
		}
		text(w, http.StatusOK, "corsaudit is ready.")
	})
	mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, r *http.Request) {
		if err := e.Reload(); err != nil {
			text(w, http.StatusInternalServerError, "failed to reload config: "+err.Error())
			return
		}
		text(w, http.StatusOK, "config reloaded.")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		mux.ServeHTTP(w, r)
	})
}

func text(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

// page serves the latest merged report drawn by render.
func (e *Exporter) page(contentType string, render func(io.Writer, *diff.Report) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rep, err := e.latest()
		if err != nil {
			text(w, http.StatusInternalServerError, "report: "+err.Error())
			return
		}
		if rep == nil {
			msg := "no audit has completed yet"
			if waiting := e.waiting(); len(waiting) > 0 {
				msg += "; waiting for the first audit of " + strings.Join(waiting, ", ")
			}
			text(w, http.StatusServiceUnavailable, msg)
			return
		}
		var buf bytes.Buffer
		if err := render(&buf, rep); err != nil {
			text(w, http.StatusInternalServerError, err.Error())
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Write(buf.Bytes())
	}
}

// ScrapeTimeoutHeader is the header in which Prometheus says how long it
// waits for a scrape.
const ScrapeTimeoutHeader = "X-Prometheus-Scrape-Timeout-Seconds"

// probeMargin is taken off the scrape timeout, so that the answer reaches
// Prometheus in time (blackbox_exporter's default timeout offset).
const probeMargin = 500 * time.Millisecond

// probeTimeout is how long a /probe audit may take: the scrape timeout
// (header, in seconds) less probeMargin (half of it, when it is that
// short), at most the config's deadline, which also applies without a
// valid header.
func probeTimeout(header string, deadline time.Duration) time.Duration {
	s, err := strconv.ParseFloat(strings.TrimSpace(header), 64)
	if err != nil || s <= 0 || math.IsNaN(s) || s >= deadline.Seconds() {
		return deadline
	}
	t := time.Duration(s * float64(time.Second))
	if t > 2*probeMargin {
		return t - probeMargin
	}
	return t / 2
}

// probe runs one audit of the target named by the target parameter, now,
// within the scrape's timeout, and answers its metrics from a registry of
// its own. Probes in flight are bounded (Options.ProbeConcurrency) and so
// is every target to one audit at a time: a scrape waits for both within
// its timeout, then gets 503. The result is not kept: /metrics shows the
// scheduled audits only.
func (e *Exporter) probe(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("target")
	if name == "" {
		text(w, http.StatusBadRequest, "the target parameter is missing (/probe?target=NAME)")
		return
	}
	e.mu.Lock()
	t := e.targets[name]
	var gen *generation
	var b config.BuiltTarget
	if t != nil {
		gen, b = t.gen, t.built
	}
	e.mu.Unlock()
	if t == nil {
		text(w, http.StatusBadRequest, "unknown target "+strconv.QuoteToASCII(name))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), probeTimeout(r.Header.Get(ScrapeTimeoutHeader), gen.run.Config.Deadline))
	defer cancel()
	select {
	case e.probes <- struct{}{}:
		defer func() { <-e.probes }()
	case <-ctx.Done():
		text(w, http.StatusServiceUnavailable, fmt.Sprintf("too many probes in flight (at most %d at once): none ended within the scrape timeout", cap(e.probes)))
		return
	}
	if !t.lock(ctx) {
		text(w, http.StatusServiceUnavailable, "target "+strconv.QuoteToASCII(name)+" is being audited: that audit did not end within the scrape timeout")
		return
	}
	defer t.unlock()
	deadline, _ := ctx.Deadline()
	left := time.Until(deadline)
	if left <= 0 || ctx.Err() != nil {
		text(w, http.StatusServiceUnavailable, "the scrape timeout passed before the audit could start")
		return
	}
	start := time.Now()
	rep, err := e.audit(ctx, gen, b, left)
	ended := time.Now()
	m := render.RunMetrics{Target: name, Report: rep, Ran: true, Ended: ended, Duration: ended.Sub(start).Seconds(),
		Complete: err == nil && rep != nil, Up: rep != nil && len(rep.Targets) > 0}
	if m.Complete {
		m.LastSuccess = ended
	}
	attrs := []any{"target", name, "duration_seconds", round(m.Duration), "complete", m.Complete}
	if err != nil {
		e.log.Warn("probe did not complete", append(attrs, "err", err.Error())...)
	} else {
		e.log.Debug("probe", attrs...)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: promLog{e}, ErrorHandling: promhttp.ContinueOnError}).ServeHTTP(w, r)
}

// promLog passes promhttp's errors to the exporter's log.
type promLog struct{ e *Exporter }

func (l promLog) Println(v ...any) { l.e.log.Error(strings.TrimSpace(fmt.Sprintln(v...))) }

package exporter

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/testinfra/testenv"
)

// soakEnv sets how long TestSoakHeapFlat runs (a Go duration); CI runs it
// for soakDefault.
const (
	soakEnv     = "CORSAUDIT_SOAK"
	soakDefault = 30 * time.Second
)

// countAudits is a slog handler that counts the records of finished
// scheduled audits and keeps nothing.
type countAudits struct{ n *atomic.Int64 }

func (c countAudits) Enabled(context.Context, slog.Level) bool { return true }
func (c countAudits) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "audit" {
		c.n.Add(1)
	}
	return nil
}
func (c countAudits) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c countAudits) WithGroup(string) slog.Handler      { return c }

// quietHeap is the live heap while no audit runs: it holds each target's
// lock (waiting for the audit in flight), so that what is measured is
// what the exporter keeps.
func (s *served) quietHeap() uint64 {
	s.e.mu.Lock()
	var targets []*target
	for _, t := range s.e.targets {
		targets = append(targets, t)
	}
	s.e.mu.Unlock()
	for _, t := range targets {
		t.lock(context.Background())
	}
	defer func() {
		for _, t := range targets {
			t.unlock()
		}
	}()
	return heapAfterGC()
}

// heapAfterGC is the live heap, in bytes.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestSoakHeapFlat audits two targets back to back (a 10ms interval) while
// /metrics, /report.json, / and /probe are scraped, for soakDefault (or
// $CORSAUDIT_SOAK): thousands of audits later the live heap is where it
// was after the first few, within a small bound; once stopped, it leaves
// no goroutine behind. Memory follows the targets, not the number of runs.
func TestSoakHeapFlat(t *testing.T) {
	d := soakDefault
	if v := os.Getenv(soakEnv); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("%s=%q: %v", soakEnv, v, err)
		}
	}
	f := startFleet(t, 3, func(i int) bool { return i == 2 })
	cfg := fleetConfig(f, "shop", "admin")
	cfg.Interval = 10 * time.Millisecond
	// Short audits (few probes, no adversarial origins), so that there
	// are many, even under the race detector.
	cfg.Analyses = []string{diff.AnalysisDrift, diff.AnalysisLB, diff.AnalysisCache}
	for i := range cfg.Targets {
		cfg.Targets[i].Policy.Methods, cfg.Targets[i].Policy.Headers = []string{"GET", "PUT"}, nil
		cfg.Targets[i].LB.Samples = 2
	}
	before := runtime.NumGoroutine()
	var audits atomic.Int64
	s := serve(t, cfg, Options{Log: slog.New(countAudits{&audits}),
		Load: building(func() (*config.Config, error) { return cfg, nil })})
	s.waitReady(t)

	scrape := func() {
		for _, path := range []string{"/metrics", "/report.json", "/", "/probe?target=shop"} {
			if code, _, body := s.get(t, path, ScrapeTimeoutHeader, "10"); code != http.StatusOK {
				t.Fatalf("%s: %d\n%s", path, code, body)
			}
		}
	}
	// Warm up: caches, connection pools and the first results settle.
	warm := time.Now().Add(d / 10)
	for time.Now().Before(warm) {
		scrape()
	}
	base, baseAudits := s.quietHeap(), audits.Load()
	var heaps []uint64
	end := time.Now().Add(d)
	next := time.Now().Add(d / 4)
	for time.Now().Before(end) {
		scrape()
		if time.Now().After(next) {
			heaps = append(heaps, s.quietHeap())
			next = next.Add(d / 4)
			// A reload now and then: the schedule restarts, nothing stays.
			if err := s.e.Reload(); err != nil {
				t.Fatal(err)
			}
		}
	}
	last, runs := s.quietHeap(), audits.Load()-baseAudits
	s.stop()
	t.Logf("%d audits in %s; live heap after GC, no audit running: %.2f MiB after warm-up, then %v MiB, %.2f MiB at the end",
		runs, d, mib(base), mibs(heaps), mib(last))
	if runs < 100 {
		t.Fatalf("only %d audits in %s: too few to say anything about growth", runs, d)
	}
	// A leak of one small report (some KiB) per run would add more over
	// these runs.
	const slack = 512 << 10
	if last > base+slack {
		t.Errorf("live heap grew from %.2f MiB to %.2f MiB over %d audits (bound: +%.2f MiB)", mib(base), mib(last), runs, mib(slack))
	}

	// With idle connections closed, the stopped exporter leaves no
	// goroutine behind (the test's HTTP server aside).
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		http.DefaultClient.CloseIdleConnections()
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		n := runtime.NumGoroutine()
		return n <= before+5, fmt.Sprintf("%d goroutines after stopping, %d before starting", n, before)
	})
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func mibs(bs []uint64) []float64 {
	out := make([]float64, len(bs))
	for i, b := range bs {
		out[i] = float64(int(mib(b)*100)) / 100
	}
	return out
}

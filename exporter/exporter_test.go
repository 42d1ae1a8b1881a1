package exporter

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/lab"
	"github.com/corsaudit/corsaudit/internal/syncbuf"
	"github.com/corsaudit/corsaudit/internal/testinfra/promtest"
	"github.com/corsaudit/corsaudit/internal/testinfra/testenv"
)

// startFleet starts a live fleet of n instances, those where older(i) on
// the older CORS config (verdict drift for PUT).
func startFleet(t *testing.T, n int, older func(i int) bool) *lab.LiveFleet {
	t.Helper()
	f, err := lab.StartLiveFleet(lab.Fleet(n, older))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// fleetConfig audits f as the targets named, every hour (only start-up
// and reloads audit, unless a test says otherwise).
func fleetConfig(f *lab.LiveFleet, names ...string) *config.Config {
	c := config.Default()
	c.Timeout, c.Deadline, c.Interval = 2*time.Second, 20*time.Second, time.Hour
	for _, n := range names {
		c.Targets = append(c.Targets, f.Target(n))
	}
	return &c
}

// building is load followed by config.Build, as `serve` loads a config.
func building(load func() (*config.Config, error)) func() (*config.Built, error) {
	return func() (*config.Built, error) {
		cfg, err := load()
		if err != nil {
			return nil, err
		}
		return cfg.Build()
	}
}

// served is an exporter running its schedule, served on loopback.
type served struct {
	e    *Exporter
	url  string
	log  *syncbuf.Buffer
	stop func() // ends Run and waits for it
}

// serve runs an exporter of cfg until the test ends.
func serve(t *testing.T, cfg *config.Config, opt Options) *served {
	t.Helper()
	var log syncbuf.Buffer
	if opt.Log == nil {
		opt.Log = slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opt.ProbeConcurrency == 0 {
		opt.ProbeConcurrency = DefaultProbeConcurrency
	}
	b, err := cfg.Build()
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(b, opt)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(func() {
		stop()
		srv.Close()
	})
	return &served{e: e, url: srv.URL, log: &log, stop: stop}
}

// get fetches path and returns the status, headers and body.
func (s *served) get(t *testing.T, path string, header ...string) (int, http.Header, string) {
	t.Helper()
	return s.do(t, http.MethodGet, path, header...)
}

func (s *served) do(t *testing.T, method, path string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

// samples parses a text exposition (promtest.Samples).
func samples(t *testing.T, text string) map[string]float64 {
	t.Helper()
	return promtest.Samples(t, strings.NewReader(text))
}

func (s *served) metrics(t *testing.T) map[string]float64 {
	t.Helper()
	code, _, body := s.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	return samples(t, body)
}

func (s *served) waitReady(t *testing.T) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		code, _, body := s.get(t, "/-/ready")
		return code == http.StatusOK, fmt.Sprintf("/-/ready: %d %s", code, body)
	})
}

const driftShop = "corsaudit_findings{kind=verdict-drift,severity=error,target=shop}"

// TestEndpoints: with a drifted instance in the fleet, every endpoint
// answers what it says: /-/ready once each target was audited, /metrics
// the findings per target and each target's run, the report as HTML and
// JSON, /probe one audit's metrics; wrong requests get 4xx.
func TestEndpoints(t *testing.T) {
	f := startFleet(t, 4, func(i int) bool { return i == 3 })
	s := serve(t, fleetConfig(f, "shop", "admin"), Options{Version: "test"})
	if code, _, _ := s.get(t, "/-/healthy"); code != http.StatusOK {
		t.Errorf("/-/healthy: %d", code)
	}
	s.waitReady(t)

	m := s.metrics(t)
	for key, want := range map[string]float64{
		driftShop: 1,
		"corsaudit_findings{kind=verdict-drift,severity=error,target=admin}": 1,
		"corsaudit_findings{kind=lb-redirect,severity=error,target=shop}":    0,
		"corsaudit_instances{target=shop}":                                   4,
		"corsaudit_instances_unreachable{target=shop}":                       0,
		"corsaudit_run_complete{target=shop}":                                1,
		"corsaudit_up{target=admin}":                                         1,
		"corsaudit_targets{target=shop}":                                     1,
		"corsaudit_config_last_reload_successful":                            1,
	} {
		if got, ok := m[key]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", key, got, ok, want)
		}
	}
	for _, key := range []string{"corsaudit_last_success_timestamp_seconds{target=shop}", "corsaudit_last_run_timestamp_seconds{target=admin}",
		"corsaudit_run_duration_seconds{target=shop}", "corsaudit_requests{target=shop}", "go_goroutines", "process_resident_memory_bytes"} {
		if m[key] <= 0 {
			t.Errorf("%s = %v, want > 0", key, m[key])
		}
	}

	code, hdr, body := s.get(t, "/report.json")
	if code != http.StatusOK || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("/report.json: %d %s", code, hdr.Get("Content-Type"))
	}
	var rep diff.Report
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tr := range rep.Targets {
		names = append(names, tr.Name)
	}
	if strings.Join(names, ",") != "shop,admin" || rep.Summary.ByKind[diff.KindVerdictDrift] != 2 || rep.Incomplete != "" || rep.Version != "test" {
		t.Errorf("/report.json: targets %v, verdict drift %d, incomplete %q, version %q; want shop,admin, 2, none, test",
			names, rep.Summary.ByKind[diff.KindVerdictDrift], rep.Incomplete, rep.Version)
	}
	code, hdr, body = s.get(t, "/")
	if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "web-3") || !strings.Contains(body, "admin") {
		t.Errorf("/: %d %s, want the HTML report naming web-3 and admin", code, hdr.Get("Content-Type"))
	}

	code, _, body = s.get(t, "/probe?target=admin", ScrapeTimeoutHeader, "10")
	if code != http.StatusOK {
		t.Fatalf("/probe: %d\n%s", code, body)
	}
	pm := samples(t, body)
	if pm["corsaudit_findings{kind=verdict-drift,severity=error,target=admin}"] != 1 || pm["corsaudit_up{target=admin}"] != 1 ||
		pm["corsaudit_run_complete{target=admin}"] != 1 {
		t.Errorf("/probe?target=admin: %v", pm)
	}
	for key := range pm {
		if strings.Contains(key, "target=shop") || strings.HasPrefix(key, "go_") {
			t.Errorf("/probe?target=admin answers %s: it holds the probed target only", key)
		}
	}

	for _, tc := range []struct {
		desc, method, path string
		want               int
	}{
		{"probe without a target", "GET", "/probe", http.StatusBadRequest},
		{"probe of an unknown target", "GET", "/probe?target=nope", http.StatusBadRequest},
		{"reload by GET", "GET", "/-/reload", http.StatusMethodNotAllowed},
		{"metrics by POST", "POST", "/metrics", http.StatusMethodNotAllowed},
		{"unknown path", "GET", "/nope", http.StatusNotFound},
	} {
		if code, _, body := s.do(t, tc.method, tc.path); code != tc.want {
			t.Errorf("%s: %d, want %d\n%s", tc.desc, code, tc.want, body)
		}
	}
}

// TestNoCORS: no endpoint, whatever the request's Origin, answers with a
// CORS header: no page of another origin may read what it serves.
func TestNoCORS(t *testing.T) {
	f := startFleet(t, 2, nil)
	s := serve(t, fleetConfig(f, "shop"), Options{Load: building(func() (*config.Config, error) { return fleetConfig(f, "shop"), nil })})
	s.waitReady(t)
	for _, method := range []string{"GET", "POST", "OPTIONS"} {
		for _, path := range []string{"/", "/report.json", "/metrics", "/probe?target=shop", "/-/healthy", "/-/ready", "/-/reload"} {
			code, hdr, _ := s.do(t, method, path, "Origin", "https://evil.example", "Access-Control-Request-Method", "GET")
			for name := range hdr {
				if strings.HasPrefix(strings.ToLower(name), "access-control-") {
					t.Errorf("%s %s (%d) answers %s: %q", method, path, code, name, hdr.Get(name))
				}
			}
		}
	}
}

// TestReload: a fixed fleet shows no drift once the reload audits it
// again; an invalid config is refused, the previous one stays, and the
// metric says so until a valid reload.
func TestReload(t *testing.T) {
	f := startFleet(t, 3, func(i int) bool { return i == 2 })
	var mu sync.Mutex
	next := fleetConfig(f, "shop")
	load := func() (*config.Config, error) {
		mu.Lock()
		defer mu.Unlock()
		if next == nil {
			return nil, fmt.Errorf("invalid config:\n  concurrency: 0 must be at least 1")
		}
		return next, nil
	}
	s := serve(t, fleetConfig(f, "shop"), Options{Load: building(load)})
	s.waitReady(t)
	if got := s.metrics(t)[driftShop]; got != 1 {
		t.Fatalf("before the fix: %s = %v, want 1", driftShop, got)
	}

	mu.Lock()
	next = nil
	mu.Unlock()
	code, _, body := s.do(t, http.MethodPost, "/-/reload")
	if code != http.StatusInternalServerError || !strings.Contains(body, "concurrency: 0 must be at least 1") {
		t.Errorf("invalid reload: %d %q, want 500 with the reason", code, body)
	}
	m := s.metrics(t)
	if m["corsaudit_config_last_reload_successful"] != 0 || m[driftShop] != 1 {
		t.Errorf("after an invalid reload: reload successful %v, %s %v; want 0 and the old config's 1",
			m["corsaudit_config_last_reload_successful"], driftShop, m[driftShop])
	}
	if !strings.Contains(s.log.String(), "config reload refused") {
		t.Errorf("the refused reload is not logged:\n%s", s.log.String())
	}

	// Two targets with one name cannot be told apart in metrics.
	twice := fleetConfig(f, "shop")
	twice.Targets = append(twice.Targets, twice.Targets[0])
	twice.Targets[1].Name = ""
	twice.Targets[1].URL = "http://shop/v1/cart"
	mu.Lock()
	next = twice
	mu.Unlock()
	if code, _, body := s.do(t, http.MethodPost, "/-/reload"); code != http.StatusInternalServerError || !strings.Contains(body, `are both called "shop"`) {
		t.Errorf("reload with two targets called shop: %d %q, want 500", code, body)
	}

	if err := f.Deploy(lab.Fleet(3, nil)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	next = fleetConfig(f, "shop")
	mu.Unlock()
	if code, _, body := s.do(t, http.MethodPost, "/-/reload"); code != http.StatusOK {
		t.Fatalf("reload: %d %q", code, body)
	}
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		m := s.metrics(t)
		return m[driftShop] == 0 && m["corsaudit_config_last_reload_successful"] == 1,
			fmt.Sprintf("%s = %v, reload successful %v", driftShop, m[driftShop], m["corsaudit_config_last_reload_successful"])
	})
}

// TestReloadDropsAndAddsTargets: after a reload, metrics and readiness
// follow the new config's targets; a kept target keeps its results.
func TestReloadDropsAndAddsTargets(t *testing.T) {
	f := startFleet(t, 2, nil)
	var mu sync.Mutex
	next := fleetConfig(f, "shop", "admin")
	load := func() (*config.Config, error) {
		mu.Lock()
		defer mu.Unlock()
		return next, nil
	}
	s := serve(t, fleetConfig(f, "shop", "admin"), Options{Load: building(load)})
	s.waitReady(t)
	mu.Lock()
	next = fleetConfig(f, "shop", "checkout")
	mu.Unlock()
	if err := s.e.Reload(); err != nil {
		t.Fatal(err)
	}
	m := s.metrics(t)
	if _, ok := m["corsaudit_run_complete{target=admin}"]; ok {
		t.Error("a target the new config dropped still has metrics")
	}
	if m["corsaudit_run_complete{target=shop}"] != 1 {
		t.Error("a kept target lost its results in the reload")
	}
	s.waitReady(t)
	if m := s.metrics(t); m["corsaudit_run_complete{target=checkout}"] != 1 {
		t.Errorf("the new target was not audited: %v", m["corsaudit_run_complete{target=checkout}"])
	}
}

// TestProbeWaitsForTheTarget: a probe of a target that is being audited
// waits for that audit within the scrape timeout, then gets 503: never two
// audits of one target at once.
func TestProbeWaitsForTheTarget(t *testing.T) {
	f := startFleet(t, 2, nil)
	s := serve(t, fleetConfig(f, "shop"), Options{})
	s.waitReady(t)
	tg := s.e.targets["shop"]
	if !tg.lock(context.Background()) {
		t.Fatal("no lock")
	}
	code, _, body := s.get(t, "/probe?target=shop", ScrapeTimeoutHeader, "0.2")
	tg.unlock()
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "is being audited") {
		t.Errorf("probe while the target is audited: %d %q, want 503", code, body)
	}
	if code, _, body := s.get(t, "/probe?target=shop", ScrapeTimeoutHeader, "10"); code != http.StatusOK {
		t.Errorf("probe once the audit ended: %d %q", code, body)
	}
}

// TestProbeBoundsTheFleet: 50 scrapes of /probe at once, over five
// targets of one fleet, never have more requests in flight at the fleet
// than the config's concurrency; each scrape gets the metrics or 503.
func TestProbeBoundsTheFleet(t *testing.T) {
	const concurrency, scrapes = 3, 50
	f := startFleet(t, 3, func(i int) bool { return i == 3 })
	cfg := fleetConfig(f, "a", "b", "c", "d", "e")
	cfg.Concurrency, cfg.PerInstance = concurrency, 2
	// Few requests per audit, each held a moment: audits overlap.
	cfg.Analyses = []string{diff.AnalysisDrift}
	for i := range cfg.Targets {
		cfg.Targets[i].Policy.Headers = nil
		cfg.Targets[i].LB.Disabled = true
	}
	s := serve(t, cfg, Options{ProbeConcurrency: 4})
	s.waitReady(t)
	f.SetLatency(2 * time.Millisecond)
	f.ResetMax()
	codes := make([]int, scrapes)
	var wg sync.WaitGroup
	for i := range scrapes {
		wg.Go(func() {
			codes[i], _, _ = s.get(t, "/probe?target="+string(rune('a'+i%5)), ScrapeTimeoutHeader, "5")
		})
	}
	wg.Wait()
	ok := 0
	for i, c := range codes {
		switch c {
		case http.StatusOK:
			ok++
		case http.StatusServiceUnavailable:
		default:
			t.Errorf("scrape %d: %d", i, c)
		}
	}
	if ok == 0 {
		t.Error("no scrape got an answer")
	}
	if got := f.MaxInFlight(); got > concurrency || got < 1 {
		t.Errorf("the fleet saw %d requests in flight at once, want 1 to %d (concurrency)", got, concurrency)
	}
	t.Logf("%d of %d scrapes answered, %d requests, at most %d in flight", ok, scrapes, f.Requests(), f.MaxInFlight())
}

func TestProbeTimeout(t *testing.T) {
	for _, tc := range []struct {
		desc, header string
		deadline     time.Duration
		want         time.Duration
	}{
		{"no header: the deadline", "", 2 * time.Minute, 2 * time.Minute},
		{"scrape timeout less the margin", "10", 2 * time.Minute, 9500 * time.Millisecond},
		{"fractional", "2.5", 2 * time.Minute, 2 * time.Second},
		{"short: half of it", "0.8", time.Minute, 400 * time.Millisecond},
		{"longer than the deadline: the deadline", "300", time.Minute, time.Minute},
		{"huge", "1e300", time.Minute, time.Minute},
		{"not a number", "soon", time.Minute, time.Minute},
		{"negative", "-5", time.Minute, time.Minute},
		{"NaN", "NaN", time.Minute, time.Minute},
	} {
		if got := probeTimeout(tc.header, tc.deadline); got != tc.want {
			t.Errorf("%s: probeTimeout(%q, %s) = %s, want %s", tc.desc, tc.header, tc.deadline, got, tc.want)
		}
	}
}

// TestSchedule: each target runs at its own phase of the interval, the
// same after a restart, and the next run is always ahead, within one
// interval.
func TestSchedule(t *testing.T) {
	const interval = 10 * time.Minute
	base := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	phases := map[time.Duration]bool{}
	for _, name := range []string{"shop", "admin", "checkout", "search", "fonts"} {
		phase := phaseOf(name, interval)
		if phase != phaseOf(name, interval) || phase < 0 || phase >= interval {
			t.Errorf("%s: phase %s, want a fixed value in [0, %s)", name, phase, interval)
		}
		phases[phase] = true
		for _, after := range []time.Duration{0, time.Nanosecond, phase, phase + time.Nanosecond, 7 * time.Minute, interval, 25*time.Hour + 3*time.Second} {
			now := base.Add(after)
			next := nextRun(now, interval, phase)
			if !next.After(now) || next.Sub(now) > interval {
				t.Errorf("%s: nextRun(%s) = %s: want after now, within %s", name, now, next, interval)
			}
			if got := nextRun(next.Add(-time.Nanosecond), interval, phase); !got.Equal(next) {
				t.Errorf("%s: the run at %s is not on its phase (%s from just before)", name, next, got)
			}
		}
	}
	if len(phases) < 4 {
		t.Errorf("5 targets share %d phases: they do not spread over the interval", len(phases))
	}
}

// TestScheduleRunsEveryInterval: with a short interval the targets are
// audited again and again, each recording its last run.
func TestScheduleRunsEveryInterval(t *testing.T) {
	f := startFleet(t, 2, nil)
	cfg := fleetConfig(f, "shop")
	cfg.Interval = 50 * time.Millisecond
	s := serve(t, cfg, Options{})
	s.waitReady(t)
	first := s.metrics(t)["corsaudit_last_run_timestamp_seconds{target=shop}"]
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		got := s.metrics(t)["corsaudit_last_run_timestamp_seconds{target=shop}"]
		return got > first, fmt.Sprintf("last run %v, first %v", got, first)
	})
	if n := strings.Count(s.log.String(), `"msg":"audit"`); n < 2 {
		t.Errorf("%d audits logged, want at least 2", n)
	}
}

// TestLogIsStructured: every log line is a JSON record with a message, and
// the pipeline's notes carry their target.
func TestLogIsStructured(t *testing.T) {
	f := startFleet(t, 2, nil)
	s := serve(t, fleetConfig(f, "shop"), Options{})
	s.waitReady(t)
	sawTarget := false
	for line := range strings.Lines(s.log.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["msg"] == "" {
			t.Errorf("not a JSON record: %q (%v)", line, err)
		}
		if rec["target"] == "shop" && strings.Contains(fmt.Sprint(rec["msg"]), "instance") {
			sawTarget = true
		}
	}
	if !sawTarget {
		t.Errorf("no pipeline note carries target=shop:\n%s", s.log.String())
	}
}

func TestLineLog(t *testing.T) {
	var buf bytes.Buffer
	l := newLineLog(slog.New(slog.NewTextHandler(&buf, nil)))
	fmt.Fprint(l, "corsaudit: one\ncorsaudit: tw")
	fmt.Fprint(l, "o\n\n")
	if got := strings.Count(buf.String(), "msg="); got != 2 || !strings.Contains(buf.String(), "msg=one") || !strings.Contains(buf.String(), "msg=two") {
		t.Errorf("records:\n%s", buf.String())
	}
}

package audit

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/discovery"
)

// recorder is an instance that records what it receives and fails the test
// on anything corsaudit must never send.
type recorder struct {
	t       *testing.T
	mu      sync.Mutex
	methods map[string]int
	hosts   map[string]bool
	sni     map[string]bool
	ua      map[string]bool
	handler http.HandlerFunc
}

func newRecorder(t *testing.T, h http.HandlerFunc) *recorder {
	return &recorder{t: t, methods: map[string]int{}, hosts: map[string]bool{}, sni: map[string]bool{}, ua: map[string]bool{}, handler: h}
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.methods[r.Method]++
	rec.hosts[r.Host] = true
	rec.ua[r.UserAgent()] = true
	if r.TLS != nil {
		rec.sni[r.TLS.ServerName] = true
	}
	rec.mu.Unlock()
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		rec.t.Errorf("unsafe actual request %s reached an instance", r.Method)
	}
	if r.Header.Get("Cookie") != "" || r.Header.Get("Authorization") == "Basic" {
		rec.t.Errorf("credentials reached an instance: %v", r.Header)
	}
	rec.handler(w, r)
}

// allowApp is a correct CORS handler for https://app.example.com.
func allowApp(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Vary", cors.Origin)
	if r.Header.Get(cors.Origin) == "https://app.example.com" {
		w.Header().Set(cors.ACAO, "https://app.example.com")
		w.Header().Set(cors.ACAC, "true")
		if r.Method == http.MethodOptions {
			w.Header().Set(cors.ACAM, "GET, PUT")
			w.Header().Set(cors.ACAH, "Content-Type, X-Request-Id")
		}
	}
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Write([]byte("ok"))
}

func testPolicy() Policy {
	return Policy{Origins: []string{"https://app.example.com"}, Methods: []string{"GET", "PUT"},
		Headers: []string{"X-Request-Id"}, Credentials: true}
}

func TestRunDirectKeepsPublicHostAndSNI(t *testing.T) {
	rec := newRecorder(t, allowApp)
	srv := httptest.NewTLSServer(rec)
	defer srv.Close()
	pool := &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	// httptest's certificate names example.com, so verification against the
	// public host passes only if SNI and verification use the public name.
	spec := TargetSpec{
		Target: discovery.Target{Name: "t", URL: "https://example.com/v1/cart",
			Instances: []discovery.Instance{{ID: "i1", Addr: srv.Listener.Addr().String()}}},
		Probes: Plan(testPolicy()),
		LB:     LB{Disabled: true},
	}
	res, err := Run(context.Background(), []TargetSpec{spec}, testOptions(Options{TLSConfig: pool, Timeout: 5 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res[0].Direct.Row(0) {
		if o.Err() != ErrNone {
			t.Fatalf("probe %d: %s", o.Probe, o.Preflight.ErrMsg+o.Actual.ErrMsg)
		}
	}
	if !rec.hosts["example.com"] || len(rec.hosts) != 1 {
		t.Errorf("Host headers = %v, want only example.com", rec.hosts)
	}
	if !rec.sni["example.com"] || len(rec.sni) != 1 {
		t.Errorf("SNI = %v, want only example.com", rec.sni)
	}
	if !rec.ua[UserAgent] || len(rec.ua) != 1 {
		t.Errorf("User-Agent = %v, want only %q", rec.ua, UserAgent)
	}
	if rec.methods[http.MethodPut] != 0 || rec.methods[http.MethodOptions] == 0 || rec.methods[http.MethodGet] == 0 {
		t.Errorf("methods seen = %v: want OPTIONS and GET, never PUT", rec.methods)
	}
}

func TestRunNeverFollowsRedirects(t *testing.T) {
	var followed sync.Map
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		followed.Store(r.URL.Path, true)
	}))
	defer target.Close()
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/followed", http.StatusMovedPermanently)
	})
	srv := httptest.NewServer(rec)
	defer srv.Close()
	spec := TargetSpec{
		Target: discovery.Target{Name: "t", URL: srv.URL + "/v1",
			Instances: []discovery.Instance{{ID: "i1", Addr: srv.Listener.Addr().String()}}},
		Probes: Plan(testPolicy()),
	}
	res, err := Run(context.Background(), []TargetSpec{spec}, testOptions(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := followed.Load("/followed"); ok {
		t.Error("a redirect was followed")
	}
	o := res[0].Direct.At(0, len(spec.Probes)-1) // disallowed PUT: preflighted
	if o.Preflight == nil || o.Preflight.Status != http.StatusMovedPermanently || !strings.HasSuffix(o.Preflight.Location, "/followed") {
		t.Errorf("preflight = %+v, want the 301 and its Location", o.Preflight)
	}
	if len(res[0].LB) != len(spec.Probes) || len(res[0].LB[0]) != SamplesFor(1) {
		t.Errorf("LB samples = %d probes x %d, want %d x %d", len(res[0].LB), len(res[0].LB[0]), len(spec.Probes), SamplesFor(1))
	}
}

func TestRunUnreachableIsData(t *testing.T) {
	srv := httptest.NewServer(newRecorder(t, allowApp))
	defer srv.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadAddr := dead.Listener.Addr().String()
	dead.Close()
	spec := TargetSpec{
		Target: discovery.Target{Name: "t", URL: "http://api.example.com/",
			Instances: []discovery.Instance{
				{ID: "up", Addr: srv.Listener.Addr().String()},
				{ID: "down", Addr: deadAddr},
				{ID: "lambda", Skip: "lambda target: not probeable"},
			}},
		Probes: Plan(testPolicy()),
		LB:     LB{Disabled: true},
	}
	res, err := Run(context.Background(), []TargetSpec{spec}, testOptions(Options{Timeout: 2 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	for p := range spec.Probes {
		if e := res[0].Direct.At(0, p).Err(); e != ErrNone {
			t.Errorf("up, probe %d: error %s", p, e)
		}
		// Refused while it was tried, then given up: never answered.
		down := res[0].Direct.At(1, p)
		if e := down.Err(); (down.Done && e != ErrRefused) || (!down.Done && down.NotRun == "") {
			t.Errorf("down, probe %d: done %v, error %q, not run %q: want refused or not run", p, down.Done, e, down.NotRun)
		}
	}
	if res[0].Direct.Probed(2) {
		t.Error("a skipped instance was probed")
	}
}

func TestRunDeadlineReturnsPartial(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	spec := TargetSpec{
		Target: discovery.Target{Name: "t", URL: srv.URL,
			Instances: []discovery.Instance{{ID: "slow", Addr: srv.Listener.Addr().String()}}},
		Probes: Plan(testPolicy()),
		LB:     LB{Disabled: true},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	res, err := Run(ctx, []TargetSpec{spec}, testOptions(Options{Timeout: time.Minute}))
	if err == nil {
		t.Fatal("Run returned no error after its deadline")
	}
	if len(res) != 1 || len(res[0].Direct.Row(0)) != len(spec.Probes) {
		t.Fatalf("partial results missing: %+v", res)
	}
}

func TestSamplesFor(t *testing.T) {
	for _, tc := range []struct {
		desc string
		n    int
		want int
	}{
		{"one instance", 1, 8},
		{"two instances", 2, 11},
		{"12 instances: n ln(n/0.01)", 12, 86},
		{"capped", 1000, 256},
	} {
		if got := SamplesFor(tc.n); got != tc.want {
			t.Errorf("%s: SamplesFor(%d) = %d, want %d", tc.desc, tc.n, got, tc.want)
		}
	}
}

func TestPlan(t *testing.T) {
	probes := Plan(testPolicy())
	// 1 origin x 2 methods x 2 header sets + disallowed GET + disallowed PUT.
	if len(probes) != 6 {
		t.Fatalf("len(Plan) = %d, want 6: %+v", len(probes), probes)
	}
	for i, p := range probes {
		if p.ID == "" || !p.Credentials {
			t.Errorf("probe %d = %+v: want an ID and credentials", i, p)
		}
	}
	last := probes[len(probes)-1]
	if last.Origin != disallowedOrigin || last.Method != "PUT" || last.Expect != ExpectBlocked {
		t.Errorf("last probe = %+v, want the disallowed PUT", last)
	}
}

// TestRunBoundsConcurrency checks the global and per-instance bounds on
// requests in flight, and that the run does use the parallelism it has.
func TestRunBoundsConcurrency(t *testing.T) {
	const global, perInstance, n = 6, 2, 10
	var mu sync.Mutex
	inFlight, maxInFlight := 0, 0
	perInst := map[string]int{}
	maxPerInst := 0
	// Each request waits (bounded by a short timeout) for the run to fill
	// its global bound, so that an engine ignoring a bound would exceed it.
	full := make(chan struct{}, 1000)
	handler := func(id string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			inFlight++
			perInst[id]++
			maxInFlight = max(maxInFlight, inFlight)
			maxPerInst = max(maxPerInst, perInst[id])
			if inFlight >= global {
				for range global {
					full <- struct{}{}
				}
			}
			mu.Unlock()
			select {
			case <-full:
			case <-time.After(20 * time.Millisecond):
			}
			mu.Lock()
			inFlight--
			perInst[id]--
			mu.Unlock()
			allowApp(w, r)
		}
	}
	var insts []discovery.Instance
	for i := range n {
		id := string(rune('a' + i))
		srv := httptest.NewServer(newRecorder(t, handler(id)))
		defer srv.Close()
		insts = append(insts, discovery.Instance{ID: id, Addr: srv.Listener.Addr().String()})
	}
	spec := TargetSpec{Target: discovery.Target{Name: "t", URL: "http://api.example.com/", Instances: insts},
		Probes: Plan(testPolicy()), LB: LB{Disabled: true}}
	if _, err := Run(context.Background(), []TargetSpec{spec}, testOptions(Options{Concurrency: global, PerInstance: perInstance})); err != nil {
		t.Fatal(err)
	}
	if maxInFlight > global || maxPerInst > perInstance {
		t.Errorf("max in flight = %d (bound %d), per instance = %d (bound %d)", maxInFlight, global, maxPerInst, perInstance)
	}
	if maxInFlight < 2 {
		t.Errorf("max in flight = %d: the run never sent requests in parallel", maxInFlight)
	}
}

// TestRunsShareSlots: runs that share Slots hold one bound of requests
// in flight between them (the exporter's audits and probes), however many
// run at once; each alone could fill it.
func TestRunsShareSlots(t *testing.T) {
	const global, runs, n = 4, 3, 4
	var mu sync.Mutex
	inFlight, maxInFlight := 0, 0
	// Each request is held for a moment (cut short once the bound is
	// exceeded), so that runs ignoring the shared bound overlap above it.
	over := make(chan struct{})
	handler := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		if inFlight > global && maxInFlight <= global {
			close(over)
		}
		maxInFlight = max(maxInFlight, inFlight)
		mu.Unlock()
		select {
		case <-over:
		case <-time.After(20 * time.Millisecond):
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		allowApp(w, r)
	}
	var insts []discovery.Instance
	for i := range n {
		srv := httptest.NewServer(newRecorder(t, handler))
		defer srv.Close()
		insts = append(insts, discovery.Instance{ID: string(rune('a' + i)), Addr: srv.Listener.Addr().String()})
	}
	spec := TargetSpec{Target: discovery.Target{Name: "t", URL: "http://api.example.com/", Instances: insts},
		Probes: Plan(testPolicy()), LB: LB{Disabled: true}}
	slots := semaphore.NewWeighted(global)
	var wg sync.WaitGroup
	errs := make([]error, runs)
	for i := range runs {
		wg.Go(func() {
			_, errs[i] = Run(context.Background(), []TargetSpec{spec}, testOptions(Options{Concurrency: global, PerInstance: global, Slots: slots}))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	if maxInFlight > global {
		t.Errorf("max in flight over %d runs = %d, want at most the shared bound %d", runs, maxInFlight, global)
	}
	if maxInFlight < 2 {
		t.Errorf("max in flight = %d: the runs never sent requests in parallel", maxInFlight)
	}
}

// TestRunRecordsRequestsSent: each exchange records the request exactly as
// sent: the public URL, the dialled instance for direct requests (none
// through the LB), every header; LB exchanges keep the serving instance.
func TestRunRecordsRequestsSent(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Instance-Id", "i1")
		allowApp(w, r)
	})
	srv := httptest.NewServer(rec)
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	probes := Plan(testPolicy())
	spec := TargetSpec{
		Target: discovery.Target{Name: "t", URL: "http://" + addr + "/v1/cart",
			Instances: []discovery.Instance{{ID: "i1", Addr: addr}}},
		Probes: probes,
		LB:     LB{Samples: 1, InstanceHeader: "X-Instance-Id"},
	}
	res, err := Run(context.Background(), []TargetSpec{spec}, testOptions(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc      string
		obs       Observation
		connectTo string
	}{
		{desc: "direct, PUT with headers (preflight only)", obs: res[0].Direct.At(0, 3), connectTo: addr},
		{desc: "through the LB, PUT with headers", obs: res[0].LB[3][0]},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			pre := tt.obs.Preflight
			if tt.obs.Sent(pre) == nil || tt.obs.Actual != nil {
				t.Fatalf("preflight = %+v, actual = %+v: want only a recorded preflight", pre, tt.obs.Actual)
			}
			want := &SentRequest{Method: http.MethodOptions, URL: spec.Target.URL, ConnectTo: tt.connectTo, Header: http.Header{
				"Origin": {"https://app.example.com"}, "Access-Control-Request-Method": {"PUT"},
				"Access-Control-Request-Headers": {"x-request-id"}, "Sec-Fetch-Mode": {"cors"},
				"User-Agent": {UserAgent}, "Accept": {"*/*"}}, Timeout: 5 * time.Second}
			if !reflect.DeepEqual(tt.obs.Sent(pre), want) {
				t.Errorf("request:\n got %+v\nwant %+v", tt.obs.Sent(pre), want)
			}
			if tt.connectTo == "" && pre.ServedBy != "i1" {
				t.Errorf("served by %q, want i1", pre.ServedBy)
			}
		})
	}
}

package audit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/internal/testinfra/routertest"
)

var sourceIP = []discovery.Route{
	{Rule: "rule 5", Action: discovery.ActionForward, Pools: []discovery.Pool{{Name: "office"}}, Note: "source-ip 10.0.0.0/8: the caller's address is not known"},
	{Rule: "default", Action: discovery.ActionForward, Pools: []discovery.Pool{{Name: "web"}}},
}

// routedIDs is the probes as "id step serves-pools".
func routedIDs(ps []Probe, pools ...string) []string {
	var out []string
	for _, p := range ps {
		var serves []string
		for _, pool := range pools {
			if p.Serves(pool) {
				serves = append(serves, pool)
			}
		}
		out = append(out, strings.TrimSpace(p.ID+" "+p.Step)+" -> "+strings.Join(serves, ","))
	}
	return out
}

// TestRouteProbes: each probe ends up answered by one set of pools. Steps
// routed to different pools split into a probe per step, outcomes a rule
// cannot decide into a probe per outcome (paired across steps when they
// reach the same pools), and the steps corsaudit never sends (the actual
// PUT) keep their route without splitting anything.
func TestRouteProbes(t *testing.T) {
	u, _ := url.Parse("https://shop.example.com/api/cart")
	plan := Plan(testPolicy()) // p1 GET, p2 GET+X-Request-Id, p3 PUT, p4 PUT+X-Request-Id, p5 GET, p6 PUT (disallowed origin)
	for _, tc := range []struct {
		desc   string
		router routertest.Router
		probes []Probe
		want   []string
	}{
		{desc: "one pool: nothing splits, ids stay",
			router: routertest.Router{Default: []discovery.Route{routertest.Forward("default", "web")}},
			probes: plan[:4],
			want:   []string{"p1 -> web", "p2 -> web", "p3 -> web", "p4 -> web"}},
		{desc: "OPTIONS to one pool, GET to another: a probe per step",
			router: routertest.Router{Rules: []routertest.Rule{{Method: "OPTIONS", Routes: []discovery.Route{routertest.Forward("rule 1", "preflights")}}},
				Default: []discovery.Route{routertest.Forward("default", "web")}},
			probes: plan[:4],
			want: []string{"p1 -> web", "p2.preflight preflight -> preflights", "p2.actual actual -> web",
				"p3 -> preflights", "p4 -> preflights"}},
		{desc: "source-ip on every step: a probe per outcome, both steps each",
			router: routertest.Router{Default: sourceIP},
			probes: plan[1:3],
			want:   []string{"p2.r1 -> office", "p2.r2 -> web", "p3.r1 -> office", "p3.r2 -> web"}},
		{desc: "source-ip on the GET only: a probe per step and outcome",
			router: routertest.Router{Rules: []routertest.Rule{{Method: "OPTIONS", Routes: []discovery.Route{routertest.Forward("rule 1", "web")}}},
				Default: sourceIP},
			probes: plan[1:2],
			want:   []string{"p2.preflight preflight -> web", "p2.actual.r1 actual -> office", "p2.actual.r2 actual -> web"}},
		{desc: "a fixed response to OPTIONS: the preflight-only probe reaches no pool",
			router: routertest.Router{Rules: []routertest.Rule{{Method: "OPTIONS", Routes: []discovery.Route{{Rule: "rule 2", Action: discovery.ActionFixedResponse, Detail: "fixed response 200"}}}},
				Default: []discovery.Route{routertest.Forward("default", "web")}},
			probes: plan[:4],
			want:   []string{"p1 -> web", "p2.preflight preflight -> ", "p2.actual actual -> web", "p3 -> ", "p4 -> "}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got := routedIDs(RouteProbes(tc.probes, u, tc.router, cors.Chromium), "web", "preflights", "office")
			if !slices.Equal(got, tc.want) {
				t.Errorf("probes:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestRouteProbesRequests: the router sees what the load balancer sees:
// the public host, the probe's path, and per step the method and headers
// ActAsBrowser sends; the routes recorded name each step.
func TestRouteProbesRequests(t *testing.T) {
	u, _ := url.Parse("https://shop.example.com/api/cart")
	var seen []discovery.Request
	router := routertest.Router{Default: []discovery.Route{routertest.Forward("default", "web")}, Seen: &seen}
	p := Plan(testPolicy())[1] // GET with X-Request-Id: preflighted
	p.Path = "/api/items?limit=1"
	got := RouteProbes([]Probe{p}, u, router, cors.Chromium)
	if len(seen) != 2 {
		t.Fatalf("router saw %d requests, want the preflight and the GET", len(seen))
	}
	for k, want := range []struct {
		method string
		header http.Header
	}{
		{http.MethodOptions, http.Header{"Origin": {"https://app.example.com"}, "Access-Control-Request-Method": {"GET"},
			"Access-Control-Request-Headers": {"x-request-id"}, "User-Agent": {UserAgent}, "Accept": {"*/*"}, "Sec-Fetch-Mode": {"cors"}}},
		{http.MethodGet, http.Header{"Origin": {"https://app.example.com"}, "X-Request-Id": {"corsaudit"},
			"User-Agent": {UserAgent}, "Accept": {"*/*"}, "Sec-Fetch-Mode": {"cors"}}},
	} {
		r := seen[k]
		if r.Method != want.method || r.URL.String() != "https://shop.example.com/api/items?limit=1" || !reflect.DeepEqual(r.Header, want.header) {
			t.Errorf("request %d: %s %s %v, want %s on the probe's path with %v", k, r.Method, r.URL, r.Header, want.method, want.header)
		}
	}
	if len(got) != 1 || len(got[0].Routes) != 2 || got[0].Routes[0].Step != StepPreflight || got[0].Routes[1].Step != StepActual {
		t.Errorf("routes %+v, want the preflight's then the GET's", got)
	}
}

// TestRunRoutedProbes: the engine sends each probe only to the instances
// whose pool its route reaches (the others hold a not-routed cell, no
// observation), a probe of one step sends that step only, and the
// estimate and the progress count what is sent.
func TestRunRoutedProbes(t *testing.T) {
	type instance struct {
		rec  *recorder
		addr string
	}
	start := func() instance {
		rec := newRecorder(t, allowApp)
		srv := httptest.NewServer(rec)
		t.Cleanup(srv.Close)
		return instance{rec, srv.Listener.Addr().String()}
	}
	pre, web := start(), start()
	router := routertest.Router{Rules: []routertest.Rule{{Method: "OPTIONS", Routes: []discovery.Route{routertest.Forward("rule 1", "preflights")}}},
		Default: []discovery.Route{routertest.Forward("default", "web")}}
	u, _ := url.Parse("http://shop.example.com/v1/cart")
	// p2: GET with X-Request-Id, preflighted: p2.preflight and p2.actual.
	probes := RouteProbes(Plan(testPolicy())[1:2], u, router, cors.Chromium)
	spec := TargetSpec{Target: discovery.Target{Name: "shop", URL: u.String(), Instances: []discovery.Instance{
		{ID: "pre-1", Addr: pre.addr, Pool: "preflights"}, {ID: "web-1", Addr: web.addr, Pool: "web"}}},
		Probes: probes, LB: LB{Disabled: true}}
	estimate := Estimate([]TargetSpec{spec}, Options{}).Requests
	var done, total atomic.Int64
	res, err := Run(context.Background(), []TargetSpec{spec}, testOptions(Options{Progress: func(d, t int64) { done.Store(d); total.Store(t) }}))
	if err != nil {
		t.Fatal(err)
	}
	r := &res[0]
	if got := []int{pre.rec.methods["OPTIONS"], pre.rec.methods["GET"], web.rec.methods["OPTIONS"], web.rec.methods["GET"]}; !slices.Equal(got, []int{1, 0, 0, 1}) {
		t.Errorf("OPTIONS, GET received by the preflight pool and by web = %v, want [1 0 0 1]", got)
	}
	if int(r.Requests) != 2 || estimate != 2 || done.Load() != 2 || total.Load() != 2 {
		t.Errorf("sent %d requests, estimated %d, progress %d of %d: want 2 everywhere", r.Requests, estimate, done.Load(), total.Load())
	}
	for i, want := range []struct{ routed, notRouted int }{{0, 1}, {1, 0}} {
		if o := r.Direct.At(i, want.routed); !o.Done || !o.Verdict().Allowed {
			t.Errorf("instance %d, probe %s: %+v, want an allowed observation", i, probes[want.routed].ID, o)
		}
		if o := r.Direct.At(i, want.notRouted); o.Done || o.NotRun != NotRunNotRouted {
			t.Errorf("instance %d, probe %s: done %v, not run %q, want a not-routed cell", i, probes[want.notRouted].ID, o.Done, o.NotRun)
		}
	}
	if o := r.Direct.At(1, 1); o.Preflight != nil || o.Actual == nil {
		t.Errorf("the GET alone: preflight %v, actual %v", o.Preflight, o.Actual)
	}
}

// TestRunSamplesServedProbesOnly: a probe that the load balancer forwards
// only to a pool none of whose instances was discovered (another service
// behind the same load balancer) is not sampled through the load
// balancer either: no instance answer would be compared with the samples,
// and the requests would load a service the audit was not asked about.
func TestRunSamplesServedProbesOnly(t *testing.T) {
	web := newRecorder(t, allowApp)
	webSrv := httptest.NewServer(web)
	t.Cleanup(webSrv.Close)
	var mu sync.Mutex
	lbPaths := map[string]int{}
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		lbPaths[r.URL.Path]++
		mu.Unlock()
		allowApp(w, r)
	}))
	t.Cleanup(lb.Close)
	router := routertest.Router{Rules: []routertest.Rule{{PathPrefix: "/legacy/", Routes: []discovery.Route{routertest.Forward("rule 1", "legacy")}}},
		Default: []discovery.Route{routertest.Forward("default", "web")}}
	var probes []Probe
	for _, path := range []string{"/web/cart", "/legacy/cart"} {
		for _, p := range Plan(testPolicy())[:3] {
			p.ID, p.Path = p.ID+path, path
			probes = append(probes, p)
		}
	}
	spec := TargetSpec{Target: discovery.Target{Name: "shop", URL: lb.URL + "/web/cart", Router: router,
		Instances: []discovery.Instance{{ID: "web-1", Addr: webSrv.Listener.Addr().String(), Pool: "web"}}},
		Probes: probes, LB: LB{Samples: 2}}
	if err := RouteTarget(&spec, cors.Chromium); err != nil {
		t.Fatal(err)
	}
	for _, p := range spec.Probes {
		if want := !strings.HasPrefix(p.Path, "/legacy/"); p.Sampled() != want {
			t.Errorf("probe %s on %s: sampled %v, want %v", p.ID, p.Path, p.Sampled(), want)
		}
	}
	if _, err := Run(context.Background(), []TargetSpec{spec}, testOptions(Options{})); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if lbPaths["/legacy/cart"] != 0 || lbPaths["/web/cart"] == 0 {
		t.Errorf("requests through the load balancer by path %v, want /web/cart only", lbPaths)
	}
}

package pipeline

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
	"github.com/corsaudit/corsaudit/internal/testinfra/routertest"
)

// withRoutes is a provider as a cloud provider with routing returns
// its target: the inner provider's instances, each in the pool poolOf
// names, and the load balancer's router.
type withRoutes struct {
	inner  discovery.Provider
	poolOf func(id string) string
	router discovery.Router
}

func (p withRoutes) Discover(ctx context.Context) ([]discovery.Target, error) {
	ts, err := p.inner.Discover(ctx)
	for i := range ts {
		for j := range ts[i].Instances {
			ts[i].Instances[j].Pool = p.poolOf(ts[i].Instances[j].ID)
		}
		ts[i].Router = p.router
	}
	return ts, err
}

// poolPrefix is the pool of an instance named "<pool>-<n>".
func poolPrefix(id string) string { pool, _, _ := strings.Cut(id, "-"); return pool }

// The rules of the shared load balancer of issue 21, as an ALB's listener
// would have them: admin.example.com to the admin pool, /api/* to the api
// pool, everything else to web.
var (
	adminRule = routertest.Rule{Host: "admin.example.com", Routes: []discovery.Route{routertest.Forward("HTTP:80 rule priority 1 (…/5a1d)", "admin")}}
	apiRule   = routertest.Rule{PathPrefix: "/api/", Routes: []discovery.Route{routertest.Forward("HTTP:80 rule priority 10 (…/9c2e)", "api")}}
	webRoute  = []discovery.Route{routertest.Forward("HTTP:80 default action", "web")}
	// fixedOptions answers every OPTIONS under /api/ from the load
	// balancer itself, as an ALB fixed-response action does.
	fixedOptions = routertest.Rule{Method: http.MethodOptions, PathPrefix: "/api/", Routes: []discovery.Route{{
		Rule: "HTTP:80 rule priority 3 (…/0f3e)", Action: discovery.ActionFixedResponse, Detail: "fixed response 200, text/plain"}}}
)

// sharedALB is the fleet of issue 21 on loopback: one load balancer in
// front of three pools, each consistent within itself but not with the
// others (web sends another Access-Control-Max-Age than api; admin allows
// only its own origin), and the target probed on /api/cart and /.
// drifted names an api instance that does not allow PUT. The load
// balancer routes as the rules say (the router routes alike); with
// fixed, it answers OPTIONS under /api/ itself, with no CORS header.
func sharedALB(t *testing.T, drifted string, fixed bool) (*config.Config, []config.BuiltTarget) {
	t.Helper()
	api := labserver.Behavior{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "PUT"},
		AllowHeaders: []string{"X-Request-Id"}, Credentials: true, MaxAge: 600}
	web := api
	web.MaxAge = 60
	admin := api
	admin.AllowOrigins = []string{"https://admin.example.com"}
	behaviours := map[string]labserver.Behavior{"api": api, "web": web, "admin": admin}
	pools := map[string][]*url.URL{}
	var insts []any
	for _, id := range []string{"api-1", "api-2", "api-3", "web-1", "web-2", "web-3", "admin-1", "admin-2"} {
		b := behaviours[poolPrefix(id)]
		if id == drifted {
			b.AllowMethods = []string{"GET"}
		}
		b.ID = id
		srv := httptest.NewServer(labserver.New(b))
		t.Cleanup(srv.Close)
		addr := srv.Listener.Addr().String()
		pools[poolPrefix(id)] = append(pools[poolPrefix(id)], &url.URL{Scheme: "http", Host: addr})
		insts = append(insts, map[string]any{"id": id, "addr": addr})
	}
	next := map[string]int{}
	lb := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		pool := "web"
		if strings.HasPrefix(r.In.URL.Path, "/api/") {
			pool = "api"
		}
		key := pool + r.In.Method + r.In.Header.Get("Access-Control-Request-Method") + r.In.Header.Get("Access-Control-Request-Headers")
		r.SetURL(pools[pool][next[key]%len(pools[pool])])
		next[key]++
		r.Out.Host = r.In.Host
	}})
	t.Cleanup(lb.Close)
	if fixed {
		front := lb.Config.Handler
		lb.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodOptions && strings.HasPrefix(r.URL.Path, "/api/") {
				w.WriteHeader(http.StatusOK)
				return
			}
			front.ServeHTTP(w, r)
		})
	}
	c := config.Default()
	c.Timeout = 5 * time.Second
	c.Concurrency = 1 // the LB's round robin deals each request kind in turn
	c.Targets = []config.Target{{Name: "shop", URL: lb.URL + "/api/cart", Paths: []string{"/api/cart", "/"},
		Discover: map[string]map[string]any{"static": {"instances": insts}},
		Direct:   config.Direct{Scheme: "http"}, LB: config.LB{InstanceHeader: labserver.InstanceHeader},
		Policy: config.Policy{Origins: []string{"https://app.example.com"}, Methods: []string{"GET", "PUT"},
			Headers: []string{"X-Request-Id"}, Credentials: true}}}
	built := mustBuild(t, &c).Targets
	rules := routertest.Router{Rules: []routertest.Rule{adminRule, apiRule}, Default: webRoute}
	if fixed {
		rules.Rules = append([]routertest.Rule{fixedOptions}, rules.Rules...)
	}
	built[0].Provider = withRoutes{inner: built[0].Provider, poolOf: poolPrefix, router: rules}
	return &c, built
}

// findingsOf lists the report's findings as "kind severity instances".
func findingsOf(rep *diff.Report) []string {
	var out []string
	for _, f := range rep.Findings {
		out = append(out, string(f.Kind)+" "+string(f.Severity)+" "+strings.Join(f.Instances, ","))
	}
	return out
}

// TestSharedLoadBalancer is the audit of issue 21 with a fake router: the
// load balancer's routes decide which instances answer each request, so a
// fleet of consistent pools is clean (exit 0) where comparing every
// instance with every other finds drift; one drifting api instance is
// named alone (exit 1); and a rule that answers OPTIONS itself is an error
// naming the rule, from discover alone and from the audit, reported once.
func TestSharedLoadBalancer(t *testing.T) {
	run1 := func(t *testing.T, cfg *config.Config, built []config.BuiltTarget) *diff.Report {
		t.Helper()
		var log strings.Builder
		rep, err := run(context.Background(), time.Now(), cfg, built, Options{Version: "test", Log: &log})
		if err != nil {
			t.Fatalf("audit: %v\nlog:\n%s", err, log.String())
		}
		if !strings.Contains(log.String(), "pool admin serves none of the probed requests") {
			t.Errorf("the log does not say the admin pool is not audited:\n%s", log.String())
		}
		for _, in := range rep.Targets[0].Instances {
			if strings.HasPrefix(in.ID, "admin") {
				t.Errorf("admin instance %s is in the report: no probe reaches its pool", in.ID)
			}
		}
		return rep
	}
	t.Run("consistent pools: clean, exit 0", func(t *testing.T) {
		cfg, built := sharedALB(t, "", false)
		rep := run1(t, cfg, built)
		if fs := findingsOf(rep); len(fs) != 0 || rep.FailsAt(diff.FailOn(cfg.FailOn)) {
			t.Errorf("findings %q, want none and exit 0", fs)
		}
		// Without the routes the same fleet is a false alarm: admin drifts
		// from the majority, web sends other headers than api.
		plain := slices.Clone(built)
		plain[0].Provider = withRoutes{inner: built[0].Provider.(withRoutes).inner, poolOf: poolPrefix}
		unrouted, err := run(context.Background(), time.Now(), cfg, plain, Options{Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if !unrouted.FailsAt(diff.FailOn(cfg.FailOn)) || unrouted.Summary.ByKind[diff.KindVerdictDrift] == 0 {
			t.Errorf("without routes: findings %q, want verdict drift failing the run (the fleet no longer needs routing)", findingsOf(unrouted))
		}
	})
	t.Run("one api instance drifts: it alone, exit 1", func(t *testing.T) {
		cfg, built := sharedALB(t, "api-2", false)
		rep := run1(t, cfg, built)
		var named []string
		for _, f := range rep.Findings {
			if f.Severity == diff.SeverityError {
				named = append(named, string(f.Kind)+" "+strings.Join(f.Instances, ","))
			}
		}
		// One cause: the requests through the load balancer that land on
		// api-2 fold into its drift.
		if want := []string{"verdict-drift api-2"}; !slices.Equal(named, want) {
			t.Errorf("errors %q, want %q; all findings %q", named, want, findingsOf(rep))
		}
		for _, f := range rep.Findings {
			if f.Kind == diff.KindVerdictDrift && (f.Path != "/api/cart" || !strings.Contains(f.Probes[0].RoutedBy(), "rule priority 10") ||
				!slices.Contains(f.Explains, diff.KindLBMismatch) || f.Share == 0) {
				t.Errorf("verdict-drift on %s routed by %q, explaining %v (share %.2f), want /api/cart by rule priority 10, explaining the LB's samples",
					f.Path, f.Probes[0].RoutedBy(), f.Explains, f.Share)
			}
		}
		if !rep.FailsAt(diff.FailOn(cfg.FailOn)) {
			t.Error("exit 0, want 1")
		}
	})
	t.Run("a rule answers OPTIONS itself: an error naming it, from discover and audit", func(t *testing.T) {
		cfg, built := sharedALB(t, "", true)
		inv, err := discoverInventory(context.Background(), cfg, built, "test", nil)
		if err != nil {
			t.Fatal(err)
		}
		check := func(from string, fs []diff.Finding) {
			var hits []diff.Finding
			for _, f := range fs {
				if f.Kind == diff.KindLBAnswersOptions {
					hits = append(hits, f)
				}
			}
			if len(hits) != 1 {
				t.Fatalf("%s: %d lb-answers-options findings, want 1: %+v", from, len(hits), fs)
			}
			f := hits[0]
			if f.Severity != diff.SeverityError || f.Path != "/api/cart" || !strings.Contains(f.Message, "rule priority 3 (…/0f3e)") ||
				!strings.Contains(f.Reproduce, "-X OPTIONS") {
				t.Errorf("%s: %s %s on %s: %s\n%s; want an error on /api/cart naming rule priority 3 with a curl of the OPTIONS",
					from, f.Kind, f.Severity, f.Path, f.Message, f.Reproduce)
			}
		}
		check("discover", inv.Targets[0].Findings)
		rep := run1(t, cfg, built)
		check("audit", rep.Findings)
		if !rep.FailsAt(diff.FailOn(cfg.FailOn)) {
			t.Error("exit 0, want 1")
		}
		// The GET that needs a preflight is still audited on the api pool,
		// as a browser sends it once the preflight passed.
		var actualOnly bool
		for _, p := range rep.Targets[0].Probes {
			actualOnly = actualOnly || p.Step == audit.StepActual
		}
		if !actualOnly {
			t.Errorf("no probe of the actual request alone: %+v", rep.Targets[0].Probes)
		}
	})
}

// TestNoPoolReached: a load balancer that sends none of the probed
// requests to a discovered instance is a config error naming what serves
// each path; nothing is sent.
func TestNoPoolReached(t *testing.T) {
	cfg, built := sharedALB(t, "", false)
	bucket := []discovery.Route{{Rule: "url map web: path rule /*", Action: discovery.ActionBucket, Detail: "backend bucket assets"}}
	built[0].Provider = withRoutes{inner: built[0].Provider.(withRoutes).inner, poolOf: poolPrefix,
		router: routertest.Router{Default: bucket}}
	rep, err := run(context.Background(), time.Now(), cfg, built, Options{})
	if rep != nil || err == nil {
		t.Fatalf("report %v, error %v: want no report and an error", rep != nil, err)
	}
	for _, want := range []string{"target shop: route: the load balancer sends none of the probed requests to a discovered instance",
		"GET /api/cart: url map web: path rule /* -> backend-bucket: backend bucket assets", "OPTIONS /: url map web"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// TestShardsMergeAsOneRunRouted: a routed target (pools, a pool no probe
// reaches, a route with two outcomes) goes through the inventory, shards
// and merge: the inventory carries pools, routes and the pools left out,
// and the merged report is the single run's in every format.
func TestShardsMergeAsOneRunRouted(t *testing.T) {
	cfg, lbs := shardFleet(t)
	cfg.Targets[0].Paths = []string{"/v1/cart", "/v1/items"}
	built := mustBuild(t, cfg).Targets
	pools := map[string]string{"i02": "items", "i03": "items", "i06": "idle"}
	router := routertest.Router{Rules: []routertest.Rule{
		{Method: http.MethodOptions, PathPrefix: "/v1/items", Routes: []discovery.Route{routertest.Forward("rule 2", "cart")}},
		{Method: http.MethodGet, PathPrefix: "/v1/items", Routes: []discovery.Route{
			{Rule: "rule 5", Action: discovery.ActionForward, Pools: []discovery.Pool{{Name: "items"}}, Note: "source-ip 10.0.0.0/8"},
			routertest.Forward("default", "cart")}},
	}, Default: []discovery.Route{routertest.Forward("default", "cart")}}
	built[0].Provider = withRoutes{inner: built[0].Provider, router: router, poolOf: func(id string) string {
		if p, ok := pools[id]; ok {
			return p
		}
		return "cart"
	}}
	for _, lb := range lbs {
		lb.reset()
	}
	single, err := run(context.Background(), time.Now(), cfg, built, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	want := renderAll(t, single)
	found, err := discoverInventory(context.Background(), cfg, built, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	inv := throughJSON(t, found)
	shop := inv.Targets[0]
	var ids []string
	for _, p := range shop.Probes {
		ids = append(ids, p.ID)
	}
	if !slices.Equal(shop.LeftOut, []audit.PoolCount{{Pool: "idle", Instances: 1}}) || len(shop.Instances) != 6 ||
		!slices.Contains(ids, "p45.r1") || !slices.Contains(ids, "p45.r2") || shop.Probes[0].Routes == nil || shop.Instances[0].Pool == "" {
		t.Fatalf("inventory: left out %v, %d instances, probes %v: want idle left out, 6 instances in pools, p45 (GET /v1/items) in two outcomes",
			shop.LeftOut, len(shop.Instances), ids)
	}
	for _, n := range []int{2, 3} {
		for _, lb := range lbs {
			lb.reset()
		}
		var shards []NamedShard
		for k := range n {
			shards = append(shards, runShard(t, inv, k, n, nil))
		}
		merged, _, err := MergeShards(shards)
		if err != nil {
			t.Fatalf("%d shards: %v", n, err)
		}
		got := renderAll(t, merged)
		for f, w := range want {
			if got[f] != w {
				t.Errorf("%d shards merged: %s differs from the single run: %s", n, f, firstDifference(w, got[f]))
			}
		}
	}
}

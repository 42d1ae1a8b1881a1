package gcp

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/providers/gcp/gcptest"
)

// addGroup adds a zonal instance group of running, healthy VMs (named
// group-1...) to the fake, as a backend of the service at svcPath.
func addGroup(f *gcptest.Server, svcPath, zone, group string, n int, ipBase string) string {
	g := "zones/" + zone + "/instanceGroups/" + group
	for i := 1; i <= n; i++ {
		ip := fmt.Sprintf("%s.%d", ipBase, i)
		vm := f.VM(zone, fmt.Sprintf("%s-%d", group, i), ip, "", "RUNNING")
		f.GroupMember(g, vm, "RUNNING", map[string]int{"http": 8080})
		f.Health(svcPath, g, gcptest.Obj{"instance": vm, "ipAddress": ip, "port": 8080, "healthState": "HEALTHY"})
	}
	return g
}

// routeOf is the one route the target's router gives a GET of rawURL.
func routeOf(t *testing.T, tg discovery.Target, method, rawURL string) discovery.Route {
	t.Helper()
	if tg.Router == nil {
		t.Fatalf("target %s has no router", tg.Name)
	}
	rs := tg.Router.Route(newReq(t, method, rawURL, http.Header{"Origin": {"https://app.example.com"}}))
	if len(rs) != 1 {
		t.Fatalf("%s: %d routes, want 1: %+v", rawURL, len(rs), rs)
	}
	return rs[0]
}

// TestDiscoverWeightedSplit: a route rule splits /api/ 90/10 between the
// backend services shop-blue (configured) and shop-green. Both services'
// instances are discovered, each in its service's pool and group (what a
// gate compares), with its weight; the router says which paths go where.
func TestDiscoverWeightedSplit(t *testing.T) {
	f := gcptest.NewServer(t, project)
	bluePath, greenPath := "global/backendServices/shop-blue", "global/backendServices/shop-green"
	blue := f.BackendService(bluePath, "HTTP", "http", addGroup(f, bluePath, "europe-west1-b", "blue-ig", 2, "10.0.1"))
	green := f.BackendService(greenPath, "HTTP", "http", addGroup(f, greenPath, "europe-west1-b", "green-ig", 2, "10.0.2"))
	web := f.SelfLink("global/backendServices/web")
	um := f.URLMap("global", "shop", gcptest.Obj{"defaultService": web,
		"hostRules": []gcptest.Obj{gcptest.HostRule("main", "*")},
		"pathMatchers": []gcptest.Obj{{"name": "main", "defaultService": web, "routeRules": []gcptest.Obj{
			{"priority": 1, "matchRules": []gcptest.Obj{{"prefixMatch": "/api/"}}, "routeAction": gcptest.Weighted(blue, 90, green, 10)},
			{"priority": 2, "matchRules": []gcptest.Obj{{"prefixMatch": "/static/"}}, "service": f.BackendBucket("assets")},
		}}}})
	f.ForwardingRule("global", "shop-https", "34.50.0.1", "443-443", f.TargetProxy("global", "shop-proxy", true, um))

	tg, err := discover(t, Config{Project: project, BackendService: "shop-blue", Endpoint: f.URL()})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	type inst struct {
		ID, Pool, Group, GroupLabel string
		Weight                      int
	}
	var got []inst
	for _, in := range tg.Instances {
		got = append(got, inst{in.ID, in.Pool, in.Group, in.Labels["group"], in.Weight})
		if in.Scheme != "http" || in.Health != discovery.HealthHealthy || !in.Probeable() {
			t.Errorf("instance %s: scheme %q health %q probeable %v", in.ID, in.Scheme, in.Health, in.Probeable())
		}
	}
	want := []inst{
		{"blue-ig-1", "shop-blue", "shop-blue", "blue-ig", 90}, {"blue-ig-2", "shop-blue", "shop-blue", "blue-ig", 90},
		{"green-ig-1", "shop-green", "shop-green", "green-ig", 10}, {"green-ig-2", "shop-green", "shop-green", "green-ig", 10},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("instances:\n got %+v\nwant %+v", got, want)
	}
	// The groups a gate names: --baseline shop-blue --candidate shop-green.
	var groups []string
	for _, in := range tg.Instances {
		if !slices.Contains(groups, in.Group) {
			groups = append(groups, in.Group)
		}
	}
	if !slices.Equal(groups, []string{"shop-blue", "shop-green"}) {
		t.Errorf("groups = %v, want the two services", groups)
	}
	if tg.Name != "shop-blue" || tg.URL != "https://34.50.0.1/" {
		t.Errorf("target = %s %s, want shop-blue https://34.50.0.1/", tg.Name, tg.URL)
	}
	for _, tc := range []struct {
		desc, url string
		want      discovery.Route
	}{
		{desc: "the split", url: "https://34.50.0.1/api/cart",
			want: fwd("url map shop: host rule *, path matcher main, route rule priority 1",
				discovery.Pool{Name: "shop-blue", Weight: 90}, discovery.Pool{Name: "shop-green", Weight: 10})},
		{desc: "a backend bucket", url: "https://34.50.0.1/static/app.js",
			want: discovery.Route{Rule: "url map shop: host rule *, path matcher main, route rule priority 2",
				Action: discovery.ActionBucket, Detail: "backend bucket assets"}},
		{desc: "the rest: another service", url: "https://34.50.0.1/", want: fwd("url map shop: host rule *, path matcher main, default", pool("web"))},
	} {
		if got := routeOf(t, tg, http.MethodGet, tc.url); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %s\n got %+v\nwant %+v", tc.desc, tc.url, got, tc.want)
		}
	}
	// 2 backend services + url maps, 2 proxy lists, forwarding rules + 2
	// listInstances + 2 getHealth + 1 instances list (one zone).
	if n, _ := f.CallCount("GET global/backendServices/{}"); n != 2 {
		t.Errorf("backend service gets = %d, want 2", n)
	}
	if _, total := f.CallCount(""); total != 11 {
		t.Errorf("API calls = %d, want 11: %v", total, f.Calls())
	}
}

// severalLBs lays out three load balancers in front of shop-api, in this
// forwarding rule order:
//
//	legacy-https 34.0.0.9:443 -> legacy-map: host legacy.example.com -> shop-api, else legacy
//	web-http     34.0.0.1:80  -> to-https (redirect to HTTPS)
//	web-https    34.0.0.1:443 -> web-map: www.example.com -> site (web; /assets/* bucket),
//	                             api.example.com -> api (shop-api; /old/* redirect, /admin/* legacy),
//	                             default shop-api
func severalLBs(t *testing.T) *gcptest.Server {
	f := gcptest.NewServer(t, project)
	svcPath := "global/backendServices/shop-api"
	svc := f.BackendService(svcPath, "HTTP", "http", addGroup(f, svcPath, "us-east1-b", "api-ig", 2, "10.1.0"))
	web, legacy := f.SelfLink("global/backendServices/web"), f.SelfLink("global/backendServices/legacy")
	legacyMap := f.URLMap("global", "legacy-map", gcptest.Obj{"defaultService": legacy,
		"hostRules":    []gcptest.Obj{gcptest.HostRule("l", "legacy.example.com")},
		"pathMatchers": []gcptest.Obj{{"name": "l", "defaultService": svc}}})
	toHTTPS := f.URLMap("global", "to-https", gcptest.Obj{"defaultUrlRedirect": gcptest.Obj{"httpsRedirect": true}})
	webMap := f.URLMap("global", "web-map", gcptest.Obj{"defaultService": svc,
		"hostRules": []gcptest.Obj{gcptest.HostRule("site", "www.example.com"), gcptest.HostRule("api", "api.example.com")},
		"pathMatchers": []gcptest.Obj{
			{"name": "site", "defaultService": web, "pathRules": []gcptest.Obj{gcptest.PathRule(f.BackendBucket("assets"), "/assets/*")}},
			{"name": "api", "defaultService": svc, "pathRules": []gcptest.Obj{
				{"paths": []string{"/old/*"}, "urlRedirect": gcptest.Obj{"pathRedirect": "/v2/"}},
				gcptest.PathRule(legacy, "/admin/*")}},
		}})
	f.ForwardingRule("global", "legacy-https", "34.0.0.9", "443-443", f.TargetProxy("global", "legacy-proxy", true, legacyMap))
	f.ForwardingRule("global", "web-http", "34.0.0.1", "80-80", f.TargetProxy("global", "web-http-proxy", false, toHTTPS))
	f.ForwardingRule("global", "web-https", "34.0.0.1", "443-443", f.TargetProxy("global", "web-proxy", true, webMap))
	return f
}

// TestDiscoverRoutingSeveralLoadBalancers: the default URL is the
// frontend whose own address reaches the service (not the first rule that
// routes to it somewhere); a DNS name reaches the only URL map naming it;
// paths go to a backend bucket, a redirect, another service.
func TestDiscoverRoutingSeveralLoadBalancers(t *testing.T) {
	f := severalLBs(t)
	tg, err := discover(t, Config{Project: project, BackendService: "shop-api", Endpoint: f.URL()})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if tg.URL != "https://34.0.0.1/" {
		t.Errorf("url = %q, want https://34.0.0.1/ (web-https; legacy-https's root is legacy's)", tg.URL)
	}
	for _, in := range tg.Instances {
		if in.Pool != "shop-api" || in.Group != "api-ig" || in.Labels["group"] != "" {
			t.Errorf("instance %s: pool %q group %q (label %q), want shop-api, api-ig, no label", in.ID, in.Pool, in.Group, in.Labels["group"])
		}
	}
	const api = "url map web-map: host rule api.example.com, path matcher api, "
	for _, tc := range []struct {
		desc, method, url string
		want              discovery.Route
		wantDetail        string
	}{
		{desc: "host rule and the matcher's default", url: "https://api.example.com/cart", want: fwd(api+"default", pool("shop-api"))},
		{desc: "a preflight takes the same route", method: http.MethodOptions, url: "https://api.example.com/cart",
			want: fwd(api+"default", pool("shop-api"))},
		{desc: "a redirect for a path", url: "https://api.example.com/old/cart?id=1",
			want: discovery.Route{Rule: api + "path rule /old/*", Action: discovery.ActionRedirect, Detail: "301 to https://api.example.com/v2/?id=1"}},
		{desc: "another service for a path", url: "https://api.example.com/admin/users", want: fwd(api+"path rule /admin/*", pool("legacy"))},
		{desc: "a backend bucket on another host", url: "https://www.example.com/assets/app.css",
			want: discovery.Route{Rule: "url map web-map: host rule www.example.com, path matcher site, path rule /assets/*",
				Action: discovery.ActionBucket, Detail: "backend bucket assets"}},
		{desc: "the other load balancer's host", url: "https://legacy.example.com/x",
			want: fwd("url map legacy-map: host rule legacy.example.com, path matcher l, default", pool("shop-api"))},
		{desc: "the IP of the first rule", url: "https://34.0.0.9/x",
			want: fwd("url map legacy-map: default (no host rule matches 34.0.0.9)", pool("legacy"))},
		{desc: "http goes to the HTTP proxy", url: "http://api.example.com/cart",
			want: discovery.Route{Rule: "url map to-https: default (no host rule matches api.example.com)", Action: discovery.ActionRedirect,
				Detail: "301 to https://api.example.com/cart"}},
		{desc: "a name no map names: ambiguous", url: "https://shop.example.org/",
			wantDetail: "shop.example.org on https port 443 may reach 2 URL maps (legacy-https https 34.0.0.9:443 -> url map legacy-map, web-https https 34.0.0.1:443 -> url map web-map); set forwarding_rule:"},
	} {
		method := tc.method
		if method == "" {
			method = http.MethodGet
		}
		got := routeOf(t, tg, method, tc.url)
		if tc.wantDetail != "" {
			if got.Action != discovery.ActionNone || !strings.Contains(got.Detail, tc.wantDetail) {
				t.Errorf("%s: %s\n got %+v\nwant none with %q", tc.desc, tc.url, got, tc.wantDetail)
			}
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %s %s\n got %+v\nwant %+v", tc.desc, method, tc.url, got, tc.want)
		}
	}
	// Flat: one list of maps, of each proxy kind, of forwarding rules.
	for _, p := range []string{"GET global/urlMaps", "GET global/targetHttpsProxies", "GET global/targetHttpProxies", "GET global/forwardingRules"} {
		if n, _ := f.CallCount(p); n != 1 {
			t.Errorf("%s: %d calls, want 1", p, n)
		}
	}
}

// TestDiscoverForwardingRule: forwarding_rule settles an ambiguous name,
// and a name that is no HTTP(S) frontend is an error listing those found.
func TestDiscoverForwardingRule(t *testing.T) {
	f := severalLBs(t)
	tg, err := discover(t, Config{Project: project, BackendService: "shop-api", ForwardingRule: "web-https", Endpoint: f.URL()})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if got, want := routeOf(t, tg, http.MethodGet, "https://shop.example.org/"),
		fwd("url map web-map: default (no host rule matches shop.example.org)", pool("shop-api")); !reflect.DeepEqual(got, want) {
		t.Errorf("with forwarding_rule: %+v, want %+v", got, want)
	}
	if got := routeOf(t, tg, http.MethodGet, "http://34.0.0.1/"); got.Action != discovery.ActionNone {
		t.Errorf("http with forwarding_rule web-https: %+v, want none (only that frontend is used)", got)
	}
	_, err = discover(t, Config{Project: project, BackendService: "shop-api", ForwardingRule: "nope", Endpoint: f.URL()})
	want := `gcp: forwarding_rule "nope": no forwarding rule of that name points at an HTTP(S) target proxy in project shop-project (found: legacy-https`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("unknown forwarding_rule: err = %v, want %q...", err, want)
	}
}

// TestDiscoverServiceServesNoPath: the configured backend service is in a
// URL map, but not for the audited URL's host: the router says what
// serves each path instead (the core turns that into a config error).
func TestDiscoverServiceServesNoPath(t *testing.T) {
	f := gcptest.NewServer(t, project)
	svcPath := "global/backendServices/shop-old"
	svc := f.BackendService(svcPath, "HTTP", "http", addGroup(f, svcPath, "us-east1-b", "old-ig", 1, "10.2.0"))
	web, apiSvc := f.SelfLink("global/backendServices/web"), f.SelfLink("global/backendServices/api")
	um := f.URLMap("global", "web-map", gcptest.Obj{"defaultService": web,
		"hostRules": []gcptest.Obj{gcptest.HostRule("site", "www.example.com"), gcptest.HostRule("old", "old.example.com")},
		"pathMatchers": []gcptest.Obj{
			{"name": "site", "defaultService": web, "pathRules": []gcptest.Obj{gcptest.PathRule(apiSvc, "/api/*")}},
			{"name": "old", "defaultService": svc}}})
	f.ForwardingRule("global", "web-https", "34.0.0.1", "443-443", f.TargetProxy("global", "web-proxy", true, um))

	tg, err := discover(t, Config{Project: project, BackendService: "shop-old", Endpoint: f.URL()})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if len(tg.Instances) != 1 || tg.Instances[0].Pool != "shop-old" {
		t.Fatalf("instances = %+v, want one in pool shop-old", tg.Instances)
	}
	for _, tc := range []struct {
		url  string
		want discovery.Route
	}{
		{url: "https://www.example.com/api/v1/cart", want: fwd("url map web-map: host rule www.example.com, path matcher site, path rule /api/*", pool("api"))},
		{url: "https://www.example.com/", want: fwd("url map web-map: host rule www.example.com, path matcher site, default", pool("web"))},
		{url: "https://old.example.com/", want: fwd("url map web-map: host rule old.example.com, path matcher old, default", pool("shop-old"))},
	} {
		got := routeOf(t, tg, http.MethodGet, tc.url)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s\n got %+v\nwant %+v", tc.url, got, tc.want)
		}
		if strings.HasPrefix(tc.url, "https://www.") && got.Forwards("shop-old") {
			t.Errorf("%s forwards to shop-old", tc.url)
		}
	}
}

// TestDiscoverNoFrontendNoRouter: a URL map names the service but no
// forwarding rule leads to it: routing is unknown, the target has no
// router (every instance serves every request, as before).
func TestDiscoverNoFrontendNoRouter(t *testing.T) {
	f := gcptest.NewServer(t, project)
	svcPath := "global/backendServices/shop"
	svc := f.BackendService(svcPath, "HTTP", "http", addGroup(f, svcPath, "us-east1-b", "ig", 1, "10.3.0"))
	f.URLMap("global", "m", gcptest.Obj{"defaultService": svc})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ts, err := newProvider(Config{Project: project, BackendService: "shop", Endpoint: f.URL()}, nil).Discover(ctx)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if ts[0].Router != nil || ts[0].URL != "" || ts[0].Instances[0].Pool != "shop" {
		t.Errorf("target = %+v, want no router, no url, instances in pool shop", ts[0])
	}
}

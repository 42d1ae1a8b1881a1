package kubernetes

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/corsaudit/corsaudit/discovery"
)

// testRoute parses an HTTPRoute "shop" in namespace prod written as YAML
// (its spec), each backend its own pool named after it (namespace/name in
// another namespace).
func testRoute(t *testing.T, spec string) (*httpRouteRoutes, discovery.Router) {
	t.Helper()
	var obj map[string]any
	if err := yaml.Unmarshal([]byte("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: shop, namespace: prod}\nspec:\n"+spec), &obj); err != nil {
		t.Fatal(err)
	}
	r, err := parseHTTPRoute(obj, "shop", "prod")
	if err != nil {
		t.Fatal(err)
	}
	poolOf := map[backendRef]string{}
	for _, b := range r.backends() {
		poolOf[b] = b.Name
		if b.Namespace != "prod" {
			poolOf[b] = b.Namespace + "/" + b.Name
		}
	}
	return r, r.router(poolOf)
}

// send routes one request; header is "Name: value" lines.
func send(t *testing.T, router discovery.Router, method, rawURL string, header ...string) discovery.Route {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for _, l := range header {
		k, v, _ := strings.Cut(l, ": ")
		h.Add(k, v)
	}
	routes := router.Route(discovery.Request{Method: method, URL: u, Header: h})
	if len(routes) != 1 {
		t.Fatalf("%d routes, want 1: %+v", len(routes), routes)
	}
	return routes[0]
}

// TestHTTPRoutePrecedence: the criteria of HTTPRouteRule.Matches, in
// order: Exact path, longest PathPrefix, method, most header matches, most
// query param matches, then the first rule.
func TestHTTPRoutePrecedence(t *testing.T) {
	_, router := testRoute(t, `
  hostnames: [api.example.com]
  rules:
  - backendRefs: [{name: r1, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: r2, port: 80}]
  - matches: [{path: {type: Exact, value: /api/cart}}]
    backendRefs: [{name: r3, port: 80}]
  - matches: [{path: {value: /api}, method: PUT}]
    backendRefs: [{name: r4, port: 80}]
  - matches: [{path: {value: /api}, method: PUT, headers: [{name: x-canary, value: "true"}]}]
    backendRefs: [{name: r5, port: 80}]
  - matches: [{path: {value: /api}, method: PUT, headers: [{name: x-canary, value: "true"}], queryParams: [{name: v, value: "2"}]}]
    backendRefs: [{name: r6, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: r7, port: 80}]
  - matches: [{path: {value: /api}, headers: [{name: a, value: "1"}, {name: b, value: "2"}]}, {path: {value: /api}, queryParams: [{name: q, value: "1"}]}]
    backendRefs: [{name: r8, port: 80}]
  - matches: [{path: {value: /api}, headers: [{name: x-beta, value: "1"}]}]
    backendRefs: [{name: r9, port: 80}]
`)
	for _, tc := range []struct {
		desc, method, url string
		header            []string
		want, rule        string
	}{
		{"no matches: PathPrefix / by default", "GET", "https://api.example.com/other", nil, "r1", "httproute shop: rule 1, match PathPrefix /"},
		{"longest prefix", "GET", "https://api.example.com/api/items", nil, "r2", "httproute shop: rule 2, match PathPrefix /api"},
		{"prefix is element-wise", "GET", "https://api.example.com/apix", nil, "r1", ""},
		{"exact beats prefix", "GET", "https://api.example.com/api/cart", nil, "r3", "httproute shop: rule 3, match Exact /api/cart"},
		{"exact beats a method match", "PUT", "https://api.example.com/api/cart", nil, "r3", ""},
		{"method match", "PUT", "https://api.example.com/api/items", nil, "r4", "httproute shop: rule 4, match PathPrefix /api, method PUT"},
		{"one header match over none", "PUT", "https://api.example.com/api/items", []string{"X-Canary: true"}, "r5", ""},
		{"header values are case-sensitive", "PUT", "https://api.example.com/api/items", []string{"X-Canary: True"}, "r4", ""},
		{"query param match", "PUT", "https://api.example.com/api/items?v=2", []string{"X-Canary: true"}, "r6",
			"httproute shop: rule 6, match PathPrefix /api, method PUT, header x-canary: true, query v: 2"},
		{"a method match beats a header match", "PUT", "https://api.example.com/api/items", []string{"X-Beta: 1"}, "r4", ""},
		{"a header match without method", "GET", "https://api.example.com/api/items", []string{"X-Beta: 1"}, "r9", ""},
		{"two header matches over none", "GET", "https://api.example.com/api/items", []string{"A: 1", "B: 2"}, "r8", ""},
		{"two headers over one query param, same rule", "GET", "https://api.example.com/api/items?q=1", []string{"A: 1", "B: 2"}, "r8",
			"httproute shop: rule 8, match PathPrefix /api, header a: 1, header b: 2"},
		{"one query param over none", "GET", "https://api.example.com/api/items?q=1", nil, "r8", "httproute shop: rule 8, match PathPrefix /api, query q: 1"},
		{"hostname port ignored", "GET", "https://api.example.com:8443/other", nil, "r1", ""},
		{"other hostname: 404", "GET", "https://www.example.com/api", nil, "none", "httproute shop: hostnames api.example.com"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			r := send(t, router, tc.method, tc.url, tc.header...)
			if got := poolsOf(r); got != tc.want || (tc.rule != "" && r.Rule != tc.rule) {
				t.Errorf("%s %s: %s by %q, want %s by %q", tc.method, tc.url, got, r.Rule, tc.want, tc.rule)
			}
		})
	}
}

// TestHTTPRouteMatchExamples are the examples of the API reference:
// hostnames, Exact and PathPrefix paths, header names.
func TestHTTPRouteMatchExamples(t *testing.T) {
	_, router := testRoute(t, `
  hostnames: ["*.example.com", exact.example.net]
  rules:
  - matches: [{path: {type: Exact, value: /abc}}]
    backendRefs: [{name: exact, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /p/abc}}]
    backendRefs: [{name: prefix, port: 80}]
  - matches: [{path: {value: /h}, headers: [{name: Version, value: v1}, {name: version, value: v2}]}]
    backendRefs: [{name: header, port: 80}]
`)
	for _, tc := range []struct {
		url    string
		header []string
		want   string
	}{
		{"https://test.example.com/abc", nil, "exact"},
		{"https://foo.test.example.com/abc", nil, "exact"},
		{"https://example.com/abc", nil, "none"},
		{"https://exact.example.net/abc", nil, "exact"},
		{"https://x.exact.example.net/abc", nil, "none"},
		{"https://a.example.com/abc/", nil, "none"},
		{"https://a.example.com/Abc", nil, "none"},
		{"https://a.example.com/abcd", nil, "none"},
		{"https://a.example.com/p/abc", nil, "prefix"},
		{"https://a.example.com/p/abc/", nil, "prefix"},
		{"https://a.example.com/p/abc/def", nil, "prefix"},
		{"https://a.example.com/p/abcd", nil, "none"},
		// Only the first entry of a header name counts.
		{"https://a.example.com/h", []string{"VERSION: v1"}, "header"},
		{"https://a.example.com/h", []string{"version: v2"}, "none"},
	} {
		r := send(t, router, "GET", tc.url, tc.header...)
		if got := poolsOf(r); got != tc.want {
			t.Errorf("%s %v: %s (%+v), want %s", tc.url, tc.header, got, r, tc.want)
		}
	}
}

// TestHTTPRouteBackends: weights split traffic (blue/green), weight 0
// gets none, a rule that forwards nowhere answers 500, backends that are
// not Services are noted.
func TestHTTPRouteBackends(t *testing.T) {
	r, router := testRoute(t, `
  rules:
  - matches: [{path: {value: /split}}]
    backendRefs: [{name: blue, port: 80, weight: 90}, {name: green, port: 80, weight: 10}]
  - matches: [{path: {value: /zero}}]
    backendRefs: [{name: blue, port: 80, weight: 0}, {name: green, port: 80}]
  - matches: [{path: {value: /allzero}}]
    backendRefs: [{name: blue, port: 80, weight: 0}]
  - matches: [{path: {value: /none}}]
  - matches: [{path: {value: /import}}]
    backendRefs: [{name: shop, kind: ServiceImport, group: multicluster.x-k8s.io, port: 80}]
  - matches: [{path: {value: /mixed}}]
    backendRefs: [{name: blue, port: 80}, {name: shop, kind: ServiceImport, group: multicluster.x-k8s.io, port: 80}]
  - matches: [{path: {value: /other-ns}}]
    backendRefs: [{name: shared, namespace: platform, port: 8080}]
  - matches: [{path: {value: /single}}]
    backendRefs: [{name: green, port: 80, weight: 5}]
`)
	for _, tc := range []struct {
		path   string
		action string
		pools  []discovery.Pool
		detail string
		note   string
	}{
		{"/split", "forward", []discovery.Pool{{Name: "blue", Weight: 90}, {Name: "green", Weight: 10}}, "", ""},
		{"/zero", "forward", []discovery.Pool{{Name: "green", Weight: 1}}, "", ""},
		{"/allzero", "fixed-response", nil, "500 from the gateway: every backendRef has weight 0", ""},
		{"/none", "fixed-response", nil, "500 from the gateway: the rule has no backendRefs", ""},
		{"/import", "none", nil, "backends ServiceImport shop: not Services, no pod discovered", ""},
		{"/mixed", "forward", []discovery.Pool{{Name: "blue", Weight: 1}}, "", "backends not discovered (not Services): ServiceImport shop"},
		{"/other-ns", "forward", []discovery.Pool{{Name: "platform/shared"}}, "", "needs a ReferenceGrant"},
		{"/single", "forward", []discovery.Pool{{Name: "green"}}, "", ""},
	} {
		got := send(t, router, "GET", "https://api.example.com"+tc.path)
		if got.Action != tc.action || fmt.Sprint(got.Pools) != fmt.Sprint(tc.pools) || got.Detail != tc.detail || !strings.Contains(got.Note, tc.note) {
			t.Errorf("%s: %+v, want %s %v %q note %q", tc.path, got, tc.action, tc.pools, tc.detail, tc.note)
		}
	}
	want := []backendRef{{"prod", "blue", "80"}, {"prod", "green", "80"}, {"prod", "blue", "80"}, {"prod", "green", "80"}, {"prod", "blue", "80"},
		{"prod", "blue", "80"}, {"platform", "shared", "8080"}, {"prod", "green", "80"}}
	if got := r.backends(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("backends %v, want %v", got, want)
	}
	poolOf := map[backendRef]string{{"prod", "blue", "80"}: "blue", {"prod", "green", "80"}: "green"}
	if b, g := r.weightOf(poolOf, "blue"), r.weightOf(poolOf, "green"); b != 90 || g != 10 {
		t.Errorf("instance weights blue %d green %d, want 90 and 10 (the first split)", b, g)
	}
}

// TestHTTPRouteRedirect: a RequestRedirect filter answers with a redirect
// whose Location follows HTTPRequestRedirectFilter, including the
// ReplacePrefixMatch table of HTTPPathModifier.
func TestHTTPRouteRedirect(t *testing.T) {
	for _, tc := range []struct {
		desc, filter, match, url, want string
	}{
		{"https upgrade, default status", "{scheme: https}", "/", "http://api.example.com/cart?x=1", "302 to https://api.example.com/cart?x=1"},
		{"scheme set: well-known port", "{scheme: https, statusCode: 301}", "/", "http://api.example.com:8080/a", "301 to https://api.example.com/a"},
		{"no scheme: the listener's port", "{hostname: www.example.com}", "/", "http://api.example.com:8080/a", "302 to http://www.example.com:8080/a"},
		{"explicit port", "{scheme: https, port: 8443}", "/", "http://api.example.com/a", "302 to https://api.example.com:8443/a"},
		{"full path", "{path: {type: ReplaceFullPath, replaceFullPath: /moved}}", "/", "https://api.example.com/a/b", "302 to https://api.example.com/moved"},
		{"prefix /foo, /xyz: /foo/bar", "{path: {type: ReplacePrefixMatch, replacePrefixMatch: /xyz}}", "/foo", "https://h.example/foo/bar", "302 to https://h.example/xyz/bar"},
		{"prefix /foo, /xyz/: /foo/bar", "{path: {type: ReplacePrefixMatch, replacePrefixMatch: /xyz/}}", "/foo", "https://h.example/foo/bar", "302 to https://h.example/xyz/bar"},
		{"prefix /foo/, /xyz: /foo/bar", "{path: {type: ReplacePrefixMatch, replacePrefixMatch: /xyz}}", "/foo/", "https://h.example/foo/bar", "302 to https://h.example/xyz/bar"},
		{"prefix /foo/, /xyz/: /foo/bar", "{path: {type: ReplacePrefixMatch, replacePrefixMatch: /xyz/}}", "/foo/", "https://h.example/foo/bar", "302 to https://h.example/xyz/bar"},
		{"prefix /foo, /xyz: /foo", "{path: {type: ReplacePrefixMatch, replacePrefixMatch: /xyz}}", "/foo", "https://h.example/foo", "302 to https://h.example/xyz"},
		{"prefix /foo, /xyz: /foo/", "{path: {type: ReplacePrefixMatch, replacePrefixMatch: /xyz}}", "/foo", "https://h.example/foo/", "302 to https://h.example/xyz/"},
		{"prefix /foo, empty: /foo/bar", `{path: {type: ReplacePrefixMatch, replacePrefixMatch: ""}}`, "/foo", "https://h.example/foo/bar", "302 to https://h.example/bar"},
		{"prefix /foo, empty: /foo/", `{path: {type: ReplacePrefixMatch, replacePrefixMatch: ""}}`, "/foo", "https://h.example/foo/", "302 to https://h.example/"},
		{"prefix /foo, empty: /foo", `{path: {type: ReplacePrefixMatch, replacePrefixMatch: ""}}`, "/foo", "https://h.example/foo", "302 to https://h.example/"},
		{"prefix /foo, /: /foo/", "{path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}", "/foo", "https://h.example/foo/", "302 to https://h.example/"},
		{"prefix /foo, /: /foo", "{path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}", "/foo", "https://h.example/foo", "302 to https://h.example/"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, router := testRoute(t, fmt.Sprintf(`
  rules:
  - matches: [{path: {type: PathPrefix, value: %s}}]
    filters: [{type: RequestRedirect, requestRedirect: %s}]
`, tc.match, tc.filter))
			r := send(t, router, "OPTIONS", tc.url, "Origin: https://app.example.com", "Access-Control-Request-Method: PUT")
			if r.Action != discovery.ActionRedirect || r.Detail != tc.want {
				t.Errorf("%+v, want redirect %q", r, tc.want)
			}
		})
	}
}

// TestHTTPRouteFilters: a CORS filter answers preflights at the gateway;
// filters that change what the pods or the browser see are noted.
func TestHTTPRouteFilters(t *testing.T) {
	_, router := testRoute(t, `
  rules:
  - matches: [{path: {value: /cors}}]
    filters: [{type: CORS, cors: {allowOrigins: ["https://app.example.com"]}}]
    backendRefs: [{name: shop, port: 80}]
  - matches: [{path: {value: /rewrite}}]
    filters:
    - {type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}}}
    - {type: ResponseHeaderModifier, responseHeaderModifier: {set: [{name: Access-Control-Allow-Origin, value: "*"}], remove: [X-Powered-By]}}
    - {type: ExtensionRef, extensionRef: {group: gateway.example.io, kind: Lua, name: strip}}
    backendRefs: [{name: shop, port: 80, filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x, value: y}]}}]}]
`)
	pre := []string{"Origin: https://app.example.com", "Access-Control-Request-Method: PUT"}
	if r := send(t, router, "OPTIONS", "https://api.example.com/cors", pre...); r.Action != discovery.ActionForward ||
		!strings.Contains(r.Note, "the gateway answers this preflight itself (CORS filter, allowOrigins: https://app.example.com)") {
		t.Errorf("preflight through a CORS filter: %+v", r)
	}
	if r := send(t, router, "GET", "https://api.example.com/cors", "Origin: https://app.example.com"); r.Action != discovery.ActionForward ||
		!strings.Contains(r.Note, "CORS filter") {
		t.Errorf("actual request through a CORS filter: %+v", r)
	}
	r := send(t, router, "OPTIONS", "https://api.example.com/rewrite", pre...)
	for _, want := range []string{"URLRewrite: the pods receive a rewritten path", "ResponseHeaderModifier changes Access-Control-Allow-Origin",
		"ExtensionRef filter Lua strip", "filters on backendRef shop"} {
		if r.Action != discovery.ActionForward || !strings.Contains(r.Note, want) {
			t.Errorf("route %+v: note lacks %q", r, want)
		}
	}
	if strings.Contains(r.Note, "X-Powered-By") {
		t.Errorf("note %q names a header that is not CORS", r.Note)
	}
}

// TestHTTPRouteRegularExpression: RE2 on the whole path, ranked after
// Exact and before PathPrefix, noted; a pattern Go cannot compile never
// matches and is noted on every route.
func TestHTTPRouteRegularExpression(t *testing.T) {
	_, router := testRoute(t, `
  rules:
  - matches: [{path: {type: PathPrefix, value: /api/v1/items}}]
    backendRefs: [{name: prefix, port: 80}]
  - matches: [{path: {type: RegularExpression, value: "/api/v[0-9]+/.*"}}]
    backendRefs: [{name: regex, port: 80}]
  - matches: [{path: {type: Exact, value: /api/v1/items}}]
    backendRefs: [{name: exact, port: 80}]
  - matches: [{path: {type: RegularExpression, value: "/(?!admin).*"}}]
    backendRefs: [{name: lookahead, port: 80}]
  - matches: [{path: {value: /h}, headers: [{type: RegularExpression, name: x-v, value: "v[12]"}]}]
    backendRefs: [{name: hregex, port: 80}]
`)
	for _, tc := range []struct {
		url, want, note string
		header          []string
	}{
		{"https://a.example/api/v1/items", "exact", "", nil},
		{"https://a.example/api/v1/items/3", "regex", "RegularExpression path", nil},
		{"https://a.example/api/v2/x", "regex", "RegularExpression path", nil},
		{"https://a.example/x/api/v2/x", "none", "", nil},
		{"https://a.example/h", "hregex", "", []string{"X-V: v2"}},
		{"https://a.example/h", "none", "", []string{"X-V: v22"}},
	} {
		r := send(t, router, "GET", tc.url, tc.header...)
		if got := poolsOf(r); got != tc.want || !strings.Contains(r.Note, tc.note) ||
			!strings.Contains(r.Note, `rule 4 match 1: "/(?!admin).*" is not an RE2 regular expression`) {
			t.Errorf("%s: %s (%+v), want %s with note %q", tc.url, got, r, tc.want, tc.note)
		}
	}
}

// FuzzHTTPRoute: any route object and request: no panic, one route, a
// known action.
func FuzzHTTPRoute(f *testing.F) {
	f.Add(`{"spec":{"rules":[{"matches":[{"path":{"type":"RegularExpression","value":"("}}]}]}}`, "GET", "https://a.example/x")
	f.Add(`{"spec":{"hostnames":["*."],"rules":[{"filters":[{"type":"RequestRedirect","requestRedirect":{"path":{"type":"ReplacePrefixMatch","replacePrefixMatch":"/"}}}]}]}}`, "OPTIONS", "http://[::1]:80/")
	f.Add(`{"spec":{"rules":[{"backendRefs":[{"name":"a","port":1,"weight":-3}],"matches":[{"headers":[{"name":"","value":""}],"queryParams":[{"name":"q","value":"1"}]}]}]}}`, "PUT", "https://a.example/?q=1")
	f.Fuzz(func(t *testing.T, spec, method, rawURL string) {
		var obj map[string]any
		if yaml.Unmarshal([]byte(spec), &obj) != nil {
			return
		}
		u, err := url.Parse(rawURL)
		if err != nil {
			return
		}
		r, err := parseHTTPRoute(obj, "fuzz", "prod")
		if err != nil {
			return
		}
		routes := r.router(map[backendRef]string{}).Route(discovery.Request{Method: method, URL: u, Header: http.Header{"Origin": {"https://a.example"}}})
		if len(routes) != 1 {
			t.Fatalf("%d routes", len(routes))
		}
		switch routes[0].Action {
		case discovery.ActionForward, discovery.ActionRedirect, discovery.ActionFixedResponse, discovery.ActionNone:
		default:
			t.Fatalf("action %q", routes[0].Action)
		}
	})
}

package gcp

import (
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"testing"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/corsaudit/corsaudit/discovery"
)

// webMapJSON is a URL map as the API returns it, built from the URL maps
// overview's examples (video, audio and image paths, a backend bucket, a
// wildcard host) and the advanced traffic management ones (a weighted
// split, a canary header, route rule match types, redirects).
const webMapJSON = `{
  "name": "web",
  "selfLink": "https://www.googleapis.com/compute/v1/projects/p/global/urlMaps/web",
  "defaultService": "projects/p/global/backendServices/web",
  "hostRules": [
    {"hosts": ["example.com", "www.example.com"], "pathMatcher": "site"},
    {"hosts": ["api.example.com"], "pathMatcher": "api"},
    {"hosts": ["*.example.com"], "pathMatcher": "wild"},
    {"hosts": ["admin.example.com:8443"], "pathMatcher": "admin"}
  ],
  "pathMatchers": [
    {"name": "site", "defaultService": "projects/p/global/backendServices/web",
     "pathRules": [
       {"paths": ["/video", "/video/*"], "service": "projects/p/global/backendServices/video"},
       {"paths": ["/video/hd/*"], "service": "projects/p/global/backendServices/video-hd"},
       {"paths": ["/audio/*"], "service": "projects/p/global/backendServices/audio-all"},
       {"paths": ["/audio/"], "service": "projects/p/global/backendServices/audio"},
       {"paths": ["/images/*"], "service": "https://www.googleapis.com/compute/v1/projects/p/global/backendBuckets/images"},
       {"paths": ["/old/*"], "urlRedirect": {"pathRedirect": "/new/", "redirectResponseCode": "FOUND"}}
     ]},
    {"name": "api", "defaultService": "projects/p/global/backendServices/api",
     "routeRules": [
       {"priority": 20, "matchRules": [{"prefixMatch": "/v2/"}],
        "routeAction": {"weightedBackendServices": [
          {"backendService": "projects/p/global/backendServices/api-blue", "weight": 90},
          {"backendService": "projects/p/global/backendServices/api-green", "weight": 10}]}},
       {"priority": 10, "matchRules": [{"prefixMatch": "/v2/", "headerMatches": [{"headerName": "X-Canary", "exactMatch": "1"}]}],
        "service": "projects/p/global/backendServices/api-green"},
       {"priority": 30, "matchRules": [{"fullPathMatch": "/Health", "ignoreCase": true}],
        "service": "projects/p/global/backendServices/health"},
       {"priority": 40, "matchRules": [{"regexMatch": "/items/[0-9]+"}, {"fullPathMatch": "/items"}],
        "service": "projects/p/global/backendServices/items"},
       {"priority": 50, "matchRules": [{"pathTemplateMatch": "/users/{id}/files/{rest=**}"}],
        "service": "projects/p/global/backendServices/files"},
       {"priority": 60, "matchRules": [{"prefixMatch": "/q", "queryParameterMatches": [{"name": "debug", "exactMatch": "1"}]}],
        "service": "projects/p/global/backendServices/debug"},
       {"priority": 70, "matchRules": [{"prefixMatch": "/", "headerMatches": [{"headerName": ":method", "exactMatch": "OPTIONS"}]}],
        "urlRedirect": {"hostRedirect": "login.example.com", "redirectResponseCode": "TEMPORARY_REDIRECT"}},
       {"priority": 80, "matchRules": [{"prefixMatch": "/legacy/"}], "urlRedirect": {"prefixRedirect": "/v1/", "stripQuery": true}},
       {"priority": 90, "matchRules": [{"prefixMatch": "/cors/"}],
        "service": "projects/p/global/backendServices/api",
        "routeAction": {"corsPolicy": {"allowOrigins": ["https://app.example.com"]}}}
     ]},
    {"name": "wild", "defaultService": "projects/p/global/backendServices/wild"},
    {"name": "admin", "defaultService": "projects/p/global/backendServices/admin"}
  ]
}`

func parseMap(t testing.TB, js string) *computepb.UrlMap {
	t.Helper()
	m := &computepb.UrlMap{}
	if err := protojson.Unmarshal([]byte(js), m); err != nil {
		t.Fatalf("url map JSON: %v", err)
	}
	return m
}

func newReq(t *testing.T, method, rawURL string, h http.Header) discovery.Request {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	if h == nil {
		h = http.Header{}
	}
	return discovery.Request{Method: method, URL: u, Header: h}
}

func fwd(rule string, pools ...discovery.Pool) discovery.Route {
	return discovery.Route{Rule: rule, Action: discovery.ActionForward, Pools: pools}
}

func pool(name string) discovery.Pool { return discovery.Pool{Name: name} }

func TestURLMapRoute(t *testing.T) {
	r := newMapRouter(parseMap(t, webMapJSON))
	const site = "url map web: host rule example.com, path matcher site, "
	const api = "url map web: host rule api.example.com, path matcher api, "
	for _, tc := range []struct {
		desc   string
		method string
		url    string
		header http.Header
		want   discovery.Route
	}{
		// Host rules and path rules (URL maps overview).
		{desc: "exact path rule", url: "https://example.com/video", want: fwd(site+"path rule /video", pool("video"))},
		{desc: "/video/* matches /video/", url: "https://example.com/video/", want: fwd(site+"path rule /video/*", pool("video"))},
		{desc: "longest match: /video/hd/* before /video/*", url: "https://example.com/video/hd/a.mp4",
			want: fwd(site+"path rule /video/hd/*", pool("video-hd"))},
		{desc: "/video/* is not a substring match: /videos", url: "https://example.com/videos", want: fwd(site+"default", pool("web"))},
		{desc: "/video/hd/* does not match /video/hd-abcd, /video/* does", url: "https://example.com/video/hd-abcd",
			want: fwd(site+"path rule /video/*", pool("video"))},
		{desc: "an exact path wins over a wildcard of the same length", url: "https://example.com/audio/",
			want: fwd(site+"path rule /audio/", pool("audio"))},
		{desc: "query and fragment are not part of the path", url: "https://example.com/video?x=/images/a#f",
			want: fwd(site+"path rule /video", pool("video"))},
		{desc: "paths are case sensitive", url: "https://example.com/VIDEO", want: fwd(site+"default", pool("web"))},
		{desc: "hosts are not: second host of the rule", url: "https://WWW.Example.COM/video/x",
			want: fwd("url map web: host rule www.example.com, path matcher site, path rule /video/*", pool("video"))},
		{desc: "backend bucket", url: "https://example.com/images/logo.png",
			want: discovery.Route{Rule: site + "path rule /images/*", Action: discovery.ActionBucket, Detail: "backend bucket images"}},
		{desc: "path rule redirect keeps the query", url: "https://example.com/old/page?id=1",
			want: discovery.Route{Rule: site + "path rule /old/*", Action: discovery.ActionRedirect, Detail: "302 to https://example.com/new/?id=1"}},
		{desc: "wildcard host", url: "https://shop.example.com/video",
			want: fwd("url map web: host rule *.example.com, path matcher wild, default", pool("wild"))},
		{desc: "an exact host wins over a wildcard", url: "https://api.example.com/", want: fwd(api+"default", pool("api"))},
		{desc: "*.example.com needs the dot", url: "https://notexample.com/",
			want: fwd("url map web: default (no host rule matches notexample.com)", pool("web"))},
		{desc: "host with port on that port", url: "https://admin.example.com:8443/",
			want: fwd("url map web: host rule admin.example.com:8443, path matcher admin, default", pool("admin"))},
		{desc: "host with port, other port: the wildcard", url: "https://admin.example.com/",
			want: fwd("url map web: host rule *.example.com, path matcher wild, default", pool("wild"))},
		{desc: "IP literal host: no host rule", url: "https://34.1.2.3/video",
			want: fwd("url map web: default (no host rule matches 34.1.2.3)", pool("web"))},

		// Route rules (advanced traffic management).
		{desc: "weighted split", url: "https://api.example.com/v2/cart",
			want: fwd(api+"route rule priority 20", discovery.Pool{Name: "api-blue", Weight: 90}, discovery.Pool{Name: "api-green", Weight: 10})},
		{desc: "priority order, not list order: the canary header", url: "https://api.example.com/v2/cart",
			header: http.Header{"X-Canary": {"1"}}, want: fwd(api+"route rule priority 10", pool("api-green"))},
		{desc: "header value differs: next rule", url: "https://api.example.com/v2/cart", header: http.Header{"X-Canary": {"2"}},
			want: fwd(api+"route rule priority 20", discovery.Pool{Name: "api-blue", Weight: 90}, discovery.Pool{Name: "api-green", Weight: 10})},
		{desc: "fullPathMatch with ignoreCase", url: "https://api.example.com/HEALTH", want: fwd(api+"route rule priority 30", pool("health"))},
		{desc: "fullPathMatch is the whole path", url: "https://api.example.com/health/x", want: fwd(api+"default", pool("api"))},
		{desc: "regexMatch (RE2) matches the whole path", url: "https://api.example.com/items/42",
			want: fwd(api+"route rule priority 40", pool("items"))},
		{desc: "regexMatch is anchored", url: "https://api.example.com/items/42/x", want: fwd(api+"default", pool("api"))},
		{desc: "match rules are ORed", url: "https://api.example.com/items", want: fwd(api+"route rule priority 40", pool("items"))},
		{desc: "pathTemplateMatch: ** matches several segments", url: "https://api.example.com/users/7/files/a/b.txt",
			want: fwd(api+"route rule priority 50", pool("files"))},
		{desc: "pathTemplateMatch: ** matches none", url: "https://api.example.com/users/7/files",
			want: fwd(api+"route rule priority 50", pool("files"))},
		{desc: "pathTemplateMatch: {id} is one segment", url: "https://api.example.com/users/7/8/files/a",
			want: fwd(api+"default", pool("api"))},
		{desc: "query parameter match", url: "https://api.example.com/q?debug=1", want: fwd(api+"route rule priority 60", pool("debug"))},
		{desc: "query parameter absent", url: "https://api.example.com/q", want: fwd(api+"default", pool("api"))},
		{desc: ":method header match redirects preflights", method: http.MethodOptions, url: "https://api.example.com/v3/x",
			want: discovery.Route{Rule: api + "route rule priority 70", Action: discovery.ActionRedirect,
				Detail: "307 to https://login.example.com/v3/x"}},
		{desc: "prefixRedirect replaces the matched prefix, stripQuery", url: "https://api.example.com/legacy/a/b?c=1",
			want: discovery.Route{Rule: api + "route rule priority 80", Action: discovery.ActionRedirect, Detail: "301 to https://api.example.com/v1/a/b"}},
		{desc: "a CORS policy on the route is noted", url: "https://api.example.com/cors/x",
			want: discovery.Route{Rule: api + "route rule priority 90", Action: discovery.ActionForward, Pools: []discovery.Pool{pool("api")},
				Note: "the route has a CORS policy: the load balancer adds CORS headers and answers preflights from the origins it allows itself"}},
		{desc: "no route rule matches: the path matcher's default", url: "https://api.example.com/v3/x",
			want: fwd(api+"default", pool("api"))},
	} {
		method := tc.method
		if method == "" {
			method = http.MethodGet
		}
		got := r.route(newRequest(newReq(t, method, tc.url, tc.header)))
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %s %s\n got %+v\nwant %+v", tc.desc, method, tc.url, got, tc.want)
		}
	}
}

func TestURLMapDefaults(t *testing.T) {
	for _, tc := range []struct {
		desc string
		js   string
		url  string
		want discovery.Route
	}{
		{desc: "only a default service", js: `{"name": "m", "defaultService": "global/backendServices/shop"}`, url: "http://10.0.0.1/",
			want: fwd("url map m: default (no host rule matches 10.0.0.1)", pool("shop"))},
		{desc: "default URL redirect to HTTPS (the HTTP-to-HTTPS map)", js: `{"name": "m", "defaultUrlRedirect": {"httpsRedirect": true}}`,
			url: "http://shop.example.com/a?b=1",
			want: discovery.Route{Rule: "url map m: default (no host rule matches shop.example.com)", Action: discovery.ActionRedirect,
				Detail: "301 to https://shop.example.com/a?b=1"}},
		{desc: "default weighted route action, a zero weight noted", js: `{"name": "m", "defaultRouteAction": {"weightedBackendServices": [
			{"backendService": "global/backendServices/blue", "weight": 100}, {"backendService": "global/backendServices/green", "weight": 0}]}}`,
			url: "https://x/",
			want: discovery.Route{Rule: "url map m: default (no host rule matches x)", Action: discovery.ActionForward,
				Pools: []discovery.Pool{{Name: "blue", Weight: 100}, {Name: "green"}}, Note: "weight 0: green get no traffic"}},
		{desc: "default bucket", js: `{"name": "m", "defaultService": "projects/p/global/backendBuckets/site"}`, url: "https://x/",
			want: discovery.Route{Rule: "url map m: default (no host rule matches x)", Action: discovery.ActionBucket, Detail: "backend bucket site"}},
		{desc: "path matcher default redirect", js: `{"name": "m", "hostRules": [{"hosts": ["*"], "pathMatcher": "all"}],
			"pathMatchers": [{"name": "all", "defaultUrlRedirect": {"hostRedirect": "www.example.com", "redirectResponseCode": "PERMANENT_REDIRECT"}}]}`,
			url: "https://example.com/x",
			want: discovery.Route{Rule: "url map m: host rule *, path matcher all, default", Action: discovery.ActionRedirect,
				Detail: "308 to https://www.example.com/x"}},
		{desc: "host rule naming a missing path matcher", js: `{"name": "m", "hostRules": [{"hosts": ["*"], "pathMatcher": "gone"}]}`,
			url: "https://x/",
			want: discovery.Route{Rule: "url map m: host rule *, path matcher gone, missing", Action: discovery.ActionNone,
				Detail: `the host rule names path matcher "gone", which the URL map does not have`}},
		{desc: "invalid regex never matches", js: `{"name": "m", "hostRules": [{"hosts": ["*"], "pathMatcher": "all"}],
			"pathMatchers": [{"name": "all", "defaultService": "global/backendServices/d",
			"routeRules": [{"priority": 1, "matchRules": [{"regexMatch": "(/"}], "service": "global/backendServices/bad"}]}]}`,
			url:  "https://x/(/",
			want: fwd("url map m: host rule *, path matcher all, default", pool("d"))},
		{desc: "route rule without match rules matches everything", js: `{"name": "m", "hostRules": [{"hosts": ["*"], "pathMatcher": "all"}],
			"pathMatchers": [{"name": "all", "defaultService": "global/backendServices/d",
			"routeRules": [{"priority": 5, "service": "global/backendServices/any"}]}]}`,
			url:  "https://x/anything",
			want: fwd("url map m: host rule *, path matcher all, route rule priority 5", pool("any"))},
	} {
		r := newMapRouter(parseMap(t, tc.js))
		got := r.route(newRequest(newReq(t, http.MethodGet, tc.url, nil)))
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.desc, got, tc.want)
		}
	}
}

func TestHostScore(t *testing.T) {
	for _, tc := range []struct {
		desc, pattern, host, port string
		match                     bool
	}{
		{desc: "exact", pattern: "example.com", host: "example.com", port: "443", match: true},
		{desc: "pattern case", pattern: "Example.COM", host: "example.com", port: "443", match: true},
		{desc: "star", pattern: "*", host: "anything.org", port: "80", match: true},
		{desc: "wildcard dot", pattern: "*.example.com", host: "a.b.example.com", port: "443", match: true},
		{desc: "wildcard dash", pattern: "*-api.example.com", host: "eu-api.example.com", port: "443", match: true},
		{desc: "wildcard needs its suffix", pattern: "*.example.com", host: "example.com", port: "443"},
		{desc: "port must be equal", pattern: "example.com:8080", host: "example.com", port: "443"},
		{desc: "port equal", pattern: "example.com:8080", host: "example.com", port: "8080", match: true},
		{desc: "other host", pattern: "example.org", host: "example.com", port: "443"},
	} {
		if got := hostScore(tc.pattern, tc.host, tc.port) >= 0; got != tc.match {
			t.Errorf("%s: hostScore(%q, %q, %q) matches = %v, want %v", tc.desc, tc.pattern, tc.host, tc.port, got, tc.match)
		}
	}
	// Specificity: exact > longest wildcard suffix > "*".
	order := []string{"api.example.com", "*.api.example.com", "*.example.com", "*"}
	host := "v1.api.example.com"
	order[0] = host
	for i := 1; i < len(order); i++ {
		if a, b := hostScore(order[i-1], host, "443"), hostScore(order[i], host, "443"); a <= b {
			t.Errorf("hostScore(%q) = %d, not above hostScore(%q) = %d", order[i-1], a, order[i], b)
		}
	}
}

func TestHeaderMatches(t *testing.T) {
	h := http.Header{"Origin": {"https://app.example.com"}, "X-Version": {"12"}, "X-Multi": {"a", "b"}}
	for _, tc := range []struct {
		desc, js string
		want     bool
	}{
		{desc: "exact", js: `{"headerName": "origin", "exactMatch": "https://app.example.com"}`, want: true},
		{desc: "exact inverted", js: `{"headerName": "Origin", "exactMatch": "https://app.example.com", "invertMatch": true}`},
		{desc: "prefix", js: `{"headerName": "Origin", "prefixMatch": "https://app."}`, want: true},
		{desc: "suffix", js: `{"headerName": "Origin", "suffixMatch": ".example.org"}`},
		{desc: "regex is anchored", js: `{"headerName": "Origin", "regexMatch": "app"}`},
		{desc: "regex", js: `{"headerName": "Origin", "regexMatch": "https://[a-z]+\\.example\\.com"}`, want: true},
		{desc: "present", js: `{"headerName": "Origin", "presentMatch": true}`, want: true},
		{desc: "absent header, present test", js: `{"headerName": "Cookie", "presentMatch": true}`},
		{desc: "absent header, inverted present test", js: `{"headerName": "Cookie", "presentMatch": true, "invertMatch": true}`, want: true},
		{desc: "absent header never matches a value, even inverted", js: `{"headerName": "Cookie", "exactMatch": "x", "invertMatch": true}`},
		{desc: "range [10, 13)", js: `{"headerName": "X-Version", "rangeMatch": {"rangeStart": "10", "rangeEnd": "13"}}`, want: true},
		{desc: "range end excluded", js: `{"headerName": "X-Version", "rangeMatch": {"rangeStart": "0", "rangeEnd": "12"}}`},
		{desc: "range on a non-number", js: `{"headerName": "Origin", "rangeMatch": {"rangeStart": "0", "rangeEnd": "12"}}`},
		{desc: "repeated values joined", js: `{"headerName": "X-Multi", "exactMatch": "a,b"}`, want: true},
		{desc: ":authority", js: `{"headerName": ":authority", "exactMatch": "api.example.com:8443"}`, want: true},
		{desc: ":method", js: `{"headerName": ":method", "exactMatch": "OPTIONS"}`, want: true},
		{desc: ":path keeps the query", js: `{"headerName": ":path", "exactMatch": "/p?q=1"}`, want: true},
	} {
		hm := &computepb.HttpHeaderMatch{}
		if err := protojson.Unmarshal([]byte(tc.js), hm); err != nil {
			t.Fatalf("%s: %v", tc.desc, err)
		}
		r := newMapRouter(&computepb.UrlMap{PathMatchers: []*computepb.PathMatcher{{RouteRules: []*computepb.HttpRouteRule{
			{MatchRules: []*computepb.HttpRouteRuleMatch{{HeaderMatches: []*computepb.HttpHeaderMatch{hm}}}}}}}})
		req := newRequest(newReq(t, http.MethodOptions, "https://api.example.com:8443/p?q=1", h))
		if got := r.headerMatches(hm, req); got != tc.want {
			t.Errorf("%s: %s = %v, want %v", tc.desc, tc.js, got, tc.want)
		}
	}
}

func TestTemplateRegexp(t *testing.T) {
	for _, tc := range []struct {
		tmpl string
		ok   bool
		in   []string
		out  []string
	}{
		{tmpl: "/videos/*/index.m3u8", ok: true, in: []string{"/videos/a/index.m3u8"}, out: []string{"/videos/index.m3u8", "/videos/a/b/index.m3u8"}},
		{tmpl: "/static/**", ok: true, in: []string{"/static", "/static/", "/static/a/b"}, out: []string{"/staticx"}},
		{tmpl: "/u/{id=*}/{p=**}", ok: true, in: []string{"/u/1", "/u/1/a/b"}, out: []string{"/u"}},
		{tmpl: "/a.b/{x}", ok: true, in: []string{"/a.b/c"}, out: []string{"/aXb/c"}},
		{tmpl: "/v/x*y", ok: false},
		{tmpl: "relative", ok: false},
	} {
		expr, ok := templateRegexp(tc.tmpl)
		if ok != tc.ok {
			t.Errorf("templateRegexp(%q) ok = %v, want %v", tc.tmpl, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		r := &mapRouter{rx: map[string]*regexp.Regexp{}}
		r.compile("tmpl:", tc.tmpl)
		for _, p := range tc.in {
			if !r.fullMatch("tmpl:", tc.tmpl, p) {
				t.Errorf("template %q (%s) does not match %q", tc.tmpl, expr, p)
			}
		}
		for _, p := range tc.out {
			if r.fullMatch("tmpl:", tc.tmpl, p) {
				t.Errorf("template %q (%s) matches %q", tc.tmpl, expr, p)
			}
		}
	}
}

// TestDocsWorkedExample is the worked example of docs/providers.md: the
// same map, the same table.
func TestDocsWorkedExample(t *testing.T) {
	r := newMapRouter(parseMap(t, `{
  "name": "web",
  "defaultService": "projects/p/global/backendServices/web",
  "hostRules": [
    {"hosts": ["www.example.com"], "pathMatcher": "site"},
    {"hosts": ["api.example.com"], "pathMatcher": "api"}
  ],
  "pathMatchers": [
    {"name": "site", "defaultService": "projects/p/global/backendServices/web",
     "pathRules": [
       {"paths": ["/static/*"], "service": "projects/p/global/backendBuckets/assets"},
       {"paths": ["/cart", "/cart/*"], "service": "projects/p/global/backendServices/cart"}
     ]},
    {"name": "api", "defaultService": "projects/p/global/backendServices/api-blue",
     "routeRules": [
       {"priority": 10, "matchRules": [{"prefixMatch": "/v2/"}],
        "routeAction": {"weightedBackendServices": [
          {"backendService": "projects/p/global/backendServices/api-blue", "weight": 90},
          {"backendService": "projects/p/global/backendServices/api-green", "weight": 10}]}},
       {"priority": 20, "matchRules": [{"prefixMatch": "/", "headerMatches": [{"headerName": ":method", "exactMatch": "OPTIONS"}]}],
        "urlRedirect": {"hostRedirect": "login.example.com"}}
     ]}
  ]
}`))
	const site, api = "url map web: host rule www.example.com, path matcher site, ", "url map web: host rule api.example.com, path matcher api, "
	for _, tc := range []struct {
		method, url string
		want        discovery.Route
	}{
		{"GET", "https://www.example.com/cart/items", fwd(site+"path rule /cart/*", pool("cart"))},
		{"GET", "https://www.example.com/static/app.js", discovery.Route{Rule: site + "path rule /static/*", Action: discovery.ActionBucket,
			Detail: "backend bucket assets"}},
		{"GET", "https://www.example.com/", fwd(site+"default", pool("web"))},
		{"OPTIONS", "https://api.example.com/v2/cart", fwd(api+"route rule priority 10",
			discovery.Pool{Name: "api-blue", Weight: 90}, discovery.Pool{Name: "api-green", Weight: 10})},
		{"OPTIONS", "https://api.example.com/v1/cart", discovery.Route{Rule: api + "route rule priority 20", Action: discovery.ActionRedirect,
			Detail: "301 to https://login.example.com/v1/cart"}},
		{"GET", "https://api.example.com/v1/cart", fwd(api+"default", pool("api-blue"))},
		{"GET", "https://shop.example.org/", fwd("url map web: default (no host rule matches shop.example.org)", pool("web"))},
	} {
		if got := r.route(newRequest(newReq(t, tc.method, tc.url, nil))); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %s\n got %+v\nwant %+v", tc.method, tc.url, got, tc.want)
		}
	}
}

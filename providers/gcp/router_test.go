package gcp

import (
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"

	"github.com/corsaudit/corsaudit/discovery"
)

// testLBs is a project with three load balancers:
//
//	web-https  34.1.1.1:443  HTTPS -> url map web (webMapJSON)
//	web-http   34.1.1.1:80   HTTP  -> url map to-https (redirects to HTTPS)
//	web-alt    34.3.3.3:8443 HTTPS -> url map web
//	other      34.2.2.2:443  HTTPS -> url map other (one default service)
//	v6         [2001:db8::1]:443 HTTPS -> url map other
func testLBs(t testing.TB) *router {
	t.Helper()
	maps := map[string]*mapRouter{}
	for _, js := range []string{webMapJSON,
		`{"name": "to-https", "selfLink": "projects/p/global/urlMaps/to-https", "defaultUrlRedirect": {"httpsRedirect": true}}`,
		`{"name": "other", "selfLink": "projects/p/global/urlMaps/other", "defaultService": "projects/p/global/backendServices/other"}`,
	} {
		m := parseMap(t, js)
		ref, _ := parseRef(m.GetSelfLink())
		maps[ref.key()] = newMapRouter(m)
	}
	proxies := []targetProxy{
		{SelfLink: "projects/p/global/targetHttpsProxies/web", URLMap: "projects/p/global/urlMaps/web", HTTPS: true},
		{SelfLink: "projects/p/global/targetHttpProxies/web", URLMap: "projects/p/global/urlMaps/to-https"},
		{SelfLink: "projects/p/global/targetHttpsProxies/other", URLMap: "projects/p/global/urlMaps/other", HTTPS: true},
		{SelfLink: "projects/p/global/targetHttpsProxies/gone", URLMap: "projects/p/global/urlMaps/not-listed", HTTPS: true},
	}
	rule := func(name, ip, ports, target string) *computepb.ForwardingRule {
		return &computepb.ForwardingRule{Name: proto.String(name), IPAddress: proto.String(ip), PortRange: proto.String(ports),
			Target: proto.String(target)}
	}
	rules := []*computepb.ForwardingRule{
		rule("web-https", "34.1.1.1", "443-443", "projects/p/global/targetHttpsProxies/web"),
		rule("web-http", "34.1.1.1", "80-80", "projects/p/global/targetHttpProxies/web"),
		rule("web-alt", "34.3.3.3", "8443-8443", "projects/p/global/targetHttpsProxies/web"),
		rule("other", "34.2.2.2", "443-443", "projects/p/global/targetHttpsProxies/other"),
		rule("v6", "2001:db8::1", "443", "projects/p/global/targetHttpsProxies/other"),
		rule("tcp", "34.9.9.9", "443-443", "projects/p/global/targetTcpProxies/t"),
		rule("orphan", "34.8.8.8", "443-443", "projects/p/global/targetHttpsProxies/gone"),
	}
	fs := frontends(rules, proxies, maps)
	if len(fs) != 5 {
		t.Fatalf("frontends = %v, want 5 (tcp proxy and unlisted map left out)", fs)
	}
	return newRouter("p", fs, maps)
}

func TestRouterFrontend(t *testing.T) {
	r := testLBs(t)
	none := func(detail string) discovery.Route {
		return discovery.Route{Rule: "forwarding rules", Action: discovery.ActionNone, Detail: detail}
	}
	for _, tc := range []struct {
		desc string
		url  string
		want discovery.Route
		// wantDetail, when set, is a substring of an ActionNone route's detail.
		wantDetail string
	}{
		{desc: "IP literal picks its forwarding rule", url: "https://34.1.1.1/video",
			want: fwd("url map web: default (no host rule matches 34.1.1.1)", pool("web"))},
		{desc: "another IP, another map", url: "https://34.2.2.2/video",
			want: fwd("url map other: default (no host rule matches 34.2.2.2)", pool("other"))},
		{desc: "http picks the HTTP proxy: redirect to https", url: "http://34.1.1.1/video?a=1",
			want: discovery.Route{Rule: "url map to-https: default (no host rule matches 34.1.1.1)", Action: discovery.ActionRedirect,
				Detail: "301 to https://34.1.1.1/video?a=1"}},
		{desc: "custom port", url: "https://34.3.3.3:8443/video", want: fwd("url map web: default (no host rule matches 34.3.3.3)", pool("web"))},
		{desc: "IPv6 literal", url: "https://[2001:db8::1]/", want: fwd("url map other: default (no host rule matches 2001:db8::1)", pool("other"))},
		{desc: "no rule on that IP and port", url: "https://34.1.1.1:8443/",
			wantDetail: "no forwarding rule of project p takes https port 8443 on 34.1.1.1 (web-alt https 34.3.3.3:8443 -> url map web)"},
		{desc: "no rule for the port at all", url: "http://34.1.1.1:8080/",
			wantDetail: "no forwarding rule of project p takes http port 8080 ("},
		{desc: "a DNS name: the only map naming the host", url: "https://example.com/video",
			want: fwd("url map web: host rule example.com, path matcher site, path rule /video", pool("video"))},
		{desc: "a DNS name on a port with one map", url: "https://anything.org:8443/",
			want: fwd("url map web: default (no host rule matches anything.org)", pool("web"))},
		{desc: "a DNS name no map names: ambiguous, candidates named", url: "https://anything.org/",
			wantDetail: "anything.org on https port 443 may reach 2 URL maps (web-https https 34.1.1.1:443 -> url map web, other https 34.2.2.2:443 -> url map other, v6 https 2001:db8::1:443 -> url map other); set forwarding_rule:"},
		{desc: "not http", url: "ftp://34.1.1.1/", want: none(`scheme "ftp" is not http or https`)},
	} {
		got := r.Route(newReq(t, http.MethodGet, tc.url, nil))
		if len(got) != 1 {
			t.Errorf("%s: %d routes, want 1", tc.desc, len(got))
			continue
		}
		if tc.wantDetail != "" {
			if got[0].Action != discovery.ActionNone || !strings.Contains(got[0].Detail, tc.wantDetail) {
				t.Errorf("%s: %s\n got %+v\nwant none with %q", tc.desc, tc.url, got[0], tc.wantDetail)
			}
			continue
		}
		if !reflect.DeepEqual(got[0], tc.want) {
			t.Errorf("%s: %s\n got %+v\nwant %+v", tc.desc, tc.url, got[0], tc.want)
		}
	}
}

func TestRouterDefaultURL(t *testing.T) {
	r := testLBs(t)
	for _, tc := range []struct{ desc, service, want string }{
		{desc: "the frontend whose own address reaches the service, not the first rule", service: "projects/p/global/backendServices/other",
			want: "https://34.2.2.2/"},
		{desc: "the root of every frontend reaches another service: the first HTTPS one", service: "projects/p/global/backendServices/video",
			want: "https://34.1.1.1/"},
		{desc: "the map default", service: "projects/p/global/backendServices/web", want: "https://34.1.1.1/"},
		{desc: "no map routes to it", service: "projects/p/global/backendServices/nowhere", want: ""},
	} {
		if got := r.defaultURL(tc.service); got != tc.want {
			t.Errorf("%s: defaultURL(%s) = %q, want %q", tc.desc, tc.service, got, tc.want)
		}
	}
}

func TestFrontendURL(t *testing.T) {
	for _, tc := range []struct {
		f    frontend
		want string
	}{
		{f: frontend{IP: "2.2.2.2", Low: 443, High: 443, HTTPS: true}, want: "https://2.2.2.2/"},
		{f: frontend{IP: "10.0.0.9", Low: 8080, High: 8080}, want: "http://10.0.0.9:8080/"},
		{f: frontend{IP: "2001:db8::1", Low: 443, High: 443, HTTPS: true}, want: "https://[2001:db8::1]/"},
		{f: frontend{IP: "2001:db8::1", Low: 8443, High: 8443, HTTPS: true}, want: "https://[2001:db8::1]:8443/"},
	} {
		if got := tc.f.url(); got != tc.want {
			t.Errorf("%+v: url = %q, want %q", tc.f, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in     string
		https  bool
		lo, hi int
		ok     bool
	}{
		{in: "443-443", https: true, lo: 443, hi: 443, ok: true},
		{in: "8080", lo: 8080, hi: 8080, ok: true},
		{in: "", https: true, lo: 443, hi: 443, ok: true},
		{in: "", lo: 80, hi: 80, ok: true},
		{in: "80-8080", lo: 80, hi: 8080, ok: true},
		{in: "90-80"},
		{in: "x"},
	} {
		lo, hi, ok := parsePortRange(tc.in, tc.https)
		if ok != tc.ok || ok && (lo != tc.lo || hi != tc.hi) {
			t.Errorf("parsePortRange(%q) = %d, %d, %v; want %d, %d, %v", tc.in, lo, hi, ok, tc.lo, tc.hi, tc.ok)
		}
	}
}

// TestRouterConcurrent: the router is read-only once built; the race
// detector checks concurrent callers.
func TestRouterConcurrent(t *testing.T) {
	r := testLBs(t)
	want := r.Route(newReq(t, http.MethodGet, "https://api.example.com/v2/cart", nil))
	done := make(chan []discovery.Route)
	for range 8 {
		go func() {
			done <- r.Route(discovery.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "https", Host: "api.example.com", Path: "/v2/cart"}})
		}()
	}
	for range 8 {
		if got := <-done; !reflect.DeepEqual(got, want) {
			t.Errorf("concurrent route = %+v, want %+v", got, want)
		}
	}
}

// FuzzRouterRoute: any URL, method and header give exactly one route with
// a known action, never a panic.
func FuzzRouterRoute(f *testing.F) {
	for _, s := range []string{"https://api.example.com/v2/cart", "http://34.1.1.1/", "https://[2001:db8::1]:443/users/1/files/a",
		"https://example.com/video/hd/%2e%2e/", "https://x:99999/", "https://EXAMPLE.com./q?debug=1&debug=2", "//no-scheme"} {
		f.Add("GET", s, "X-Canary", "1")
	}
	r := testLBs(f)
	actions := []string{discovery.ActionForward, discovery.ActionRedirect, discovery.ActionBucket, discovery.ActionNone}
	f.Fuzz(func(t *testing.T, method, raw, hname, hvalue string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		rs := r.Route(discovery.Request{Method: method, URL: u, Header: http.Header{hname: {hvalue}}})
		if len(rs) != 1 || !slices.Contains(actions, rs[0].Action) || rs[0].Rule == "" {
			t.Fatalf("Route(%s %q) = %+v", method, raw, rs)
		}
		if rs[0].Action == discovery.ActionForward && len(rs[0].Pools) == 0 {
			t.Fatalf("Route(%s %q) forwards to no pool", method, raw)
		}
	})
}

package kubernetes

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/corsaudit/corsaudit/discovery"
)

// ingPath is one path of a test Ingress, to the Service named backend
// (port http).
type ingPath struct {
	path, typ, backend string
}

// testIngress builds an Ingress "shop" with one rule per host (in order),
// each with its paths.
func testIngress(hosts []string, paths map[string][]ingPath) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "prod", Annotations: map[string]string{}}}
	for _, h := range hosts {
		rule := networkingv1.IngressRule{Host: h, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{}}}
		for _, p := range paths[h] {
			typ := networkingv1.PathType(p.typ)
			rule.HTTP.Paths = append(rule.HTTP.Paths, networkingv1.HTTPIngressPath{Path: p.path, PathType: &typ,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: p.backend,
					Port: networkingv1.ServiceBackendPort{Name: "http"}}}})
		}
		ing.Spec.Rules = append(ing.Spec.Rules, rule)
	}
	return ing
}

// routeIngress routes one request through an Ingress, each Service its own
// pool named after it.
func routeIngress(t *testing.T, ing *networkingv1.Ingress, method, rawURL string, header http.Header) discovery.Route {
	t.Helper()
	r, err := parseIngress(ing, "prod")
	if err != nil {
		t.Fatal(err)
	}
	poolOf := map[backendRef]string{}
	for _, b := range r.backends() {
		poolOf[b] = b.Name
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	if header == nil {
		header = http.Header{}
	}
	routes := r.router(poolOf).Route(discovery.Request{Method: method, URL: u, Header: header})
	if len(routes) != 1 {
		t.Fatalf("%d routes, want 1: %+v", len(routes), routes)
	}
	return routes[0]
}

// poolsOf is a route's pool names, or its action when it does not forward.
func poolsOf(r discovery.Route) string {
	if r.Action != discovery.ActionForward {
		return r.Action
	}
	var names []string
	for _, p := range r.Pools {
		names = append(names, p.Name)
	}
	return strings.Join(names, ",")
}

// TestIngressPathTypes is the examples table of the Ingress documentation
// ("Path types", https://kubernetes.io/docs/concepts/services-networking/ingress/#examples):
// each row's paths go to backends p0, p1, …; "none" is the default
// backend.
func TestIngressPathTypes(t *testing.T) {
	for _, tc := range []struct {
		desc  string
		paths []ingPath
		req   string
		want  string
	}{
		{"Prefix / matches all paths", []ingPath{{"/", "Prefix", "p0"}}, "/anything/at/all", "p0"},
		{"Exact /foo matches /foo", []ingPath{{"/foo", "Exact", "p0"}}, "/foo", "p0"},
		{"Exact /foo does not match /bar", []ingPath{{"/foo", "Exact", "p0"}}, "/bar", "none"},
		{"Exact /foo does not match /foo/", []ingPath{{"/foo", "Exact", "p0"}}, "/foo/", "none"},
		{"Exact /foo/ does not match /foo", []ingPath{{"/foo/", "Exact", "p0"}}, "/foo", "none"},
		{"Prefix /foo matches /foo", []ingPath{{"/foo", "Prefix", "p0"}}, "/foo", "p0"},
		{"Prefix /foo matches /foo/", []ingPath{{"/foo", "Prefix", "p0"}}, "/foo/", "p0"},
		{"Prefix /foo/ matches /foo", []ingPath{{"/foo/", "Prefix", "p0"}}, "/foo", "p0"},
		{"Prefix /foo/ matches /foo/", []ingPath{{"/foo/", "Prefix", "p0"}}, "/foo/", "p0"},
		{"Prefix /aaa/bb does not match /aaa/bbb", []ingPath{{"/aaa/bb", "Prefix", "p0"}}, "/aaa/bbb", "none"},
		{"Prefix /aaa/bbb matches /aaa/bbb", []ingPath{{"/aaa/bbb", "Prefix", "p0"}}, "/aaa/bbb", "p0"},
		{"Prefix /aaa/bbb/ ignores the trailing slash", []ingPath{{"/aaa/bbb/", "Prefix", "p0"}}, "/aaa/bbb", "p0"},
		{"Prefix /aaa/bbb matches the trailing slash", []ingPath{{"/aaa/bbb", "Prefix", "p0"}}, "/aaa/bbb/", "p0"},
		{"Prefix /aaa/bbb matches a subpath", []ingPath{{"/aaa/bbb", "Prefix", "p0"}}, "/aaa/bbb/ccc", "p0"},
		{"Prefix /aaa/bbb is not a string prefix", []ingPath{{"/aaa/bbb", "Prefix", "p0"}}, "/aaa/bbbxyz", "none"},
		{"Prefix /, /aaa: /aaa/ccc takes /aaa", []ingPath{{"/", "Prefix", "p0"}, {"/aaa", "Prefix", "p1"}}, "/aaa/ccc", "p1"},
		{"Prefix /, /aaa, /aaa/bbb: /aaa/bbb takes /aaa/bbb", []ingPath{{"/", "Prefix", "p0"}, {"/aaa", "Prefix", "p1"}, {"/aaa/bbb", "Prefix", "p2"}}, "/aaa/bbb", "p2"},
		{"Prefix /, /aaa, /aaa/bbb: /ccc takes /", []ingPath{{"/", "Prefix", "p0"}, {"/aaa", "Prefix", "p1"}, {"/aaa/bbb", "Prefix", "p2"}}, "/ccc", "p0"},
		{"Prefix /aaa: /ccc takes the default backend", []ingPath{{"/aaa", "Prefix", "p0"}}, "/ccc", "none"},
		{"Mixed /foo Prefix and Exact: Exact wins", []ingPath{{"/foo", "Prefix", "p0"}, {"/foo", "Exact", "p1"}}, "/foo", "p1"},
		{"Mixed, Exact listed first: Exact wins", []ingPath{{"/foo", "Exact", "p1"}, {"/foo", "Prefix", "p0"}}, "/foo", "p1"},
		{"ImplementationSpecific as Prefix", []ingPath{{"/api", "ImplementationSpecific", "p0"}}, "/api/v1", "p0"},
		{"equal paths: the first", []ingPath{{"/api", "Prefix", "p0"}, {"/api", "Prefix", "p1"}}, "/api", "p0"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			r := routeIngress(t, testIngress([]string{"api.example.com"}, map[string][]ingPath{"api.example.com": tc.paths}),
				"GET", "https://api.example.com"+tc.req, nil)
			if got := poolsOf(r); got != tc.want {
				t.Errorf("%s goes to %s (%+v), want %s", tc.req, got, r, tc.want)
			}
		})
	}
}

// TestIngressHosts: exact hosts, "*.foo.com" wildcards of one label, rules
// without host, the tiers between them, and the default backend.
func TestIngressHosts(t *testing.T) {
	hosts := []string{"", "*.foo.com", "bar.foo.com", "api.example.com"}
	paths := map[string][]ingPath{
		"":                {{"/", "Prefix", "anyhost"}},
		"*.foo.com":       {{"/", "Prefix", "wildcard"}},
		"bar.foo.com":     {{"/api", "Prefix", "bar-api"}},
		"api.example.com": {{"/v1", "Prefix", "v1"}, {"/v2", "Prefix", "v2"}},
	}
	for _, tc := range []struct {
		desc, url, want, rule string
		withDefault           bool
	}{
		{"exact host, its path", "https://api.example.com/v2/cart", "v2", "ingress shop: host api.example.com, path /v2 (Prefix)", false},
		{"host case and port ignored", "https://API.Example.com:8443/v1", "v1", "ingress shop: host api.example.com, path /v1 (Prefix)", false},
		{"wildcard matches one label", "https://baz.foo.com/x", "wildcard", "ingress shop: host *.foo.com, path / (Prefix)", false},
		{"wildcard does not match two labels", "https://baz.bar.foo.com/x", "anyhost", "ingress shop: any host, path / (Prefix)", false},
		{"wildcard does not match the bare domain", "https://foo.com/x", "anyhost", "ingress shop: any host, path / (Prefix)", false},
		{"exact host beats the wildcard", "https://bar.foo.com/api", "bar-api", "ingress shop: host bar.foo.com, path /api (Prefix)", false},
		// No fall-through to the wildcard's or the any-host rules once
		// the host has rules (nginx server blocks, URL map host rules).
		{"exact host without matching path: no rule", "https://bar.foo.com/other", "none", "ingress shop: no rule matches", false},
		{"exact host without matching path: default backend", "https://bar.foo.com/other", "fallback", "ingress shop: default backend", true},
		{"unknown host: the any-host rules", "https://other.example.org/", "anyhost", "ingress shop: any host, path / (Prefix)", false},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			ing := testIngress(hosts, paths)
			if tc.withDefault {
				ing.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "fallback",
					Port: networkingv1.ServiceBackendPort{Number: 80}}}
			}
			r := routeIngress(t, ing, "GET", tc.url, nil)
			if got := poolsOf(r); got != tc.want || r.Rule != tc.rule {
				t.Errorf("%s: %s by %q, want %s by %q", tc.url, got, r.Rule, tc.want, tc.rule)
			}
		})
	}
}

// TestIngressNotes: what the route says it could not know.
func TestIngressNotes(t *testing.T) {
	ing := testIngress([]string{"api.example.com"}, map[string][]ingPath{"api.example.com": {{"/api", "ImplementationSpecific", "shop"}}})
	r := routeIngress(t, ing, "GET", "https://api.example.com/api", nil)
	if !strings.Contains(r.Note, "ImplementationSpecific matched as Prefix") || r.Rule != "ingress shop: host api.example.com, path /api (ImplementationSpecific)" {
		t.Errorf("route %+v: no ImplementationSpecific note", r)
	}
	alb := "alb"
	ing.Spec.IngressClassName = &alb
	if r := routeIngress(t, ing, "GET", "https://api.example.com/api", nil); !strings.Contains(r.Note, "AWS Load Balancer Controller") {
		t.Errorf("class alb: note %q", r.Note)
	}
	ing.Spec.Rules[0].HTTP.Paths[0].Backend = networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{Kind: "StorageBucket", Name: "assets"}}
	if r := routeIngress(t, ing, "GET", "https://api.example.com/api", nil); r.Action != discovery.ActionNone || !strings.Contains(r.Detail, "StorageBucket assets") {
		t.Errorf("resource backend: %+v", r)
	}
}

// TestIngressNginx models what ingress-nginx answers itself: enable-cors
// preflights from allowed origins (cors-allow-origin, default *: noted,
// the route stays a forward since the answer carries CORS headers), the
// CORS headers of their answers, and the https redirect of hosts in tls:.
func TestIngressNginx(t *testing.T) {
	origin := func(o string) http.Header {
		h := http.Header{}
		if o != "" {
			h.Set("Origin", o)
			h.Set("Access-Control-Request-Method", "PUT")
		}
		return h
	}
	for _, tc := range []struct {
		desc        string
		annotations map[string]string
		tls         bool
		method, url string
		origin      string
		action      string
		detail      string
		note        string
	}{
		{"no annotation: forwarded", map[string]string{}, false, "OPTIONS", "https://api.example.com/", "https://app.example.com", "forward", "", ""},
		{"enable-cors, any origin: 204", map[string]string{"enable-cors": "true"}, false, "OPTIONS", "https://api.example.com/", "https://app.example.com",
			"forward", "", "enable-cors answers this OPTIONS itself (204, Access-Control-Allow-Origin: *)"},
		{"enable-cors, listed origin: 204 echoing it", map[string]string{"enable-cors": "true", "cors-allow-origin": "https://app.example.com, https://admin.example.com"},
			false, "OPTIONS", "https://api.example.com/", "https://admin.example.com", "forward", "",
			"enable-cors answers this OPTIONS itself (204, Access-Control-Allow-Origin: https://admin.example.com)"},
		{"enable-cors, origin matched case-insensitively", map[string]string{"enable-cors": "true", "cors-allow-origin": "https://app.example.com"},
			false, "OPTIONS", "https://api.example.com/", "https://APP.example.com", "forward", "", "answers this OPTIONS itself"},
		{"enable-cors, wildcard origin", map[string]string{"enable-cors": "true", "cors-allow-origin": "https://*.example.com"},
			false, "OPTIONS", "https://api.example.com/", "https://a.example.com", "forward", "", "answers this OPTIONS itself"},
		{"enable-cors, wildcard origin is one label", map[string]string{"enable-cors": "true", "cors-allow-origin": "https://*.example.com"},
			false, "OPTIONS", "https://api.example.com/", "https://a.b.example.com", "forward", "", "not in cors-allow-origin"},
		// The controller's regex is anchored at the end only: an origin
		// ending in an allowed one matches, as it does in nginx.
		{"enable-cors, regex anchored at the end only", map[string]string{"enable-cors": "true", "cors-allow-origin": "https://app.example.com"},
			false, "OPTIONS", "https://api.example.com/", "https://evil.comhttps://app.example.com", "forward", "", "answers this OPTIONS itself"},
		{"enable-cors, other origin: the app answers", map[string]string{"enable-cors": "true", "cors-allow-origin": "https://app.example.com"},
			false, "OPTIONS", "https://api.example.com/", "https://evil.example.net", "forward", "", "not in cors-allow-origin"},
		{"enable-cors, invalid entry skipped", map[string]string{"enable-cors": "true", "cors-allow-origin": "app example"},
			false, "OPTIONS", "https://api.example.com/", "https://app.example.com", "forward", "", "not in cors-allow-origin"},
		{"enable-cors, actual request: headers set by the controller", map[string]string{"enable-cors": "true"}, false, "GET", "https://api.example.com/",
			"https://app.example.com", "forward", "", "enable-cors sets the CORS headers"},
		{"tls host over http: 308", map[string]string{"proxy-body-size": "1m"}, true, "OPTIONS", "http://api.example.com/v1?x=1", "https://app.example.com",
			"redirect", "308 to https://api.example.com/v1?x=1 (ingress-nginx ssl-redirect)", ""},
		{"tls host over http, port dropped", map[string]string{"proxy-body-size": "1m"}, true, "GET", "http://api.example.com:8080/v1", "",
			"redirect", "308 to https://api.example.com/v1 (ingress-nginx ssl-redirect)", ""},
		{"ssl-redirect false", map[string]string{"ssl-redirect": "false"}, true, "GET", "http://api.example.com/", "", "forward", "", ""},
		{"no tls: no redirect", map[string]string{"proxy-body-size": "1m"}, false, "GET", "http://api.example.com/", "", "forward", "", ""},
		{"force-ssl-redirect without tls", map[string]string{"force-ssl-redirect": "true"}, false, "GET", "http://api.example.com/", "", "redirect", "", ""},
		// nginx's return 204 (rewrite phase) runs before the lua redirect.
		{"preflight 204 before the redirect", map[string]string{"enable-cors": "true"}, true, "OPTIONS", "http://api.example.com/", "https://app.example.com",
			"forward", "", "answers this OPTIONS itself"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			ing := testIngress([]string{"api.example.com"}, map[string][]ingPath{"api.example.com": {{"/", "Prefix", "shop"}}})
			for k, v := range tc.annotations {
				ing.Annotations[nginxAnnotation+k] = v
			}
			if tc.tls {
				ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"api.example.com"}}}
			}
			r := routeIngress(t, ing, tc.method, tc.url, origin(tc.origin))
			if r.Action != tc.action || (tc.detail != "" && r.Detail != tc.detail) || !strings.Contains(r.Note, tc.note) {
				t.Errorf("route %+v, want %s %q note containing %q", r, tc.action, tc.detail, tc.note)
			}
			if r.Action == discovery.ActionForward && (len(r.Pools) != 1 || r.Pools[0].Name != "shop") {
				t.Errorf("pools %+v, want shop", r.Pools)
			}
		})
	}
	// The class alone makes it ingress-nginx.
	ing := testIngress([]string{"api.example.com"}, map[string][]ingPath{"api.example.com": {{"/", "Prefix", "shop"}}})
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"api.example.com"}}}
	if r := routeIngress(t, ing, "GET", "http://api.example.com/", nil); r.Action != discovery.ActionForward {
		t.Errorf("no nginx class or annotation: %+v, want forward", r)
	}
	nginx := "nginx"
	ing.Spec.IngressClassName = &nginx
	if r := routeIngress(t, ing, "GET", "http://api.example.com/", nil); r.Action != discovery.ActionRedirect {
		t.Errorf("class nginx: %+v, want redirect", r)
	}
}

// TestIngressURL: the target URL is the first host rule's first path,
// https for a host in tls:.
func TestIngressURL(t *testing.T) {
	for _, tc := range []struct {
		desc  string
		hosts []string
		tls   []string
		want  string
	}{
		{"host in tls", []string{"api.example.com"}, []string{"api.example.com"}, "https://api.example.com/api"},
		{"host under a wildcard tls", []string{"api.example.com"}, []string{"*.example.com"}, "https://api.example.com/api"},
		{"host without tls", []string{"api.example.com"}, nil, "http://api.example.com/api"},
		{"any host and wildcard skipped", []string{"", "*.example.com", "www.example.com"}, nil, "http://www.example.com/api"},
		{"no host", []string{""}, nil, ""},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			paths := map[string][]ingPath{}
			for _, h := range tc.hosts {
				paths[h] = []ingPath{{"/api", "Prefix", "shop"}}
			}
			ing := testIngress(tc.hosts, paths)
			if len(tc.tls) > 0 {
				ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: tc.tls}}
			}
			r, err := parseIngress(ing, "prod")
			if err != nil {
				t.Fatal(err)
			}
			if got := r.publicURL(); got != tc.want {
				t.Errorf("URL %q, want %q", got, tc.want)
			}
		})
	}
}

// TestIngressBackendScheme: ingress-nginx's backend-protocol annotation
// says how the pods are dialled.
func TestIngressBackendScheme(t *testing.T) {
	for _, tc := range []struct {
		annotations map[string]string
		want        string
	}{
		{map[string]string{}, ""},
		{map[string]string{nginxAnnotation + "backend-protocol": "HTTPS"}, "https"},
		{map[string]string{nginxAnnotation + "backend-protocol": "grpcs"}, "https"},
		{map[string]string{nginxAnnotation + "backend-protocol": "HTTP"}, "http"},
		{map[string]string{nginxAnnotation + "backend-protocol": "FCGI"}, ""},
		{map[string]string{"other.example/backend-protocol": "HTTPS"}, ""},
	} {
		ing := testIngress([]string{"api.example.com"}, map[string][]ingPath{"api.example.com": {{"/", "Prefix", "shop"}}})
		ing.Annotations = tc.annotations
		r, err := parseIngress(ing, "prod")
		if err != nil {
			t.Fatal(err)
		}
		if got := r.backendScheme(); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.annotations, got, tc.want)
		}
	}
}

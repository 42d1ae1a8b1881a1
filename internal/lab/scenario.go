package lab

import (
	"fmt"
	"sort"
	"strings"

	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

// Proxy names the load balancer software a scenario runs.
type Proxy string

// The load balancers and caches the lab drives.
const (
	Nginx   Proxy = "nginx"
	HAProxy Proxy = "haproxy"
	Varnish Proxy = "varnish"
)

// Tool is the program that runs p ("varnishd" for varnish).
func (p Proxy) Tool() string {
	if p == Varnish {
		return "varnishd"
	}
	return string(p)
}

// Layer is a proxy in front of a scenario's load balancer (a CDN or
// cache), with its rules.
type Layer struct {
	Proxy Proxy
	rules string
}

// Backend is one instance of a scenario: its group and CORS behaviour.
type Backend struct {
	Group    string
	Behavior labserver.Behavior
	// Down leaves the instance's port closed: it refuses connections.
	Down bool
}

// Scenario is one load balancer configuration in front of a few backends.
type Scenario struct {
	// Name is "<proxy>-<kind>", e.g. "nginx-redirect-options".
	Name string
	// Proxy is the load balancer that runs the scenario.
	Proxy Proxy
	// Summary says in one line what the load balancer does wrong (or right).
	Summary string
	// Findings are the corsaudit finding kinds an audit of the scenario
	// reports, sorted; empty for the clean scenarios.
	Findings []string
	// Explains are the symptom kinds the findings' causes fold in
	// (Finding.Explains), sorted, when a finding explains several.
	Explains []string
	// Backends are the instances behind the load balancer, in order.
	Backends []Backend
	// Front, when set, is a proxy in front of the load balancer: the
	// audit lists both as fronts (the front by URL, the load balancer by
	// address), and Blames names the one a finding must name.
	Front  *Layer
	Blames string
	// rules are the proxy directives inserted in front of proxying: inside
	// nginx's location block, or haproxy's frontend section.
	rules string
	// httpRules are nginx http-block directives (cache zones).
	httpRules string
}

// The policy every lab target declares, and that the current backends follow.
var (
	PolicyOrigins = []string{"https://app.example.com"}
	PolicyMethods = []string{"GET", "PUT"}
	PolicyHeaders = []string{"Content-Type", "X-Request-Id"}
)

// Path is the path the lab's URL points at.
const Path = "/v1/cart"

// kinds are the scenario kinds; each becomes "<proxy>-<kind>" for the
// proxies that can express it.
type kind struct {
	name, summary string
	findings      []string
	explains      []string
	backends      []Backend
	nginx         string // "" with nginxHTTP "" too: not an nginx scenario
	nginxHTTP     string
	haproxy       string // "" and !haproxyPlain: not a haproxy scenario
	haproxyPlain  bool   // a haproxy scenario with no extra rules
	nginxPlain    bool   // an nginx scenario with no extra rules
	varnish       string // VCL subroutines; "" and !varnishPlain: not a varnish scenario
	varnishPlain  bool   // a varnish scenario with the built-in VCL
	// haproxyFindings, when set, are the haproxy scenario's findings
	// instead of findings.
	haproxyFindings []string
}

// reflecting is the current fleet answering preflights with the requested
// method and headers (labserver's ReflectRequest), as many frameworks do:
// a preflight answer then depends on the request's method and headers.
func reflecting(n int) []Backend {
	f := Fleet(n, nil)
	for i := range f {
		f[i].Behavior.ReflectRequest = true
	}
	return f
}

// VCL pieces of the varnish scenarios.
const (
	// vclPassAll sends every request to the instances, caching nothing.
	vclPassAll = `sub vcl_recv {
    return (pass);
}`
	// vclStripVary drops Vary from every answer, the mistake of an
	// "unset beresp.http.Vary" meant to raise the hit rate.
	vclStripVary = `sub vcl_backend_response {
    unset beresp.http.Vary;
}`
	// vclCacheOptions caches preflights too, sending them to the backend
	// as OPTIONS (varnish fetches a cache miss with GET otherwise), and
	// keeps every answer, 204s included, for a minute.
	vclCacheOptions = `sub vcl_recv {
    set req.http.X-Lab-Method = req.method;
    if (req.method == "OPTIONS") {
        return (hash);
    }
}
sub vcl_backend_fetch {
    set bereq.method = bereq.http.X-Lab-Method;
    unset bereq.http.X-Lab-Method;
}
sub vcl_backend_response {
    set beresp.ttl = 60s;
}`
)

var kinds = []kind{
	{
		name:       "clean",
		summary:    "round-robin over three instances that all follow the policy; the load balancer changes nothing",
		backends:   Fleet(3, nil),
		nginxPlain: true, haproxyPlain: true,
	},
	{
		name:    "round-robin",
		summary: "round-robin over four instances, web-3 still on the old CORS config (no PUT, no X-Request-Id, max-age 60)",
		// One cause: web-3's config, and the requests through the load
		// balancer that land on it.
		findings:   []string{"verdict-drift"},
		explains:   []string{"lb-mismatch", "verdict-drift"},
		backends:   Fleet(4, func(i int) bool { return i == 3 }),
		nginxPlain: true, haproxyPlain: true,
	},
	{
		name:     "redirect-options",
		summary:  "the load balancer redirects every OPTIONS to https, as a misconfigured listener rule does; browsers reject redirected preflights",
		findings: []string{"lb-redirect"},
		backends: Fleet(3, nil),
		nginx: `if ($request_method = OPTIONS) {
                return 301 https://$host$request_uri;
            }`,
		haproxy: `http-request redirect scheme https code 301 if METH_OPTIONS`,
	},
	{
		name:     "answers-options",
		summary:  "the load balancer answers OPTIONS itself with its own CORS headers (ACAO *, no PUT, no credentials) instead of the instances' answer",
		findings: []string{"lb-answers-options"},
		backends: Fleet(3, nil),
		nginx: `if ($request_method = OPTIONS) {
                add_header Access-Control-Allow-Origin "*";
                add_header Access-Control-Allow-Methods "GET, POST, OPTIONS";
                add_header Access-Control-Allow-Headers "Content-Type";
                add_header Access-Control-Max-Age "86400";
                return 204;
            }`,
		haproxy: `http-request return status 204 hdr Access-Control-Allow-Origin "*" hdr Access-Control-Allow-Methods "GET, POST, OPTIONS" hdr Access-Control-Allow-Headers "Content-Type" hdr Access-Control-Max-Age "86400" if METH_OPTIONS`,
	},
	{
		name:     "duplicate-header",
		summary:  "the load balancer adds Access-Control-Allow-Origin: * on top of the instances' own, so every allowed answer carries two values and browsers reject it",
		findings: []string{"invalid-header"},
		backends: Fleet(3, nil),
		nginx:    `add_header Access-Control-Allow-Origin "*" always;`,
		haproxy:  `http-response add-header Access-Control-Allow-Origin "*"`,
	},
	{
		name:     "strip-header",
		summary:  "the load balancer strips Access-Control-Allow-Credentials from the instances' answers, so credentialed requests fail only through it",
		findings: []string{"lb-mismatch"},
		backends: Fleet(3, nil),
		nginx:    `proxy_hide_header Access-Control-Allow-Credentials;`,
		haproxy:  `http-response del-header Access-Control-Allow-Credentials`,
	},
	{
		name:     "vary-missing",
		summary:  "the instances echo the allowed origin without Vary: Origin: harmless until a cache sits in front of them, then origins get each other's answers",
		findings: []string{"vary-missing"},
		backends: func() []Backend {
			f := Fleet(3, nil)
			for i := range f {
				f[i].Behavior.NoVary = true
			}
			return f
		}(),
		nginxPlain: true, haproxyPlain: true,
	},
	{
		name:     "cache-leak",
		summary:  "a cache keyed on the URL alone that ignores Vary (nginx proxy_cache_key without $http_origin and proxy_ignore_headers Vary; haproxy cache-store behind a del-header Vary): an answer cached without Origin, for a refused origin or for another origin is served to an allowed one",
		findings: []string{"cache-leak", "cache-no-origin", "cache-refusal"},
		// haproxy's cache stores no answer with a Vary: it is removed
		// first, which the audit says too.
		haproxyFindings: []string{"cache-leak", "cache-no-origin", "cache-refusal", "lb-changes-headers"},
		backends:        Fleet(3, nil),
		nginxHTTP:       `proxy_cache_path {{dir}}/cache levels=1 keys_zone=lab:1m max_size=10m inactive=10m use_temp_path=off;`,
		nginx: `proxy_cache lab;
            proxy_cache_key $scheme$proxy_host$request_uri;
            proxy_ignore_headers Vary Cache-Control Expires Set-Cookie;
            proxy_cache_valid 200 204 10m;
            add_header X-Cache-Status $upstream_cache_status always;`,
		haproxy: `cache lab
    total-max-size 4
    max-age 600

http-request cache-use lab
    http-response del-header Vary
    http-response cache-store lab`,
	},
	{
		name:      "cache-origin",
		summary:   "the same cache keyed on the Origin (nginx proxy_cache_key with $http_origin; haproxy with the instances' Vary: Origin kept, which it does not store): every origin gets its own answer",
		backends:  Fleet(3, nil),
		nginxHTTP: `proxy_cache_path {{dir}}/cache levels=1 keys_zone=lab:1m max_size=10m inactive=10m use_temp_path=off;`,
		nginx: `proxy_cache lab;
            proxy_cache_key $scheme$proxy_host$request_uri$http_origin;
            proxy_ignore_headers Cache-Control Expires Set-Cookie;
            proxy_cache_valid 200 204 10m;
            add_header X-Cache-Status $upstream_cache_status always;`,
		haproxy: `cache lab
    total-max-size 4
    max-age 600

http-request cache-use lab
    http-response cache-store lab`,
	},
	{
		name:     "strip-vary",
		summary:  "varnish passes every request to the instances and drops Vary from their answers (unset beresp.http.Vary): browsers decide the same, but any cache in front of it or the browser's can mix origins up",
		findings: []string{"lb-changes-headers"},
		backends: Fleet(3, nil),
		varnish:  vclPassAll + "\n" + vclStripVary,
	},
	{
		name:     "cache-url",
		summary:  "varnish keyed on the URL alone (vcl_hash with req.url, and the method since preflights are cached too), Vary dropped, in front of instances that reflect the requested method and headers: every order of the cache probe matrix fails",
		findings: []string{"cache-leak", "cache-no-origin", "cache-preflight-key", "cache-refusal", "lb-changes-headers"},
		backends: reflecting(3),
		varnish: vclCacheOptions + "\n" + vclStripVary + `
sub vcl_hash {
    hash_data(req.method);
    hash_data(req.url);
    return (lookup);
}`,
	},
	{
		name:     "cache-key",
		summary:  "the same varnish keyed on the URL, the Origin and the requested method and headers, Vary kept: every request gets its own answer",
		backends: reflecting(3),
		varnish: vclCacheOptions + `
sub vcl_hash {
    hash_data(req.method);
    hash_data(req.url);
    hash_data(req.http.Origin);
    hash_data(req.http.Access-Control-Request-Method);
    hash_data(req.http.Access-Control-Request-Headers);
    return (lookup);
}`,
	},
	{
		name:     "drop-304-cors",
		summary:  "varnish answers revalidations (If-None-Match) from its cache with a 304 from which it removes the CORS headers, as a cache that sends only the headers RFC 9110 requires on a 304 does",
		findings: []string{"cache-revalidation"},
		backends: Fleet(3, nil),
		varnish: `sub vcl_deliver {
    if (req.http.If-None-Match) {
        unset resp.http.Access-Control-Allow-Origin;
        unset resp.http.Access-Control-Allow-Credentials;
        unset resp.http.Access-Control-Expose-Headers;
    }
}`,
	},
}

// chains are the scenarios with varnish in front of haproxy, named
// "varnish-haproxy-<name>": Blames names the layer their finding names.
var chains = []struct {
	name, summary, blames string
	findings              []string
	varnish, haproxy      string
}{
	{
		name:     "strip-vary",
		summary:  "varnish drops Vary from the answers of a clean haproxy: the finding names varnish, not the load balancer behind it",
		blames:   "varnish",
		findings: []string{"lb-changes-headers"},
		varnish:  vclPassAll + "\n" + vclStripVary,
	},
	{
		name:     "strip-header",
		summary:  "haproxy strips Access-Control-Allow-Credentials behind a varnish that passes everything on: the finding names haproxy",
		blames:   "haproxy",
		findings: []string{"lb-mismatch"},
		varnish:  vclPassAll,
		haproxy:  `http-response del-header Access-Control-Allow-Credentials`,
	},
}

// Scenarios returns every scenario, nginx ones first, then haproxy,
// varnish, and varnish in front of haproxy, in a stable order.
func Scenarios() []Scenario {
	var out []Scenario
	for _, p := range []Proxy{Nginx, HAProxy, Varnish} {
		for _, k := range kinds {
			sc := Scenario{Name: string(p) + "-" + k.name, Proxy: p, Summary: k.summary,
				Findings: k.findings, Explains: k.explains, Backends: k.backends}
			switch {
			case p == Nginx && (k.nginx != "" || k.nginxHTTP != "" || k.nginxPlain):
				sc.rules, sc.httpRules = k.nginx, k.nginxHTTP
			case p == HAProxy && (k.haproxy != "" || k.haproxyPlain):
				sc.rules = k.haproxy
				if k.haproxyFindings != nil {
					sc.Findings = k.haproxyFindings
				}
			case p == Varnish && (k.varnish != "" || k.varnishPlain):
				sc.rules = k.varnish
			default:
				continue
			}
			out = append(out, sc)
		}
	}
	for _, c := range chains {
		out = append(out, Scenario{Name: "varnish-haproxy-" + c.name, Proxy: HAProxy, Summary: c.summary,
			Findings: c.findings, Backends: Fleet(3, nil), rules: c.haproxy,
			Front: &Layer{Proxy: Varnish, rules: c.varnish}, Blames: c.blames})
	}
	return out
}

// Tools are the programs sc runs.
func (sc Scenario) Tools() []string {
	tools := []string{sc.Proxy.Tool()}
	if sc.Front != nil {
		tools = append(tools, sc.Front.Proxy.Tool())
	}
	return tools
}

// Names returns the scenario names, sorted.
func Names() []string {
	var out []string
	for _, sc := range Scenarios() {
		out = append(out, sc.Name)
	}
	sort.Strings(out)
	return out
}

// Lookup returns the scenario called name.
func Lookup(name string) (Scenario, error) {
	for _, sc := range Scenarios() {
		if sc.Name == name {
			return sc, nil
		}
	}
	return Scenario{}, fmt.Errorf("lab: unknown scenario %q (known: %s)", name, strings.Join(Names(), ", "))
}

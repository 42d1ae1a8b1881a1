package lab

import (
	"fmt"
	"sort"
	"strings"

	"github.com/corsaudit/corsaudit/internal/labserver"
)

// Proxy names the load balancer software a scenario runs.
type Proxy string

// The load balancers the lab drives.
const (
	Nginx   Proxy = "nginx"
	HAProxy Proxy = "haproxy"
)

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
}

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
		name:      "cache-leak",
		summary:   "nginx proxy_cache keyed without the Origin and ignoring Vary: a response cached for one origin is served to another",
		findings:  []string{"cache-leak"},
		backends:  Fleet(3, nil),
		nginxHTTP: `proxy_cache_path {{dir}}/cache levels=1 keys_zone=lab:1m max_size=10m inactive=10m use_temp_path=off;`,
		nginx: `proxy_cache lab;
            proxy_cache_key $scheme$proxy_host$request_uri;
            proxy_ignore_headers Vary Cache-Control Expires Set-Cookie;
            proxy_cache_valid 200 204 10m;
            add_header X-Cache-Status $upstream_cache_status always;`,
	},
}

// Scenarios returns every scenario, nginx ones first, in a stable order.
func Scenarios() []Scenario {
	var out []Scenario
	for _, p := range []Proxy{Nginx, HAProxy} {
		for _, k := range kinds {
			sc := Scenario{Name: string(p) + "-" + k.name, Proxy: p, Summary: k.summary,
				Findings: k.findings, Explains: k.explains, Backends: k.backends}
			switch {
			case p == Nginx && (k.nginx != "" || k.nginxHTTP != "" || k.nginxPlain):
				sc.rules, sc.httpRules = k.nginx, k.nginxHTTP
			case p == HAProxy && (k.haproxy != "" || k.haproxyPlain):
				sc.rules = k.haproxy
			default:
				continue
			}
			out = append(out, sc)
		}
	}
	return out
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

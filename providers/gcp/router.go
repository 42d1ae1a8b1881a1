package gcp

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"cloud.google.com/go/compute/apiv1/computepb"

	"github.com/corsaudit/corsaudit/discovery"
)

// frontend is one way into an Application Load Balancer: a forwarding rule
// (address and ports), the HTTP or HTTPS target proxy it points at, and
// that proxy's URL map.
type frontend struct {
	Rule      string // forwarding rule name
	IP        string // its IPAddress
	Low, High int    // its portRange
	HTTPS     bool   // the proxy is a target HTTPS proxy
	Proxy     string // proxy name
	Map       string // the URL map's resourceRef key
	MapName   string
}

// serves reports whether the frontend takes requests for scheme and port.
func (f frontend) serves(https bool, port int) bool {
	return f.HTTPS == https && port >= f.Low && port <= f.High
}

// url is the frontend's own address as a URL ("https://34.1.2.3/").
func (f frontend) url() string {
	scheme, def := "http", 80
	if f.HTTPS {
		scheme, def = "https", 443
	}
	host := f.IP
	if f.Low != def {
		host = net.JoinHostPort(host, strconv.Itoa(f.Low))
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host + "/"
}

func (f frontend) String() string {
	scheme := "http"
	if f.HTTPS {
		scheme = "https"
	}
	ports := strconv.Itoa(f.Low)
	if f.High != f.Low {
		ports += "-" + strconv.Itoa(f.High)
	}
	return fmt.Sprintf("%s %s %s:%s -> url map %s", f.Rule, scheme, f.IP, ports, f.MapName)
}

// frontends joins forwarding rules to the target proxies they point at.
// Rules pointing elsewhere (TCP/SSL proxies, target pools, other
// projects) are left out, and so are proxies without a URL map among maps.
func frontends(rules []*computepb.ForwardingRule, proxies []targetProxy, maps map[string]*mapRouter) []frontend {
	var out []frontend
	for _, r := range rules {
		for _, p := range proxies {
			if r.GetIPAddress() == "" || !sameResource(r.GetTarget(), p.SelfLink) {
				continue
			}
			ref, ok := parseRef(p.URLMap)
			if !ok || maps[ref.key()] == nil {
				continue
			}
			low, high, ok := parsePortRange(r.GetPortRange(), p.HTTPS)
			if !ok {
				continue
			}
			out = append(out, frontend{Rule: r.GetName(), IP: r.GetIPAddress(), Low: low, High: high, HTTPS: p.HTTPS,
				Proxy: lastSegment(p.SelfLink), Map: ref.key(), MapName: ref.Name})
		}
	}
	return out
}

// parsePortRange reads a forwarding rule's portRange ("443-443", "8080");
// an empty one is the scheme's default port.
func parsePortRange(s string, https bool) (int, int, bool) {
	if s == "" {
		if https {
			return 443, 443, true
		}
		return 80, 80, true
	}
	lo, hi, found := strings.Cut(s, "-")
	l, err1 := strconv.Atoi(lo)
	h, err2 := l, error(nil)
	if found {
		h, err2 = strconv.Atoi(hi)
	}
	return l, h, err1 == nil && err2 == nil && l > 0 && h >= l
}

// router is the provider's discovery.Router: the load balancers of the
// project (region) that Discover read, evaluated for each request. It
// chooses the frontend that serves the request's URL, then evaluates that
// frontend's URL map.
type router struct {
	project   string
	frontends []frontend
	maps      map[string]*mapRouter // by resourceRef key
}

func newRouter(project string, fronts []frontend, maps map[string]*mapRouter) *router {
	return &router{project: project, frontends: fronts, maps: maps}
}

// Route returns the one route the request takes.
func (r *router) Route(req discovery.Request) []discovery.Route {
	rq := newRequest(req)
	m, none := r.frontendMap(rq)
	if m == nil {
		return []discovery.Route{none}
	}
	return []discovery.Route{m.route(rq)}
}

// frontendMap chooses the URL map that serves the request, from the URL
// alone:
//
//   - the scheme picks HTTPS or HTTP target proxies, the port (explicit or
//     the scheme's default) a forwarding rule whose portRange holds it;
//   - an IP literal host picks the forwarding rule with that IPAddress
//     (https://cloud.google.com/load-balancing/docs/forwarding-rule-concepts);
//   - a DNS name is not resolved (a pure router makes no query): when the
//     candidates share one URL map, that map serves it; otherwise the only
//     map with a host rule naming the host (exactly or by a wildcard other
//     than "*") does. Anything else is ambiguous: the route names the
//     candidates, and the forwarding_rule setting chooses.
//
// Without a map, it returns an ActionNone route saying why.
func (r *router) frontendMap(req request) (*mapRouter, discovery.Route) {
	none := func(rule, detail string) (*mapRouter, discovery.Route) {
		return nil, discovery.Route{Rule: rule, Action: discovery.ActionNone, Detail: detail}
	}
	if req.scheme != "http" && req.scheme != "https" {
		return none("forwarding rules", "scheme "+strconv.Quote(req.scheme)+" is not http or https")
	}
	port, err := strconv.Atoi(req.port)
	if err != nil {
		return none("forwarding rules", "port "+strconv.Quote(req.port)+" is not a number")
	}
	https := req.scheme == "https"
	var cands []frontend
	for _, f := range r.frontends {
		if f.serves(https, port) {
			cands = append(cands, f)
		}
	}
	where := fmt.Sprintf("%s port %d", req.scheme, port)
	if len(cands) == 0 {
		return none("forwarding rules", fmt.Sprintf("no forwarding rule of project %s takes %s (%s)", r.project, where,
			describe(r.frontends)))
	}
	if ip := net.ParseIP(req.host); ip != nil {
		var same []frontend
		for _, f := range cands {
			if fip := net.ParseIP(f.IP); fip != nil && fip.Equal(ip) {
				same = append(same, f)
			}
		}
		if len(same) == 0 {
			return none("forwarding rules", fmt.Sprintf("no forwarding rule of project %s takes %s on %s (%s)", r.project,
				where, req.host, describe(cands)))
		}
		cands = same
	}
	byMap := map[string][]frontend{}
	var keys []string
	for _, f := range cands {
		if byMap[f.Map] == nil {
			keys = append(keys, f.Map)
		}
		byMap[f.Map] = append(byMap[f.Map], f)
	}
	if len(keys) == 1 {
		return r.maps[keys[0]], discovery.Route{}
	}
	var named []string
	for _, k := range keys {
		if hr, pattern := bestHostRule(r.maps[k].m.GetHostRules(), req.host, req.port); hr != nil && pattern != "*" &&
			!strings.HasPrefix(pattern, "*:") {
			named = append(named, k)
		}
	}
	if len(named) == 1 {
		return r.maps[named[0]], discovery.Route{}
	}
	var all []frontend
	for _, k := range keys {
		all = append(all, byMap[k]...)
	}
	return none("forwarding rules", fmt.Sprintf("%s on %s may reach %d URL maps (%s); set forwarding_rule: to the one the name points at",
		req.host, where, len(keys), describe(all)))
}

// describe lists frontends for a message, at most 8.
func describe(fs []frontend) string {
	if len(fs) == 0 {
		return "none found"
	}
	var parts []string
	for i, f := range fs {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("and %d more", len(fs)-i))
			break
		}
		parts = append(parts, f.String())
	}
	return strings.Join(parts, ", ")
}

// defaultURL is the URL of the frontend to audit when the config gives
// none: among the frontends whose URL map routes to service somewhere,
// HTTPS first, then in forwarding rule order, the first whose own address
// (a request to https://IP/, whose Host is the IP) reaches service; else
// the first of them, whose routes then say what its root serves. "" when
// no frontend leads to service.
func (r *router) defaultURL(serviceURL string) string {
	var cands []frontend
	for _, f := range r.frontends {
		if ok, _ := routesTo(r.maps[f.Map].m, serviceURL); ok {
			cands = append(cands, f)
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].HTTPS && !cands[j].HTTPS })
	if len(cands) == 0 {
		return ""
	}
	name := lastSegment(serviceURL)
	for _, f := range cands {
		u, err := url.Parse(f.url())
		if err != nil {
			continue
		}
		for _, rt := range r.Route(discovery.Request{Method: http.MethodGet, URL: u, Header: http.Header{}}) {
			if rt.Forwards(name) {
				return f.url()
			}
		}
	}
	return cands[0].url()
}

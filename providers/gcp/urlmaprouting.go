package gcp

// The URL map evaluator: what an Application Load Balancer does with one
// request once it reached the URL map, modelled from Google's
// documentation as a pure function.
//
//   - URL maps overview (host rules, path matchers, defaults):
//     https://cloud.google.com/load-balancing/docs/url-map-concepts
//   - Path matcher constraints ("/videos/*" and "/videos" are two rules):
//     https://cloud.google.com/load-balancing/docs/url-map-concepts#pm-constraints
//   - Route rules, match rules, weighted backend services, redirects
//     (advanced traffic management):
//     https://cloud.google.com/load-balancing/docs/https/traffic-management-global
//   - Field semantics, quoted below: the urlMaps REST reference,
//     https://cloud.google.com/compute/docs/reference/rest/v1/urlMaps
//
// Where Google's documentation is silent (which of two overlapping host
// patterns wins, what a header match does with a missing header), the
// evaluator follows Envoy, which the global, regional and internal
// Application Load Balancers run
// (https://cloud.google.com/load-balancing/docs/application-load-balancer),
// and says so.

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"cloud.google.com/go/compute/apiv1/computepb"

	"github.com/corsaudit/corsaudit/discovery"
)

// mapRouter evaluates one URL map. Regular expressions (regexMatch in
// route rules, header and query matches, path templates) are compiled once
// when it is built, so route is pure and safe for concurrent use.
type mapRouter struct {
	m    *computepb.UrlMap
	name string
	// rx holds every expression of the map by key ("re:" or "tmpl:" and
	// the source); nil for one that does not compile (it never matches).
	rx map[string]*regexp.Regexp
}

// newMapRouter compiles the map's expressions.
func newMapRouter(m *computepb.UrlMap) *mapRouter {
	r := &mapRouter{m: m, name: m.GetName(), rx: map[string]*regexp.Regexp{}}
	for _, pm := range m.GetPathMatchers() {
		for _, rr := range pm.GetRouteRules() {
			for _, mr := range rr.GetMatchRules() {
				if mr.RegexMatch != nil {
					r.compile("re:", mr.GetRegexMatch())
				}
				if mr.PathTemplateMatch != nil {
					r.compile("tmpl:", mr.GetPathTemplateMatch())
				}
				for _, hm := range mr.GetHeaderMatches() {
					if hm.RegexMatch != nil {
						r.compile("re:", hm.GetRegexMatch())
					}
				}
				for _, qm := range mr.GetQueryParameterMatches() {
					if qm.RegexMatch != nil {
						r.compile("re:", qm.GetRegexMatch())
					}
				}
			}
		}
	}
	return r
}

// compile stores the full-match form of a regular expression (RE2, as the
// API documents: "see Syntax", github.com/google/re2/wiki/Syntax, which Go's
// regexp implements) or of a path template.
func (r *mapRouter) compile(kind, src string) {
	key := kind + src
	if _, ok := r.rx[key]; ok {
		return
	}
	expr := src
	if kind == "tmpl:" {
		var ok bool
		if expr, ok = templateRegexp(src); !ok {
			r.rx[key] = nil
			return
		}
	}
	re, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		re = nil
	}
	r.rx[key] = re
}

// fullMatch reports whether s matches the compiled expression of key in
// full (Envoy's safe_regex matches the whole value).
func (r *mapRouter) fullMatch(kind, src, s string) bool {
	re := r.rx[kind+src]
	return re != nil && re.MatchString(s)
}

// request is what the URL map looks at, taken apart once.
type request struct {
	scheme    string
	authority string // the Host header: host[:port] as in the URL
	host      string // lower case, without port
	port      string // explicit or the scheme's default
	path      string // escaped, without query
	rawQuery  string
	query     url.Values
	method    string
	header    http.Header
}

func newRequest(req discovery.Request) request {
	u := req.URL
	if u == nil {
		u = &url.URL{}
	}
	r := request{scheme: strings.ToLower(u.Scheme), authority: u.Host, host: strings.ToLower(u.Hostname()),
		port: u.Port(), path: u.EscapedPath(), rawQuery: u.RawQuery, query: u.Query(), method: req.Method,
		header: req.Header}
	if r.path == "" {
		r.path = "/"
	}
	if r.port == "" {
		r.port = defaultPort(r.scheme)
	}
	if r.method == "" {
		r.method = http.MethodGet
	}
	return r
}

// defaultPort is the port a browser uses for the scheme.
func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// route evaluates the map for one request: the host rule whose pattern
// matches the host best, its path matcher (path rules by longest match, or
// route rules by priority), the path matcher's default, and the map's
// default when no host rule matches.
func (r *mapRouter) route(req request) discovery.Route {
	prefix := "url map " + r.name + ": "
	hr, pattern := bestHostRule(r.m.GetHostRules(), req.host, req.port)
	if hr == nil {
		// "defaultService: ... to which traffic is directed if none of the
		// hostRules match" (likewise defaultRouteAction, defaultUrlRedirect).
		rt := r.action(prefix+"default (no host rule matches "+req.host+")", r.m.DefaultService,
			r.m.GetDefaultRouteAction(), r.m.GetDefaultUrlRedirect(), "", req)
		return rt
	}
	pmName := hr.GetPathMatcher()
	prefix += "host rule " + pattern + ", path matcher " + pmName + ", "
	var pm *computepb.PathMatcher
	for _, p := range r.m.GetPathMatchers() {
		if p.GetName() == pmName {
			pm = p
			break
		}
	}
	if pm == nil {
		return discovery.Route{Rule: prefix + "missing", Action: discovery.ActionNone,
			Detail: "the host rule names path matcher " + strconv.Quote(pmName) + ", which the URL map does not have"}
	}
	if rules := pm.GetRouteRules(); len(rules) > 0 {
		if rr, prefixMatched, note := r.firstRouteRule(rules, req); rr != nil {
			rt := r.action(prefix+"route rule priority "+strconv.Itoa(int(rr.GetPriority())), rr.Service,
				rr.GetRouteAction(), rr.GetUrlRedirect(), prefixMatched, req)
			rt.Note = joinNotes(note, rt.Note)
			return rt
		}
	} else if pr, p := longestPathRule(pm.GetPathRules(), req.path); pr != nil {
		return r.action(prefix+"path rule "+p, pr.Service, pr.GetRouteAction(), pr.GetUrlRedirect(), "", req)
	}
	// "defaultService: ... used if none of the pathRules or routeRules
	// defined by this PathMatcher are matched."
	return r.action(prefix+"default", pm.DefaultService, pm.GetDefaultRouteAction(), pm.GetDefaultUrlRedirect(), "", req)
}

// bestHostRule is the host rule with the pattern that matches host best,
// and that pattern. The API reference: hosts are "valid hostnames with
// optional port numbers in the format host:port. * matches any string of
// ([a-z0-9-.]*). In that case, * must be the first character, and if
// followed by anything, the immediate following character must be either -
// or .". A host may appear in one host rule only; among overlapping
// patterns Envoy's virtual host order decides
// (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-virtualhost):
// an exact name, then the longest wildcard suffix, then "*". Ties go to
// the first in the map.
func bestHostRule(rules []*computepb.HostRule, host, port string) (*computepb.HostRule, string) {
	var best *computepb.HostRule
	bestScore, bestPattern := -1, ""
	for _, hr := range rules {
		for _, h := range hr.GetHosts() {
			if s := hostScore(h, host, port); s > bestScore {
				best, bestScore, bestPattern = hr, s, h
			}
		}
	}
	return best, bestPattern
}

// hostScore ranks how a host rule pattern matches a request's host and
// port: -1 when it does not, higher for a more specific pattern. A pattern
// with a port matches that port only; one without matches any port (the
// documentation does not say; browsers send the port in Host only when it
// is not the scheme's default).
func hostScore(pattern, host, port string) int {
	p := strings.ToLower(pattern)
	pPort := ""
	if i := strings.LastIndexByte(p, ':'); i >= 0 {
		p, pPort = p[:i], p[i+1:]
		if pPort != port {
			return -1
		}
	}
	portBonus := 0
	if pPort != "" {
		portBonus = 1
	}
	switch {
	case p == "*":
		return portBonus
	case strings.HasPrefix(p, "*"):
		suffix := p[1:]
		if !strings.HasSuffix(host, suffix) || !hostChars(host[:len(host)-len(suffix)]) {
			return -1
		}
		return 2*(len(suffix)+1) + portBonus
	case p == host:
		return 1<<20 + portBonus
	}
	return -1
}

// hostChars reports whether s is made of [a-z0-9-.], what "*" matches.
func hostChars(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// longestPathRule is the path rule whose pattern matches path with the
// longest match, and that pattern. The API reference: "The order by which
// path rules are specified does not matter. Matches are always done on the
// longest-path-first basis. For example: a pathRule with a path /a/b/c/*
// will match before /a/b/* irrespective of the order in which those paths
// appear in this list", and each path "must start with / and the only
// place a * is allowed is at the end following a /". "/videos/*" matches
// "/videos/" and everything under it but not "/videos" (the overview's
// path matcher constraints). At equal length an exact path wins over a
// wildcard one.
func longestPathRule(rules []*computepb.PathRule, path string) (*computepb.PathRule, string) {
	var best *computepb.PathRule
	bestRank, bestPattern := -1, ""
	for _, pr := range rules {
		for _, p := range pr.GetPaths() {
			if rank := pathRank(p, path); rank > bestRank {
				best, bestRank, bestPattern = pr, rank, p
			}
		}
	}
	return best, bestPattern
}

// pathRank is -1 when pattern does not match path, else the length of its
// literal part, doubled, plus one for an exact path.
func pathRank(pattern, path string) int {
	if lit, ok := strings.CutSuffix(pattern, "/*"); ok {
		lit += "/"
		if strings.HasPrefix(path, lit) {
			return 2 * len(lit)
		}
		return -1
	}
	if pattern == path {
		return 2*len(pattern) + 1
	}
	return -1
}

// firstRouteRule is the first route rule, in priority order, with a match
// rule that matches the request. The API reference: "RouteRules are
// evaluated in order of priority, from the lowest to highest number ...
// The first rule that matches the request is applied", and matchRules "has
// OR semantics: the request matches this routeRule when any of the
// matchRules are satisfied. However predicates within a given matchRule
// have AND semantics." It also returns the prefixMatch that matched (for
// a prefixRedirect) and a note on what could not be evaluated.
func (r *mapRouter) firstRouteRule(rules []*computepb.HttpRouteRule, req request) (*computepb.HttpRouteRule, string, string) {
	order := make([]*computepb.HttpRouteRule, len(rules))
	copy(order, rules)
	sort.SliceStable(order, func(i, j int) bool { return order[i].GetPriority() < order[j].GetPriority() })
	for _, rr := range order {
		if len(rr.GetMatchRules()) == 0 {
			// Nothing to satisfy: the documentation does not say; a rule
			// without criteria constrains nothing.
			return rr, "", ""
		}
		for _, mr := range rr.GetMatchRules() {
			if ok, note := r.matches(mr, req); ok {
				return rr, mr.GetPrefixMatch(), note
			}
		}
	}
	return nil, "", ""
}

// matches evaluates one match rule: its path predicate (exactly one of
// prefixMatch, fullPathMatch, regexMatch, pathTemplateMatch; ignoreCase
// applies to the first two), every header match and every query parameter
// match. The path is matched "after removing any query parameters and
// anchor". Metadata filters concern Cloud Service Mesh clients only and are
// not evaluated (the note says so).
func (r *mapRouter) matches(mr *computepb.HttpRouteRuleMatch, req request) (bool, string) {
	path := req.path
	fold := mr.GetIgnoreCase()
	switch {
	case mr.PrefixMatch != nil:
		p := mr.GetPrefixMatch()
		if fold {
			path, p = strings.ToLower(path), strings.ToLower(p)
		}
		if !strings.HasPrefix(path, p) {
			return false, ""
		}
	case mr.FullPathMatch != nil:
		p := mr.GetFullPathMatch()
		if path != p && !(fold && strings.EqualFold(path, p)) {
			return false, ""
		}
	case mr.RegexMatch != nil:
		if !r.fullMatch("re:", mr.GetRegexMatch(), path) {
			return false, ""
		}
	case mr.PathTemplateMatch != nil:
		if !r.fullMatch("tmpl:", mr.GetPathTemplateMatch(), path) {
			return false, ""
		}
	}
	for _, hm := range mr.GetHeaderMatches() {
		if !r.headerMatches(hm, req) {
			return false, ""
		}
	}
	for _, qm := range mr.GetQueryParameterMatches() {
		if !r.queryMatches(qm, req) {
			return false, ""
		}
	}
	if len(mr.GetMetadataFilters()) > 0 {
		return true, "metadata filters (Cloud Service Mesh clients) not evaluated"
	}
	return true, ""
}

// headerValue is the request's value of a header match's headerName: the
// pseudo-headers the API names (":authority" for the host, ":method"),
// ":path" and ":scheme", or the request header, repeated values joined by
// commas (as Envoy does).
func (req request) headerValue(name string) (string, bool) {
	switch strings.ToLower(name) {
	case ":authority", "host":
		return req.authority, true
	case ":method":
		return req.method, true
	case ":scheme":
		return req.scheme, true
	case ":path":
		if req.rawQuery != "" {
			return req.path + "?" + req.rawQuery, true
		}
		return req.path, true
	}
	vs := req.header.Values(name)
	if len(vs) == 0 {
		return "", false
	}
	return strings.Join(vs, ","), true
}

// headerMatches evaluates one header match: exactMatch, prefixMatch,
// suffixMatch, regexMatch, presentMatch or rangeMatch (an integer in
// [rangeStart, rangeEnd): "For example for a range [-5, 0] -3 will match,
// 0 will not match"), inverted by invertMatch. A header the request does
// not carry satisfies only an (inverted) presence test, as in Envoy.
func (r *mapRouter) headerMatches(hm *computepb.HttpHeaderMatch, req request) bool {
	v, present := req.headerValue(hm.GetHeaderName())
	invert := hm.GetInvertMatch()
	if hm.PresentMatch != nil {
		return (present == hm.GetPresentMatch()) != invert
	}
	if !present {
		return false
	}
	ok := true
	switch {
	case hm.ExactMatch != nil:
		ok = v == hm.GetExactMatch()
	case hm.PrefixMatch != nil:
		ok = strings.HasPrefix(v, hm.GetPrefixMatch())
	case hm.SuffixMatch != nil:
		ok = strings.HasSuffix(v, hm.GetSuffixMatch())
	case hm.RegexMatch != nil:
		ok = r.fullMatch("re:", hm.GetRegexMatch(), v)
	case hm.RangeMatch != nil:
		n, err := strconv.ParseInt(v, 10, 64)
		ok = err == nil && n >= hm.GetRangeMatch().GetRangeStart() && n < hm.GetRangeMatch().GetRangeEnd()
	}
	return ok != invert
}

// queryMatches evaluates one query parameter match: "The query parameter
// must exist in the request, in the absence of which the request match
// fails", then exactMatch, regexMatch or presentMatch on its first value.
func (r *mapRouter) queryMatches(qm *computepb.HttpQueryParameterMatch, req request) bool {
	vs, ok := req.query[qm.GetName()]
	if !ok {
		return false
	}
	v := ""
	if len(vs) > 0 {
		v = vs[0]
	}
	switch {
	case qm.ExactMatch != nil:
		return v == qm.GetExactMatch()
	case qm.RegexMatch != nil:
		return r.fullMatch("re:", qm.GetRegexMatch(), v)
	}
	return true
}

// templateRegexp turns a pathTemplateMatch into a regular expression. The
// API reference: "Variables are enclosed in curly braces, for example
// {variable_name}. Wildcards include * that matches a single path segment,
// and ** that matches zero or more path segments." A variable may name its
// wildcard ({name=*}, {name=**}); a bare {name} is one segment.
func templateRegexp(tmpl string) (string, bool) {
	if !strings.HasPrefix(tmpl, "/") {
		return "", false
	}
	var b strings.Builder
	for _, seg := range strings.Split(tmpl[1:], "/") {
		op := seg
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			_, op, _ = strings.Cut(seg[1:len(seg)-1], "=")
			if op == "" {
				op = "*"
			}
		}
		switch {
		case op == "**":
			b.WriteString(`(?:/[^/]*)*`)
		case op == "*":
			b.WriteString(`/[^/]+`)
		case strings.ContainsAny(seg, "{}*"):
			return "", false // an operator inside a segment: not supported here
		default:
			b.WriteString("/" + regexp.QuoteMeta(seg))
		}
	}
	return b.String(), true
}

// action turns what a rule or default says into a Route. The API
// reference: "Only one of urlRedirect, service or
// routeAction.weightedBackendService can be set." A service may be a
// backend service or a backend bucket. prefixMatched is the route rule's
// prefixMatch, which a prefixRedirect replaces.
func (r *mapRouter) action(rule string, service *string, ra *computepb.HttpRouteAction, redirect *computepb.HttpRedirectAction,
	prefixMatched string, req request) discovery.Route {
	rt := discovery.Route{Rule: rule}
	if cp := ra.GetCorsPolicy(); cp != nil && !cp.GetDisabled() {
		rt.Note = "the route has a CORS policy: the load balancer adds CORS headers and answers preflights from the origins it allows itself"
	}
	switch wbs := ra.GetWeightedBackendServices(); {
	case redirect != nil:
		rt.Action = discovery.ActionRedirect
		rt.Detail = redirectDetail(redirect, prefixMatched, req)
	case len(wbs) > 0:
		rt.Action = discovery.ActionForward
		var idle []string
		for _, w := range wbs {
			name := lastSegment(w.GetBackendService())
			rt.Pools = append(rt.Pools, discovery.Pool{Name: name, Weight: int(w.GetWeight())})
			if w.GetWeight() == 0 {
				idle = append(idle, name)
			}
		}
		if len(idle) > 0 {
			rt.Note = joinNotes(rt.Note, "weight 0: "+strings.Join(idle, ", ")+" get no traffic")
		}
	case service != nil && *service != "":
		if ref, ok := parseRef(*service); ok && ref.Collection == "backendBuckets" {
			rt.Action = discovery.ActionBucket
			rt.Detail = "backend bucket " + ref.Name
			break
		}
		rt.Action = discovery.ActionForward
		rt.Pools = []discovery.Pool{{Name: lastSegment(*service)}}
	default:
		rt.Action = discovery.ActionNone
		rt.Detail = "no service, weighted backend services or redirect"
	}
	return rt
}

// redirectCodes maps redirectResponseCode to the status the load balancer
// answers with ("MOVED_PERMANENTLY_DEFAULT, which is the default value and
// corresponds to 301").
var redirectCodes = map[string]int{"": 301, "MOVED_PERMANENTLY_DEFAULT": 301, "FOUND": 302, "SEE_OTHER": 303,
	"TEMPORARY_REDIRECT": 307, "PERMANENT_REDIRECT": 308}

// redirectDetail is "301 to https://host/path": the status and where the
// redirect points. "If neither [pathRedirect nor prefixRedirect] is
// supplied, the path of the original request is used"; httpsRedirect sets
// the scheme to https; stripQuery drops the query.
func redirectDetail(a *computepb.HttpRedirectAction, prefixMatched string, req request) string {
	code, ok := redirectCodes[a.GetRedirectResponseCode()]
	if !ok {
		return "redirect " + a.GetRedirectResponseCode()
	}
	scheme, host, path := req.scheme, req.authority, req.path
	if a.GetHttpsRedirect() {
		scheme = "https"
	}
	if a.GetHostRedirect() != "" {
		host = a.GetHostRedirect()
	}
	switch {
	case a.GetPathRedirect() != "":
		path = a.GetPathRedirect()
	case a.GetPrefixRedirect() != "" && prefixMatched != "" && strings.HasPrefix(path, prefixMatched):
		path = a.GetPrefixRedirect() + path[len(prefixMatched):]
	}
	loc := scheme + "://" + host + path
	if req.rawQuery != "" && !a.GetStripQuery() {
		loc += "?" + req.rawQuery
	}
	return fmt.Sprintf("%d to %s", code, loc)
}

// joinNotes joins non-empty notes with "; ".
func joinNotes(notes ...string) string {
	var out []string
	for _, n := range notes {
		if n != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}

package kubernetes

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/corsaudit/corsaudit/discovery"
)

// HTTPRoute routing, as the Gateway API specifies it
// (gateway.networking.k8s.io/v1, apis/v1/httproute_types.go in
// kubernetes-sigs/gateway-api; https://gateway-api.sigs.k8s.io/reference/spec/#httproute):
//
//   - hostnames: exact, or "*.example.com", a suffix match of one or more
//     labels ("test.example.com" and "foo.test.example.com", not
//     "example.com"); none: every host the listener accepts.
//   - A rule matches when any of its matches does; a match ANDs its path
//     (default PathPrefix "/"), method, headers (names case-insensitive,
//     the first entry of a name counts) and query parameters.
//   - PathPrefix is element-wise, like the Ingress Prefix: "/abc" matches
//     "/abc", "/abc/" and "/abc/def", not "/abcd"; Exact is exact and
//     case-sensitive.
//   - Precedence across matching rules: an "Exact" path match, then the
//     "Prefix" path match with the largest number of characters, then a
//     method match, then the largest number of header matches, then of query
//     param matches; still tied, the first matching rule in list order
//     (HTTPRouteRule.Matches). The precedence of RegularExpression path
//     matches is implementation-specific: ranked here after Exact and before
//     PathPrefix, by pattern length, as Envoy Gateway does, and matched with
//     Go's RE2 against the whole path; the route's note says so.
//   - backendRefs: weights (default 1) split the traffic; weight 0 gets
//     none; a rule whose every backend gets nothing answers 500.
//   - A RequestRedirect filter answers with a redirect (default 302) built
//     from its scheme, hostname, port and path modifier; a CORS filter makes
//     the gateway answer preflights itself (noted: the route stays a
//     forward, its answer carries CORS headers). Other filters are noted.
//   - No rule matches: 404.
//
// The route is decoded from the dynamic client's object into the few
// fields read here, not the gateway-api module's types.

// httpRouteObject is the part of an HTTPRoute read here.
type httpRouteObject struct {
	Spec struct {
		Hostnames []string        `json:"hostnames"`
		Rules     []httpRouteRule `json:"rules"`
	} `json:"spec"`
}

type httpRouteRule struct {
	Name        *string           `json:"name"`
	Matches     []httpRouteMatch  `json:"matches"`
	Filters     []httpRouteFilter `json:"filters"`
	BackendRefs []httpBackendRef  `json:"backendRefs"`
}

type httpRouteMatch struct {
	Path *struct {
		Type  *string `json:"type"`
		Value *string `json:"value"`
	} `json:"path"`
	Headers     []httpValueMatch `json:"headers"`
	QueryParams []httpValueMatch `json:"queryParams"`
	Method      *string          `json:"method"`
}

type httpValueMatch struct {
	Type  *string `json:"type"`
	Name  string  `json:"name"`
	Value string  `json:"value"`
}

type httpRouteFilter struct {
	Type            string `json:"type"`
	RequestRedirect *struct {
		Scheme     *string           `json:"scheme"`
		Hostname   *string           `json:"hostname"`
		Path       *httpPathModifier `json:"path"`
		Port       *int              `json:"port"`
		StatusCode *int              `json:"statusCode"`
	} `json:"requestRedirect"`
	URLRewrite *struct {
		Hostname *string           `json:"hostname"`
		Path     *httpPathModifier `json:"path"`
	} `json:"urlRewrite"`
	ResponseHeaderModifier *struct {
		Set    []struct{ Name string } `json:"set"`
		Add    []struct{ Name string } `json:"add"`
		Remove []string                `json:"remove"`
	} `json:"responseHeaderModifier"`
	CORS *struct {
		AllowOrigins []string `json:"allowOrigins"`
	} `json:"cors"`
	ExtensionRef *struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	} `json:"extensionRef"`
}

type httpPathModifier struct {
	Type               string  `json:"type"`
	ReplaceFullPath    *string `json:"replaceFullPath"`
	ReplacePrefixMatch *string `json:"replacePrefixMatch"`
}

type httpBackendRef struct {
	Group     *string           `json:"group"`
	Kind      *string           `json:"kind"`
	Name      string            `json:"name"`
	Namespace *string           `json:"namespace"`
	Port      *int32            `json:"port"`
	Weight    *int32            `json:"weight"`
	Filters   []httpRouteFilter `json:"filters"`
}

// Path match types, by precedence (higher first).
const (
	pathPrefix = iota + 1
	pathRegex
	pathExact
)

// hrMatch is one compiled match of a rule.
type hrMatch struct {
	pathType  int
	path      string
	pathRE    *regexp.Regexp // nil for a regex that is not RE2: never matches
	method    string
	headers   []hrValue
	query     []hrValue
	describe  string
	regexNote bool
}

type hrValue struct {
	name, value string
	re          *regexp.Regexp // RegularExpression; nil with regex set: never matches
	regex       bool
}

// hrBackend is one backendRef of a rule.
type hrBackend struct {
	ref    backendRef
	weight int
	// other names a backend that is not a Service ("ServiceImport x").
	other string
}

type hrRule struct {
	index    int // 1-based
	name     string
	matches  []hrMatch
	backends []hrBackend
	// redirect is the RequestRedirect filter, nil when none.
	redirect *httpRouteFilter
	// corsOrigins is set when a CORS filter answers preflights.
	cors        bool
	corsOrigins []string
	notes       []string
}

// httpRouteRoutes is an HTTPRoute read for routing.
type httpRouteRoutes struct {
	name      string
	hostnames []string
	rules     []hrRule
	// notes apply to every route (regular expressions not in RE2).
	notes []string
}

// parseHTTPRoute decodes an HTTPRoute object (as the dynamic client gives
// it) and compiles its rules, the API's defaults applied.
func parseHTTPRoute(obj map[string]any, name, ns string) (*httpRouteRoutes, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: httproute %s: %w", name, err)
	}
	var o httpRouteObject
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("kubernetes: httproute %s: not an HTTPRoute: %w", name, err)
	}
	r := &httpRouteRoutes{name: name}
	for _, h := range o.Spec.Hostnames {
		r.hostnames = append(r.hostnames, strings.ToLower(h))
	}
	rules := o.Spec.Rules
	if len(rules) == 0 {
		rules = []httpRouteRule{{}}
	}
	for i, rule := range rules {
		hr := hrRule{index: i + 1}
		if rule.Name != nil {
			hr.name = *rule.Name
		}
		matches := rule.Matches
		if len(matches) == 0 {
			matches = []httpRouteMatch{{}}
		}
		for j, m := range matches {
			cm, bad := compileMatch(m)
			if bad != "" {
				r.notes = append(r.notes, fmt.Sprintf("rule %d match %d: %s is not an RE2 regular expression, never matched here", i+1, j+1, bad))
			}
			hr.matches = append(hr.matches, cm)
		}
		for _, f := range rule.Filters {
			switch f.Type {
			case "RequestRedirect":
				if f.RequestRedirect != nil {
					hr.redirect = &f
				}
			case "CORS":
				hr.cors = true
				if f.CORS != nil {
					hr.corsOrigins = f.CORS.AllowOrigins
				}
			}
			if n := filterNote(f); n != "" {
				hr.notes = append(hr.notes, n)
			}
		}
		for _, br := range rule.BackendRefs {
			w := 1
			if br.Weight != nil {
				w = int(*br.Weight)
			}
			b := hrBackend{weight: w}
			group, kind := "", "Service"
			if br.Group != nil {
				group = *br.Group
			}
			if br.Kind != nil {
				kind = *br.Kind
			}
			bns := ns
			if br.Namespace != nil && *br.Namespace != "" {
				bns = *br.Namespace
			}
			switch {
			case group != "" || kind != "Service":
				b.other = kind + " " + br.Name
			case br.Port == nil:
				b.other = "Service " + br.Name + " without port"
			default:
				b.ref = backendRef{Namespace: bns, Name: br.Name, Port: strconv.Itoa(int(*br.Port))}
				if bns != ns {
					hr.notes = append(hr.notes, "backend "+bns+"/"+br.Name+" is in another namespace: the gateway needs a ReferenceGrant there (not checked)")
				}
			}
			if len(br.Filters) > 0 {
				hr.notes = append(hr.notes, "filters on backendRef "+br.Name+" are not modelled")
			}
			hr.backends = append(hr.backends, b)
		}
		r.rules = append(r.rules, hr)
	}
	return r, nil
}

// compileMatch applies a match's defaults and compiles its regular
// expressions; bad is a pattern Go cannot compile.
func compileMatch(m httpRouteMatch) (cm hrMatch, bad string) {
	cm.pathType, cm.path = pathPrefix, "/"
	typ := "PathPrefix"
	if m.Path != nil {
		if m.Path.Type != nil {
			typ = *m.Path.Type
		}
		if m.Path.Value != nil {
			cm.path = *m.Path.Value
		}
	}
	switch typ {
	case "Exact":
		cm.pathType = pathExact
	case "RegularExpression":
		cm.pathType, cm.regexNote = pathRegex, true
		re, err := regexp.Compile(`^(?:` + cm.path + `)$`)
		if err != nil {
			bad = strconv.Quote(cm.path)
		}
		cm.pathRE = re
	}
	parts := []string{"match " + typ + " " + cm.path}
	if m.Method != nil {
		cm.method = *m.Method
		parts = append(parts, "method "+cm.method)
	}
	compile := func(vs []httpValueMatch, canon func(string) string, what string) []hrValue {
		var out []hrValue
		seen := map[string]bool{}
		for _, v := range vs {
			n := canon(v.Name)
			if seen[n] {
				continue // only the first entry of a name counts
			}
			seen[n] = true
			hv := hrValue{name: n, value: v.Value}
			desc := what + " " + v.Name + ": " + v.Value
			if v.Type != nil && *v.Type == "RegularExpression" {
				hv.regex = true
				re, err := regexp.Compile(`^(?:` + v.Value + `)$`)
				if err != nil && bad == "" {
					bad = strconv.Quote(v.Value)
				}
				hv.re = re
				desc = what + " " + v.Name + " ~ " + v.Value
			}
			parts = append(parts, desc)
			out = append(out, hv)
		}
		return out
	}
	cm.headers = compile(m.Headers, http.CanonicalHeaderKey, "header")
	cm.query = compile(m.QueryParams, func(s string) string { return s }, "query")
	cm.describe = strings.Join(parts, ", ")
	return cm, bad
}

// filterNote says what a filter does that the route does not model.
func filterNote(f httpRouteFilter) string {
	switch f.Type {
	case "URLRewrite":
		if f.URLRewrite != nil && f.URLRewrite.Path != nil {
			return "URLRewrite: the pods receive a rewritten path (" + f.URLRewrite.Path.Type + "); direct requests send the public path"
		}
		return "URLRewrite: the pods receive a rewritten Host"
	case "ResponseHeaderModifier":
		m := f.ResponseHeaderModifier
		if m == nil {
			return ""
		}
		var names []string
		for _, h := range m.Set {
			names = append(names, h.Name)
		}
		for _, h := range m.Add {
			names = append(names, h.Name)
		}
		names = append(names, m.Remove...)
		var cors []string
		for _, n := range names {
			if l := strings.ToLower(n); strings.HasPrefix(l, "access-control-") || l == "vary" {
				cors = append(cors, n)
			}
		}
		if len(cors) > 0 {
			return "ResponseHeaderModifier changes " + strings.Join(cors, ", ") + ": the gateway rewrites the answers' CORS headers"
		}
	case "CORS":
		return "CORS filter: the gateway answers preflights and sets the CORS headers of answers"
	case "ExternalAuth":
		return "ExternalAuth: an external service authorizes each request first (preflights carry no credentials)"
	case "ExtensionRef":
		if f.ExtensionRef != nil {
			return "ExtensionRef filter " + f.ExtensionRef.Kind + " " + f.ExtensionRef.Name + ": implementation-specific, not modelled"
		}
	}
	return ""
}

func (r *httpRouteRoutes) backends() []backendRef {
	var out []backendRef
	for _, rule := range r.rules {
		for _, b := range rule.backends {
			if b.other == "" {
				out = append(out, b.ref)
			}
		}
	}
	return out
}

// weightOf is the pool's weight in the first rule that splits traffic
// between several backends and names it.
func (r *httpRouteRoutes) weightOf(poolOf map[backendRef]string, pool string) int {
	for _, rule := range r.rules {
		if len(rule.backends) < 2 {
			continue
		}
		for _, b := range rule.backends {
			if b.other == "" && poolOf[b.ref] == pool {
				return b.weight
			}
		}
	}
	return 0
}

// backendScheme: the Service port says (a BackendTLSPolicy is not read).
func (r *httpRouteRoutes) backendScheme() string { return "" }

func (r *httpRouteRoutes) router(poolOf map[backendRef]string) discovery.Router {
	return &httpRouteRouter{r: r, poolOf: poolOf}
}

// httpRouteRouter answers where an HTTPRoute sends a request.
type httpRouteRouter struct {
	r      *httpRouteRoutes
	poolOf map[backendRef]string
}

// hostMatches: exact, or "*.suffix" with at least one label before it.
func (r *httpRouteRoutes) hostMatches(host string) bool {
	if len(r.hostnames) == 0 {
		return true
	}
	for _, h := range r.hostnames {
		if h == host {
			return true
		}
		if suffix, ok := strings.CutPrefix(h, "*"); ok && strings.HasSuffix(host, suffix) && len(host) > len(suffix) {
			return true
		}
	}
	return false
}

// matches reports whether the request satisfies every condition of m.
func (m hrMatch) matches(req discovery.Request, path string) bool {
	switch m.pathType {
	case pathExact:
		if path != m.path {
			return false
		}
	case pathRegex:
		if m.pathRE == nil || !m.pathRE.MatchString(path) {
			return false
		}
	default:
		if !ingressPrefixMatch(m.path, path) {
			return false
		}
	}
	if m.method != "" && req.Method != m.method {
		return false
	}
	for _, h := range m.headers {
		vs := req.Header.Values(h.name)
		if len(vs) == 0 || !h.match(strings.Join(vs, ",")) {
			return false
		}
	}
	q := req.URL.Query()
	for _, p := range m.query {
		vs, ok := q[p.name]
		if !ok || len(vs) == 0 || !p.match(vs[0]) {
			return false
		}
	}
	return true
}

func (v hrValue) match(s string) bool {
	if v.regex {
		return v.re != nil && v.re.MatchString(s)
	}
	return s == v.value
}

// precedence orders matching matches, higher first, as the spec lists
// the criteria (the rule index breaks the last tie).
func (m hrMatch) precedence() [5]int {
	method := 0
	if m.method != "" {
		method = 1
	}
	return [5]int{m.pathType, len(m.path), method, len(m.headers), len(m.query)}
}

// Route implements discovery.Router.
func (hr *httpRouteRouter) Route(req discovery.Request) []discovery.Route {
	r := hr.r
	host := strings.ToLower(req.URL.Hostname())
	notes := append([]string(nil), r.notes...)
	route := func(x discovery.Route) []discovery.Route {
		x.Note = strings.Join(notes, "; ")
		return []discovery.Route{x}
	}
	if !r.hostMatches(host) {
		return route(discovery.Route{Rule: "httproute " + r.name + ": hostnames " + strings.Join(r.hostnames, ", "), Action: discovery.ActionNone,
			Detail: "404 from the gateway: the route's hostnames do not include " + host + " (another route on the listener may serve it)"})
	}
	path := req.URL.Path
	if path == "" {
		path = "/"
	}
	var best *hrRule
	var bestMatch hrMatch
	var bestKey [5]int
	for i := range r.rules {
		for _, m := range r.rules[i].matches {
			if !m.matches(req, path) {
				continue
			}
			// Strictly better only: the first rule wins ties.
			if k := m.precedence(); best == nil || greater(k, bestKey) {
				best, bestMatch, bestKey = &r.rules[i], m, k
			}
		}
	}
	if best == nil {
		return route(discovery.Route{Rule: "httproute " + r.name + ": no rule matches", Action: discovery.ActionNone,
			Detail: "404 from the gateway (another route on the listener may serve it)"})
	}
	rule := fmt.Sprintf("httproute %s: rule %d", r.name, best.index)
	if best.name != "" {
		rule += " (" + best.name + ")"
	}
	rule += ", " + bestMatch.describe
	notes = append(notes, best.notes...)
	if bestMatch.regexNote {
		notes = append(notes, "RegularExpression path: precedence and dialect are implementation-specific (ranked after Exact, before PathPrefix, RE2 on the whole path)")
	}
	if best.redirect != nil {
		code, loc := redirectTo(best.redirect, req, bestMatch)
		return route(discovery.Route{Rule: rule, Action: discovery.ActionRedirect, Detail: strconv.Itoa(code) + " to " + loc})
	}
	if best.cors && req.Method == http.MethodOptions && req.Header.Get("Origin") != "" && req.Header.Get("Access-Control-Request-Method") != "" {
		// Answered with CORS headers of the gateway's: a forward with a
		// note (as for ingress-nginx's enable-cors), sampled through the
		// load balancer, not a fixed response without CORS headers.
		notes = append(notes, "the gateway answers this preflight itself (CORS filter, allowOrigins: "+strings.Join(best.corsOrigins, ", ")+
			"): through the load balancer browsers get its answer, not the pods'")
	}
	var pools []discovery.Pool
	var others []string
	for _, b := range best.backends {
		if b.other != "" {
			others = append(others, b.other)
			continue
		}
		if b.weight <= 0 {
			continue
		}
		name := hr.poolOf[b.ref]
		merged := false
		for k := range pools {
			if pools[k].Name == name {
				pools[k].Weight += b.weight
				merged = true
			}
		}
		if !merged {
			pools = append(pools, discovery.Pool{Name: name, Weight: b.weight})
		}
	}
	if len(others) > 0 {
		notes = append(notes, "backends not discovered (not Services): "+strings.Join(others, ", "))
	}
	switch {
	case len(pools) == 0 && len(others) > 0:
		return route(discovery.Route{Rule: rule, Action: discovery.ActionNone, Detail: "backends " + strings.Join(others, ", ") + ": not Services, no pod discovered"})
	case len(pools) == 0 && len(best.backends) == 0:
		return route(discovery.Route{Rule: rule, Action: discovery.ActionFixedResponse, Detail: "500 from the gateway: the rule has no backendRefs"})
	case len(pools) == 0:
		return route(discovery.Route{Rule: rule, Action: discovery.ActionFixedResponse, Detail: "500 from the gateway: every backendRef has weight 0"})
	case len(best.backends) == 1:
		pools[0].Weight = 0 // one backend: not a split
	}
	return route(discovery.Route{Rule: rule, Action: discovery.ActionForward, Pools: pools})
}

func greater(a, b [5]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return false
}

// redirectTo is the status and Location of a RequestRedirect filter
// (HTTPRequestRedirectFilter): the request's scheme, host and path unless
// the filter replaces them; without a port, the scheme's well-known port
// when the filter sets the scheme, else the listener's (the request's);
// the port left out when it is the scheme's default.
func redirectTo(f *httpRouteFilter, req discovery.Request, m hrMatch) (int, string) {
	rr := f.RequestRedirect
	code := http.StatusFound
	if rr.StatusCode != nil {
		code = *rr.StatusCode
	}
	loc := url.URL{Scheme: req.URL.Scheme, Path: req.URL.Path, RawQuery: req.URL.RawQuery}
	if loc.Path == "" {
		loc.Path = "/"
	}
	host := req.URL.Hostname()
	if rr.Hostname != nil {
		host = *rr.Hostname
	}
	port := req.URL.Port()
	if rr.Scheme != nil {
		loc.Scheme, port = *rr.Scheme, ""
	}
	if rr.Port != nil {
		port = strconv.Itoa(*rr.Port)
	}
	if (loc.Scheme == "http" && port == "80") || (loc.Scheme == "https" && port == "443") {
		port = ""
	}
	loc.Host = host
	if strings.Contains(host, ":") {
		loc.Host = "[" + host + "]"
	}
	if port != "" {
		loc.Host += ":" + port
	}
	if p := rr.Path; p != nil {
		switch {
		case p.Type == "ReplaceFullPath" && p.ReplaceFullPath != nil:
			loc.Path = *p.ReplaceFullPath
		case p.Type == "ReplacePrefixMatch" && p.ReplacePrefixMatch != nil && m.pathType == pathPrefix:
			rest := strings.TrimPrefix(loc.Path, strings.TrimSuffix(m.path, "/"))
			loc.Path = strings.TrimSuffix(*p.ReplacePrefixMatch, "/") + rest
			if loc.Path == "" {
				loc.Path = "/"
			}
		}
	}
	return code, loc.String()
}

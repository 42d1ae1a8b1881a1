package aws

// How an Application Load Balancer routes one request: which listener it
// reaches, which rule matches, what that rule's actions do. The router is
// built once from the listeners and rules Discover reads and then answers
// every request without I/O, so the audit can send each probe step only to
// the target group that really serves it.
//
// Sources (Elastic Load Balancing, User Guide for Application Load
// Balancers, and the API reference), quoted where the code follows them:
//
//   - Listener rules, priority order, the default rule:
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-rules.html
//   - Condition types (host-header, path-pattern, http-header,
//     http-request-method, query-string, source-ip) and their wildcards:
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html
//   - RuleCondition and its *Config forms:
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RuleCondition.html
//   - Action types (forward, weighted forward, redirect, fixed-response):
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-action-types.html
//   - Authentication (authenticate-oidc, authenticate-cognito,
//     OnUnauthenticatedRequest):
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-authenticate-users.html
//   - JWT verification (jwt-validation):
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-verify-jwt.html

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/corsaudit/corsaudit/discovery"
)

// elbRouter is the routing of one load balancer: its listeners, each with
// its rules in evaluation order. It is immutable once built and safe for
// concurrent use.
type elbRouter struct {
	lb        string
	listeners []routedListener
	// fixed: listener_port chose the one listener read, and it serves every
	// URL whatever its scheme and port (a CDN or proxy in front may map the
	// public port onto it).
	fixed bool
}

// routedListener is one listener and its rules, the default rule last.
type routedListener struct {
	name     string // "HTTPS:443"
	protocol elbtypes.ProtocolEnum
	port     int
	rules    []routedRule
}

// routedRule is one rule: its conditions (all must match) and what its
// actions do.
type routedRule struct {
	name  string
	conds []condition
	act   ruleActions
}

// newRouter builds the routing of load balancer lb. rules holds what
// DescribeRules returned for each HTTP(S) listener, by listener ARN (other
// listeners route by their default actions); names maps target group ARNs
// to names (a Route's pools). fixed is set when listener_port chose the one
// listener.
func newRouter(lb string, listeners []elbtypes.Listener, rules map[string][]elbtypes.Rule, names map[string]string, fixed bool) *elbRouter {
	r := &elbRouter{lb: lb, fixed: fixed}
	for _, l := range listeners {
		rl := routedListener{protocol: l.Protocol, port: int(deref32(l.Port))}
		rl.name = fmt.Sprintf("%s:%d", l.Protocol, rl.port)
		sorted := slices.Clone(rules[deref(l.ListenerArn)])
		sortRules(sorted)
		hasDefault := false
		for _, rule := range sorted {
			isDefault := isDefaultRule(rule)
			hasDefault = hasDefault || isDefault
			rr := routedRule{name: ruleName(rl.name, rule, isDefault), act: newRuleActions(rule.Actions, names)}
			for _, c := range rule.Conditions {
				rr.conds = append(rr.conds, newCondition(c))
			}
			if len(rule.Transforms) > 0 {
				rr.act.note = joinNotes(rr.act.note, transformNote(rule.Transforms))
			}
			rl.rules = append(rl.rules, rr)
		}
		if !hasDefault {
			// DescribeRules lists the default rule of an HTTP(S) listener;
			// other listeners have only their default actions.
			rl.rules = append(rl.rules, routedRule{name: rl.name + " default action", act: newRuleActions(l.DefaultActions, names)})
		}
		r.listeners = append(r.listeners, rl)
	}
	return r
}

// isDefaultRule reports whether rule is the listener's default rule.
func isDefaultRule(rule elbtypes.Rule) bool {
	return (rule.IsDefault != nil && *rule.IsDefault) || deref(rule.Priority) == "default"
}

// ruleName names a rule as the console and the CLI show it: the listener,
// the priority and the last part of the rule's ARN, or the listener's
// default action.
func ruleName(listener string, rule elbtypes.Rule, isDefault bool) string {
	if isDefault {
		return listener + " default action"
	}
	name := fmt.Sprintf("%s rule priority %s", listener, deref(rule.Priority))
	arn := deref(rule.RuleArn)
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		arn = "…" + arn[i:]
	}
	if arn != "" {
		name += " (" + arn + ")"
	}
	return name
}

// Route returns the routes req may take. One route when the rules decide
// it from the request alone; several when the outcome depends on what
// corsaudit cannot see (a source-ip condition, a header the browser sets on
// its own, whether the user is logged in for an authenticate action), each
// with a Note saying on what it depends.
//
// "When a listener receives a request, it evaluates the request against
// each rule in priority order, starting with the lowest numbered rule ...
// The default rule is evaluated last." (Listener rules.)
func (r *elbRouter) Route(req discovery.Request) []discovery.Route {
	if req.URL == nil {
		return []discovery.Route{{Rule: r.lb, Action: discovery.ActionNone, Detail: "no URL to route"}}
	}
	l, none := r.listener(req.URL)
	if l == nil {
		return []discovery.Route{none}
	}
	v := newRequestView(req)
	var routes []discovery.Route
	// fallThrough says on what the routes after an undecided rule depend.
	fallThrough := ""
	for _, rule := range l.rules {
		m, why := rule.match(v)
		switch m {
		case noMatch:
			continue
		case mayMatch:
			for _, rt := range rule.act.routes(rule.name, v) {
				rt.Note = joinNotes(fallThrough, "if the request matches: "+why, rt.Note)
				routes = append(routes, rt)
			}
			fallThrough = joinNotes(fallThrough, fmt.Sprintf("if %s does not match (%s)", rule.name, why))
			continue
		}
		for _, rt := range rule.act.routes(rule.name, v) {
			rt.Note = joinNotes(fallThrough, rt.Note)
			routes = append(routes, rt)
		}
		return routes
	}
	// newRouter ends every listener with its default rule, which has no
	// conditions: this is not reached.
	return append(routes, discovery.Route{Rule: l.name, Action: discovery.ActionNone,
		Detail: "no rule of the listener matches and its default action is unknown", Note: fallThrough})
}

// listener finds the listener a URL reaches: the one on its port (443 for
// https, 80 for http when the URL names none) whose protocol speaks its
// scheme. With listener_port, the one listener read serves every URL.
func (r *elbRouter) listener(u *url.URL) (*routedListener, discovery.Route) {
	if r.fixed && len(r.listeners) == 1 {
		return &r.listeners[0], discovery.Route{}
	}
	scheme := strings.ToLower(u.Scheme)
	port := effectivePort(u)
	var have []string
	for i := range r.listeners {
		l := &r.listeners[i]
		have = append(have, l.name)
		if l.port != port {
			continue
		}
		if speaks(l.protocol, scheme) {
			return l, discovery.Route{}
		}
		return nil, discovery.Route{Rule: l.name, Action: discovery.ActionNone,
			Detail: fmt.Sprintf("the %s listener does not speak %s: a %s:// URL on port %d fails there", l.name, scheme, scheme, port)}
	}
	return nil, discovery.Route{Rule: fmt.Sprintf("%s port %d", strings.ToUpper(scheme), port), Action: discovery.ActionNone,
		Detail: fmt.Sprintf("%s has no listener on port %d (its listeners: %s)", r.lb, port, strings.Join(have, ", "))}
}

// speaks reports whether a listener of protocol p accepts a URL of scheme:
// HTTPS and TLS terminate TLS, TCP passes anything through.
func speaks(p elbtypes.ProtocolEnum, scheme string) bool {
	switch p {
	case elbtypes.ProtocolEnumHttps, elbtypes.ProtocolEnumTls:
		return scheme == "https"
	case elbtypes.ProtocolEnumHttp:
		return scheme == "http"
	case elbtypes.ProtocolEnumTcp, elbtypes.ProtocolEnumTcpUdp:
		return scheme == "https" || scheme == "http"
	}
	return false
}

// effectivePort is the URL's port, or its scheme's default.
func effectivePort(u *url.URL) int {
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return p
	}
	if strings.EqualFold(u.Scheme, "http") {
		return 80
	}
	return 443
}

// match is the outcome of a condition: a rule matches, does not, or may
// (its outcome depends on what corsaudit cannot see).
type match int

const (
	noMatch match = iota
	mayMatch
	matches
)

// match evaluates every condition: "Each rule includes conditions to be
// met": all of them (AND). A condition that does not match decides; one
// that may match leaves the rule undecided.
func (rule routedRule) match(v *requestView) (match, string) {
	out, why := matches, ""
	for _, c := range rule.conds {
		m, w := c.match(v)
		switch m {
		case noMatch:
			return noMatch, ""
		case mayMatch:
			out, why = mayMatch, joinNotes(why, w)
		}
	}
	return out, why
}

// requestView is what the conditions read of a request, computed once.
type requestView struct {
	method string
	// host is the Host header a browser sends: the URL's host, lower case,
	// with its port unless it is the scheme's default.
	host string
	// paths is the path as sent; the decoded path follows when
	// percent-encoding makes it differ.
	paths []string
	// queries are the query's key/value pairs as sent, then decoded when
	// that differs.
	queries [][]queryPair
	header  http.Header
	// preflight: an OPTIONS request with Access-Control-Request-Method,
	// which a browser sends without cookies or Authorization.
	preflight bool
}

type queryPair struct{ key, value string }

// newRequestView reads what routing needs from req.
func newRequestView(req discovery.Request) *requestView {
	u := req.URL
	v := &requestView{method: req.Method, header: req.Header}
	if v.header == nil {
		v.header = http.Header{}
	}
	v.host = v.header.Get("Host")
	if v.host == "" {
		v.host = strings.ToLower(u.Hostname())
		if p := u.Port(); p != "" && effectivePort(&url.URL{Scheme: u.Scheme}) != effectivePort(u) {
			v.host = net.JoinHostPort(v.host, p)
		} else if strings.Contains(v.host, ":") {
			v.host = "[" + v.host + "]"
		}
	}
	raw := u.EscapedPath()
	if raw == "" {
		raw = "/"
	}
	v.paths = []string{raw}
	if dec, err := url.PathUnescape(raw); err == nil && dec != raw {
		v.paths = append(v.paths, dec)
	}
	rawPairs, decPairs, differ := parseQuery(u.RawQuery)
	v.queries = [][]queryPair{rawPairs}
	if differ {
		v.queries = append(v.queries, decPairs)
	}
	v.preflight = req.Method == http.MethodOptions && v.header.Get("Access-Control-Request-Method") != ""
	return v
}

// parseQuery splits a raw query into key/value pairs as sent (a part
// without "=" is a key with an empty value, as URLSearchParams reads it),
// and decoded.
func parseQuery(raw string) (sent, decoded []queryPair, differ bool) {
	if raw == "" {
		return nil, nil, false
	}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, val, _ := strings.Cut(part, "=")
		sent = append(sent, queryPair{k, val})
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(val)
		if err1 != nil || err2 != nil {
			dk, dv = k, val
		}
		decoded = append(decoded, queryPair{dk, dv})
		differ = differ || dk != k || dv != val
	}
	return sent, decoded, differ
}

// Condition fields (RuleCondition.Field).
const (
	fieldHost   = "host-header"
	fieldPath   = "path-pattern"
	fieldHeader = "http-header"
	fieldMethod = "http-request-method"
	fieldQuery  = "query-string"
	fieldSource = "source-ip"
)

// condition is one rule condition, compiled: "You can specify up to three
// match evaluations per condition ... The condition is satisfied if one of
// the strings matches" (OR within a condition).
type condition struct {
	field   string
	values  []string         // wildcard patterns, or method names
	regexes []*regexp.Regexp // RegexValues
	header  string           // http-header: the header's name
	query   []queryPattern   // query-string
	// unknown, when set, says why the condition cannot be evaluated here:
	// it may match.
	unknown string
}

// queryPattern is one key/value pair of a query-string condition; a nil
// key matches any key.
type queryPattern struct {
	key   *string
	value string
}

// newCondition compiles a condition from either form the API returns: the
// legacy Values (host-header and path-pattern only) and the *Config
// structures, whichever is set (both, for rules created with Values).
func newCondition(c elbtypes.RuleCondition) condition {
	out := condition{field: deref(c.Field)}
	regexes := slices.Clone(c.RegexValues)
	switch out.field {
	case fieldHost:
		out.values = slices.Clone(c.Values)
		if hc := c.HostHeaderConfig; hc != nil {
			out.values = append(out.values, hc.Values...)
			regexes = append(regexes, hc.RegexValues...)
		}
	case fieldPath:
		out.values = slices.Clone(c.Values)
		if pc := c.PathPatternConfig; pc != nil {
			out.values = append(out.values, pc.Values...)
			regexes = append(regexes, pc.RegexValues...)
		}
	case fieldHeader:
		if hc := c.HttpHeaderConfig; hc != nil {
			out.header = deref(hc.HttpHeaderName)
			out.values = slices.Clone(hc.Values)
			regexes = append(regexes, hc.RegexValues...)
		}
		if out.header == "" {
			out.unknown = "an http-header condition without a header name"
		}
	case fieldMethod:
		if mc := c.HttpRequestMethodConfig; mc != nil {
			out.values = slices.Clone(mc.Values)
		}
	case fieldQuery:
		if qc := c.QueryStringConfig; qc != nil {
			for _, p := range qc.Values {
				out.query = append(out.query, queryPattern{key: p.Key, value: deref(p.Value)})
			}
		}
		if len(out.query) == 0 {
			out.unknown = "a query-string condition without values"
		}
	case fieldSource:
		var cidrs []string
		if sc := c.SourceIpConfig; sc != nil {
			cidrs = sc.Values
		}
		out.unknown = fmt.Sprintf("its source-ip condition (%s) depends on the address the load balancer sees, which corsaudit cannot know from here",
			strings.Join(cidrs, ", "))
		return out
	default:
		out.unknown = fmt.Sprintf("condition type %q is not modelled", out.field)
		return out
	}
	for _, expr := range regexes {
		re, err := regexp.Compile(expr)
		if err != nil {
			out.unknown = fmt.Sprintf("its %s regular expression %q is not one Go's RE2 reads", out.field, expr)
			continue
		}
		out.regexes = append(out.regexes, re)
	}
	if out.unknown == "" && len(out.values) == 0 && len(out.regexes) == 0 && len(out.query) == 0 {
		out.unknown = fmt.Sprintf("a %s condition without values", out.field)
	}
	return out
}

// match evaluates the condition on v.
func (c condition) match(v *requestView) (match, string) {
	if c.unknown != "" {
		return mayMatch, c.unknown
	}
	switch c.field {
	case fieldHost:
		// Host conditions: "A hostname is not case-sensitive ... can
		// contain ... * (matches 0 or more characters), ? (matches exactly
		// 1 character)"; "The rule *.example.com matches test.example.com
		// but doesn't match example.com." Values may not contain ":", so
		// a Host header with a port other than the scheme's default (the
		// browser sends "example.com:8443") matches only RegexValues.
		return either(anyWildcard(c.values, v.host, true, false), c.anyRegex(v.host)), ""
	case fieldPath:
		// Path conditions: "The path pattern is applied only to the path
		// of the URL, not to its query parameters"; "A path pattern is
		// case-sensitive". Whether the pattern sees a percent-encoded path
		// decoded is not documented: when it matters, the rule may match.
		var got []bool
		for _, p := range v.paths {
			got = append(got, anyWildcard(c.values, p, false, false) || c.anyRegex(p))
		}
		return agree(got, "the path is percent-encoded, and the documentation does not say whether path patterns see it decoded")
	case fieldMethod:
		// HTTP request method conditions: "The match evaluation is
		// case-sensitive. Wildcard characters are not supported; therefore,
		// the method name must be an exact match."
		if slices.Contains(c.values, v.method) {
			return matches, ""
		}
		return noMatch, ""
	case fieldHeader:
		return c.matchHeader(v)
	case fieldQuery:
		// Query string conditions: key/value pairs or values alone ("any
		// key set to" the value); "The match evaluation is
		// case-insensitive"; "To search for a literal '*' or '?' character
		// in a query string, you must escape these characters in Values
		// using a '\' character" (QueryStringConditionConfig).
		var got []bool
		for _, pairs := range v.queries {
			got = append(got, c.matchQuery(pairs))
		}
		return agree(got, "the query string is percent-encoded, and the documentation does not say whether query-string conditions see it decoded")
	}
	return mayMatch, fmt.Sprintf("condition type %q is not modelled", c.field)
}

// either combines a wildcard and a regex outcome (OR).
func either(wild, re bool) match {
	if wild || re {
		return matches
	}
	return noMatch
}

// anyRegex reports whether one of the condition's regular expressions
// matches s. The documentation lists what ALB regular expressions lack
// (lookarounds, backreferences, atomic groups, possessive quantifiers,
// recursion, Unicode classes): what RE2 lacks too. It states no anchoring
// and its examples anchor with ^ and $, so a pattern matches anywhere in s
// unless anchored, as in RE2.
func (c condition) anyRegex(s string) bool {
	for _, re := range c.regexes {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// matchQuery reports whether one of the condition's pairs is found in the
// query ("If you specify multiple key/value pairs or values, the condition
// is satisfied if one of them is found in the query string").
func (c condition) matchQuery(pairs []queryPair) bool {
	for _, want := range c.query {
		for _, p := range pairs {
			if (want.key == nil || wildcard(*want.key, p.key, true, true)) && wildcard(want.value, p.value, true, true) {
				return true
			}
		}
	}
	return false
}

// agree turns the outcomes of one condition over the variants of a
// request (as sent, decoded) into a match: may match when they differ.
func agree(got []bool, why string) (match, string) {
	all, some := true, false
	for _, g := range got {
		all = all && g
		some = some || g
	}
	switch {
	case all:
		return matches, ""
	case some:
		return mayMatch, why
	}
	return noMatch, ""
}

// matchHeader evaluates an http-header condition: "The header name and the
// match evaluation are case-insensitive"; "If the same header appears
// multiple times in the request, we search them in order until a match is
// found." A header the request does not carry fails the condition, unless
// the browser (or a proxy on the way) sets that header on its own: then the
// outcome is not known here.
func (c condition) matchHeader(v *requestView) (match, string) {
	name := http.CanonicalHeaderKey(c.header)
	got, ok := v.header[name]
	if !ok {
		if browserSets(name, v.preflight) {
			return mayMatch, fmt.Sprintf("its http-header condition reads %s, which the browser or a proxy sets, not the page", name)
		}
		return noMatch, ""
	}
	for _, h := range got {
		if anyWildcard(c.values, h, true, false) || c.anyRegex(h) {
			return matches, ""
		}
	}
	return noMatch, ""
}

// browserSets reports whether a request header is one the browser or a
// proxy sets rather than the page (Fetch's forbidden request headers and
// what browsers add to every request, forwarding headers), so its absence
// from a discovery.Request says nothing. A preflight carries no cookies.
func browserSets(name string, preflight bool) bool {
	switch name {
	case "Cookie":
		return !preflight
	case "Accept", "Accept-Encoding", "Accept-Language", "User-Agent", "Referer", "Connection", "Cache-Control",
		"Pragma", "Priority", "Dnt", "Te", "Upgrade-Insecure-Requests", "Via", "Forwarded",
		"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Forwarded-Host":
		return true
	}
	return strings.HasPrefix(name, "Sec-") || strings.HasPrefix(name, "Cloudfront-") || strings.HasPrefix(name, "X-Amz")
}

// anyWildcard reports whether s matches one of the patterns.
func anyWildcard(patterns []string, s string, fold, escapes bool) bool {
	for _, p := range patterns {
		if wildcard(p, s, fold, escapes) {
			return true
		}
	}
	return false
}

// wildcard reports whether s matches pattern as ELB conditions compare:
// "* (matches 0 or more characters) and ? (matches exactly 1 character)",
// the whole of s. fold compares ASCII letters case-insensitively (rules
// apply "only to visible ASCII characters"); escapes lets \* and \? stand
// for the literal characters (query-string conditions).
func wildcard(pattern, s string, fold, escapes bool) bool {
	type tok struct {
		kind byte // 'l' literal, '?' one, '*' any run
		b    byte
	}
	toks := make([]tok, 0, len(pattern))
	for i := 0; i < len(pattern); i++ {
		switch b := pattern[i]; {
		case escapes && b == '\\' && i+1 < len(pattern) && (pattern[i+1] == '*' || pattern[i+1] == '?'):
			toks = append(toks, tok{'l', pattern[i+1]})
			i++
		case b == '*':
			toks = append(toks, tok{kind: '*'})
		case b == '?':
			toks = append(toks, tok{kind: '?'})
		default:
			toks = append(toks, tok{'l', b})
		}
	}
	eq := func(a, b byte) bool {
		if fold {
			return lowerASCII(a) == lowerASCII(b)
		}
		return a == b
	}
	// Greedy with one backtrack point: linear in practice, at most
	// len(s)*len(pattern) steps.
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(toks) && toks[p].kind == '*':
			star, mark = p, i
			p++
		case p < len(toks) && (toks[p].kind == '?' || eq(toks[p].b, s[i])):
			p++
			i++
		case star >= 0:
			p, mark = star+1, mark+1
			i = mark
		default:
			return false
		}
	}
	for p < len(toks) && toks[p].kind == '*' {
		p++
	}
	return p == len(toks)
}

func lowerASCII(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// ruleActions is what a rule's actions do, in Order: optional
// authentication first, then exactly one of forward, redirect or
// fixed-response ("Each rule must include exactly one of the following
// actions: forward, redirect, or fixed-response, and it must be the last
// action to be performed").
type ruleActions struct {
	// auth is the first authentication step that can stop a request.
	auth *authStep
	// final is the last action's route (Rule left empty).
	final discovery.Route
	// note says what the route does not show (authentication that lets
	// unauthenticated requests through, transforms).
	note string
}

// authStep is an authenticate-oidc, authenticate-cognito or jwt-validation
// action that answers unauthenticated requests itself.
type authStep struct {
	kind string
	// status of the answer to an unauthenticated request: 302 to the
	// identity provider (OnUnauthenticatedRequest authenticate, the
	// default), 401 (deny); 0 for jwt-validation, whose status the
	// documentation does not give ("Otherwise, it rejects the request").
	status int
	// to is where a 302 goes.
	to string
	// cookie is the session cookie the load balancer sets once a user has
	// logged in (AWSELBAuthSessionCookie unless SessionCookieName says).
	cookie string
}

// defaultSessionCookie is the session cookie name when the action names
// none (AuthenticateOidcActionConfig.SessionCookieName).
const defaultSessionCookie = "AWSELBAuthSessionCookie"

// newRuleActions reads a rule's actions in Order.
func newRuleActions(actions []elbtypes.Action, names map[string]string) ruleActions {
	sorted := slices.Clone(actions)
	slices.SortStableFunc(sorted, func(a, b elbtypes.Action) int { return int(deref32(a.Order)) - int(deref32(b.Order)) })
	var out ruleActions
	out.final = discovery.Route{Action: discovery.ActionNone, Detail: "the rule has no forward, redirect or fixed-response action"}
	for _, a := range sorted {
		switch a.Type {
		case elbtypes.ActionTypeEnumAuthenticateOidc, elbtypes.ActionTypeEnumAuthenticateCognito:
			step := newAuthStep(a)
			if step == nil {
				out.note = joinNotes(out.note, fmt.Sprintf("%s lets unauthenticated requests through (on_unauthenticated_request allow), without user claims", a.Type))
			} else if out.auth == nil {
				out.auth = step
			}
		case elbtypes.ActionTypeEnumJwtValidation:
			if out.auth == nil {
				out.auth = &authStep{kind: string(a.Type)}
			}
		case elbtypes.ActionTypeEnumForward:
			out.final = discovery.Route{Action: discovery.ActionForward, Pools: forwardPools(a, names)}
			for _, p := range out.final.Pools {
				if p.Weight == 0 && len(out.final.Pools) > 1 {
					out.note = joinNotes(out.note, fmt.Sprintf("target group %s has weight 0: it gets no traffic through the load balancer until its weight is raised", p.Name))
				}
			}
		case elbtypes.ActionTypeEnumRedirect:
			out.final = discovery.Route{Action: discovery.ActionRedirect, Detail: redirectDetail(a.RedirectConfig)}
		case elbtypes.ActionTypeEnumFixedResponse:
			out.final = discovery.Route{Action: discovery.ActionFixedResponse, Detail: fixedResponseDetail(a.FixedResponseConfig)}
		}
	}
	return out
}

// newAuthStep reads an authenticate-oidc or -cognito action; nil when it
// lets unauthenticated requests through. OnUnauthenticatedRequest: "deny -
// Return an HTTP 401 Unauthorized error. allow - Allow the request to be
// forwarded to the target. authenticate - Redirect the request to the IdP
// authorization endpoint. This is the default value."
func newAuthStep(a elbtypes.Action) *authStep {
	step := &authStep{kind: string(a.Type), status: http.StatusFound, cookie: defaultSessionCookie}
	var behaviour, cookie string
	switch {
	case a.AuthenticateOidcConfig != nil:
		c := a.AuthenticateOidcConfig
		behaviour, cookie = string(c.OnUnauthenticatedRequest), deref(c.SessionCookieName)
		step.to = deref(c.AuthorizationEndpoint)
	case a.AuthenticateCognitoConfig != nil:
		c := a.AuthenticateCognitoConfig
		behaviour, cookie = string(c.OnUnauthenticatedRequest), deref(c.SessionCookieName)
		if d := deref(c.UserPoolDomain); d != "" {
			step.to = "the Cognito user pool domain " + d
		}
	}
	if cookie != "" {
		step.cookie = cookie
	}
	switch behaviour {
	case "allow":
		return nil
	case "deny":
		step.status = http.StatusUnauthorized
	}
	if step.to == "" {
		step.to = "the identity provider"
	}
	return step
}

// routes is what the rule does with v. An authentication step stops a
// request without credentials: a preflight always ("a CORS-preflight
// request never includes credentials", Fetch); another request carries the
// load balancer's session cookie (or, for jwt-validation, an Authorization
// header) only when it is sent with the user's credentials, which the
// request shows when it lists Cookie, and cannot show otherwise: then both
// outcomes are possible.
func (a ruleActions) routes(rule string, v *requestView) []discovery.Route {
	final := a.final
	final.Rule = rule
	final.Note = a.note
	if a.auth == nil {
		return []discovery.Route{final}
	}
	stopped := discovery.Route{Rule: rule, Action: discovery.ActionAuthenticate, Detail: a.auth.detail(a.final), Note: a.note}
	switch {
	case v.preflight:
		stopped.Note = joinNotes("a preflight carries no credentials", a.note)
		return []discovery.Route{stopped}
	case a.auth.kind == string(elbtypes.ActionTypeEnumJwtValidation):
		if v.header.Get("Authorization") == "" {
			return []discovery.Route{stopped}
		}
		final.Note = joinNotes("the request carries an Authorization header; the token itself is not verified here", a.note)
		return []discovery.Route{final}
	}
	if cookies, listed := v.header["Cookie"]; listed {
		if hasCookie(cookies, a.auth.cookie) {
			final.Note = joinNotes(fmt.Sprintf("the request carries the %s session cookie; the session itself is not verified here", a.auth.cookie), a.note)
			return []discovery.Route{final}
		}
		return []discovery.Route{stopped}
	}
	stopped.Note = joinNotes("without the load balancer's session cookie "+a.auth.cookie, a.note)
	final.Note = joinNotes("with a logged-in user's session cookie "+a.auth.cookie, a.note)
	return []discovery.Route{stopped, final}
}

// detail says what an unauthenticated request gets, and where an
// authenticated one goes.
func (s *authStep) detail(final discovery.Route) string {
	var d string
	switch s.status {
	case http.StatusFound:
		d = fmt.Sprintf("302 to %s (%s: not logged in)", s.to, s.kind)
	case http.StatusUnauthorized:
		d = fmt.Sprintf("401 Unauthorized (%s, on_unauthenticated_request deny)", s.kind)
	default:
		d = fmt.Sprintf("rejected without a valid JWT (%s)", s.kind)
	}
	switch final.Action {
	case discovery.ActionForward:
		var names []string
		for _, p := range final.Pools {
			names = append(names, p.Name)
		}
		d += "; authenticated requests go to " + strings.Join(names, ", ")
	case discovery.ActionRedirect, discovery.ActionFixedResponse:
		d += "; authenticated requests get " + final.Detail
	}
	return d
}

// hasCookie reports whether Cookie header values carry cookie name, or
// its first shard (the load balancer splits cookies over 4K into name-0,
// name-1, ...).
func hasCookie(headers []string, name string) bool {
	for _, h := range headers {
		for _, part := range strings.Split(h, ";") {
			k, _, _ := strings.Cut(strings.TrimSpace(part), "=")
			if k == name || k == name+"-0" {
				return true
			}
		}
	}
	return false
}

// forwardPools lists a forward action's target groups: a ForwardConfig
// with several groups is weighted ("Each target group weight is a value
// from 0 to 999"), one group or the plain TargetGroupArn form takes the
// rule's whole traffic (weight 0: not weighted).
func forwardPools(a elbtypes.Action, names map[string]string) []discovery.Pool {
	var out []discovery.Pool
	if fc := a.ForwardConfig; fc != nil && len(fc.TargetGroups) > 0 {
		for _, t := range fc.TargetGroups {
			if t.TargetGroupArn == nil {
				continue
			}
			p := discovery.Pool{Name: groupName(*t.TargetGroupArn, names)}
			if len(fc.TargetGroups) > 1 && t.Weight != nil {
				p.Weight = int(*t.Weight)
			}
			out = append(out, p)
		}
		return out
	}
	if a.TargetGroupArn != nil {
		out = append(out, discovery.Pool{Name: groupName(*a.TargetGroupArn, names)})
	}
	return out
}

// groupName is a target group's name, or the name in its ARN
// (…:targetgroup/<name>/<id>) when it was not described.
func groupName(arn string, names map[string]string) string {
	if n, ok := names[arn]; ok {
		return n
	}
	if _, rest, ok := strings.Cut(arn, ":targetgroup/"); ok {
		n, _, _ := strings.Cut(rest, "/")
		return n
	}
	return arn
}

// redirectDetail is a redirect's status and location template. "You can
// reuse URI components of the original URL in the target URL using the
// following reserved keywords: #{protocol}, #{host}, #{port}, #{path},
// #{query}"; a component not set keeps its original value.
func redirectDetail(c *elbtypes.RedirectActionConfig) string {
	if c == nil {
		return "redirect"
	}
	or := func(s *string, def string) string {
		if v := deref(s); v != "" {
			return v
		}
		return def
	}
	status := strings.TrimPrefix(string(c.StatusCode), "HTTP_")
	if status == "" {
		status = "redirect"
	}
	loc := strings.ToLower(or(c.Protocol, "#{protocol}")) + "://" + or(c.Host, "#{host}") + ":" + or(c.Port, "#{port}") + or(c.Path, "/#{path}")
	if q := or(c.Query, "#{query}"); q != "" {
		loc += "?" + q
	}
	return status + " to " + loc
}

// fixedResponseDetail is a fixed response's status and content type.
func fixedResponseDetail(c *elbtypes.FixedResponseActionConfig) string {
	if c == nil {
		return "fixed response"
	}
	d := "fixed response " + deref(c.StatusCode)
	if ct := deref(c.ContentType); ct != "" {
		d += " (" + ct + ")"
	}
	return d
}

// transformNote says that a rule rewrites requests before its targets see
// them: a direct request to an instance carries the URL and Host as sent.
func transformNote(ts []elbtypes.RuleTransform) string {
	var kinds []string
	for _, t := range ts {
		kinds = append(kinds, string(t.Type))
	}
	return fmt.Sprintf("the rule rewrites requests before its targets see them (%s): direct requests to the instances carry the URL and Host as sent",
		strings.Join(kinds, ", "))
}

// joinNotes joins the non-empty notes with "; ".
func joinNotes(notes ...string) string {
	var out []string
	for _, n := range notes {
		if n != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}

func deref32(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

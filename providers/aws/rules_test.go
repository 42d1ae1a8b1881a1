package aws

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/corsaudit/corsaudit/discovery"
)

// Builders of the SDK values DescribeListeners and DescribeRules return.

const tgPrefix = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/"

func tgARN(name string) string { return tgPrefix + name + "/0123456789abcdef" }

// valuesCond is a condition in the legacy Values form (host-header and
// path-pattern only).
func valuesCond(field string, values ...string) elbtypes.RuleCondition {
	return elbtypes.RuleCondition{Field: sdkaws.String(field), Values: values}
}

func hostCond(values ...string) elbtypes.RuleCondition {
	return elbtypes.RuleCondition{Field: sdkaws.String(fieldHost), HostHeaderConfig: &elbtypes.HostHeaderConditionConfig{Values: values}}
}

func pathCond(values ...string) elbtypes.RuleCondition {
	return elbtypes.RuleCondition{Field: sdkaws.String(fieldPath), PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: values}}
}

func methodCond(values ...string) elbtypes.RuleCondition {
	return elbtypes.RuleCondition{Field: sdkaws.String(fieldMethod), HttpRequestMethodConfig: &elbtypes.HttpRequestMethodConditionConfig{Values: values}}
}

func headerCond(name string, values ...string) elbtypes.RuleCondition {
	return elbtypes.RuleCondition{Field: sdkaws.String(fieldHeader), HttpHeaderConfig: &elbtypes.HttpHeaderConditionConfig{HttpHeaderName: sdkaws.String(name), Values: values}}
}

// queryCond takes "key=value" or "=value" (any key).
func queryCond(pairs ...string) elbtypes.RuleCondition {
	c := &elbtypes.QueryStringConditionConfig{}
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		kv := elbtypes.QueryStringKeyValuePair{Value: sdkaws.String(v)}
		if k != "" {
			kv.Key = sdkaws.String(k)
		}
		c.Values = append(c.Values, kv)
	}
	return elbtypes.RuleCondition{Field: sdkaws.String(fieldQuery), QueryStringConfig: c}
}

func sourceCond(cidrs ...string) elbtypes.RuleCondition {
	return elbtypes.RuleCondition{Field: sdkaws.String(fieldSource), SourceIpConfig: &elbtypes.SourceIpConditionConfig{Values: cidrs}}
}

func forwardTo(group string) elbtypes.Action {
	return elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: sdkaws.String(tgARN(group))}
}

// weighted takes "name:weight" pairs.
func weighted(groups ...string) elbtypes.Action {
	fc := &elbtypes.ForwardActionConfig{}
	for _, g := range groups {
		name, w, _ := strings.Cut(g, ":")
		n, _ := strconv.Atoi(w)
		fc.TargetGroups = append(fc.TargetGroups, elbtypes.TargetGroupTuple{TargetGroupArn: sdkaws.String(tgARN(name)), Weight: sdkaws.Int32(int32(n))})
	}
	return elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: fc}
}

func fixed(status, contentType string) elbtypes.Action {
	return elbtypes.Action{Type: elbtypes.ActionTypeEnumFixedResponse,
		FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: sdkaws.String(status), ContentType: sdkaws.String(contentType)}}
}

func oidc(onUnauthenticated string, order int32) elbtypes.Action {
	return elbtypes.Action{Type: elbtypes.ActionTypeEnumAuthenticateOidc, Order: sdkaws.Int32(order),
		AuthenticateOidcConfig: &elbtypes.AuthenticateOidcActionConfig{AuthorizationEndpoint: sdkaws.String("https://login.example.com/authorize"),
			OnUnauthenticatedRequest: elbtypes.AuthenticateOidcActionConditionalBehaviorEnum(onUnauthenticated)}}
}

func ordered(a elbtypes.Action, order int32) elbtypes.Action {
	a.Order = sdkaws.Int32(order)
	return a
}

func rule(priority, suffix string, conds []elbtypes.RuleCondition, actions ...elbtypes.Action) elbtypes.Rule {
	return elbtypes.Rule{Priority: sdkaws.String(priority), IsDefault: sdkaws.Bool(false), Conditions: conds, Actions: actions,
		RuleArn: sdkaws.String("arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/shop-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/" + suffix)}
}

func defaultRule(actions ...elbtypes.Action) elbtypes.Rule {
	return elbtypes.Rule{Priority: sdkaws.String("default"), IsDefault: sdkaws.Bool(true), Actions: actions,
		RuleArn: sdkaws.String("arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/shop-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/0default")}
}

func conds(c ...elbtypes.RuleCondition) []elbtypes.RuleCondition { return c }

func listener(arn string, protocol elbtypes.ProtocolEnum, port int32, defaults ...elbtypes.Action) elbtypes.Listener {
	return elbtypes.Listener{ListenerArn: sdkaws.String(arn), Protocol: protocol, Port: sdkaws.Int32(port), DefaultActions: defaults}
}

// testNames are the target groups the fixtures forward to.
var testNames = map[string]string{tgARN("api"): "api", tgARN("admin"): "admin", tgARN("web"): "web", tgARN("blue"): "blue", tgARN("green"): "green"}

// routerOf is shop-alb with one HTTPS:443 listener holding rules and a
// default rule forwarding to web.
func routerOf(rules ...elbtypes.Rule) *elbRouter {
	return newRouter("shop-alb", []elbtypes.Listener{listener("l-443", elbtypes.ProtocolEnumHttps, 443, forwardTo("web"))},
		map[string][]elbtypes.Rule{"l-443": append(rules, defaultRule(forwardTo("web")))}, testNames, false)
}

// req builds a request; header is "Name: value" lines.
func req(t *testing.T, method, rawURL string, header ...string) discovery.Request {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("url %q: %v", rawURL, err)
	}
	h := http.Header{}
	for _, line := range header {
		k, v, _ := strings.Cut(line, ": ")
		h.Add(k, v)
	}
	return discovery.Request{Method: method, URL: u, Header: h}
}

// short is a route as the tables write it: "rule -> action pools", the
// rule's ARN suffix only.
func short(r discovery.Route) string {
	s := r.Rule + " -> " + r.Action
	for i, p := range r.Pools {
		sep := " "
		if i > 0 {
			sep = ","
		}
		s += sep + p.Name
		if p.Weight > 0 {
			s += ":" + strconv.Itoa(p.Weight)
		}
	}
	return s
}

func shorts(routes []discovery.Route) string {
	var out []string
	for _, r := range routes {
		out = append(out, short(r))
	}
	return strings.Join(out, " | ")
}

// Rule names of the fixtures.
const (
	dflt = "HTTPS:443 default action"
)

func ruleN(priority, suffix string) string {
	return "HTTPS:443 rule priority " + priority + " (…/" + suffix + ")"
}

// TestRouteIssue21 is the shared ALB of issue 21: /api/* to api, host
// admin.example.com to admin, everything else to web, and OPTIONS on
// /api/upload answered by the load balancer itself.
func TestRouteIssue21(t *testing.T) {
	r := routerOf(
		rule("20", "r20", conds(hostCond("admin.example.com")), forwardTo("admin")),
		rule("10", "r10", conds(pathCond("/api/*")), forwardTo("api")),
		rule("5", "r5", conds(methodCond("OPTIONS"), pathCond("/api/upload")), fixed("204", "text/plain")),
	)
	for _, tc := range []struct {
		desc, method, url string
		header            []string
		want              string
	}{
		{desc: "/api/cart to api", method: "GET", url: "https://shop.example.com/api/cart", want: ruleN("10", "r10") + " -> forward api"},
		{desc: "preflight of /api/cart to api too", method: "OPTIONS", url: "https://shop.example.com/api/cart",
			header: []string{"Origin: https://app.example.com", "Access-Control-Request-Method: PUT"}, want: ruleN("10", "r10") + " -> forward api"},
		{desc: "admin host to admin", method: "GET", url: "https://admin.example.com/", want: ruleN("20", "r20") + " -> forward admin"},
		{desc: "root to web (default action)", method: "GET", url: "https://shop.example.com/", want: dflt + " -> forward web"},
		{desc: "no path is /", method: "GET", url: "https://shop.example.com", want: dflt + " -> forward web"},
		{desc: "OPTIONS and GET of one path reach different rules: OPTIONS", method: "OPTIONS", url: "https://shop.example.com/api/upload",
			header: []string{"Access-Control-Request-Method: POST"}, want: ruleN("5", "r5") + " -> fixed-response"},
		{desc: "OPTIONS and GET of one path reach different rules: GET", method: "GET", url: "https://shop.example.com/api/upload", want: ruleN("10", "r10") + " -> forward api"},
		{desc: "admin host with an /api path: priority 10 comes before 20", method: "GET", url: "https://admin.example.com/api/cart", want: ruleN("10", "r10") + " -> forward api"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got := r.Route(req(t, tc.method, tc.url, tc.header...))
			if s := shorts(got); s != tc.want {
				t.Errorf("routes %s\nwant   %s", s, tc.want)
			}
		})
	}
	got := r.Route(req(t, "OPTIONS", "https://shop.example.com/api/upload", "Access-Control-Request-Method: POST"))
	if got[0].Detail != "fixed response 204 (text/plain)" {
		t.Errorf("fixed-response detail %q, want status and content type", got[0].Detail)
	}
}

// TestRouteConditions: each condition type as the documentation describes
// it, in both the Values and the *Config forms.
func TestRouteConditions(t *testing.T) {
	hit := ruleN("1", "c1") + " -> forward api"
	miss := dflt + " -> forward web"
	for _, tc := range []struct {
		desc   string
		cond   []elbtypes.RuleCondition
		method string
		url    string
		header []string
		want   string
	}{
		// Host conditions.
		{desc: "host: exact", cond: conds(hostCond("shop.example.com")), url: "https://shop.example.com/", want: hit},
		{desc: "host: case-insensitive", cond: conds(hostCond("Shop.Example.COM")), url: "https://SHOP.example.com/", want: hit},
		{desc: "host: Values form", cond: conds(valuesCond(fieldHost, "shop.example.com")), url: "https://shop.example.com/", want: hit},
		{desc: "host: *.example.com matches test.example.com", cond: conds(hostCond("*.example.com")), url: "https://test.example.com/", want: hit},
		{desc: "host: *.example.com does not match example.com", cond: conds(hostCond("*.example.com")), url: "https://example.com/", want: miss},
		{desc: "host: ? matches exactly one character", cond: conds(hostCond("api?.example.com")), url: "https://api2.example.com/", want: hit},
		{desc: "host: ? does not match two", cond: conds(hostCond("api?.example.com")), url: "https://api22.example.com/", want: miss},
		{desc: "host: the scheme's default port is not sent", cond: conds(hostCond("shop.example.com")), url: "https://shop.example.com:443/", want: hit},
		{desc: "host: another port is in the Host header, Values cannot match it", cond: conds(hostCond("shop.example.com", "*.example.com")), url: "https://shop.example.com/", header: []string{"Host: shop.example.com:8443"}, want: miss},
		{desc: "host: RegexValues can", cond: conds(elbtypes.RuleCondition{Field: sdkaws.String(fieldHost), RegexValues: []string{`^shop\.example\.com:8443$`}}), url: "https://shop.example.com/", header: []string{"Host: shop.example.com:8443"}, want: hit},
		{desc: "host: several values are OR", cond: conds(hostCond("a.example.com", "shop.example.com")), url: "https://shop.example.com/", want: hit},
		{desc: "host: a Host header in the request wins over the URL", cond: conds(hostCond("admin.example.com")), url: "https://shop.example.com/", header: []string{"Host: admin.example.com"}, want: hit},
		{desc: "host: regex", cond: conds(elbtypes.RuleCondition{Field: sdkaws.String(fieldHost), HostHeaderConfig: &elbtypes.HostHeaderConditionConfig{RegexValues: []string{`^shop\.example\.com$`}}}), url: "https://shop.example.com/", want: hit},
		// Path conditions.
		{desc: "path: /img/* matches /img/picture.jpg", cond: conds(pathCond("/img/*")), url: "https://s.example.com/img/picture.jpg", want: hit},
		{desc: "path: case-sensitive", cond: conds(pathCond("/img/*")), url: "https://s.example.com/IMG/picture.jpg", want: miss},
		{desc: "path: the query string is not part of the path", cond: conds(pathCond("/search")), url: "https://s.example.com/search?q=/img/", want: hit},
		{desc: "path: the query string cannot make a path match", cond: conds(pathCond("*/img/*")), url: "https://s.example.com/search?q=/img/x", want: miss},
		{desc: "path: * matches across segments", cond: conds(pathCond("/api/*/items")), url: "https://s.example.com/api/v1/cart/items", want: hit},
		{desc: "path: Values form", cond: conds(valuesCond(fieldPath, "/api/*")), url: "https://s.example.com/api/x", want: hit},
		{desc: "path: /api/* does not match /api", cond: conds(pathCond("/api/*")), url: "https://s.example.com/api", want: miss},
		{desc: "path: regex anywhere unless anchored", cond: conds(elbtypes.RuleCondition{Field: sdkaws.String(fieldPath), RegexValues: []string{`/v[0-9]+/`}}), url: "https://s.example.com/api/v2/cart", want: hit},
		{desc: "path: percent-encoding that changes the outcome: both", cond: conds(pathCond("/a b")), url: "https://s.example.com/a%20b",
			want: ruleN("1", "c1") + " -> forward api | " + miss},
		{desc: "path: percent-encoding that does not change the outcome", cond: conds(pathCond("/x/*")), url: "https://s.example.com/x/a%20b", want: hit},
		// HTTP request method conditions.
		{desc: "method: exact", cond: conds(methodCond("OPTIONS")), method: "OPTIONS", url: "https://s.example.com/", want: hit},
		{desc: "method: case-sensitive", cond: conds(methodCond("options")), method: "OPTIONS", url: "https://s.example.com/", want: miss},
		{desc: "method: no wildcards", cond: conds(methodCond("OPT*")), method: "OPTIONS", url: "https://s.example.com/", want: miss},
		{desc: "method: OR", cond: conds(methodCond("GET", "HEAD")), method: "HEAD", url: "https://s.example.com/", want: hit},
		// HTTP header conditions.
		{desc: "header: name and value case-insensitive, wildcards", cond: conds(headerCond("x-canary", "YES*")), url: "https://s.example.com/", header: []string{"X-Canary: yes-please"}, want: hit},
		{desc: "header: a repeated header is searched in order", cond: conds(headerCond("X-Tenant", "blue")), url: "https://s.example.com/", header: []string{"X-Tenant: red", "X-Tenant: blue"}, want: hit},
		{desc: "header: Origin routes", cond: conds(headerCond("Origin", "https://*.partner.com")), url: "https://s.example.com/", header: []string{"Origin: https://app.partner.com"}, want: hit},
		{desc: "header: a page header the request lacks fails", cond: conds(headerCond("X-Canary", "*")), url: "https://s.example.com/", want: miss},
		{desc: "header: User-Agent the browser sets: both outcomes", cond: conds(headerCond("User-Agent", "*Chrome*")), url: "https://s.example.com/",
			want: ruleN("1", "c1") + " -> forward api | " + miss},
		{desc: "header: Cookie on a preflight: absent", cond: conds(headerCond("Cookie", "*beta=1*")), method: "OPTIONS", url: "https://s.example.com/",
			header: []string{"Access-Control-Request-Method: PUT"}, want: miss},
		// Query string conditions.
		{desc: "query: key/value", cond: conds(queryCond("version=v1")), url: "https://s.example.com/?a=b&version=v1", want: hit},
		{desc: "query: case-insensitive", cond: conds(queryCond("Version=V1")), url: "https://s.example.com/?version=v1", want: hit},
		{desc: "query: a value alone matches any key", cond: conds(queryCond("=example")), url: "https://s.example.com/?anything=example", want: hit},
		{desc: "query: wildcards", cond: conds(queryCond("v*=1?")), url: "https://s.example.com/?version=12", want: hit},
		{desc: "query: an escaped * is literal", cond: conds(queryCond(`q=a\*`)), url: "https://s.example.com/?q=ab", want: miss},
		{desc: "query: an escaped * matches *", cond: conds(queryCond(`q=a\*`)), url: "https://s.example.com/?q=a*", want: hit},
		{desc: "query: no query", cond: conds(queryCond("version=v1")), url: "https://s.example.com/", want: miss},
		{desc: "query: wrong value", cond: conds(queryCond("version=v1")), url: "https://s.example.com/?version=v2", want: miss},
		// Conditions together.
		{desc: "AND: all conditions must match", cond: conds(pathCond("/api/*"), methodCond("GET")), method: "POST", url: "https://s.example.com/api/x", want: miss},
		{desc: "AND: all match", cond: conds(pathCond("/api/*"), methodCond("GET"), hostCond("*.example.com")), url: "https://s.example.com/api/x", want: hit},
		// Source IP conditions: not known from here.
		{desc: "source-ip: both outcomes", cond: conds(sourceCond("10.0.0.0/8")), url: "https://s.example.com/",
			want: ruleN("1", "c1") + " -> forward api | " + miss},
		{desc: "source-ip with a condition that fails: decided", cond: conds(sourceCond("10.0.0.0/8"), pathCond("/internal/*")), url: "https://s.example.com/",
			want: miss},
		{desc: "unknown condition type: both outcomes", cond: conds(elbtypes.RuleCondition{Field: sdkaws.String("tls-version")}), url: "https://s.example.com/",
			want: ruleN("1", "c1") + " -> forward api | " + miss},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "GET"
			}
			r := routerOf(rule("1", "c1", tc.cond, forwardTo("api")))
			got := r.Route(req(t, method, tc.url, tc.header...))
			if s := shorts(got); s != tc.want {
				t.Errorf("routes %s\nwant   %s", s, tc.want)
			}
			if len(got) > 1 {
				for _, rt := range got {
					if rt.Note == "" {
						t.Errorf("route %s of several has no note saying on what it depends", short(rt))
					}
				}
			}
		})
	}
}

// TestRouteSourceIPNotes: the two outcomes of a source-ip rule say which
// is which.
func TestRouteSourceIPNotes(t *testing.T) {
	r := routerOf(rule("1", "c1", conds(sourceCond("10.0.0.0/8", "192.168.0.0/16")), forwardTo("admin")))
	got := r.Route(req(t, "GET", "https://s.example.com/"))
	if len(got) != 2 {
		t.Fatalf("routes %s, want two", shorts(got))
	}
	if n := got[0].Note; !strings.HasPrefix(n, "if the request matches: ") || !strings.Contains(n, "10.0.0.0/8, 192.168.0.0/16") || !strings.Contains(n, "cannot know") {
		t.Errorf("matching route note %q", n)
	}
	if n := got[1].Note; !strings.HasPrefix(n, "if "+ruleN("1", "c1")+" does not match (") {
		t.Errorf("fall-through route note %q", n)
	}
}

// TestRoutePriority: "Rules are evaluated in priority order, from the
// lowest value to the highest value. The default rule is evaluated last."
// Priorities are numbers, not strings: 9 comes before 10.
func TestRoutePriority(t *testing.T) {
	r := routerOf(
		rule("10", "p10", conds(pathCond("/*")), forwardTo("admin")),
		rule("9", "p9", conds(pathCond("/api/*")), forwardTo("api")),
		rule("100", "p100", conds(pathCond("/api/*")), forwardTo("green")),
	)
	for _, tc := range []struct{ url, want string }{
		{url: "https://s.example.com/api/x", want: ruleN("9", "p9") + " -> forward api"},
		{url: "https://s.example.com/other", want: ruleN("10", "p10") + " -> forward admin"},
	} {
		if s := shorts(r.Route(req(t, "GET", tc.url))); s != tc.want {
			t.Errorf("%s: routes %s, want %s", tc.url, s, tc.want)
		}
	}
	// The default rule listed first by DescribeRules still comes last.
	r = newRouter("shop-alb", []elbtypes.Listener{listener("l", elbtypes.ProtocolEnumHttps, 443)},
		map[string][]elbtypes.Rule{"l": {defaultRule(forwardTo("web")), rule("3", "p3", conds(pathCond("/a")), forwardTo("api"))}}, testNames, false)
	if s := shorts(r.Route(req(t, "GET", "https://s.example.com/a"))); s != ruleN("3", "p3")+" -> forward api" {
		t.Errorf("default rule listed first: routes %s", s)
	}
}

// TestRouteListener: the listener a URL reaches (scheme and port), and
// listener_port.
func TestRouteListener(t *testing.T) {
	redirect := elbtypes.Action{Type: elbtypes.ActionTypeEnumRedirect, RedirectConfig: &elbtypes.RedirectActionConfig{
		Protocol: sdkaws.String("HTTPS"), Port: sdkaws.String("443"), StatusCode: elbtypes.RedirectActionStatusCodeEnumHttp301}}
	listeners := []elbtypes.Listener{
		listener("l-80", elbtypes.ProtocolEnumHttp, 80, redirect),
		listener("l-443", elbtypes.ProtocolEnumHttps, 443, forwardTo("web")),
		listener("l-8080", elbtypes.ProtocolEnumHttp, 8080, forwardTo("admin")),
	}
	rules := map[string][]elbtypes.Rule{
		"l-80":   {defaultRule(redirect)},
		"l-443":  {rule("1", "a1", conds(pathCond("/api/*")), forwardTo("api")), defaultRule(forwardTo("web"))},
		"l-8080": {defaultRule(forwardTo("admin"))},
	}
	r := newRouter("shop-alb", listeners, rules, testNames, false)
	for _, tc := range []struct{ desc, url, want, detail string }{
		{desc: "https defaults to 443", url: "https://s.example.com/api/x", want: ruleN("1", "a1") + " -> forward api"},
		{desc: "http defaults to 80", url: "http://s.example.com/api/x", want: "HTTP:80 default action -> redirect", detail: "HTTP_301"},
		{desc: "explicit port", url: "http://s.example.com:8080/api/x", want: "HTTP:8080 default action -> forward admin"},
		{desc: "no listener on the port", url: "https://s.example.com:8443/", want: "HTTPS port 8443 -> none", detail: "shop-alb has no listener on port 8443 (its listeners: HTTP:80, HTTPS:443, HTTP:8080)"},
		{desc: "https to an HTTP listener", url: "https://s.example.com:8080/", want: "HTTP:8080 -> none", detail: "does not speak https"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got := r.Route(req(t, "GET", tc.url))
			if s := shorts(got); s != tc.want {
				t.Errorf("routes %s, want %s", s, tc.want)
			}
			if tc.detail != "" && !strings.Contains(got[0].Detail, tc.detail) && !strings.Contains(got[0].Detail, strings.TrimPrefix(tc.detail, "HTTP_")) {
				t.Errorf("detail %q, want it to contain %q", got[0].Detail, tc.detail)
			}
		})
	}
	if d := r.Route(req(t, "GET", "http://s.example.com/a?b=c"))[0].Detail; d != "301 to https://#{host}:443/#{path}?#{query}" {
		t.Errorf("redirect detail %q, want the status and the location template", d)
	}
	t.Run("listener_port: the one listener serves every URL", func(t *testing.T) {
		fixedRouter := newRouter("shop-alb", listeners[2:], rules, testNames, true)
		if s := shorts(fixedRouter.Route(req(t, "GET", "https://s.example.com/"))); s != "HTTP:8080 default action -> forward admin" {
			t.Errorf("routes %s", s)
		}
	})
	t.Run("a TLS listener of a network load balancer forwards by its default action", func(t *testing.T) {
		nlb := newRouter("nlb", []elbtypes.Listener{listener("t", elbtypes.ProtocolEnumTls, 443, weighted("blue:90", "green:10"))}, nil, testNames, false)
		if s := shorts(nlb.Route(req(t, "OPTIONS", "https://s.example.com/x"))); s != "TLS:443 default action -> forward blue:90,green:10" {
			t.Errorf("routes %s", s)
		}
	})
	t.Run("no URL", func(t *testing.T) {
		if got := r.Route(discovery.Request{Method: "GET"}); len(got) != 1 || got[0].Action != discovery.ActionNone {
			t.Errorf("routes %+v, want one none route", got)
		}
	})
}

// TestRouteActions: forward (weighted), authenticate (each
// OnUnauthenticatedRequest, preflight or not, session cookie or not),
// jwt-validation, actions in Order.
func TestRouteActions(t *testing.T) {
	preflight := []string{"Origin: https://app.example.com", "Access-Control-Request-Method: PUT"}
	jwt := elbtypes.Action{Type: elbtypes.ActionTypeEnumJwtValidation, Order: sdkaws.Int32(1)}
	cognito := elbtypes.Action{Type: elbtypes.ActionTypeEnumAuthenticateCognito, Order: sdkaws.Int32(1),
		AuthenticateCognitoConfig: &elbtypes.AuthenticateCognitoActionConfig{UserPoolDomain: sdkaws.String("shop-users"), SessionCookieName: sdkaws.String("shopsession")}}
	for _, tc := range []struct {
		desc    string
		actions []elbtypes.Action
		method  string
		header  []string
		want    string
		details []string // per route, substring
		notes   []string // per route, substring
	}{
		{desc: "weighted forward carries the weights", actions: []elbtypes.Action{weighted("blue:90", "green:10")},
			want: "R -> forward blue:90,green:10"},
		{desc: "a weight of 0 is kept, with a note", actions: []elbtypes.Action{weighted("blue:100", "green:0")},
			want: "R -> forward blue:100,green", notes: []string{"green has weight 0"}},
		{desc: "a ForwardConfig with one group is not weighted", actions: []elbtypes.Action{weighted("api:1")},
			want: "R -> forward api"},
		{desc: "authenticate: a preflight is redirected to the IdP", actions: []elbtypes.Action{ordered(forwardTo("api"), 2), oidc("authenticate", 1)}, method: "OPTIONS", header: preflight,
			want: "R -> authenticate", details: []string{"302 to https://login.example.com/authorize (authenticate-oidc: not logged in); authenticated requests go to api"},
			notes: []string{"a preflight carries no credentials"}},
		{desc: "authenticate is the default behaviour", actions: []elbtypes.Action{oidc("", 1), ordered(forwardTo("api"), 2)}, method: "OPTIONS", header: preflight,
			want: "R -> authenticate", details: []string{"302 to https://login.example.com/authorize"}},
		{desc: "deny: 401 to a preflight", actions: []elbtypes.Action{oidc("deny", 1), ordered(forwardTo("api"), 2)}, method: "OPTIONS", header: preflight,
			want: "R -> authenticate", details: []string{"401 Unauthorized (authenticate-oidc, on_unauthenticated_request deny)"}},
		{desc: "allow: forwarded, with a note", actions: []elbtypes.Action{oidc("allow", 1), ordered(forwardTo("api"), 2)}, method: "OPTIONS", header: preflight,
			want: "R -> forward api", notes: []string{"lets unauthenticated requests through"}},
		{desc: "GET without a Cookie header: logged in or not, both", actions: []elbtypes.Action{oidc("authenticate", 1), ordered(forwardTo("api"), 2)},
			want: "R -> authenticate | R -> forward api", notes: []string{"without the load balancer's session cookie AWSELBAuthSessionCookie", "with a logged-in user's session cookie"}},
		{desc: "GET with the session cookie (a shard)", actions: []elbtypes.Action{oidc("authenticate", 1), ordered(forwardTo("api"), 2)},
			header: []string{"Cookie: a=b; AWSELBAuthSessionCookie-0=xyz"}, want: "R -> forward api", notes: []string{"carries the AWSELBAuthSessionCookie session cookie"}},
		{desc: "GET with other cookies only", actions: []elbtypes.Action{oidc("authenticate", 1), ordered(forwardTo("api"), 2)},
			header: []string{"Cookie: a=b"}, want: "R -> authenticate"},
		{desc: "cognito: its user pool domain and cookie name", actions: []elbtypes.Action{cognito, ordered(forwardTo("api"), 2)}, header: []string{"Cookie: shopsession=1"},
			want: "R -> forward api", notes: []string{"shopsession"}},
		{desc: "cognito preflight", actions: []elbtypes.Action{cognito, ordered(forwardTo("api"), 2)}, method: "OPTIONS", header: preflight,
			want: "R -> authenticate", details: []string{"302 to the Cognito user pool domain shop-users"}},
		{desc: "jwt-validation rejects a preflight", actions: []elbtypes.Action{jwt, ordered(forwardTo("api"), 2)}, method: "OPTIONS", header: preflight,
			want: "R -> authenticate", details: []string{"rejected without a valid JWT (jwt-validation); authenticated requests go to api"}},
		{desc: "jwt-validation with an Authorization header", actions: []elbtypes.Action{jwt, ordered(forwardTo("api"), 2)}, header: []string{"Authorization: Bearer x"},
			want: "R -> forward api", notes: []string{"not verified here"}},
		{desc: "jwt-validation without", actions: []elbtypes.Action{jwt, ordered(forwardTo("api"), 2)},
			want: "R -> authenticate"},
		{desc: "authenticate before a fixed response", actions: []elbtypes.Action{oidc("deny", 1), ordered(fixed("403", "text/plain"), 2)}, method: "OPTIONS", header: preflight,
			want: "R -> authenticate", details: []string{"authenticated requests get fixed response 403 (text/plain)"}},
		{desc: "transforms are noted", actions: []elbtypes.Action{forwardTo("api")}, want: "R -> forward api", notes: []string{"url-rewrite"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			ru := rule("1", "a1", conds(pathCond("/*")), tc.actions...)
			if strings.HasPrefix(tc.desc, "transforms") {
				ru.Transforms = []elbtypes.RuleTransform{{Type: elbtypes.TransformTypeEnumUrlRewrite}}
			}
			method := tc.method
			if method == "" {
				method = "GET"
			}
			got := routerOf(ru).Route(req(t, method, "https://s.example.com/api/x", tc.header...))
			if s := strings.ReplaceAll(shorts(got), ruleN("1", "a1"), "R"); s != tc.want {
				t.Fatalf("routes %s\nwant   %s", s, tc.want)
			}
			for i, d := range tc.details {
				if !strings.Contains(got[i].Detail, d) {
					t.Errorf("route %d detail %q, want it to contain %q", i, got[i].Detail, d)
				}
			}
			for i, n := range tc.notes {
				if !strings.Contains(got[i].Note, n) {
					t.Errorf("route %d note %q, want it to contain %q", i, got[i].Note, n)
				}
			}
		})
	}
}

// TestWildcard: the ELB wildcard syntax.
func TestWildcard(t *testing.T) {
	for _, tc := range []struct {
		pattern, s    string
		fold, escapes bool
		want          bool
	}{
		{pattern: "", s: "", want: true},
		{pattern: "*", s: "", want: true},
		{pattern: "*", s: "anything", want: true},
		{pattern: "a*b*c", s: "aXXbYYc", want: true},
		{pattern: "a*b*c", s: "aXXbYY", want: false},
		{pattern: "*.example.com", s: "a.b.example.com", want: true},
		{pattern: "?", s: "", want: false},
		{pattern: "??", s: "ab", want: true},
		{pattern: "A", s: "a", want: false},
		{pattern: "A", s: "a", fold: true, want: true},
		{pattern: `\*`, s: "x", escapes: true, want: false},
		{pattern: `\*`, s: "*", escapes: true, want: true},
		{pattern: `\?`, s: "?", escapes: true, want: true},
		{pattern: `a\b`, s: `a\b`, escapes: true, want: true},
		{pattern: `\*`, s: `\x`, want: true},
		{pattern: "*a*a*a*a*a*b", s: strings.Repeat("a", 100), want: false},
	} {
		if got := wildcard(tc.pattern, tc.s, tc.fold, tc.escapes); got != tc.want {
			t.Errorf("wildcard(%q, %q, fold %v, escapes %v) = %v, want %v", tc.pattern, tc.s, tc.fold, tc.escapes, got, tc.want)
		}
	}
}

// FuzzWildcard checks the matcher against a regular expression built from
// the same pattern.
func FuzzWildcard(f *testing.F) {
	for _, s := range [][2]string{{"*.example.com", "a.example.com"}, {"/api/*", "/api/x"}, {`a\*?`, "a*b"}, {"?*?", "ab"}} {
		f.Add(s[0], s[1], false, true)
	}
	f.Fuzz(func(t *testing.T, pattern, s string, fold, escapes bool) {
		var b strings.Builder
		b.WriteString(`(?s)^`)
		if fold {
			b.WriteString(`(?i)`)
		}
		for i := 0; i < len(pattern); i++ {
			c := pattern[i]
			switch {
			case escapes && c == '\\' && i+1 < len(pattern) && (pattern[i+1] == '*' || pattern[i+1] == '?'):
				b.WriteString(regexp.QuoteMeta(string(pattern[i+1])))
				i++
			case c == '*':
				b.WriteString(`[\x00-\xff]*`)
			case c == '?':
				b.WriteString(`[\x00-\xff]`)
			default:
				b.WriteString(`\x` + strconv.FormatUint(uint64(c)>>4, 16) + strconv.FormatUint(uint64(c)&15, 16))
			}
		}
		b.WriteString(`$`)
		// Byte-wise reference: Latin-1 view of both strings, so that ?
		// is one byte as in wildcard. Case folding is ASCII only.
		if fold && strings.ContainsFunc(pattern+s, func(r rune) bool { return r > 0x7f }) {
			return
		}
		re := regexp.MustCompile(b.String())
		if got, want := wildcard(pattern, s, fold, escapes), re.MatchString(latin1(s)); got != want {
			t.Errorf("wildcard(%q, %q, fold %v, escapes %v) = %v, reference %v", pattern, s, fold, escapes, got, want)
		}
	})
}

// latin1 maps each byte of s to the rune of the same value, so a regexp
// over runes sees bytes.
func latin1(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// BenchmarkRoute routes requests through a listener of 100 rules (the
// ALB's default quota), each with a host, a path and a method condition;
// most requests reach the default rule after evaluating all of them.
func BenchmarkRoute(b *testing.B) {
	var rules []elbtypes.Rule
	for i := range 100 {
		rules = append(rules, rule(strconv.Itoa(i+1), "b"+strconv.Itoa(i), conds(hostCond("svc"+strconv.Itoa(i)+".example.com"), pathCond("/api/v"+strconv.Itoa(i)+"/*"), methodCond("GET", "OPTIONS")), forwardTo("api")))
	}
	r := routerOf(rules...)
	u, _ := url.Parse("https://shop.example.com/api/v200/cart?x=1")
	q := discovery.Request{Method: "OPTIONS", URL: u, Header: http.Header{"Origin": {"https://app.example.com"}, "Access-Control-Request-Method": {"PUT"}}}
	b.ReportAllocs()
	for b.Loop() {
		if got := r.Route(q); len(got) != 1 || got[0].Rule != dflt {
			b.Fatalf("routes %s", shorts(got))
		}
	}
}

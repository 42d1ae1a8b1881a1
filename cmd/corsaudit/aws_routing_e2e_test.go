package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
	"github.com/corsaudit/corsaudit/pipeline"
	"github.com/corsaudit/corsaudit/providers/aws/awstest"
)

// The CORS configs of the three services behind the shared ALB: each pool
// is consistent inside, and the pools differ, so comparing instances of
// two pools would report drift that is only the difference between two
// services. api and web both follow the shop's policy but differ in
// Max-Age and exposed headers (header drift if mixed up); admin serves
// another origin (verdict drift and policy violations if mixed up).
var (
	apiCORS = labserver.Behavior{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "PUT"},
		AllowHeaders: []string{"Content-Type", "X-Request-Id"}, ExposeHeaders: []string{"X-Total-Count"}, Credentials: true, MaxAge: 600}
	webCORS = labserver.Behavior{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "PUT"},
		AllowHeaders: []string{"X-Request-Id"}, Credentials: true, MaxAge: 60}
	adminCORS = labserver.Behavior{AllowOrigins: []string{"https://admin-app.example.com"}, AllowMethods: []string{"GET", "DELETE"},
		AllowHeaders: []string{"X-Request-Id"}}
	// apiDrifted is an api instance left on an older config: it blocks PUT.
	apiDrifted = labserver.Behavior{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "POST"},
		AllowHeaders: []string{"Content-Type", "X-Request-Id"}, ExposeHeaders: []string{"X-Total-Count"}, Credentials: true, MaxAge: 600}
)

// awsCalls counts the ELB and EC2 API calls that reach moto, by action.
type awsCalls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *awsCalls) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// countAWS puts a loopback proxy in front of moto that counts the API
// calls by action (the query protocol's Action form field), and points
// the SDK's default chain at it for the rest of the test.
func countAWS(t *testing.T, moto *awstest.Moto) *awsCalls {
	t.Helper()
	calls := &awsCalls{n: map[string]int{}}
	target, err := url.Parse(moto.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		form, _ := url.ParseQuery(string(body))
		action := form.Get("Action")
		if action == "" {
			action = r.Header.Get("X-Amz-Target")
		}
		calls.mu.Lock()
		calls.n[action]++
		calls.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		r.ContentLength = int64(len(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	return calls
}

// sharedALB is issue 21's shared ALB, built in moto_server: target groups
// api (3 ip targets), admin (2) and web (3), every target a labserver on
// its own loopback address. Its HTTPS:443 and HTTP:80 listeners have the
// same rules:
//
//	5  (uploadRule only)  OPTIONS and path /api/upload -> fixed-response 204
//	10 path /api/*                                     -> forward api
//	20 host admin.example.com                          -> forward admin
//	default                                            -> forward web
//
// The load balancer is a loopback proxy routing the same way; the "shop"
// target samples it through its HTTP:80 listener (listener_port: 80), the
// "admin" target (https://admin.example.com/, never dialled) is routed by
// its Host on HTTPS:443 and not sampled.
type sharedALB struct {
	Config    string
	Instances []*poolInstance
	LB        *loopbackLB
	Calls     *awsCalls
	// Drifted is the id of the api instance on apiDrifted, if any.
	Drifted string
}

func newSharedALB(t *testing.T, driftOne, uploadRule bool) *sharedALB {
	t.Helper()
	moto := awstest.Start(t)
	moto.Env(t)
	s := &sharedALB{}
	pools := []struct {
		name  string
		hosts []string
		b     labserver.Behavior
	}{
		{"api", []string{"127.0.1.11", "127.0.1.12", "127.0.1.13"}, apiCORS},
		{"admin", []string{"127.0.1.21", "127.0.1.22"}, adminCORS},
		{"web", []string{"127.0.1.31", "127.0.1.32", "127.0.1.33"}, webCORS},
	}
	alb := moto.NewALB(t, "shared-alb")
	for _, p := range pools {
		g := awstest.Group{Name: p.name, Port: 8080}
		for i, host := range p.hosts {
			b := p.b
			if driftOne && p.name == "api" && i == 1 {
				b = apiDrifted
			}
			in := servePool(t, p.name, host, "", b)
			if driftOne && p.name == "api" && i == 1 {
				s.Drifted = in.Addr.String()
			}
			s.Instances = append(s.Instances, in)
			g.Targets = append(g.Targets, in.Addr)
		}
		moto.AddGroup(t, &alb, g)
	}
	str := sdkaws.String
	api, admin, web := alb.GroupARNs["api"], alb.GroupARNs["admin"], alb.GroupARNs["web"]
	for _, l := range []string{
		moto.AddListener(t, alb, elbtypes.ProtocolEnumHttps, 443, awstest.Forward(web)),
		moto.AddListener(t, alb, elbtypes.ProtocolEnumHttp, 80, awstest.Forward(web)),
	} {
		if uploadRule {
			moto.AddRule(t, l, 5, []elbtypes.RuleCondition{
				{Field: str("http-request-method"), HttpRequestMethodConfig: &elbtypes.HttpRequestMethodConditionConfig{Values: []string{"OPTIONS"}}},
				{Field: str("path-pattern"), Values: []string{"/api/upload"}},
			}, elbtypes.Action{Type: elbtypes.ActionTypeEnumFixedResponse,
				FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: str("204"), ContentType: str("text/plain")}})
		}
		moto.AddRule(t, l, 10, []elbtypes.RuleCondition{{Field: str("path-pattern"), Values: []string{"/api/*"}}}, awstest.Forward(api))
		moto.AddRule(t, l, 20, []elbtypes.RuleCondition{{Field: str("host-header"), Values: []string{"admin.example.com"}}}, awstest.Forward(admin))
	}
	s.Calls = countAWS(t, moto)
	s.LB = startLB(t, s.Instances, func(r *http.Request) (string, int) {
		switch {
		case uploadRule && r.Method == http.MethodOptions && r.URL.Path == "/api/upload":
			return "", http.StatusNoContent
		case strings.HasPrefix(r.URL.Path, "/api/"):
			return "api", 0
		case strings.EqualFold(r.Host, "admin.example.com"):
			return "admin", 0
		}
		return "web", 0
	})
	paths := "[/api/cart, /]"
	if uploadRule {
		paths = "[/api/cart, /api/upload, /]"
	}
	s.Config = writeConfig(t, "targets:\n"+shopTargetYAML(s.LB.URL, paths, "")+fmt.Sprintf(`  - name: admin
    url: https://admin.example.com/
    discover:
      aws: {region: %s, load_balancer: shared-alb}
    direct: {scheme: http}
    lb: {disabled: true}
    policy:
      origins: [https://admin-app.example.com]
      methods: [GET, DELETE]
      headers: [X-Request-Id]
`, awstest.Region))
	return s
}

// shopTargetYAML is the shop target of the shared ALB on paths, sampled
// through the loopback load balancer at lbURL (its HTTP:80 listener routes
// every URL: listener_port), awsExtra more keys of its aws: section.
func shopTargetYAML(lbURL, paths, awsExtra string) string {
	return fmt.Sprintf(`  - name: shop
    url: %s/api/cart
    paths: %s
    discover:
      aws: {region: %s, load_balancer: shared-alb, listener_port: 80%s}
    direct: {scheme: http}
    lb: {instance_header: X-Instance-Id}
    policy:
      origins: [https://app.example.com]
      methods: [GET, PUT]
      headers: [X-Request-Id]
      credentials: true
`, lbURL, paths, awstest.Region, awsExtra)
}

// auditJSON runs `corsaudit <args> --format json` and decodes the report.
func auditJSON(t *testing.T, args ...string) (int, diff.Report, string) {
	t.Helper()
	code, out, stderr := runCLI(append(args, "--format", "json")...)
	var rep diff.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%s: exit %d, output is not JSON: %v\nstdout: %s\nstderr: %s", args[0], code, err, out, stderr)
	}
	return code, rep, stderr
}

// inventoryJSON runs `corsaudit discover --format json` and decodes the
// inventory.
func inventoryJSON(t *testing.T, path string) (int, pipeline.Inventory, string) {
	t.Helper()
	code, out, stderr := runCLI("discover", "--config", path, "--format", "json")
	var inv pipeline.Inventory
	if err := json.Unmarshal([]byte(out), &inv); err != nil {
		t.Fatalf("discover: exit %d, output is not JSON: %v\nstdout: %s\nstderr: %s", code, err, out, stderr)
	}
	return code, inv, stderr
}

// findingLines is every finding as "kind severity target instances path".
func findingLines(fs []diff.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s %s %s %v %s: %s\n", f.Kind, f.Severity, f.Target, f.Instances, f.Path, f.Message)
	}
	return b.String()
}

// TestAWSSharedALBRouted: issue 21 end to end through the CLI against
// moto. Every instance is compared only with its own pool on the paths
// its rules send it: the clean fleet has no drift and exits 0, the api
// instance on an older config is the only one named (exit 1), the
// load balancer sample goes where its rules send it, and the ELB API is
// read once per listener.
func TestAWSSharedALBRouted(t *testing.T) {
	for _, tc := range []struct {
		desc     string
		drift    bool
		wantCode int
	}{
		{desc: "three services, each consistent", wantCode: exitClean},
		{desc: "one api instance drifts", drift: true, wantCode: exitFindings},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			s := newSharedALB(t, tc.drift, false)
			code, rep, stderr := auditJSON(t, "audit", "--config", s.Config)
			if code != tc.wantCode {
				t.Errorf("audit: exit %d, want %d\nfindings:\n%s\nstderr:\n%s", code, tc.wantCode, findingLines(rep.Findings), stderr)
			}
			// Every finding names the drifted instance alone, and the
			// drift is found.
			drifts := 0
			for _, f := range rep.Findings {
				if f.Kind == diff.KindVerdictDrift || f.Kind == diff.KindHeaderDrift || f.Kind == diff.KindSplit {
					drifts++
				}
				if f.Severity == diff.SeverityInfo {
					continue
				}
				// An lb-mismatch names the load balancer and the instance that
				// served its sample.
				named := slices.DeleteFunc(slices.Clone(f.Instances), func(id string) bool { return id == "lb" && f.Kind == diff.KindLBMismatch })
				if !tc.drift || f.Target != "shop" || !slices.Equal(named, []string{s.Drifted}) || !strings.HasPrefix(f.Path, "/api/") {
					t.Errorf("finding %s %s on %s %v path %q: want none, or the drifted api instance %s on /api/…",
						f.Kind, f.Severity, f.Target, f.Instances, f.Path, s.Drifted)
				}
			}
			t.Logf("findings:\n%s", findingLines(rep.Findings))
			if tc.drift && drifts == 0 {
				t.Errorf("no drift finding for %s:\n%s", s.Drifted, findingLines(rep.Findings))
			}
			if !tc.drift && drifts != 0 {
				t.Errorf("%d drift findings in a fleet where each pool is consistent:\n%s", drifts, findingLines(rep.Findings))
			}
			// What each pool was sent: api only /api/cart, web only /,
			// admin only its own target's path; the LB sampled api and web.
			want := map[string][]string{"api": {"/api/cart"}, "web": {"/"}, "admin": {"/"}}
			if got := pathsByPool(s.Instances); !mapsEqual(got, want) {
				t.Errorf("paths sent per pool = %v, want %v", got, want)
			}
			for _, in := range s.Instances {
				if in.Stats().Preflights == 0 {
					t.Errorf("%s instance %s received no preflight", in.Pool, in.Addr)
				}
			}
			if s.LB.Sent("api") == 0 || s.LB.Sent("web") == 0 || s.LB.Sent("admin") != 0 {
				t.Errorf("load balancer forwarded api %d, web %d, admin %d requests; want api and web sampled, admin not",
					s.LB.Sent("api"), s.LB.Sent("web"), s.LB.Sent("admin"))
			}
			for _, w := range []string{"shop: pool admin serves none of the probed requests", "admin: pool api serves none", "admin: pool web serves none"} {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			// shop reads the HTTP:80 listener only (listener_port), admin
			// both: one DescribeRules per listener read, never per path,
			// probe or instance.
			calls := s.Calls.snapshot()
			if calls["DescribeRules"] != 3 || calls["DescribeListeners"] != 2 || calls["DescribeLoadBalancers"] != 2 {
				t.Errorf("API calls %v, want 3 DescribeRules (one per listener read), 2 DescribeListeners, 2 DescribeLoadBalancers", calls)
			}
			t.Logf("API calls of one audit of two targets: %v", calls)
		})
	}
}

// mapsEqual compares two maps of string lists.
func mapsEqual(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestAWSFixedResponseOptions: a rule that answers OPTIONS /api/upload
// with a fixed response is an lb-answers-options error naming the rule,
// from the routes alone: `discover` shows it in its table and JSON and
// exits 0; `audit` reports it and exits 1, sends that preflight nowhere,
// and still compares the api instances on the other requests.
func TestAWSFixedResponseOptions(t *testing.T) {
	s := newSharedALB(t, false, true)
	ruleName := func(r string) bool {
		return strings.HasPrefix(r, "HTTP:80 rule priority 5 (") && strings.HasSuffix(r, ")")
	}

	code, inv, stderr := inventoryJSON(t, s.Config)
	if code != exitClean {
		t.Fatalf("discover --format json: exit %d, want 0 whatever the routes' findings\nstderr:\n%s", code, stderr)
	}
	shop := inv.Targets[0]
	var fixed []pipeline.RoutingEntry
	for _, e := range shop.Routing {
		if e.Path == "/api/upload" && e.Method == http.MethodOptions {
			fixed = append(fixed, e)
		}
	}
	if len(fixed) != 1 || !ruleName(fixed[0].Rule) || fixed[0].Action != "fixed-response" || fixed[0].Detail != "fixed response 204 (text/plain)" {
		t.Errorf("routing of OPTIONS /api/upload = %+v, want rule priority 5's fixed-response 204", fixed)
	}
	var answers []diff.Finding
	for _, f := range shop.Findings {
		if f.Kind == diff.KindLBAnswersOptions {
			answers = append(answers, f)
		}
	}
	if len(answers) != 1 || answers[0].Severity != diff.SeverityError || answers[0].Path != "/api/upload" ||
		!strings.Contains(answers[0].Message, "HTTP:80 rule priority 5 (") {
		t.Errorf("discover's findings:\n%s\nwant one lb-answers-options error on /api/upload naming rule priority 5", findingLines(shop.Findings))
	}
	if !slices.Equal(leftOut(shop.LeftOut), []string{"admin"}) {
		t.Errorf("left out %v, want admin", shop.LeftOut)
	}

	code, table, stderr := runCLI("discover", "--config", s.Config)
	if code != exitClean {
		t.Fatalf("discover: exit %d, want 0\nstderr:\n%s", code, stderr)
	}
	for _, w := range []string{"/api/upload", "OPTIONS (preflight)", "HTTP:80 rule priority 5 (", "fixed-response",
		"not audited: pool admin serves none of the probed requests", "findings from the routes alone",
		"error    lb-answers-options"} {
		if !strings.Contains(table, w) {
			t.Errorf("discover's table lacks %q:\n%s", w, table)
		}
	}
	t.Logf("corsaudit discover:\n%s", table)

	code, rep, stderr := auditJSON(t, "audit", "--config", s.Config)
	if code != exitFindings {
		t.Errorf("audit: exit %d, want 1\nfindings:\n%s\nstderr:\n%s", code, findingLines(rep.Findings), stderr)
	}
	for _, f := range rep.Findings {
		switch {
		case f.Kind == diff.KindLBAnswersOptions && f.Path == "/api/upload" && strings.Contains(f.Message, "HTTP:80 rule priority 5 ("):
		case f.Severity == diff.SeverityInfo:
		default:
			t.Errorf("unexpected finding %s %s %v %s: %s", f.Kind, f.Severity, f.Instances, f.Path, f.Message)
		}
	}
	if n := countKind(rep.Findings, diff.KindLBAnswersOptions); n != 1 {
		t.Errorf("%d lb-answers-options findings, want 1:\n%s", n, findingLines(rep.Findings))
	}
	// The api instances get /api/upload's GET (rule 10), never its
	// preflight: the load balancer answers that itself, and it is not
	// sampled.
	for _, in := range s.Instances {
		if in.Pool == "api" && (!slices.Equal(in.Paths(), []string{"/api/cart", "/api/upload"}) || in.Received(http.MethodGet, "/api/upload") == 0) {
			t.Errorf("api instance %s was sent %v, want /api/cart and GET /api/upload", in.Addr, in.Paths())
		}
		if n := in.Received(http.MethodOptions, "/api/upload"); n != 0 {
			t.Errorf("%s instance %s was sent OPTIONS /api/upload %d times, want never", in.Pool, in.Addr, n)
		}
	}
	if n := s.LB.Answered(); n != 0 {
		t.Errorf("the load balancer was sent %d requests it answers itself (OPTIONS /api/upload), want none", n)
	}
}

// TestAWSDocsWorkedExample: docs/providers.md's AWS worked example, its
// config as written (plus the region), against the same rules in moto:
// `discover` (which sends nothing, so the public name is never dialled)
// routes each path and step as the example's table says, leaves admin out
// with the line the example quotes, and reports rule priority 5.
func TestAWSDocsWorkedExample(t *testing.T) {
	newSharedALB(t, false, true)
	cfg := writeConfig(t, `targets:
  - name: shop
    url: https://shop.example.com/api/cart
    paths: [/api/cart, /api/upload, /]
    discover:
      aws: {load_balancer: shared-alb, region: `+awstest.Region+`}
    policy:
      origins: [https://app.example.com]
      methods: [GET, PUT]
`)
	code, inv, stderr := inventoryJSON(t, cfg)
	if code != exitClean {
		t.Fatalf("discover: exit %d\nstderr:\n%s", code, stderr)
	}
	rule := regexp.MustCompile(`\(…/[0-9a-f]+\)`)
	var got []string
	for _, e := range inv.Targets[0].Routing {
		got = append(got, fmt.Sprintf("%s %s %s: %s -> %s", e.Step, e.Method, e.Path, rule.ReplaceAllString(e.Rule, "(…)"), e.Describe()))
	}
	want := []string{
		"actual GET /api/cart: HTTPS:443 rule priority 10 (…) -> forward to api",
		"preflight OPTIONS /api/cart: HTTPS:443 rule priority 10 (…) -> forward to api",
		"actual PUT /api/cart: HTTPS:443 rule priority 10 (…) -> forward to api",
		"actual GET /api/upload: HTTPS:443 rule priority 10 (…) -> forward to api",
		"preflight OPTIONS /api/upload: HTTPS:443 rule priority 5 (…) -> fixed-response: fixed response 204 (text/plain)",
		"actual PUT /api/upload: HTTPS:443 rule priority 10 (…) -> forward to api",
		"actual GET /: HTTPS:443 default action -> forward to web",
		"preflight OPTIONS /: HTTPS:443 default action -> forward to web",
		"actual PUT /: HTTPS:443 default action -> forward to web",
	}
	if !slices.Equal(got, want) {
		t.Errorf("routing:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if lo := inv.Targets[0].LeftOut; len(lo) != 1 || lo[0] != (audit.PoolCount{Pool: "admin", Instances: 2}) {
		t.Errorf("left out %v, want admin's 2 instances", lo)
	}
	fs := inv.Targets[0].Findings
	if len(fs) != 1 || fs[0].Kind != diff.KindLBAnswersOptions || fs[0].Severity != diff.SeverityError ||
		!strings.Contains(fs[0].Message, "rule: HTTPS:443 rule priority 5 (") {
		t.Errorf("findings:\n%s\nwant one lb-answers-options error naming rule priority 5", findingLines(fs))
	}
	code, table, stderr := runCLI("discover", "--config", cfg)
	w := "not audited: pool admin serves none of the probed requests (the load balancer routes them elsewhere): its 2 instances are not audited"
	if code != exitClean || !strings.Contains(table, w) {
		t.Errorf("discover: exit %d, want 0 and a table with %q:\n%s\nstderr:\n%s", code, w, table, stderr)
	}
}

// leftOut is the names of the pools left out.
func leftOut(pcs []audit.PoolCount) []string {
	var out []string
	for _, pc := range pcs {
		out = append(out, pc.Pool)
	}
	return out
}

// countKind is the number of findings of kind k.
func countKind(fs []diff.Finding, k diff.Kind) int {
	n := 0
	for _, f := range fs {
		if f.Kind == k {
			n++
		}
	}
	return n
}

// TestAWSTargetGroupsStillRoute: target_groups: [api] audits the api pool
// on the requests its rules send it; the default route's requests go to
// web, which is not audited: an unaudited-route warning naming the
// default action (exit 0), and nothing is sent to web, directly or
// through the load balancer.
func TestAWSTargetGroupsStillRoute(t *testing.T) {
	s := newSharedALB(t, false, false)
	cfg := writeConfig(t, "targets:\n"+shopTargetYAML(s.LB.URL, "[/api/cart, /]", ", target_groups: [api]"))
	code, rep, stderr := auditJSON(t, "audit", "--config", cfg)
	if code != exitClean {
		t.Errorf("audit: exit %d, want 0\nfindings:\n%s\nstderr:\n%s", code, findingLines(rep.Findings), stderr)
	}
	for _, f := range rep.Findings {
		if f.Kind != diff.KindUnauditedRoute || f.Path != "/" || f.Severity != diff.SeverityWarning ||
			!strings.Contains(f.Message, "pool web") || !strings.Contains(f.Message, "rule: HTTP:80 default action") {
			t.Errorf("finding %s %s %s: %s; want only unaudited-route warnings on / naming web and the default action", f.Kind, f.Severity, f.Path, f.Message)
		}
	}
	if countKind(rep.Findings, diff.KindUnauditedRoute) == 0 {
		t.Errorf("no unaudited-route finding for /:\n%s", findingLines(rep.Findings))
	}
	if got := pathsByPool(s.Instances); !mapsEqual(got, map[string][]string{"api": {"/api/cart"}}) || s.LB.Sent("web") != 0 || s.LB.Sent("api") == 0 {
		t.Errorf("paths sent per pool %v, through the load balancer to web %d, api %d: want /api/cart to api only",
			got, s.LB.Sent("web"), s.LB.Sent("api"))
	}
}

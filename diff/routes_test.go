package diff

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/discovery"
)

// routed is probes on path, each step routed by route.
func routed(probes []audit.Probe, path, prefix string, route discovery.Route) []audit.Probe {
	out := make([]audit.Probe, len(probes))
	for p, pr := range probes {
		pr.ID, pr.Path = prefix+pr.ID, path
		for _, step := range audit.BrowserSteps(pr, cors.Chromium) {
			pr.Routes = append(pr.Routes, audit.StepRoute{Step: step, Route: route})
		}
		out[p] = pr
	}
	return out
}

func forward(rule string, pools ...discovery.Pool) discovery.Route {
	return discovery.Route{Rule: rule, Action: discovery.ActionForward, Pools: pools}
}

// pooled is an instance of a routed fleet: its pool, group and answers.
type pooled struct {
	pool, group string
	b           behaviour
}

// routedFleet is fleetOf for routed probes: an instance answers the
// probes its pool serves and holds a not-routed cell for the others, as
// the engine records them.
func routedFleet(probes []audit.Probe, insts ...pooled) *audit.TargetResult {
	u, _ := url.Parse(testURL)
	res := &audit.TargetResult{URL: u, Spec: audit.TargetSpec{Probes: probes, Target: discovery.Target{Name: "api", URL: testURL}}}
	var rows [][]audit.Observation
	for i, in := range insts {
		di := discovery.Instance{ID: fmt.Sprintf("%s-%d", in.pool, i+1), Addr: fmt.Sprintf("127.0.0.1:%d", 8001+i), Group: in.group, Pool: in.pool}
		res.Spec.Target.Instances = append(res.Spec.Target.Instances, di)
		row := make([]audit.Observation, len(probes))
		for p, pr := range probes {
			if !pr.Serves(in.pool) {
				row[p] = audit.Observation{Probe: p, Sample: -1, NotRun: audit.NotRunNotRouted}
				continue
			}
			pre, act := in.b(pr)
			row[p] = observe(pr, di.Addr, http.StatusNoContent, pre, act)
			row[p].Probe, row[p].Instance = p, di.ID
		}
		rows = append(rows, row)
	}
	res.Direct = directOf(res.Spec.Target.Instances, len(probes), rows...)
	return res
}

func kindsOf(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, string(f.Kind)+" "+strings.Join(f.Instances, ","))
	}
	return out
}

// TestRoutedComparisons: instances are compared only with the instances
// that serve the same route. Two pools on two paths, each consistent, are
// clean although their answers differ (the same answers without routes
// are drift); a pool that reflects origins is reported without calling
// the other pool a drift; a gate whose candidate group answers a route
// the baseline does not serve fails, saying so.
func TestRoutedComparisons(t *testing.T) {
	pol := audit.Policy{Origins: []string{appOrigin}, Methods: []string{"GET", "PUT"}, Credentials: true}
	plan, _, err := audit.PlanTarget(pol, "api.example.com", true, 200)
	if err != nil {
		t.Fatal(err)
	}
	probes := append(routed(plan, "/api", "a", forward("rule 10", discovery.Pool{Name: "api"})),
		routed(plan, "/", "w", forward("default", discovery.Pool{Name: "web"}))...)
	api := policyAnswers(setPre(cors.ACMA, "600"))
	web := policyAnswers(setPre(cors.ACMA, "60"))
	fleet := func(webB behaviour) *audit.TargetResult {
		return routedFleet(probes, pooled{"api", "blue", api}, pooled{"api", "blue", api}, pooled{"api", "green", api},
			pooled{"web", "green", webB}, pooled{"web", "green", webB}, pooled{"web", "green", webB})
	}

	if _, fs := Compare(fleet(web), Options{}); len(fs) != 0 {
		t.Errorf("routed pools: findings %q, want none", kindsOf(fs))
	}
	unrouted := fleet(web)
	unrouted.Spec.Probes = slices.Clone(probes)
	var rows [][]audit.Observation
	for i := range unrouted.Direct.Instances() {
		row := unrouted.Direct.Row(i)
		for p := range row {
			unrouted.Spec.Probes[p].Routes = nil
			if !row[p].Done {
				in := unrouted.Spec.Target.Instances[i]
				b := api
				if in.Pool == "web" {
					b = web
				}
				pre, act := b(probes[p])
				row[p] = observe(probes[p], in.Addr, http.StatusNoContent, pre, act)
			}
		}
		rows = append(rows, row)
	}
	unrouted.Direct = directOf(unrouted.Spec.Target.Instances, len(probes), rows...)
	if _, fs := Compare(unrouted, Options{}); !slices.ContainsFunc(fs, func(f Finding) bool { return f.Kind == KindHeaderDrift || f.Kind == KindSplit }) {
		t.Errorf("the same answers without routes: findings %q, want drift (the test's pools no longer differ)", kindsOf(fs))
	}

	reflecting := policyAnswers(setPre(cors.ACMA, "60"), func(pr audit.Probe, pre, act http.Header) {
		for _, h := range []http.Header{pre, act} {
			h.Set(cors.ACAO, pr.Origin)
			h.Set(cors.ACAC, "true")
		}
	})
	_, fs := Compare(fleet(reflecting), Options{})
	var kinds []string
	for _, f := range fs {
		if f.Kind != KindPolicyViolation {
			kinds = append(kinds, string(f.Kind)+" "+strings.Join(f.Instances, ","))
		}
	}
	if want := []string{"origin-reflection web-4,web-5,web-6"}; !slices.Equal(kinds, want) {
		t.Errorf("a reflecting pool: findings %q (policy violations aside), want %q: the api pool is no drift", kinds, want)
	}

	gate := Gate{Baseline: "blue", Candidate: "green", MinInstances: 1}
	tr, gfs := Compare(fleet(web), gate.Options(nil))
	failures := gate.Failures(&Report{Targets: []TargetReport{tr}, Findings: gfs})
	if len(failures) == 0 || !strings.Contains(failures[0], `wp1 GET from https://app.example.com: candidate group "green" answers it, no instance of the baseline group "blue" does (routed: GET: default -> forward to web): nothing to compare with`) {
		t.Errorf("gate failures %q, want the web route, which no baseline instance serves", failures)
	}
	for _, f := range failures {
		if strings.Contains(f, ": ap") {
			t.Errorf("gate fails an api probe, which blue and green both serve alike: %s", f)
		}
	}
}

// TestRouteFindings: what the routes show without a request, one finding
// per cause (kind, path, rule and what it does), listing the methods and
// probes it covers, naming the rule, and reproducible with curl by a
// request corsaudit itself may send: never the unsafe actual request (a
// PUT) a browser sends after the preflight, which a pasted curl line would
// send to production.
func TestRouteFindings(t *testing.T) {
	probes := testProbes() // p1 GET app, p2 PUT app, p3 GET admin, p4 PUT admin, p5 GET, p6 PUT disallowed
	put := func(ids ...string) []string { return ids }
	bucket := discovery.Route{Rule: "url map web: path rule /*", Action: discovery.ActionBucket, Detail: "backend bucket assets"}
	for _, tc := range []struct {
		desc     string
		pre, act discovery.Route
		// put, when set, routes the actual PUT (else act does).
		put  *discovery.Route
		want []string // "kind severity probes: message part"
		// curls is, per finding, the method its curl line sends ("": no
		// curl line).
		curls []string
	}{
		{desc: "forwarded to discovered pools: nothing", pre: forward("rule 1", discovery.Pool{Name: "api"}), act: forward("rule 1", discovery.Pool{Name: "api"})},
		{desc: "a preflight redirected",
			pre: discovery.Route{Rule: "HTTP:80 default action", Action: discovery.ActionRedirect, Detail: "301 to https://api.example.com/data"},
			act: forward("rule 1", discovery.Pool{Name: "api"}),
			want: put("lb-redirect error p2,p4,p6: the load balancer redirects OPTIONS /data (redirect (301 to https://api.example.com/data))",
				"rule: HTTP:80 default action"),
			curls: []string{"OPTIONS"}},
		{desc: "a preflight sent to the identity provider",
			pre:   discovery.Route{Rule: "HTTPS:443 rule priority 4 (…/77aa)", Action: discovery.ActionAuthenticate, Detail: "302 to https://login.example.com/"},
			act:   forward("rule 1", discovery.Pool{Name: "api"}),
			want:  put("lb-redirect error p2,p4,p6: the load balancer sends to its identity provider (a preflight never carries the login cookie) OPTIONS /data"),
			curls: []string{"OPTIONS"}},
		{desc: "a fixed response to OPTIONS",
			pre: discovery.Route{Rule: "HTTPS:443 rule priority 3 (…/0f3e)", Action: discovery.ActionFixedResponse, Detail: "fixed response 204"},
			act: forward("rule 1", discovery.Pool{Name: "api"}),
			want: put("lb-answers-options error p2,p4,p6: the load balancer answers OPTIONS /data itself (fixed-response (fixed response 204)), without CORS headers",
				"rule: HTTPS:443 rule priority 3 (…/0f3e)"),
			curls: []string{"OPTIONS"}},
		{desc: "a bucket, and a pool nobody discovered: one finding each, whatever the methods",
			pre: forward("rule 1", discovery.Pool{Name: "api", Weight: 80}, discovery.Pool{Name: "canary", Weight: 20}),
			act: bucket,
			want: put("unaudited-route warning p2,p4,p6: the load balancer forwards OPTIONS /data to pool canary (weight 20), but no instance of that pool was discovered",
				"unaudited-route warning p1,p2,p3,p4,p5,p6: the load balancer routes GET and PUT /data to backend-bucket (backend bucket assets): a backend bucket answers, not an instance"),
			curls: []string{"GET", "OPTIONS"}},
		{desc: "every step to a pool nobody discovered",
			pre: forward("rule 1", discovery.Pool{Name: "legacy"}), act: forward("rule 1", discovery.Pool{Name: "legacy"}),
			want:  put("unaudited-route warning p1,p2,p3,p4,p5,p6: the load balancer forwards GET, OPTIONS and PUT /data to pool legacy, but no instance of that pool was discovered"),
			curls: []string{"GET"}},
		{desc: "only the actual PUT goes to a bucket: no curl line (it would send a PUT)",
			pre: forward("rule 1", discovery.Pool{Name: "api"}), act: forward("rule 1", discovery.Pool{Name: "api"}), put: &bucket,
			want:  put("unaudited-route warning p2,p4,p6: the load balancer routes PUT /data to backend-bucket (backend bucket assets)"),
			curls: []string{""}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			spec := audit.TargetSpec{Target: discovery.Target{Name: "api", URL: testURL, Instances: []discovery.Instance{{ID: "i1", Pool: "api"}}}}
			for _, pr := range probes {
				for _, step := range audit.BrowserSteps(pr, cors.Chromium) {
					r := tc.act
					switch {
					case step == audit.StepPreflight:
						r = tc.pre
					case pr.Method == http.MethodPut && tc.put != nil:
						r = *tc.put
					}
					pr.Routes = append(pr.Routes, audit.StepRoute{Step: step, Route: r})
				}
				spec.Probes = append(spec.Probes, pr)
			}
			u, _ := url.Parse(testURL)
			fs := RouteFindings(&spec, u, cors.Chromium, 5*time.Second)
			var got, curls []string
			for _, f := range fs {
				var ids []string
				for _, p := range f.Probes {
					ids = append(ids, p.ID)
				}
				got = append(got, fmt.Sprintf("%s %s %s: %s", f.Kind, f.Severity, strings.Join(ids, ","), f.Message))
				curls = append(curls, curlMethod(f.Reproduce))
				if f.Path != "/data" || f.Probe == nil || f.Probe.ID != ids[0] || !slices.Equal(f.Instances, []string{"lb"}) ||
					f.Reproduce != "" && !strings.Contains(f.Reproduce, "--max-time 5") {
					t.Errorf("finding %+v: want path /data, its first probe, the lb, a curl line with the run's timeout", f)
				}
			}
			if len(got) != len(tc.curls) {
				t.Errorf("%d findings, want %d:\n%s", len(got), len(tc.curls), strings.Join(got, "\n"))
			}
			all := strings.Join(got, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("findings lack %q:\n%s", w, all)
				}
			}
			if !slices.Equal(curls, tc.curls) {
				t.Errorf("curl lines send %q, want %q", curls, tc.curls)
			}
		})
	}
}

// curlMethod is the method a curl line sends ("" for no line).
func curlMethod(line string) string {
	switch {
	case line == "":
		return ""
	case !strings.HasPrefix(line, "curl "):
		return "not curl: " + line
	case strings.Contains(line, " -I "):
		return http.MethodHead
	}
	if _, rest, ok := strings.Cut(line, " -X "); ok {
		m, _, _ := strings.Cut(rest, " ")
		return strings.Trim(m, "'")
	}
	return http.MethodGet
}

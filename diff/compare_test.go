package diff

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
)

// wantFinding is a finding a case expects: kind, severity, instances
// exactly, and words its message must hold.
type wantFinding struct {
	kind      Kind
	severity  Severity
	instances []string
	message   []string
}

var allowing = policyAnswers()

// blocksPUT answers the preflight without PUT.
var blocksPUT = policyAnswers(allowedOnly(setPre(cors.ACAM, "GET")))

// allowedOnly applies e to the answers that allow the probe's origin.
func allowedOnly(e edit) edit {
	return func(pr audit.Probe, pre, act http.Header) {
		if pre.Get(cors.ACAO) != "" {
			e(pr, pre, act)
		}
	}
}

// lbOnly is a check set with the LB check only.
var lbOnly = Options{Analyses: []string{AnalysisLB}}

// compareCase is a fleet and the findings it must give.
type compareCase struct {
	desc string
	res  *audit.TargetResult
	opt  Options
	want []wantFinding
	// absent kinds must not be reported.
	absent []Kind
}

// compareCases are fleets that give every kind of finding the comparison
// reports from the answers of instances and the load balancer.
func compareCases() []compareCase {
	probes := testProbes()
	disallowedPUT := func(p audit.Probe) bool { return p.Method == "PUT" && p.Class == audit.ClassDisallowed }
	return []compareCase{
		{
			desc: "one instance blocks what the majority allows: verdict-drift naming it",
			res:  fleetOf(probes, append(same(3, allowing), blocksPUT)...),
			want: []wantFinding{
				{KindVerdictDrift, SeverityError, []string{"web-4"}, []string{"web-4 (1 of 4 instances) omits PUT from Access-Control-Allow-Methods on /data: PUT from https://app.example.com, https://admin.example.com are blocked there"}},
			},
			absent: []Kind{KindHeaderDrift, KindSplit, KindPolicyViolation},
		},
		{
			desc: "all block, one for another reason: header-level drift, not verdict-drift",
			res: fleetOf(probes, append(same(3, allowing), policyAnswers(func(pr audit.Probe, pre, _ http.Header) {
				if disallowedPUT(pr) {
					pre.Set(cors.ACAO, "https://other.example")
				}
			}))...),
			want: []wantFinding{{KindHeaderDrift, SeverityWarning, []string{"web-4"},
				[]string{"web-4 (1 of 4 instances) sends Access-Control-Allow-Origin https://other.example (expected none) on /data: PUT from https://corsaudit-not-allowed.invalid is blocked there for another reason (acao-mismatch instead of acao-missing)"}}},
			absent: []Kind{KindVerdictDrift, KindSplit, KindPolicyViolation},
		},
		{
			desc: "same verdict, other headers: header-drift",
			res:  fleetOf(probes, append(same(3, allowing), policyAnswers(allowedOnly(on("PUT", setPre(cors.ACMA, "600")))))...),
			want: []wantFinding{
				{KindHeaderDrift, SeverityWarning, []string{"web-4"}, []string{"web-4 (1 of 4 instances) sends Access-Control-Max-Age 600 (expected none) on /data: browsers decide the same on 2 requests"}},
			},
			absent: []Kind{KindVerdictDrift},
		},
		{
			desc: "2-2 split with a policy: the instances contradicting it are policy violations",
			res:  fleetOf(probes, allowing, allowing, blocksPUT, blocksPUT),
			want: []wantFinding{
				{KindPolicyViolation, SeverityError, []string{"web-3", "web-4"}, []string{"web-3, web-4 (2 of 4 instances) omit PUT from Access-Control-Allow-Methods on /data: PUT from https://app.example.com, https://admin.example.com are blocked there, which the policy allows"}},
				{KindSplit, SeverityWarning, []string{"web-1", "web-2", "web-3", "web-4"}, []string{"no majority for 2 requests (p2, p4: PUT from https://app.example.com, https://admin.example.com): 2 allowed (web-1, web-2) vs 2 blocked (web-3, web-4)"}},
			},
			absent: []Kind{KindVerdictDrift},
		},
		{
			desc: "2-2 split on a probe without expectation: unresolvable split",
			res: func() *audit.TargetResult {
				ps := testProbes()
				for p := range ps {
					ps[p].Expect = audit.ExpectNone
				}
				return fleetOf(ps, allowing, allowing, blocksPUT, blocksPUT)
			}(),
			want: []wantFinding{
				{KindSplit, SeverityError, []string{"web-1", "web-2", "web-3", "web-4"}, []string{"no majority for 2 requests (p2, p4: PUT from https://app.example.com, https://admin.example.com): 2 allowed (web-1, web-2) vs 2 blocked (web-3, web-4)"}},
			},
			absent: []Kind{KindPolicyViolation, KindVerdictDrift},
		},
		{
			desc: "the fleet agrees against the policy: policy-violation on all",
			res:  fleetOf(probes, same(3, blocksPUT)...),
			want: []wantFinding{
				{KindPolicyViolation, SeverityError, []string{"web-1", "web-2", "web-3"}, []string{"web-1, web-2, web-3 (3 of 3 instances) block PUT from https://app.example.com, https://admin.example.com on /data, which the policy allows: Method PUT is not allowed"}},
			},
			absent: []Kind{KindVerdictDrift, KindSplit},
		},
		{
			desc: "policy mode: each instance against the expectation",
			res:  fleetOf(probes, allowing, blocksPUT, allowing),
			opt:  Options{Policy: true},
			want: []wantFinding{
				{KindPolicyViolation, SeverityError, []string{"web-2"}, []string{"web-2 (1 of 3 instances) omits PUT from Access-Control-Allow-Methods on /data: PUT from https://app.example.com, https://admin.example.com are blocked there, which the policy allows"}},
			},
			absent: []Kind{KindVerdictDrift, KindSplit},
		},
		{
			desc: "baseline group is the reference, candidate instances are compared",
			res: func() *audit.TargetResult {
				r := fleetOf(probes, allowing, allowing, blocksPUT, blocksPUT, blocksPUT)
				for i := 2; i < 5; i++ {
					r.Spec.Target.Instances[i].Group = "green"
				}
				return r
			}(),
			opt: Options{Baseline: "blue", Candidate: "green"},
			want: []wantFinding{
				{KindVerdictDrift, SeverityError, []string{"web-3", "web-4", "web-5"}, []string{"web-3, web-4, web-5 (3 of 3 green instances) omit PUT from Access-Control-Allow-Methods on /data: PUT from https://app.example.com, https://admin.example.com are blocked there, which the baseline group blue's majority allows"}},
			},
			absent: []Kind{KindSplit, KindPolicyViolation},
		},
		{
			desc:   "a disabled check reports nothing",
			res:    fleetOf(probes, append(same(3, allowing), blocksPUT)...),
			opt:    Options{Analyses: []string{AnalysisCache}},
			absent: []Kind{KindVerdictDrift, KindSplit, KindPolicyViolation},
		},
		{
			desc: "origin-dependent GET answer without Vary: Origin",
			res:  fleetOf(probes, allowing, policyAnswers(delAct("Vary")), allowing),
			want: []wantFinding{{KindVaryMissing, SeverityWarning, []string{"web-2"}, []string{"1 instance answers GET with an Access-Control-Allow-Origin that depends on the Origin"}}},
		},
		{
			desc: "several ACAO values on an instance: invalid-header",
			res: fleetOf(probes, allowing, allowing, policyAnswers(on("GET", func(pr audit.Probe, _, act http.Header) {
				if pr.Origin == appOrigin {
					act.Add(cors.ACAO, "*")
				}
			}))),
			want: []wantFinding{{KindInvalidHeader, SeverityError, []string{"web-3"}, []string{"1 instance sends CORS headers browsers reject: 2 Access-Control-Allow-Origin headers"}}},
		},
		{
			desc: "LB redirects preflights: lb-redirect error",
			res: withLB(fleetOf(probes, same(3, allowing)...), 4, allowing, func(p int, pr audit.Probe, s []audit.Observation) {
				if s[0].Preflight != nil {
					s[0] = lbSample(pr, http.StatusMovedPermanently, http.Header{}, nil, "", "")
				}
			}),
			opt:  lbOnly,
			want: []wantFinding{{KindLBRedirect, SeverityError, []string{"lb"}, []string{"the load balancer redirects OPTIONS preflights (3 of 3 preflighted probes"}}},
		},
		{
			desc: "LB answers OPTIONS itself with * and credentials for a credentialed policy probe: error",
			res: withLB(fleetOf(probes, same(3, allowing)...), 4, allowing, func(p int, pr audit.Probe, s []audit.Observation) {
				if pr.Method == "PUT" && pr.Origin == appOrigin {
					h := http.Header{cors.ACAO: {"*"}, cors.ACAC: {"true"}, cors.ACAM: {"GET, PUT"}}
					s[1] = lbSample(pr, http.StatusOK, h, nil, "", "")
				}
			}),
			opt: lbOnly,
			want: []wantFinding{{KindLBAnswersOptions, SeverityError, []string{"lb"},
				[]string{"answers OPTIONS preflights itself (1 of 3 preflighted probes)", "changes what browsers decide", "blocks PUT from https://app.example.com (credentials), which the instances allow"}}},
		},
		{
			desc: "LB answers OPTIONS itself but browsers decide the same: warning",
			res: withLB(fleetOf(probes, same(3, allowing)...), 4, allowing, func(p int, pr audit.Probe, s []audit.Observation) {
				if pr.Method == "PUT" && pr.Class == audit.ClassDisallowed {
					s[0] = lbSample(pr, http.StatusOK, http.Header{cors.ACAM: {"GET, PUT"}}, nil, "", "")
				}
			}),
			opt:  lbOnly,
			want: []wantFinding{{KindLBAnswersOptions, SeverityWarning, []string{"lb"}, []string{"browsers decide the same"}}},
		},
		{
			desc: "LB routes preflight and actual to different instances: lb-mismatch names the actual's",
			res: withLB(fleetOf(probes, same(3, allowing)...), 4, allowing, func(p int, pr audit.Probe, s []audit.Observation) {
				if pr.Method == "GET" && pr.Origin == appOrigin {
					pre, act := allowing(pr)
					act.Del(cors.ACAO)
					s[2] = lbSample(pr, http.StatusNoContent, pre, act, "web-1", "web-2")
				}
			}),
			opt: lbOnly,
			want: []wantFinding{{KindLBMismatch, SeverityError, []string{"lb", "web-2"},
				[]string{"1 of 4 requests through the load balancer block GET from https://app.example.com (credentials) where the instances' majority allow", "served by web-2 (actual request)"}}},
		},
		{
			desc: "LB samples block for another reason only: lb-mismatch warning",
			res: withLB(fleetOf(probes, same(3, allowing)...), 2, allowing, func(p int, pr audit.Probe, s []audit.Observation) {
				if pr.Method == "GET" && pr.Class == audit.ClassDisallowed {
					s[0] = lbSample(pr, 0, nil, http.Header{cors.ACAO: {"https://other.example"}}, "", "web-3")
				}
			}),
			opt: lbOnly,
			want: []wantFinding{{KindLBMismatch, SeverityWarning, []string{"lb", "web-3"},
				[]string{"for another reason than the instances' majority (blocked (acao-mismatch) instead of blocked (acao-missing))"}}},
		},
		{
			desc: "LB adds a second ACAO: LB invalid-header, an error since browsers now block",
			res: withLB(fleetOf(probes, same(3, allowing)...), 2, allowing, func(p int, pr audit.Probe, s []audit.Observation) {
				if pr.Method == "GET" && pr.Origin == appOrigin {
					pre, act := allowing(pr)
					act.Add(cors.ACAO, "*")
					s[1] = lbSample(pr, 0, pre, act, "", "web-2")
				}
			}),
			opt: Options{},
			want: []wantFinding{{KindInvalidHeader, SeverityError, []string{"lb", "web-2"},
				[]string{"1 of 2 answers through the load balancer carry CORS headers browsers reject"}}},
			absent: []Kind{KindLBMismatch},
		},
		{
			desc: "LB answers nothing: unreachable lb",
			res: withLB(fleetOf(probes, same(2, allowing)...), 2, allowing, func(p int, pr audit.Probe, s []audit.Observation) {
				for k := range s {
					if s[k].Done {
						s[k] = refused(pr, "")
					}
				}
			}),
			opt:  lbOnly,
			want: []wantFinding{{KindUnreachable, SeverityError, []string{"lb"}, []string{"the load balancer at api.example.com answered none of 12 requests"}}},
		},
		{
			desc: "a cache in front serves one origin's answer to another: cache-leak",
			res: func() *audit.TargetResult {
				r := fleetOf(probes, same(2, allowing)...)
				first := &audit.Exchange{Status: 200, Header: http.Header{cors.ACAO: {appOrigin}}, Request: sentTo("GET", "", probes[0])}
				second := &audit.Exchange{Status: 200, Header: http.Header{cors.ACAO: {appOrigin}}, Request: sentTo("GET", "", probes[2])}
				r.Cache = []audit.CachePair{
					{CacheCase: audit.CacheCase{Probe: 0, First: appOrigin, Second: adminOrigin}, FirstAnswer: first, SecondAnswer: second},
					{CacheCase: audit.CacheCase{Probe: 0, First: appOrigin, Second: adminOrigin}, FirstAnswer: first, SecondAnswer: second},
					{CacheCase: audit.CacheCase{Probe: 1, Preflight: true, First: appOrigin, Second: adminOrigin}, FirstAnswer: first,
						SecondAnswer: &audit.Exchange{Status: 204, Header: http.Header{cors.ACAO: {adminOrigin}}}},
				}
				return r
			}(),
			opt:  Options{Analyses: []string{AnalysisCache}},
			want: []wantFinding{{KindCacheLeak, SeverityError, []string{"lb"}, []string{"served the GET answer made for https://app.example.com to https://admin.example.com"}}},
		},
		{
			desc: "an instance without an address is skipped, not unreachable",
			res: func() *audit.TargetResult {
				r := fleetOf(probes, same(2, allowing)...)
				r.Spec.Target.Instances[1].Addr, r.Spec.Target.Instances[1].Skip = "", "lambda target"
				r.Direct.SetRow(1, nil)
				return r
			}(),
			want:   []wantFinding{{KindSkipped, SeverityInfo, []string{"web-2"}, []string{"instance web-2 is not probed: lambda target"}}},
			absent: []Kind{KindUnreachable},
		},
	}
}

func TestCompareFindings(t *testing.T) {
	for _, tc := range compareCases() {
		t.Run(tc.desc, func(t *testing.T) {
			_, got := Compare(tc.res, tc.opt)
			checkWanted(t, got, tc.want, tc.absent)
		})
	}
}

// checkWanted checks that each wanted finding is there exactly once (by
// kind, severity, instances and message words) and that absent kinds are
// not.
func checkWanted(t *testing.T, got []Finding, want []wantFinding, absent []Kind) {
	t.Helper()
	for _, w := range want {
		n := 0
		for _, f := range got {
			if f.Kind != w.kind || f.Severity != w.severity || !slices.Equal(f.Instances, w.instances) {
				continue
			}
			if slices.ContainsFunc(w.message, func(s string) bool { return !strings.Contains(f.Message, s) }) {
				continue
			}
			n++
			if f.Target != "api" {
				t.Errorf("%s: target %q, want api", f.Kind, f.Target)
			}
			if f.Probe != nil && (len(f.Probes) == 0 || f.Probes[0].ID != f.Probe.ID) {
				t.Errorf("%s: probe %s is not the first of probes %v", f.Kind, f.Probe.ID, f.Probes)
			}
			if !strings.HasPrefix(f.Reproduce, "curl ") && f.Kind != KindSkipped {
				t.Errorf("%s: reproduce %q, want a curl command from the recorded request", f.Kind, f.Reproduce)
			}
		}
		if n != 1 {
			for _, f := range got {
				t.Logf("got %s %s %v: %s", f.Severity, f.Kind, f.Instances, f.Message)
			}
			t.Errorf("%d findings %s %s on %v with %q, want 1", n, w.severity, w.kind, w.instances, w.message)
		}
	}
	for _, f := range got {
		if slices.Contains(absent, f.Kind) {
			t.Errorf("unexpected %s %s on %v: %s", f.Severity, f.Kind, f.Instances, f.Message)
		}
	}
}

package diff

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

const appOrigin = "https://app.example.com"

// The classic mistakes, each behind the policy origin https://app.example.com,
// as labserver behaviours (credentials added per case).
var (
	correct      = labserver.Behavior{AllowOrigins: []string{appOrigin}}
	reflectAll   = labserver.Behavior{ReflectOrigin: true}
	nullAllowed  = labserver.Behavior{AllowOrigins: []string{appOrigin}, AllowNull: true}
	httpAllowed  = labserver.Behavior{AllowOrigins: []string{appOrigin, "http://app.example.com"}}
	regexNoAnch  = labserver.Behavior{Match: `regexp:https://app\.example\.com`}
	unescapedDot = labserver.Behavior{Match: `regexp:^https://app.example.com$`}
	suffixMatch  = labserver.Behavior{OriginMatch: func(o string) bool {
		return strings.HasPrefix(o, "https://") && strings.HasSuffix(o, "example.com")
	}}
	prefixMatch = labserver.Behavior{Match: "prefix:" + appOrigin}
	substring   = labserver.Behavior{OriginMatch: func(o string) bool {
		return strings.Contains("https://app.example.com https://admin.example.com", o)
	}}
	devLeftIn    = labserver.Behavior{AllowOrigins: []string{appOrigin, "http://localhost:3000"}}
	githubPages  = labserver.Behavior{AllowOrigins: []string{appOrigin}, Match: `regexp:^https://[a-z0-9-]+\.github\.io$`}
	wildcard     = labserver.Behavior{AllowAnyOrigin: true}
	deadInstance = labserver.Behavior{ID: "dead"}
)

// withCredentials returns b answering Access-Control-Allow-Credentials: true.
func withCredentials(b labserver.Behavior) labserver.Behavior {
	b.Credentials = true
	return b
}

// fleet starts one loopback labserver per behaviour and audits them as the
// instances web-1, web-2... of https://api.example.com/data (LB disabled);
// deadInstance is a loopback port nothing listens on. Every server must
// receive requests, and never a cookie, an Authorization header or an
// unsafe actual request.
// It returns the result and the findings of the drift and misconfig checks
// that are about adversarial or disallowed probes or are misconfig kinds
// (policy probes are the cors package's and the majority's business).
func fleet(t *testing.T, behaviors ...labserver.Behavior) (*audit.TargetResult, []Finding) {
	t.Helper()
	var insts []discovery.Instance
	var servers []*labserver.Server
	for i, b := range behaviors {
		in := discovery.Instance{ID: fmt.Sprintf("web-%d", i+1), Group: "blue"}
		if b.ID != deadInstance.ID {
			b.ID = in.ID
			ls := labserver.New(b)
			servers = append(servers, ls)
			srv := httptest.NewServer(ls)
			t.Cleanup(srv.Close)
			in.Addr = srv.Listener.Addr().String()
		} else {
			// A dead instance: a loopback port nothing listens on.
			srv := httptest.NewServer(http.NotFoundHandler())
			in.Addr = srv.Listener.Addr().String()
			srv.Close()
		}
		if !in.IsLoopback() {
			t.Fatalf("instance %s at %s is not on loopback", in.ID, in.Addr)
		}
		insts = append(insts, in)
	}
	pol := audit.Policy{Origins: []string{appOrigin}, Methods: []string{"GET"}, Credentials: true}
	probes := append(audit.Plan(pol), audit.AdversarialProbes(pol, "api.example.com", "r4nd")...)
	for i := range probes {
		probes[i].ID = fmt.Sprintf("p%d", i+1)
	}
	spec := audit.TargetSpec{
		Target: discovery.Target{Name: "api", URL: "https://api.example.com/data", Instances: insts},
		Probes: probes, Direct: audit.Direct{Scheme: "http"}, LB: audit.LB{Disabled: true},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	results, err := audit.Run(ctx, []audit.TargetSpec{spec}, audit.Options{Concurrency: 8, PerInstance: 8, Timeout: 10 * time.Second, Browser: cors.Chromium})
	if err != nil {
		t.Fatalf("audit.Run: %v", err)
	}
	res := &results[0]
	for _, ls := range servers {
		st := ls.Stats()
		if st.Cookies != 0 || st.Authorization != 0 || st.Unsafe != 0 {
			t.Errorf("an instance received %d cookies, %d authorizations, %d unsafe requests; want none", st.Cookies, st.Authorization, st.Unsafe)
		}
		for m := range st.Actual {
			if m != http.MethodGet && m != http.MethodHead {
				t.Errorf("an instance received an actual %s request", m)
			}
		}
		if st.Actual[http.MethodGet] < len(probes) {
			t.Errorf("an instance received %d GET requests, want at least one per probe (%d)", st.Actual[http.MethodGet], len(probes))
		}
	}
	_, all := Compare(res, Options{Analyses: []string{AnalysisDrift, AnalysisMisconfig}})
	var out []Finding
	for _, f := range all {
		if f.Probe != nil && f.Probe.Class == audit.ClassPolicy && !slices.Contains(misconfigKinds, f.Kind) {
			continue
		}
		out = append(out, f)
	}
	return res, out
}

// want is one expected finding.
type want struct {
	kind      Kind
	severity  Severity
	instances []string
	// classes must all appear in the message, and no other adversarial
	// class may (checked for bypass-origin only).
	classes []string
}

// recordsRequests reports whether the engine recorded what it sent
// (Exchange.Request), from which reproduce commands are printed.
func recordsRequests(res *audit.TargetResult) bool {
	for i := range res.Direct.Instances() {
		for _, o := range res.Direct.Each(i) {
			for _, e := range []*audit.Exchange{o.Preflight, o.Actual} {
				if e.Sent() != nil {
					return true
				}
			}
		}
	}
	return false
}

func checkFindings(t *testing.T, res *audit.TargetResult, got []Finding, wants []want) {
	t.Helper()
	recorded := recordsRequests(res)
	for _, f := range got {
		t.Logf("%s %s %v: %s\n\texpected: %s\n\tobserved: %s\n\t%s", f.Severity, f.Kind, f.Instances, f.Message, f.Expected, f.Observed, f.Reproduce)
	}
	if len(got) != len(wants) {
		for _, f := range got {
			t.Logf("got %s %s %v: %s", f.Severity, f.Kind, f.Instances, f.Message)
		}
		t.Fatalf("got %d findings, want %d", len(got), len(wants))
	}
	for _, w := range wants {
		i := slices.IndexFunc(got, func(f Finding) bool { return f.Kind == w.kind && slices.Equal(f.Instances, w.instances) })
		if i < 0 {
			for _, f := range got {
				t.Logf("got %s %s %v: %s", f.Severity, f.Kind, f.Instances, f.Message)
			}
			t.Errorf("no %s finding on %v", w.kind, w.instances)
			continue
		}
		f := got[i]
		if f.Severity != w.severity {
			t.Errorf("%s on %v: severity %s, want %s (%s)", f.Kind, f.Instances, f.Severity, w.severity, f.Message)
		}
		if f.Kind == KindUnreachable {
			continue // the lead's finding, checked by its own tests
		}
		if f.Target != "api" || f.Probe == nil {
			t.Fatalf("%s on %v: target %q probe %v, want target api and a probe", f.Kind, f.Instances, f.Target, f.Probe)
		}
		// The reproduce command is printed from the record of what was sent;
		// an engine that records nothing leaves it empty.
		if recorded != (strings.HasPrefix(f.Reproduce, "curl ") && strings.Contains(f.Reproduce, "--connect-to")) {
			t.Errorf("%s on %v: reproduce %q, want a direct curl exactly when requests were recorded (%t)", f.Kind, f.Instances, f.Reproduce, recorded)
		}
		if recorded && !strings.Contains(f.Reproduce, "Origin: "+f.Probe.Origin) {
			t.Errorf("%s: reproduce %q does not send the probe's origin %q", f.Kind, f.Reproduce, f.Probe.Origin)
		}
		for _, cl := range w.classes {
			if !strings.Contains(f.Message, cl+" (") {
				t.Errorf("%s on %v: message does not name class %s: %s", f.Kind, f.Instances, cl, f.Message)
			}
		}
		if f.Kind == KindBypassOrigin {
			for _, cl := range audit.AdversarialClasses {
				if !slices.Contains(w.classes, cl) && strings.Contains(f.Message, " "+cl+" (") {
					t.Errorf("%s on %v: message names unexpected class %s: %s", f.Kind, f.Instances, cl, f.Message)
				}
			}
		}
	}
}

func TestMisconfigClassicMistakes(t *testing.T) {
	two := []string{"web-1", "web-2"}
	cases := []struct {
		desc  string
		srv   labserver.Behavior
		wants []want
	}{
		{desc: "correct exact allowlist", srv: withCredentials(correct)},
		{desc: "correct wildcard without credentials", srv: wildcard},
		{desc: "reflection with credentials", srv: withCredentials(reflectAll),
			wants: []want{{kind: KindOriginReflection, severity: SeverityError, instances: two}}},
		{desc: "reflection without credentials", srv: reflectAll,
			wants: []want{{kind: KindOriginReflection, severity: SeverityWarning, instances: two}}},
		{desc: "null allowed", srv: withCredentials(nullAllowed),
			wants: []want{{kind: KindNullOrigin, severity: SeverityError, instances: two}}},
		{desc: "http origin allowed", srv: withCredentials(httpAllowed),
			wants: []want{{kind: KindInsecureOrigin, severity: SeverityError, instances: two}}},
		{desc: "http origin allowed without credentials", srv: httpAllowed,
			wants: []want{{kind: KindInsecureOrigin, severity: SeverityWarning, instances: two}}},
		{desc: "regex without anchors", srv: withCredentials(regexNoAnch),
			wants: []want{{kind: KindBypassOrigin, severity: SeverityError, instances: two,
				classes: []string{audit.ClassPostDomain, audit.ClassPort, audit.ClassConcatenation, audit.ClassSpecialChar}}}},
		{desc: "regex with unescaped dots", srv: withCredentials(unescapedDot),
			wants: []want{{kind: KindBypassOrigin, severity: SeverityError, instances: two,
				classes: []string{audit.ClassUnescapedDot}}}},
		{desc: "suffix match", srv: withCredentials(suffixMatch),
			wants: []want{{kind: KindBypassOrigin, severity: SeverityError, instances: two,
				classes: []string{audit.ClassPreDomain, audit.ClassUnescapedDot, audit.ClassSubdomain, audit.ClassConcatenation}}}},
		{desc: "prefix match without credentials", srv: prefixMatch,
			wants: []want{{kind: KindBypassOrigin, severity: SeverityWarning, instances: two,
				classes: []string{audit.ClassPostDomain, audit.ClassPort, audit.ClassConcatenation, audit.ClassSpecialChar}}}},
		{desc: "substring of the allowlist", srv: withCredentials(substring),
			wants: []want{{kind: KindBypassOrigin, severity: SeverityError, instances: two,
				classes: []string{audit.ClassSubstring}}}},
		{desc: "development origin left in", srv: withCredentials(devLeftIn),
			wants: []want{{kind: KindBypassOrigin, severity: SeverityError, instances: two,
				classes: []string{audit.ClassLocalhost}}}},
		{desc: "any github.io page", srv: withCredentials(githubPages),
			wants: []want{{kind: KindBypassOrigin, severity: SeverityError, instances: two,
				classes: []string{audit.ClassThirdParty}}}},
		{desc: "wildcard with credentials", srv: withCredentials(wildcard),
			wants: []want{{kind: KindWildcardCredentials, severity: SeverityWarning, instances: two}}},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			t.Parallel()
			res, got := fleet(t, tc.srv, tc.srv)
			checkFindings(t, res, got, tc.wants)
		})
	}
}

func TestMisconfigFleetDrift(t *testing.T) {
	cases := []struct {
		desc     string
		handlers []labserver.Behavior
		wants    []want
		// driftMessage must appear in the drift finding's message.
		driftMessage string
	}{
		{
			desc:     "one instance fixed, two still reflecting",
			handlers: []labserver.Behavior{withCredentials(reflectAll), withCredentials(reflectAll), withCredentials(correct)},
			wants: []want{
				{kind: KindOriginReflection, severity: SeverityError, instances: []string{"web-1", "web-2"}},
				{kind: KindVerdictDrift, severity: SeverityError, instances: []string{"web-3"}},
			},
			driftMessage: "not affected on 1 (web-3)",
		},
		{
			desc:     "one instance regressed to a suffix match",
			handlers: []labserver.Behavior{correct, suffixMatch, correct},
			wants: []want{
				{kind: KindBypassOrigin, severity: SeverityWarning, instances: []string{"web-2"},
					classes: []string{audit.ClassPreDomain, audit.ClassUnescapedDot, audit.ClassSubdomain, audit.ClassConcatenation}},
				{kind: KindVerdictDrift, severity: SeverityWarning, instances: []string{"web-2"}},
			},
			driftMessage: "bypass-origin (pre-domain,unescaped-dot,subdomain,concatenation) on 1 (web-2)",
		},
		{
			desc:     "two different bypasses and one fixed: no majority lists everyone",
			handlers: []labserver.Behavior{withCredentials(prefixMatch), withCredentials(suffixMatch), withCredentials(correct)},
			wants: []want{
				{kind: KindBypassOrigin, severity: SeverityError, instances: []string{"web-1"},
					classes: []string{audit.ClassPostDomain, audit.ClassPort, audit.ClassConcatenation, audit.ClassSpecialChar}},
				{kind: KindBypassOrigin, severity: SeverityError, instances: []string{"web-2"},
					classes: []string{audit.ClassPreDomain, audit.ClassUnescapedDot, audit.ClassSubdomain, audit.ClassConcatenation}},
				{kind: KindVerdictDrift, severity: SeverityError, instances: []string{"web-1", "web-2", "web-3"}},
			},
			driftMessage: "bypass-origin differs across the 3 instances",
		},
		{
			desc:     "a dead instance is not counted as fixed",
			handlers: []labserver.Behavior{nullAllowed, deadInstance, nullAllowed},
			wants: []want{
				{kind: KindNullOrigin, severity: SeverityWarning, instances: []string{"web-1", "web-3"}},
				{kind: KindUnreachable, severity: SeverityError, instances: []string{"web-2"}},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			t.Parallel()
			res, got := fleet(t, tc.handlers...)
			checkFindings(t, res, got, tc.wants)
			if tc.driftMessage != "" {
				i := slices.IndexFunc(got, func(f Finding) bool { return f.Kind == KindVerdictDrift })
				if !strings.Contains(got[i].Message, tc.driftMessage) {
					t.Errorf("drift message %q does not contain %q", got[i].Message, tc.driftMessage)
				}
			}
		})
	}
}

// TestMisconfigObservations covers what the live servers cannot show
// without a preflight: trust seen only on the preflight, ACAC values
// browsers reject, several ACAO values, and the http service case.
func TestMisconfigObservations(t *testing.T) {
	probes := []audit.Probe{
		{ID: "p1", Origin: appOrigin, Method: "GET", Class: audit.ClassPolicy},
		{ID: "p2", Origin: "https://r4nd.example", Method: "PUT", Class: audit.ClassArbitrary},
		{ID: "p3", Origin: "http://app.example.com", Method: "GET", Class: audit.ClassSchemeDowngrade},
		{ID: "p4", Origin: "null", Method: "GET", Class: audit.ClassNull},
	}
	ex := func(kv ...string) *audit.Exchange {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return &audit.Exchange{Status: 200, Header: h,
			Request: &audit.SentRequest{Method: "OPTIONS", URL: "https://api.example.com/", ConnectTo: "127.0.0.1:8080",
				Header: http.Header{"Origin": {"https://r4nd.example"}}}}
	}
	obs := func(p int, pre, act *audit.Exchange) audit.Observation {
		return audit.Observation{Probe: p, Sample: -1, Preflight: pre, Actual: act, Done: true}
	}
	none := ex()
	cases := []struct {
		desc      string
		url       string
		row       []audit.Observation
		wantKinds []Kind
		check     func(t *testing.T, fs []Finding)
	}{
		{
			desc: "reflection on the preflight only is found, with a preflight curl",
			url:  "https://api.example.com/",
			row: []audit.Observation{obs(0, nil, none),
				obs(1, ex("Access-Control-Allow-Origin", "https://r4nd.example", "Access-Control-Allow-Credentials", "true"), nil),
				obs(2, nil, none), obs(3, nil, none)},
			wantKinds: []Kind{KindOriginReflection},
			check: func(t *testing.T, fs []Finding) {
				wantCurl := "curl -sS -o /dev/null -D - -X OPTIONS https://api.example.com/ --connect-to api.example.com:443:127.0.0.1:8080 -H 'Origin: https://r4nd.example'"
				if fs[0].Severity != SeverityError || fs[0].Reproduce != wantCurl || !strings.Contains(fs[0].Observed, "(preflight)") {
					t.Errorf("finding = %+v, want an error with a preflight reproduction", fs[0])
				}
			},
		},
		{
			desc: "ACAC other than exactly true does not raise the severity",
			url:  "https://api.example.com/",
			row: []audit.Observation{obs(0, nil, none), obs(1, nil, nil),
				obs(2, nil, none), obs(3, nil, ex("Access-Control-Allow-Origin", "null", "Access-Control-Allow-Credentials", "True"))},
			wantKinds: []Kind{KindNullOrigin},
			check: func(t *testing.T, fs []Finding) {
				if fs[0].Severity != SeverityWarning {
					t.Errorf("severity = %s, want warning", fs[0].Severity)
				}
			},
		},
		{
			desc: "several ACAO values are not a trust (browsers reject them)",
			url:  "https://api.example.com/",
			row: []audit.Observation{obs(0, nil, none), obs(1, nil, nil), obs(2, nil, none),
				obs(3, nil, ex("Access-Control-Allow-Origin", "null", "Access-Control-Allow-Origin", "null"))},
		},
		{
			desc: "an http origin trusted by an http service is not insecure-origin",
			url:  "http://api.example.com/",
			row: []audit.Observation{obs(0, nil, none), obs(1, nil, nil),
				obs(2, nil, ex("Access-Control-Allow-Origin", "http://app.example.com")), obs(3, nil, none)},
		},
		{
			desc: "wildcard with credentials on a policy probe is found",
			url:  "https://api.example.com/",
			row: []audit.Observation{obs(0, nil, ex("Access-Control-Allow-Origin", "*", "Access-Control-Allow-Credentials", "true")),
				obs(1, nil, nil), obs(2, nil, none), obs(3, nil, none)},
			wantKinds: []Kind{KindWildcardCredentials},
		},
		{
			desc: "unfinished and failed observations are ignored",
			url:  "https://api.example.com/",
			row: []audit.Observation{obs(0, nil, none), {Probe: 1, Sample: -1},
				obs(2, nil, &audit.Exchange{Err: audit.ErrRefused}), obs(3, nil, none)},
		},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			u, err := url.Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			insts := []discovery.Instance{{ID: "web-1", Addr: "127.0.0.1:8080"}}
			res := &audit.TargetResult{URL: u, Direct: directOf(insts, len(probes), tc.row),
				Spec: audit.TargetSpec{Probes: probes, Direct: audit.Direct{Scheme: "http"},
					Target: discovery.Target{Name: "api", URL: tc.url, Instances: insts}}}
			fs := misconfig(res)
			var kinds []Kind
			for _, f := range fs {
				kinds = append(kinds, f.Kind)
			}
			if !slices.Equal(kinds, tc.wantKinds) {
				for _, f := range fs {
					t.Logf("got %s %s: %s", f.Severity, f.Kind, f.Message)
				}
				t.Fatalf("kinds = %v, want %v", kinds, tc.wantKinds)
			}
			if tc.check != nil {
				tc.check(t, fs)
			}
		})
	}
}

func TestMisconfigNil(t *testing.T) {
	if fs := misconfig(nil); fs != nil {
		t.Errorf("Misconfig(nil) = %v, want nil", fs)
	}
	if fs := misconfig(&audit.TargetResult{}); fs != nil {
		t.Errorf("Misconfig(empty) = %v, want nil", fs)
	}
}

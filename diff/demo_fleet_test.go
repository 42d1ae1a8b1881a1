package diff

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
)

// demoPolicy is the policy of `corsaudit demo`.
var demoPolicy = audit.Policy{Origins: []string{appOrigin}, Methods: []string{"GET", "PUT"},
	Headers: []string{"Content-Type", "X-Request-Id"}, Credentials: true}

// demoProbes is the demo's plan: policy probes, the disallowed origin,
// the adversarial origins, numbered as the audit numbers them.
func demoProbes() []audit.Probe {
	ps := append(audit.Plan(demoPolicy), audit.AdversarialProbes(demoPolicy, "api.example.com", "fixed")...)
	for k := range ps {
		ps[k].ID = fmt.Sprintf("p%d", k+1)
	}
	return ps
}

// labConfig answers as the demo's lab servers do: the allowed origin gets
// its CORS headers, any other origin none.
func labConfig(methods, headers, maxAge string) behaviour {
	return func(pr audit.Probe) (http.Header, http.Header) {
		pre, act := http.Header{"Vary": {"Origin"}}, http.Header{"Vary": {"Origin"}}
		if pr.Origin != appOrigin {
			return pre, act
		}
		for _, h := range []http.Header{pre, act} {
			h.Set(cors.ACAO, pr.Origin)
			h.Set(cors.ACAC, "true")
		}
		pre.Set(cors.ACAM, methods)
		pre.Set(cors.ACAH, headers)
		pre.Set(cors.ACMA, maxAge)
		act.Set(cors.ACEH, "X-Request-Id")
		return pre, act
	}
}

// demoFleet is the demo: 12 instances audited on two paths, web-07 on an
// older config (no PUT, DELETE, X-Request-Id), web-12 refusing every
// connection, and a load balancer redirecting every preflight on /v1/cart
// and round-robining the rest over the 11 live instances (sample k of a
// probe served by the k-th).
func demoFleet() *audit.TargetResult {
	current := labConfig("GET, POST, PUT, DELETE", "Content-Type, X-Request-Id", "600")
	older := labConfig("GET, POST", "Content-Type", "60")
	bs := same(12, current)
	bs[6] = older
	res := fleetOf(audit.PerPath(demoProbes(), []string{"/v1/cart", "/v1/items"}), bs...)
	for i := range res.Spec.Target.Instances {
		res.Spec.Target.Instances[i].ID = fmt.Sprintf("web-%02d", i+1)
	}
	for p, pr := range res.Spec.Probes {
		res.Direct.Set(11, p, refused(pr, res.Spec.Target.Instances[11].Addr))
	}
	res.LB = make([][]audit.Observation, len(res.Spec.Probes))
	for p, pr := range res.Spec.Probes {
		for k := range 11 {
			b, id := current, res.Spec.Target.Instances[k].ID
			if k == 6 {
				b = older
			}
			pre, act := b(pr)
			s := lbSample(pr, http.StatusNoContent, pre, act, id, id)
			if s.Preflight != nil && pr.Path == "/v1/cart" {
				s = lbSample(pr, http.StatusMovedPermanently, http.Header{}, nil, "", "")
			}
			s.Probe, s.Sample = p, k
			res.LB[p] = append(res.LB[p], s)
		}
	}
	return res
}

// TestDemoFleetOneFindingPerCause: one instance drifting on several probes
// of two paths, whose answers the load balancer passes through on one, one
// unreachable and an LB redirect are three findings, each listing its
// probes, most users affected first (the LB's share of requests, then
// instances, then kind).
func TestDemoFleetOneFindingPerCause(t *testing.T) {
	_, fs := Compare(demoFleet(), Options{})
	for _, f := range fs {
		t.Logf("%s %s %v %v: %s", f.Severity, f.Kind, f.Instances, probeIDs(f), f.Message)
	}
	want := []struct {
		desc      string
		kind      Kind
		instances []string
		probes    []string
		message   string
	}{
		{"LB redirect, every user on /v1/cart", KindLBRedirect, []string{"lb"}, []string{"p2", "p3", "p4", "p6", "p9"}, "redirects OPTIONS preflights (5 of 10 preflighted probes"},
		{"drifted instance, all its probes on both paths, the LB's share", KindVerdictDrift, []string{"web-07"}, []string{"p2", "p3", "p4", "p50", "p51", "p52"},
			"web-07 (1 of 11 instances) omits DELETE, PUT from Access-Control-Allow-Methods and x-request-id from Access-Control-Allow-Headers, " +
				"and sends Access-Control-Max-Age 60 instead of 600 on /v1/cart and /v1/items: GET, PUT from https://app.example.com are blocked there, " +
				"and on 9% of requests through the load balancer"},
		{"unreachable instance", KindUnreachable, []string{"web-12"}, nil, "answered none"},
	}
	if len(fs) != len(want) {
		t.Fatalf("%d findings, want %d", len(fs), len(want))
	}
	for k, w := range want {
		f := fs[k]
		if f.Kind != w.kind || !slices.Equal(f.Instances, w.instances) || !slices.Equal(probeIDs(f), w.probes) ||
			!strings.Contains(f.Message, w.message) {
			t.Errorf("%s: finding %d is %s on %v probes %v: %q", w.desc, k, f.Kind, f.Instances, probeIDs(f), f.Message)
		}
	}
	drift := fs[1]
	wantDiff := []HeaderDifference{
		{Step: "preflight", Header: cors.ACAM, Missing: []string{"DELETE", "PUT"}},
		{Step: "preflight", Header: cors.ACAH, Missing: []string{"x-request-id"}},
		{Step: "preflight", Header: cors.ACMA, Expected: "600", Observed: "60"},
	}
	if fmt.Sprint(drift.Difference) != fmt.Sprint(wantDiff) {
		t.Errorf("difference %+v, want %+v", drift.Difference, wantDiff)
	}
	if !slices.Equal(drift.Explains, []Kind{KindVerdictDrift, KindLBMismatch}) || len(drift.Evidence) != 2 ||
		!slices.Equal(drift.Evidence[1].Probes, []string{"p50", "p51", "p52"}) {
		t.Errorf("explains %v, evidence %+v: want the load balancer's samples on /v1/items folded in", drift.Explains, drift.Evidence)
	}
}

func probeIDs(f Finding) []string {
	var out []string
	for _, p := range f.Probes {
		out = append(out, p.ID)
	}
	return out
}

func TestDifferences(t *testing.T) {
	ex := func(h http.Header) *audit.Exchange { return &audit.Exchange{Status: 204, Header: h} }
	for _, tc := range []struct {
		desc      string
		want, got audit.Observation
		sentence  string
	}{
		{"methods and headers missing, extra method",
			audit.Observation{Preflight: ex(http.Header{cors.ACAM: {"GET, PUT"}, cors.ACAH: {"X-A"}})},
			audit.Observation{Preflight: ex(http.Header{cors.ACAM: {"GET,PATCH"}, cors.ACAH: {"x-a"}})},
			"omits PUT from Access-Control-Allow-Methods and adds PATCH to Access-Control-Allow-Methods"},
		{"the actual request was not sent on the observed side: only the preflight is compared",
			audit.Observation{Preflight: ex(http.Header{cors.ACAO: {appOrigin}}), Actual: ex(http.Header{cors.ACAO: {appOrigin}})},
			audit.Observation{Preflight: ex(http.Header{})},
			"sends no Access-Control-Allow-Origin (expected https://app.example.com)"},
		{"Vary lists other headers too",
			audit.Observation{Actual: ex(http.Header{"Vary": {"Accept, Origin"}})},
			audit.Observation{Actual: ex(http.Header{"Vary": {"origin"}})},
			""},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if got := differenceSentence(differences(tc.want, tc.got), 1); got != tc.sentence {
				t.Errorf("got %q, want %q", got, tc.sentence)
			}
		})
	}
}

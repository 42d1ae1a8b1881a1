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

// TestCauseFoldsPathsAndLB: web-4 lacks PUT on two paths; a quarter of the
// requests through the load balancer land on it. Whether the load balancer
// names the instance that served a request or not, the requests that carry
// web-4's own answer are web-4's cause: one finding, with the share. When
// the load balancer changes the answers itself (web-1 served them, and
// web-1 allows PUT), they are its own finding.
func TestCauseFoldsPathsAndLB(t *testing.T) {
	probes := audit.PerPath(testProbes(), []string{"/v1/cart", "/v1/items"})
	for _, tc := range []struct {
		desc string
		// servedBy names the instance the load balancer says served
		// sample k, whose answer is web-4's when k%4 == 3.
		servedBy func(k int) string
		want     []string // kind, instances, explains, share
	}{
		{"the load balancer names the instance", func(k int) string {
			if k%4 == 3 {
				return "web-4"
			}
			return "web-1"
		}, []string{"error verdict-drift [web-4] [verdict-drift lb-mismatch] 0.25"}},
		{"it names none: the answer says whose it is", func(int) string { return "" },
			[]string{"error verdict-drift [web-4] [verdict-drift lb-mismatch] 0.25"}},
		{"web-1 served them: the load balancer changed its answer", func(int) string { return "web-1" },
			[]string{"error lb-mismatch [lb web-1] [] 0.25", "error verdict-drift [web-4] [verdict-drift] 0.00"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			res := fleetOf(probes, append(same(3, allowing), blocksPUT)...)
			res.LB = make([][]audit.Observation, len(probes))
			for p, pr := range probes {
				for k := range 8 {
					b := allowing
					if k%4 == 3 {
						b = blocksPUT
					}
					pre, act := b(pr)
					s := lbSample(pr, http.StatusNoContent, pre, act, tc.servedBy(k), tc.servedBy(k))
					s.Probe, s.Sample = p, k
					res.LB[p] = append(res.LB[p], s)
				}
			}
			_, fs := Compare(res, Options{})
			var got []string
			for _, f := range fs {
				got = append(got, fmt.Sprintf("%s %s %v %v %.2f", f.Severity, f.Kind, f.Instances, f.Explains, f.Share))
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("findings %q, want %q", got, tc.want)
			}
			f := fs[len(fs)-1]
			if !slices.Equal(f.Paths, []string{"/v1/cart", "/v1/items"}) || !slices.Equal(probeIDs(f), []string{"p2", "p4", "p8", "p10"}) {
				t.Errorf("paths %v, probes %v; want both paths, the PUT probes of each", f.Paths, probeIDs(f))
			}
			for _, p := range f.Probes {
				if p.Path == "" || p.Method != "PUT" {
					t.Errorf("probe %+v, want a PUT with its path", p)
				}
			}
			msg := "web-4 (1 of 4 instances) omits PUT from Access-Control-Allow-Methods on /v1/cart and /v1/items: " +
				"PUT from https://app.example.com, https://admin.example.com are blocked there"
			if !strings.HasPrefix(f.Message, msg) {
				t.Errorf("message %q, want %q...", f.Message, msg)
			}
			if lb := len(f.Explains) == 2; lb != strings.HasSuffix(f.Message, ", and on 25% of requests through the load balancer") ||
				lb != (len(f.Evidence) == 2 && f.Evidence[1].Instances[0] == "lb" && !strings.Contains(f.Evidence[1].Reproduce, "--connect-to")) {
				t.Errorf("message %q, evidence %+v: want the load balancer's share and curl line exactly when it passes web-4's answers", f.Message, f.Evidence)
			}
		})
	}
}

// TestConsensusAnswer: instances agreeing on the verdict with different
// headers. Two each lacking another method (2 + 1 + 1): every point of the
// two's answer holds a majority, so each of the others is its own header
// drift, not a split. Two against two: a split.
func TestConsensusAnswer(t *testing.T) {
	probes := testProbes()
	also := func(h string) behaviour { return policyAnswers(allowedOnly(setPre(cors.ACAH, h))) }
	maxAge := func(v string) behaviour { return policyAnswers(allowedOnly(setPre(cors.ACMA, v))) }
	for _, tc := range []struct {
		desc string
		res  *audit.TargetResult
		want []string
	}{
		{"2 + 1 + 1, each allowing another header: each minority on its own", fleetOf(probes, allowing, allowing, also("X-A"), also("X-B")),
			[]string{"warning header-drift [web-3]", "warning header-drift [web-4]"}},
		// No Max-Age is what 2 of 4 say: no majority.
		{"2 + 1 + 1, two Max-Ages: no majority answer", fleetOf(probes, allowing, allowing, maxAge("60"), maxAge("600")),
			[]string{"warning split [web-1 web-2 web-3 web-4]", "warning split [web-1 web-2 web-3 web-4]"}},
		// One split per answer the PUT preflights of each origin get.
		{"2 + 2: no majority answer", fleetOf(probes, allowing, allowing, maxAge("60"), maxAge("60")),
			[]string{"warning split [web-1 web-2 web-3 web-4]", "warning split [web-1 web-2 web-3 web-4]"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, fs := Compare(tc.res, Options{Analyses: []string{AnalysisDrift}})
			var got []string
			for _, f := range fs {
				got = append(got, fmt.Sprintf("%s %s %v", f.Severity, f.Kind, f.Instances))
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings %q, want %q", got, tc.want)
			}
		})
	}
}

// TestFindingIdentity: a finding's probes, fingerprint and order are its
// own (renderers call them).
func TestFindingIdentity(t *testing.T) {
	cart := ProbeRef{ID: "p2", Origin: appOrigin, Method: "PUT", Path: "/v1/cart"}
	items := ProbeRef{ID: "p8", Origin: appOrigin, Method: "PUT", Path: "/v1/items"}
	lacksPUT := []HeaderDifference{{Step: audit.StepPreflight, Header: cors.ACAM, Missing: []string{"PUT"}}}
	cause := func(ps []ProbeRef, ds []HeaderDifference, explains ...Kind) Finding {
		return Finding{Kind: KindVerdictDrift, Severity: SeverityError, Target: "shop", Instances: []string{"w3"},
			Probes: ps, Difference: ds, Explains: explains}
	}
	one := cause([]ProbeRef{cart}, lacksPUT, KindVerdictDrift)
	both := cause([]ProbeRef{items, cart}, lacksPUT, KindVerdictDrift, KindLBMismatch)
	both.Kind = KindLBMismatch
	other := cause([]ProbeRef{cart}, []HeaderDifference{{Step: audit.StepPreflight, Header: cors.ACAM, Missing: []string{"DELETE"}}}, KindVerdictDrift)
	if one.Fingerprint() != both.Fingerprint() {
		t.Error("a cause's fingerprint changes with the probes and paths it reaches")
	}
	if one.Fingerprint() == other.Fingerprint() {
		t.Error("two differences of one instance have one fingerprint")
	}
	lb := Finding{Kind: KindLBRedirect, Target: "shop", Instances: []string{"lb"}, Probes: []ProbeRef{cart, items}}
	lbSwapped := lb
	lbSwapped.Probes = []ProbeRef{items, cart}
	lbCartOnly := lb
	lbCartOnly.Probes = []ProbeRef{cart}
	if lb.Fingerprint() != lbSwapped.Fingerprint() || lb.Fingerprint() == lbCartOnly.Fingerprint() {
		t.Error("another finding's fingerprint is not its probes, in any order, with their paths")
	}
	old := Finding{Probe: &cart}
	if ps := old.AllProbes(); len(ps) != 1 || ps[0].ID != "p2" {
		t.Errorf("AllProbes of a report written before Probes: %v", ps)
	}
	fs := []Finding{
		{Kind: KindHeaderDrift, Severity: SeverityWarning, Instances: []string{"a", "b", "c"}},
		{Kind: KindVerdictDrift, Severity: SeverityError, Instances: []string{"a"}},
		{Kind: KindLBMismatch, Severity: SeverityError, Instances: []string{"lb", "a"}, Share: 0.5},
		{Kind: KindUnreachable, Severity: SeverityError, Instances: []string{"a", "b"}},
		{Kind: KindSplit, Severity: SeverityError, Instances: []string{"a"}},
	}
	sortFindings(fs)
	var order []Kind
	for _, f := range fs {
		order = append(order, f.Kind)
	}
	if want := []Kind{KindLBMismatch, KindUnreachable, KindSplit, KindVerdictDrift, KindHeaderDrift}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v (severity, share, instances, kind)", order, want)
	}
}

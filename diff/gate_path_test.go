package diff

import (
	"strings"
	"testing"
)

// TestGateFailuresPerPath: the same probe on two paths is two checks; a
// failure names the path it is about.
func TestGateFailuresPerPath(t *testing.T) {
	g := Gate{Candidate: "green", Policy: true}
	probe := &ProbeRef{ID: "p3", Origin: "https://app.example.com", Method: "GET"}
	for _, tc := range []struct {
		desc     string
		path     string
		want     string
		failures int
	}{
		{desc: "drift on /v1/items", path: "/v1/items", want: "api: g1 decides 1 request differently:\n      GET /v1/items from https://app.example.com\n", failures: 1},
		{desc: "no path recorded (older report)", path: "", want: "api: g1 decides 1 request differently:\n      GET from https://app.example.com\n", failures: 1},
	} {
		r := &Report{Targets: []TargetReport{{Name: "api", Instances: []InstanceInfo{{ID: "g1", Group: "green", Reachable: true}}}},
			Findings: []Finding{{Kind: KindPolicyViolation, Target: "api", Instances: []string{"g1"}, Probe: probe, Path: tc.path}}}
		got := g.Failures(r)
		if len(got) != tc.failures || !strings.HasPrefix(got[0], tc.want) {
			t.Errorf("%s: failures %q, want one starting %q", tc.desc, got, tc.want)
		}
	}
}

package audit

import (
	"testing"

	"github.com/corsaudit/corsaudit/discovery"
)

func TestEstimate(t *testing.T) {
	probes := Plan(Policy{Origins: []string{"https://app.example.com"}, Methods: []string{"GET", "PUT"}})
	two := discovery.Target{Instances: []discovery.Instance{{ID: "a", Addr: "127.0.0.1:1"}, {ID: "b", Addr: "127.0.0.1:2"}}}
	for _, tc := range []struct {
		desc          string
		specs         []TargetSpec
		wantInstances int
		wantRequests  int
	}{
		{desc: "no targets"},
		{desc: "direct only", specs: []TargetSpec{{Target: two, Probes: probes, LB: LB{Disabled: true}}},
			wantInstances: 2, wantRequests: 2 * len(probes) * 2},
		{desc: "with 3 LB samples", specs: []TargetSpec{{Target: two, Probes: probes, LB: LB{Samples: 3}}},
			wantInstances: 2, wantRequests: 2*len(probes)*2 + 3*LBProbes(probes)*2 + CacheRequests},
		{desc: "two fronts, 3 samples each", specs: []TargetSpec{{Target: two, Probes: probes, LB: LB{Samples: 3},
			Fronts: []Front{{Name: "cdn", URL: "https://cdn.example.com"}, {Name: "lb", Address: "127.0.0.1:443"}}}},
			wantInstances: 2, wantRequests: 2*len(probes)*2 + 2*(3*LBProbes(probes)*2+CacheRequests)},
	} {
		n, r := Estimate(tc.specs)
		if n != tc.wantInstances || r != tc.wantRequests {
			t.Errorf("%s: Estimate = %d instances, %d requests; want %d, %d", tc.desc, n, r, tc.wantInstances, tc.wantRequests)
		}
	}
}

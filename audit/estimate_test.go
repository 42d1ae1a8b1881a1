package audit

import (
	"context"
	"net/http/httptest"
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

// TestEstimateBoundsRun: a run through a load balancer, with its cache
// checks, sends no more requests than the estimate says ("up to N
// requests" in the log).
func TestEstimateBoundsRun(t *testing.T) {
	var insts []discovery.Instance
	for _, id := range []string{"a", "b"} {
		srv := httptest.NewServer(newRecorder(t, allowApp))
		t.Cleanup(srv.Close)
		insts = append(insts, discovery.Instance{ID: id, Addr: srv.Listener.Addr().String()})
	}
	lb := httptest.NewServer(newRecorder(t, allowApp))
	t.Cleanup(lb.Close)
	spec := TargetSpec{Target: discovery.Target{Name: "shop", URL: lb.URL + "/v1/cart", Instances: insts},
		Probes: Plan(testPolicy())[:3], LB: LB{Samples: 2}}
	_, estimate := Estimate([]TargetSpec{spec})
	res, err := Run(context.Background(), []TargetSpec{spec}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sent := int(res[0].Requests); sent > estimate || len(res[0].Cache) == 0 {
		t.Errorf("sent %d requests with %d cache checks, estimated up to %d", sent, len(res[0].Cache), estimate)
	}
}

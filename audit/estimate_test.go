package audit

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/discovery"
)

func TestEstimate(t *testing.T) {
	probes := Plan(Policy{Origins: []string{"https://app.example.com"}, Methods: []string{"GET", "PUT"}})
	two := discovery.Target{Instances: []discovery.Instance{{ID: "a", Addr: "127.0.0.1:1"}, {ID: "b", Addr: "127.0.0.1:2"}}}
	withSkip := discovery.Target{Instances: append(append([]discovery.Instance(nil), two.Instances...), discovery.Instance{ID: "c", Skip: "a lambda"})}
	// One policy origin: the GET orders (no Origin, refusal, to the
	// disallowed origin, revalidation) and the preflight orders (refusal,
	// to the disallowed origin, another method) of the cache probe matrix,
	// three requests each.
	cache := len(CacheMatrix(probes, func(int) bool { return true }, cors.Chromium))
	n, lbn := len(probes), lbProbes(probes)
	for _, tc := range []struct {
		desc  string
		specs []TargetSpec
		want  Work
	}{
		{desc: "no targets"},
		{desc: "direct only", specs: []TargetSpec{{Target: two, Probes: probes, LB: LB{Disabled: true}}},
			want: Work{Instances: 2, Probes: n, Direct: 2 * n, Requests: 2 * n * 2}},
		{desc: "with 3 LB samples and the cache checks", specs: []TargetSpec{{Target: two, Probes: probes, LB: LB{Samples: 3}}},
			want: Work{Instances: 2, Probes: n, Direct: 2 * n, ThroughLB: 3 * lbn, CacheChecks: cache, Requests: 2*n*2 + 3*lbn*2 + cache*3}},
		{desc: "automatic samples count probeable instances only", specs: []TargetSpec{{Target: withSkip, Probes: probes}},
			want: Work{Instances: 2, Probes: n, Direct: 2 * n, ThroughLB: SamplesFor(2) * lbn, CacheChecks: cache,
				Requests: 2*n*2 + SamplesFor(2)*lbn*2 + cache*3}},
		{desc: "two fronts, 3 samples and the matrix through each", specs: []TargetSpec{{Target: two, Probes: probes, LB: LB{Samples: 3},
			Fronts: []Front{{Name: "cdn", URL: "https://cdn.example.com"}, {Name: "lb", Address: "127.0.0.1:443"}}}},
			want: Work{Instances: 2, Probes: n, Direct: 2 * n, ThroughLB: 2 * 3 * lbn, CacheChecks: 2 * cache, Requests: 2*n*2 + 2*3*lbn*2 + 2*cache*3}},
		{desc: "two targets add up", specs: []TargetSpec{{Target: two, Probes: probes, LB: LB{Disabled: true}}, {Target: two, Probes: probes, LB: LB{Samples: 1}}},
			want: Work{Instances: 4, Probes: 2 * n, Direct: 4 * n, ThroughLB: lbn, CacheChecks: cache, Requests: 4*n*2 + lbn*2 + cache*3}},
	} {
		got := Estimate(tc.specs, Options{})
		if got != tc.want {
			t.Errorf("%s: Estimate = %+v, want %+v", tc.desc, got, tc.want)
		}
		if got.Fetches() != got.Direct+got.ThroughLB+got.CacheChecks {
			t.Errorf("%s: %d fetches do not add up from %+v", tc.desc, got.Fetches(), got)
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
	estimate := Estimate([]TargetSpec{spec}, Options{}).Requests
	res, err := Run(context.Background(), []TargetSpec{spec}, testOptions(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if sent := int(res[0].Requests); sent > estimate || len(res[0].Cache) == 0 {
		t.Errorf("sent %d requests with %d cache checks, estimated up to %d", sent, len(res[0].Cache), estimate)
	}
}

// TestProgressCountsEstimate: the progress of a run counts exactly the
// fetches Estimate announces, whatever the shape of the targets: every
// tick is one of them, and the last says done == total.
func TestProgressCountsEstimate(t *testing.T) {
	inst := httptest.NewServer(newRecorder(t, allowApp))
	defer inst.Close()
	lb := httptest.NewServer(newRecorder(t, allowApp))
	defer lb.Close()
	addr := inst.Listener.Addr().String()
	target := discovery.Target{Name: "shop", URL: lb.URL + "/v1/cart", Instances: []discovery.Instance{
		{ID: "a", Addr: addr}, {ID: "b", Addr: addr}, {ID: "c", Addr: addr}, {ID: "skipped", Skip: "a lambda target"}}}
	policy := Plan(testPolicy())
	adversarial, _, err := PlanTarget(testPolicy(), "api.example.com", true, 200)
	if err != nil {
		t.Fatal(err)
	}
	getOnly := Plan(Policy{Origins: []string{"https://app.example.com"}})
	tests := []struct {
		desc    string
		browser cors.Browser
		noCache bool
		specs   []TargetSpec
	}{
		{desc: "direct only", browser: cors.Chromium, specs: []TargetSpec{{Target: target, Probes: policy, Direct: Direct{Scheme: "http"}, LB: LB{Disabled: true}}}},
		{desc: "LB, automatic samples, adversarial probes", browser: cors.Chromium,
			specs: []TargetSpec{{Target: target, Probes: adversarial, Direct: Direct{Scheme: "http"}}}},
		{desc: "LB with 2 samples, GET only (one cache check kind)", browser: cors.Firefox,
			specs: []TargetSpec{{Target: target, Probes: getOnly, Direct: Direct{Scheme: "http"}, LB: LB{Samples: 2}}}},
		{desc: "two fronts, one by address", browser: cors.Chromium, specs: []TargetSpec{{Target: target, Probes: policy,
			Direct: Direct{Scheme: "http"}, LB: LB{Samples: 2}, Fronts: []Front{{Name: "cdn", URL: lb.URL}, {Name: "lb", Address: lb.Listener.Addr().String()}}}}},
		{desc: "the cache analysis off", browser: cors.Chromium, noCache: true,
			specs: []TargetSpec{{Target: target, Probes: policy, Direct: Direct{Scheme: "http"}, LB: LB{Samples: 2}}}},
		{desc: "two targets, on two paths", browser: cors.Webkit, specs: []TargetSpec{
			{Target: target, Probes: PerPath(policy, []string{"/v1/cart", "/v1/items"}), Direct: Direct{Scheme: "http"}, LB: LB{Samples: 1}},
			{Target: target, Probes: getOnly, Direct: Direct{Scheme: "http"}, LB: LB{Disabled: true}}}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			want := int64(Estimate(tc.specs, Options{Browser: tc.browser, NoCache: tc.noCache}).Fetches())
			var mu sync.Mutex
			var ticks, last, total int64
			_, err := Run(context.Background(), tc.specs, testOptions(Options{Browser: tc.browser, NoCache: tc.noCache, Concurrency: 8, Progress: func(done, n int64) {
				mu.Lock()
				defer mu.Unlock()
				ticks++
				last, total = max(last, done), n
			}}))
			if err != nil {
				t.Fatal(err)
			}
			if ticks != want || last != want || total != want {
				t.Errorf("progress: %d ticks, last done %d of %d; Estimate announces %d fetches", ticks, last, total, want)
			}
		})
	}
}

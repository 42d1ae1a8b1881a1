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
	// One simple and one preflighted policy probe: two cache checks of
	// three rounds each.
	cache := 2 * cacheRounds
	for _, tc := range []struct {
		desc  string
		specs []TargetSpec
		want  Work
	}{
		{desc: "no targets"},
		{desc: "direct only", specs: []TargetSpec{{Target: two, Probes: probes, LB: LB{Disabled: true}}},
			want: Work{Instances: 2, Probes: len(probes), Direct: 2 * len(probes)}},
		{desc: "with 3 LB samples", specs: []TargetSpec{{Target: two, Probes: probes, LB: LB{Samples: 3}}},
			want: Work{Instances: 2, Probes: len(probes), Direct: 2 * len(probes), ThroughLB: 3 * LBProbes(probes), CacheChecks: cache}},
		{desc: "automatic samples count probeable instances only", specs: []TargetSpec{{Target: withSkip, Probes: probes}},
			want: Work{Instances: 2, Probes: len(probes), Direct: 2 * len(probes), ThroughLB: SamplesFor(2) * LBProbes(probes), CacheChecks: cache}},
		{desc: "two targets add up", specs: []TargetSpec{{Target: two, Probes: probes, LB: LB{Disabled: true}}, {Target: two, Probes: probes, LB: LB{Samples: 1}}},
			want: Work{Instances: 4, Probes: 2 * len(probes), Direct: 4 * len(probes), ThroughLB: LBProbes(probes), CacheChecks: cache}},
	} {
		got := Estimate(tc.specs, cors.Chromium)
		if got != tc.want {
			t.Errorf("%s: Estimate = %+v, want %+v", tc.desc, got, tc.want)
		}
		if got.Requests() != 2*got.Fetches() || got.Fetches() != got.Direct+got.ThroughLB+got.CacheChecks {
			t.Errorf("%s: %d fetches, %d requests do not add up from %+v", tc.desc, got.Fetches(), got.Requests(), got)
		}
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
		specs   []TargetSpec
	}{
		{desc: "direct only", browser: cors.Chromium, specs: []TargetSpec{{Target: target, Probes: policy, Direct: Direct{Scheme: "http"}, LB: LB{Disabled: true}}}},
		{desc: "LB, automatic samples, adversarial probes", browser: cors.Chromium,
			specs: []TargetSpec{{Target: target, Probes: adversarial, Direct: Direct{Scheme: "http"}}}},
		{desc: "LB with 2 samples, GET only (one cache check kind)", browser: cors.Firefox,
			specs: []TargetSpec{{Target: target, Probes: getOnly, Direct: Direct{Scheme: "http"}, LB: LB{Samples: 2}}}},
		{desc: "two targets, on two paths", browser: cors.Webkit, specs: []TargetSpec{
			{Target: target, Probes: PerPath(policy, []string{"/v1/cart", "/v1/items"}), Direct: Direct{Scheme: "http"}, LB: LB{Samples: 1}},
			{Target: target, Probes: getOnly, Direct: Direct{Scheme: "http"}, LB: LB{Disabled: true}}}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			want := int64(Estimate(tc.specs, tc.browser).Fetches())
			var mu sync.Mutex
			var ticks, last, total int64
			_, err := Run(context.Background(), tc.specs, Options{Browser: tc.browser, Concurrency: 8, Progress: func(done, n int64) {
				mu.Lock()
				defer mu.Unlock()
				ticks++
				last, total = max(last, done), n
			}})
			if err != nil {
				t.Fatal(err)
			}
			if ticks != want || last != want || total != want {
				t.Errorf("progress: %d ticks, last done %d of %d; Estimate announces %d fetches", ticks, last, total, want)
			}
		})
	}
}

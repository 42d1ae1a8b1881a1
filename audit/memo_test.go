package audit

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

// TestRememberedVerdicts checks that the verdicts the engine remembers per
// distinct answer are the verdicts ActAsBrowser decides on its own for
// each instance, including answers that differ only in a header name a
// page may read, and that identical answers share one recorded header set.
func TestRememberedVerdicts(t *testing.T) {
	base := labserver.Behavior{AllowOrigins: []string{"https://app.example.com"},
		AllowMethods: []string{"GET", "PUT"}, AllowHeaders: []string{"X-Request-Id"}, Credentials: true, MaxAge: 600}
	with := func(f func(*labserver.Behavior)) labserver.Behavior {
		b := base
		f(&b)
		return b
	}
	tests := []struct {
		desc string
		beh  labserver.Behavior
	}{
		{desc: "policy", beh: base},
		{desc: "policy again (same answers)", beh: base},
		{desc: "exposes X-Extra, which it sends", beh: with(func(b *labserver.Behavior) {
			b.ExposeHeaders = []string{"X-Extra"}
			b.ExtraHeaders = http.Header{"X-Extra": {"1"}}
		})},
		{desc: "exposes X-Extra, which it does not send", beh: with(func(b *labserver.Behavior) { b.ExposeHeaders = []string{"X-Extra"} })},
		{desc: "sends X-Extra without exposing it", beh: with(func(b *labserver.Behavior) { b.ExtraHeaders = http.Header{"X-Extra": {"1"}} })},
		{desc: "fewer methods", beh: with(func(b *labserver.Behavior) { b.AllowMethods = []string{"GET"} })},
		{desc: "wildcard with credentials", beh: with(func(b *labserver.Behavior) { b.AllowOrigins, b.AllowAnyOrigin = nil, true })},
		{desc: "preflight answered 403", beh: with(func(b *labserver.Behavior) { b.PreflightStatus = http.StatusForbidden })},
		{desc: "reflects any origin", beh: with(func(b *labserver.Behavior) { b.AllowOrigins, b.ReflectOrigin = nil, true })},
	}
	var instances []discovery.Instance
	for i, tt := range tests {
		srv := httptest.NewServer(labserver.New(tt.beh))
		t.Cleanup(srv.Close)
		instances = append(instances, discovery.Instance{ID: fmt.Sprint("i", i), Addr: srv.Listener.Addr().String()})
	}
	u := "http://api.example.com/v1/cart"
	probes := Plan(Policy{Origins: []string{"https://app.example.com"}, Methods: []string{"GET", "PUT"},
		Headers: []string{"X-Request-Id"}, Credentials: true})
	spec := TargetSpec{Target: discovery.Target{Name: "t", URL: u, Instances: instances}, Probes: probes, LB: LB{Disabled: true}}
	res, err := Run(context.Background(), []TargetSpec{spec}, testOptions(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			to := NewEndpoint(res[0].URL, instances[i].Addr, "", TransportOptions{})
			defer to.Client.CloseIdleConnections()
			for p, pr := range probes {
				got := res[0].Direct.At(i, p)
				want := ActAsBrowser(context.Background(), to, pr.Request(), testFetch(FetchOptions{IgnoreMixedContent: true}))
				if !got.Done || !want.Done {
					t.Fatalf("probe %s: done %v, alone %v (%s)", pr, got.Done, want.Done, want.NotRun)
				}
				if !reflect.DeepEqual(got.Verdict(), want.Verdict) {
					t.Errorf("probe %s: remembered verdict %+v, decided alone %+v", pr, got.Verdict(), want.Verdict)
				}
			}
		})
	}
	t.Run("identical answers share one header set", func(t *testing.T) {
		a, b := res[0].Direct.At(0, 0), res[0].Direct.At(1, 0)
		if a.Preflight == nil && a.Actual == nil {
			t.Fatal("probe 0 recorded no exchange")
		}
		ex := func(o Observation) *Exchange {
			if o.Preflight != nil {
				return o.Preflight
			}
			return o.Actual
		}
		if reflect.ValueOf(ex(a).Header).UnsafePointer() != reflect.ValueOf(ex(b).Header).UnsafePointer() {
			t.Errorf("instances 0 and 1 answer alike but keep two header sets: %v, %v", ex(a).Header, ex(b).Header)
		}
		if reflect.ValueOf(ex(a).Sent().Header).UnsafePointer() != reflect.ValueOf(ex(b).Sent().Header).UnsafePointer() {
			t.Error("instances 0 and 1 were sent the same request but keep two request header sets")
		}
		if ex(a).shape == nil || ex(a).shape != ex(b).shape || ex(a).Request != nil {
			t.Errorf("instances 0 and 1 were sent the same request but keep two records of it (%p, %p)", ex(a).shape, ex(b).shape)
		}
		if ex(a) != ex(b) {
			t.Error("instances 0 and 1 answered alike but keep two exchanges")
		}
		for p := range probes {
			if d := res[0].Direct; d.Outcome(0, p) != d.Outcome(1, p) {
				t.Errorf("probe %d: instances 0 and 1 answered alike but keep two observations (%d, %d)", p, d.Outcome(0, p), d.Outcome(1, p))
			}
		}
		if a.Instance != instances[0].ID || b.Instance != instances[1].ID {
			t.Errorf("shared observation read as instances %q and %q", a.Instance, b.Instance)
		}
		if ra, rb := a.Sent(ex(a)), b.Sent(ex(b)); ra.ConnectTo != instances[0].Addr || rb.ConnectTo != instances[1].Addr {
			t.Errorf("requests sent to %q and %q, want %q and %q", ra.ConnectTo, rb.ConnectTo, instances[0].Addr, instances[1].Addr)
		}
	})
}

// TestLatenciesKeepEachExchange: with Options.Latencies (shard files) each
// request keeps its own exchange, latency and ConnectTo; without, instances
// answered alike share one.
func TestLatenciesKeepEachExchange(t *testing.T) {
	beh := labserver.Behavior{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET"}}
	var instances []discovery.Instance
	for i := range 2 {
		srv := httptest.NewServer(labserver.New(beh))
		t.Cleanup(srv.Close)
		instances = append(instances, discovery.Instance{ID: fmt.Sprint("i", i), Addr: srv.Listener.Addr().String()})
	}
	probes := Plan(Policy{Origins: []string{"https://app.example.com"}, Methods: []string{"GET"}})
	spec := TargetSpec{Target: discovery.Target{Name: "t", URL: "http://api.example.com/", Instances: instances},
		Probes: probes, LB: LB{Disabled: true}}
	for _, tc := range []struct {
		desc      string
		latencies bool
	}{
		{desc: "shared", latencies: false},
		{desc: "each its own", latencies: true},
	} {
		res, err := Run(context.Background(), []TargetSpec{spec}, testOptions(Options{Latencies: tc.latencies}))
		if err != nil {
			t.Fatal(err)
		}
		a, b := res[0].Direct.At(0, 0), res[0].Direct.At(1, 0)
		if a.Actual == nil || b.Actual == nil {
			t.Fatalf("%s: probe 0 sent no actual request: %+v, %+v", tc.desc, a, b)
		}
		if shared := a.Actual == b.Actual; shared == tc.latencies {
			t.Errorf("%s: exchanges shared = %v", tc.desc, shared)
		}
		if tc.latencies && (a.Actual.Latency <= 0 || a.Actual.Sent().ConnectTo != instances[0].Addr || b.Actual.Sent().ConnectTo != instances[1].Addr) {
			t.Errorf("%s: latency %v, sent to %q and %q", tc.desc, a.Actual.Latency, a.Actual.Sent().ConnectTo, b.Actual.Sent().ConnectTo)
		}
		if a.Sent(a.Actual).ConnectTo != instances[0].Addr || b.Sent(b.Actual).ConnectTo != instances[1].Addr {
			t.Errorf("%s: observations say sent to %q and %q", tc.desc, a.Sent(a.Actual).ConnectTo, b.Sent(b.Actual).ConnectTo)
		}
	}
}

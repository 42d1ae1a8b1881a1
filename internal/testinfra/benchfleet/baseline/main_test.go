package main

import (
	"context"
	"maps"
	"net/http/httptest"
	"net/url"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/corsaudit/corsaudit/internal/lab"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
	"github.com/corsaudit/corsaudit/pipeline"
)

// TestSameRequests: on each bench profile's fleet the bare client sends
// what corsaudit sends, instance by instance (preflights, and actual
// requests by method), except the actual GET and HEAD with headers that
// corsaudit leaves out where their preflight fails (the lab profile's
// older instances): the ratios .ci/bench prints compare like with like.
func TestSameRequests(t *testing.T) {
	const n = 20
	tests := []struct {
		desc    string
		profile string
		// extra is what the bare client sends a drifting instance that
		// corsaudit does not.
		extra map[string]int
	}{
		{desc: "lab: one GET and one HEAD more to each older instance", profile: "lab", extra: map[string]int{"GET": 1, "HEAD": 1}},
		{desc: "full: the same requests everywhere", profile: "full"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			prof, ok := lab.LookupBenchProfile(tt.profile)
			if !ok {
				t.Fatalf("no profile %q", tt.profile)
			}
			// serve starts the fleet and returns its instances and servers.
			serve := func() ([]lab.Instance, []*labserver.Server) {
				var ins []lab.Instance
				var servers []*labserver.Server
				for _, be := range prof.Fleet(n) {
					s := labserver.New(be.Behavior)
					srv := httptest.NewServer(s)
					t.Cleanup(srv.Close)
					servers = append(servers, s)
					ins = append(ins, lab.Instance{ID: be.Behavior.ID, Addr: srv.Listener.Addr().String(), Group: be.Group})
				}
				return ins, servers
			}

			ins, audited := serve()
			cfg := lab.BenchConfig(prof, ins, 0, 0)
			built, err := cfg.Build()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := pipeline.Audit(context.Background(), built, pipeline.Options{}); err != nil {
				t.Fatal(err)
			}

			ins, bare := serve()
			data, err := yaml.Marshal(lab.BenchConfig(prof, ins, 0, 0))
			if err != nil {
				t.Fatal(err)
			}
			var fc fleetConfig
			if err := yaml.Unmarshal(data, &fc); err != nil {
				t.Fatal(err)
			}
			public, err := url.Parse(fc.Targets[0].URL)
			if err != nil {
				t.Fatal(err)
			}
			reqs := fc.requests()
			for _, in := range fc.Targets[0].Discover.Static.Instances {
				if _, failed := instance(public, in.Addr, reqs, fc.PerInstance); failed != 0 {
					t.Fatalf("%s: %d requests failed", in.Addr, failed)
				}
			}

			for i := range n {
				want := audited[i].Stats()
				if i%10 == 9 {
					for m, c := range tt.extra {
						want.Actual[m] += c
					}
				}
				got := bare[i].Stats()
				if got.Preflights != want.Preflights || !maps.Equal(got.Actual, want.Actual) {
					t.Errorf("instance %d: the bare client sent %d preflights and %v, want %d and %v",
						i, got.Preflights, got.Actual, want.Preflights, want.Actual)
				}
			}
		})
	}
}

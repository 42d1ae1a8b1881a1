package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/lab"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
	"github.com/corsaudit/corsaudit/pipeline"
)

// TestFleetReport: each fleet the scaling figures are measured on gives
// one finding, a verdict-drift naming exactly every tenth instance, with 16
// probes and the requests its profile documents per instance: a run that
// measures fast but reports otherwise is wrong, not fast.
func TestFleetReport(t *testing.T) {
	const n = 120
	tests := []struct {
		desc    string
		profile string
		// requests per instance that follows the policy, per drifting one.
		current, drifting int
	}{
		{desc: "lab: the older instances fail the preflights of the GET and HEAD with headers", profile: "lab", current: 17, drifting: 15},
		{desc: "full: the drifting instances fail no preflight of an actual request", profile: "full", current: 17, drifting: 17},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			prof, ok := lab.LookupBenchProfile(tt.profile)
			if !ok {
				t.Fatalf("no profile %q", tt.profile)
			}
			var ins []lab.Instance
			var drifting []string
			var servers []*labserver.Server
			for i, be := range prof.Fleet(n) {
				s := labserver.New(be.Behavior)
				srv := httptest.NewServer(s)
				t.Cleanup(srv.Close)
				servers = append(servers, s)
				ins = append(ins, lab.Instance{ID: be.Behavior.ID, Addr: srv.Listener.Addr().String(), Group: be.Group})
				if i%10 == 9 {
					drifting = append(drifting, be.Behavior.ID)
				}
			}
			cfg := lab.BenchConfig(prof, ins, 256, 2)
			built, err := cfg.Build()
			if err != nil {
				t.Fatal(err)
			}
			rep, err := pipeline.Audit(context.Background(), built, pipeline.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Targets) != 1 || len(rep.Targets[0].Probes) != 16 {
				t.Fatalf("want 1 target with 16 probes, got %d targets", len(rep.Targets))
			}
			if rep.Summary.Unreachable != 0 || rep.Summary.Probed != n {
				t.Errorf("summary: %+v", rep.Summary)
			}
			want := (n-len(drifting))*tt.current + len(drifting)*tt.drifting
			received := 0
			for _, s := range servers {
				st := s.Stats()
				received += st.Preflights
				for _, c := range st.Actual {
					received += c
				}
			}
			if rep.Summary.Requests != want || received != want {
				t.Errorf("requests: summary %d, the instances received %d, want %d", rep.Summary.Requests, received, want)
			}
			var got []string
			for _, f := range rep.Findings {
				got = append(got, fmt.Sprintf("%s %s %d", f.Kind, f.Severity, len(f.Instances)))
			}
			if len(rep.Findings) != 1 || rep.Findings[0].Kind != diff.KindVerdictDrift || rep.Findings[0].Severity != diff.SeverityError {
				t.Fatalf("findings %v, want one verdict-drift error", got)
			}
			if f := rep.Findings[0]; !slices.Equal(f.Instances, drifting) {
				t.Errorf("verdict-drift names %v, want every tenth instance %v", f.Instances, drifting)
			}
		})
	}
}

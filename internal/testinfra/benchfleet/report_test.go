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

// TestFleetReport: the fleet the scaling figures are measured on gives
// one finding, a verdict-drift naming exactly every tenth instance, with 16
// probes per instance: a run that measures fast but reports otherwise is
// wrong, not fast.
func TestFleetReport(t *testing.T) {
	const n = 120
	var ins []lab.Instance
	var older []string
	for i, be := range benchFleet(n) {
		srv := httptest.NewServer(labserver.New(be.Behavior))
		t.Cleanup(srv.Close)
		ins = append(ins, lab.Instance{ID: be.Behavior.ID, Addr: srv.Listener.Addr().String(), Group: be.Group})
		if i%10 == 9 {
			older = append(older, be.Behavior.ID)
		}
	}
	cfg := fleetConfig(ins)
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
	var got []string
	for _, f := range rep.Findings {
		got = append(got, fmt.Sprintf("%s %s %d", f.Kind, f.Severity, len(f.Instances)))
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Kind != diff.KindVerdictDrift || rep.Findings[0].Severity != diff.SeverityError {
		t.Fatalf("findings %v, want one verdict-drift error", got)
	}
	if f := rep.Findings[0]; !slices.Equal(f.Instances, older) {
		t.Errorf("verdict-drift names %v, want every tenth instance %v", f.Instances, older)
	}
}

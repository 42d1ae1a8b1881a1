package diff

import (
	"strings"
	"testing"
	"time"
)

func shard(target, url string, start time.Time, dur float64, ids ...string) *Report {
	t := TargetReport{Name: target, URL: url,
		Probes: []ProbeRef{{ID: "p1", Origin: "https://app.example.com", Method: "GET"}}}
	r := &Report{Tool: "corsaudit", Version: "0.4.0", Browser: "chromium", RunTime: RunTime{StartedAt: start, Duration: dur},
		Summary: Summary{Requests: 10}}
	var cells []Cell
	for _, id := range ids {
		t.Instances = append(t.Instances, InstanceInfo{ID: id, Reachable: id != "dead"})
		cells = append(cells, Cell{Instance: id, Probe: "p1", Outcome: OutcomeAllowed})
		if id == "dead" {
			r.Findings = append(r.Findings, Finding{Kind: KindUnreachable, Severity: SeverityError, Target: target, Instances: []string{id}})
		}
	}
	t.Cells = NewCells(cells...)
	r.Targets = []TargetReport{t}
	r.Summarize()
	return r
}

func TestMerge(t *testing.T) {
	t0 := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		desc      string
		in        []*Report
		wantErr   string
		targets   int
		instances int
		findings  int
		requests  int
		duration  float64 // the longest run's
		end       time.Time
		incompl   string
	}{
		{desc: "two accounts", in: []*Report{
			shard("api", "https://api.example.com/", t0, 5, "a", "b"),
			shard("web", "https://www.example.com/", t0.Add(10*time.Second), 5, "c", "dead"),
		}, targets: 2, instances: 4, findings: 1, requests: 20, duration: 5, end: t0.Add(15 * time.Second)},
		{desc: "one target sharded, disjoint instances", in: []*Report{
			shard("api", "https://api.example.com/", t0.Add(time.Second), 3, "a", "b"),
			shard("api", "https://api.example.com/", t0, 2, "c", "dead"),
		}, targets: 1, instances: 4, findings: 1, requests: 20, duration: 3, end: t0.Add(4 * time.Second)},
		{desc: "one partial shard makes the merge partial", in: func() []*Report {
			a := shard("api", "https://api.example.com/", t0, 1, "a")
			b := shard("web", "https://www.example.com/", t0, 1, "b")
			b.Incomplete = "deadline exceeded"
			return []*Report{a, b}
		}(), targets: 2, instances: 2, requests: 20, duration: 1, incompl: "deadline exceeded"},
		{desc: "single report", in: []*Report{shard("api", "https://api.example.com/", t0, 1, "a")},
			targets: 1, instances: 1, requests: 10, duration: 1},
		{desc: "same instance twice", in: []*Report{
			shard("api", "https://api.example.com/", t0, 1, "a", "b"),
			shard("api", "https://api.example.com/", t0, 1, "b"),
		}, wantErr: `merge: target "api": instance "b" is in report 1 and report 2`},
		{desc: "same target name, different URL", in: []*Report{
			shard("api", "https://api.example.com/", t0, 1, "a"),
			shard("api", "https://api.example.org/", t0, 1, "b"),
		}, wantErr: `merge: target "api" has URL https://api.example.org/ in report 2`},
		{desc: "same probe id, different scenario", in: func() []*Report {
			a := shard("api", "https://api.example.com/", t0, 1, "a")
			b := shard("api", "https://api.example.com/", t0, 1, "b")
			b.Targets[0].Probes[0].Method = "PUT"
			return []*Report{a, b}
		}(), wantErr: `merge: target "api": probe p1 differs`},
		{desc: "not a corsaudit report", in: []*Report{{Tool: "trivy"}}, wantErr: `merge: report 1 was written by "trivy"`},
		{desc: "nil report", in: []*Report{nil}, wantErr: "merge: report 1 is nil"},
		{desc: "no reports", in: nil, wantErr: "merge: no reports"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got, err := MergeReports(tc.in...)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want prefix %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := got.Summary
			if s.Targets != tc.targets || s.Instances != tc.instances || s.Findings != tc.findings || s.Requests != tc.requests {
				t.Errorf("summary %+v, want targets=%d instances=%d findings=%d requests=%d", s, tc.targets, tc.instances, tc.findings, tc.requests)
			}
			if !tc.end.IsZero() && !got.End().Equal(tc.end) {
				t.Errorf("end %s, want %s (the last run's)", got.End(), tc.end)
			}
			if got.Duration != tc.duration || got.Incomplete != tc.incompl {
				t.Errorf("duration %v incomplete %q, want %v %q", got.Duration, got.Incomplete, tc.duration, tc.incompl)
			}
			cells := 0
			for _, tr := range got.Targets {
				cells += tr.Cells.Len()
				if len(tr.Probes) != 1 {
					t.Errorf("target %s has %d probes, want 1", tr.Name, len(tr.Probes))
				}
			}
			if cells != tc.instances {
				t.Errorf("%d cells, want %d", cells, tc.instances)
			}
			if got.Version != "0.4.0" || got.Browser != "chromium" {
				t.Errorf("version %q browser %q", got.Version, got.Browser)
			}
		})
	}
}

func TestMergeDoesNotAliasInputs(t *testing.T) {
	a := shard("api", "https://api.example.com/", time.Time{}, 1, "a")
	b := shard("api", "https://api.example.com/", time.Time{}, 1, "b")
	if _, err := MergeReports(a, b); err != nil {
		t.Fatal(err)
	}
	if n := len(a.Targets[0].Instances); n != 1 {
		t.Errorf("merge changed its input: %d instances", n)
	}
}

package diff

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
)

// withPOST is testProbes plus a simple POST, for which corsaudit sends
// nothing (no preflight is needed and POST is never sent): never Done.
func withPOST() []audit.Probe {
	return audit.Plan(audit.Policy{Origins: []string{appOrigin}, Methods: []string{"GET", "PUT", "POST"}, Credentials: true})
}

func TestUnreachableAndNotRun(t *testing.T) {
	probes := withPOST()
	const deadline = "the run's deadline passed before this probe was sent"
	cases := []struct {
		desc string
		// row changes instance web-3's observations.
		row             func(row []audit.Observation)
		wantSeverity    Severity // "" for no unreachable finding
		wantMessage     string
		wantReachable   bool
		wantNothingSent bool
		wantNotRun      []NotRun
		wantSummary     int // summary.unreachable
	}{
		{
			desc: "every request refused: unreachable error, not reachable, counted",
			row: func(row []audit.Observation) {
				for p := range row {
					if row[p].Done {
						row[p] = refused(probes[p], "127.0.0.1:8003")
					}
				}
			},
			wantSeverity: SeverityError, wantMessage: "answered none of the 4 probes it was sent (refused)",
			wantNotRun:  []NotRun{{Reason: "corsaudit never sends this request (it could change server state)", Probes: []string{"p3"}}},
			wantSummary: 1,
		},
		{
			desc: "a probe marked done that sent nothing is no answer",
			row: func(row []audit.Observation) {
				for p := range row {
					if row[p].Done {
						row[p] = refused(probes[p], "127.0.0.1:8003")
					} else {
						row[p] = audit.Observation{Probe: p, Sample: -1, Done: true}.WithVerdict(cors.Verdict{Allowed: true})
					}
				}
			},
			wantSeverity: SeverityError, wantMessage: "answered none of the 4 probes it was sent",
			wantNotRun:  []NotRun{{Reason: "no request is sent for this probe", Probes: []string{"p3"}}},
			wantSummary: 1,
		},
		{
			desc: "some requests failed: warning, still reachable",
			row: func(row []audit.Observation) {
				row[0] = refused(probes[0], "127.0.0.1:8003")
			},
			wantSeverity: SeverityWarning, wantMessage: "failed 1 of 4 probes (refused)", wantReachable: true,
			wantNotRun: []NotRun{{Reason: "corsaudit never sends this request (it could change server state)", Probes: []string{"p3"}}},
		},
		{
			desc: "nothing sent before the deadline: not run, neither reachable nor unreachable",
			row: func(row []audit.Observation) {
				for p := range row {
					row[p] = audit.Observation{Probe: p, Sample: -1, NotRun: deadline,
						Preflight: &audit.Exchange{Err: audit.ErrCanceled, ErrMsg: "context canceled"}}
				}
			},
			wantNothingSent: true,
			wantNotRun:      []NotRun{{Reason: deadline, Probes: []string{"p1", "p2", "p3", "p4", "p5"}}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			res := fleetOf(probes, same(3, allowing)...)
			row := res.Direct.Row(2)
			tc.row(row)
			res.Direct.SetRow(2, row)
			tr, fs := Compare(res, Options{})
			var unreachable []Finding
			for _, f := range fs {
				if f.Kind == KindUnreachable {
					unreachable = append(unreachable, f)
				}
				if f.Kind == KindVerdictDrift || f.Kind == KindSplit {
					t.Errorf("an instance that did not answer counts in a majority: %s %s", f.Kind, f.Message)
				}
			}
			switch {
			case tc.wantSeverity == "" && len(unreachable) > 0:
				t.Errorf("unreachable finding %q, want none", unreachable[0].Message)
			case tc.wantSeverity != "" && len(unreachable) != 1:
				t.Fatalf("%d unreachable findings, want 1", len(unreachable))
			case tc.wantSeverity != "":
				f := unreachable[0]
				if f.Severity != tc.wantSeverity || !strings.Contains(f.Message, tc.wantMessage) || !slices.Equal(f.Instances, []string{"web-3"}) {
					t.Errorf("finding %s %v %q, want %s on web-3 with %q", f.Severity, f.Instances, f.Message, tc.wantSeverity, tc.wantMessage)
				}
				if !strings.HasPrefix(f.Reproduce, "curl ") || !strings.Contains(f.Reproduce, "--connect-to api.example.com:443:127.0.0.1:8003") {
					t.Errorf("reproduce %q, want the recorded request to web-3", f.Reproduce)
				}
			}
			in := tr.Instances[2]
			if in.Reachable != tc.wantReachable || in.NothingSent != tc.wantNothingSent {
				t.Errorf("reachable %t nothing_sent %t, want %t %t", in.Reachable, in.NothingSent, tc.wantReachable, tc.wantNothingSent)
			}
			if !slices.EqualFunc(in.NotRun, tc.wantNotRun, func(a, b NotRun) bool { return a.Reason == b.Reason && slices.Equal(a.Probes, b.Probes) }) {
				t.Errorf("not run %+v, want %+v", in.NotRun, tc.wantNotRun)
			}
			rep := &Report{Targets: []TargetReport{tr}, Findings: fs}
			rep.Summarize()
			if rep.Summary.Unreachable != tc.wantSummary {
				t.Errorf("summary.unreachable = %d, want %d", rep.Summary.Unreachable, tc.wantSummary)
			}
			b, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			if want := `"reachable":` + map[bool]string{true: "true", false: "false"}[tc.wantReachable]; !strings.Contains(string(b), want) {
				t.Errorf("JSON %s lacks %s", b, want)
			}
		})
	}
}

// The reproduce command is the step that decided, from the record of what
// was sent: here the actual GET failed after a passing preflight.
func TestReproduceDecidingStep(t *testing.T) {
	probes := []audit.Probe{{ID: "p1", Origin: appOrigin, Method: http.MethodGet, Credentials: true,
		Headers: []cors.Header{{Name: "X-Request-Id", Value: "1"}}, Class: audit.ClassPolicy, Expect: audit.ExpectAllowed}}
	withHeader := policyAnswers(setPre(cors.ACAH, "X-Request-Id"))
	noActualACAO := policyAnswers(setPre(cors.ACAH, "X-Request-Id"), delAct(cors.ACAO))
	res := fleetOf(probes, withHeader, withHeader, noActualACAO)
	tr, fs := Compare(res, Options{})
	if len(fs) != 1 || fs[0].Kind != KindVerdictDrift {
		t.Fatalf("findings %+v, want one verdict-drift", fs)
	}
	want := CurlRequest(res.Direct.At(2, 0).Actual.Sent())
	if fs[0].Reproduce != want || strings.Contains(want, "OPTIONS") {
		t.Errorf("reproduce %q, want the actual request %q", fs[0].Reproduce, want)
	}
	for c := range tr.Cells.All() {
		if c.Drift != (c.Instance == "web-3") {
			t.Errorf("cell %s/%s drift = %t", c.Instance, c.Probe, c.Drift)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
	"github.com/corsaudit/corsaudit/internal/testinfra/faultnet"
)

// TestChecksAndMaxProbes: misconfig checks run by default, --checks turns
// them off, the probe count is printed up front, and --max-probes bounds it.
func TestChecksAndMaxProbes(t *testing.T) {
	f := newFleet(t)
	reflect := labserver.Behavior{ReflectOrigin: true, Credentials: true, AllowMethods: []string{"GET"}}
	a, b := f.start("a", reflect), f.start("b", reflect)
	base := []string{"audit", "http://api.example.com/", "--instance", "a=" + a, "--instance", "b=" + b,
		"--origin", "https://app.example.com", "--credentials", "--no-lb", "--format", "json"}
	for _, tc := range []struct {
		desc       string
		args       []string
		wantCode   int
		wantKind   string
		noKind     string
		wantStderr string
	}{
		{desc: "misconfig on by default", wantCode: exitFindings, wantKind: `"kind": "origin-reflection"`,
			wantStderr: "api.example.com: 2 instances, "},
		{desc: "--checks drift leaves misconfig out", args: []string{"--checks", "drift"}, wantCode: exitFindings,
			noKind: `"origin-reflection"`, wantStderr: "2 instances, 2 probes"},
		{desc: "--max-probes cuts adversarial origins", args: []string{"--max-probes", "4"}, wantCode: exitFindings,
			wantKind: `"kind": "origin-reflection"`, wantStderr: "max_probes 4 leaves out 39 adversarial origins"},
		{desc: "--max-probes below the policy plan", args: []string{"--max-probes", "1"}, wantCode: exitUsage,
			wantStderr: "the policy alone needs 2 probes, more than the bound 1"},
		{desc: "unknown check", args: []string{"--checks", "speed"}, wantCode: exitUsage,
			wantStderr: `--checks: "speed" is not one of drift, lb, cache, misconfig`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			code, out, errOut := runCLI(append(base, tc.args...)...)
			if code != tc.wantCode {
				t.Errorf("exit code = %d, want %d\n%s", code, tc.wantCode, errOut)
			}
			if tc.wantKind != "" && !strings.Contains(out, tc.wantKind) {
				t.Errorf("report lacks %s:\n%.2000s", tc.wantKind, out)
			}
			if tc.noKind != "" && strings.Contains(out, tc.noKind) {
				t.Errorf("report has %s", tc.noKind)
			}
			if !strings.Contains(errOut, tc.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantStderr, errOut)
			}
		})
	}
}

// TestDeadlineWritesPartialReport: when the run deadline passes, the report
// of what was observed is still written, marked incomplete in plain words
// naming what was not run, with exit 3. The instance is healthy but slow:
// requests cut off by the deadline are not run, never timeouts, so it is
// not reported unreachable.
func TestDeadlineWritesPartialReport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(40 * time.Millisecond): // slow, well inside --timeout
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	code, out, errOut := runCLI("audit", "http://api.example.com/", "--instance", "slow="+srv.Listener.Addr().String(),
		"--origin", "https://app.example.com", "--no-lb", "--format", "json", "--per-instance", "1",
		"--timeout", "300ms", "--deadline", "300ms")
	if code != exitIncomplete {
		t.Errorf("exit code = %d, want %d\n%s", code, exitIncomplete, errOut)
	}
	var rep diff.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report: %v\n%.1500s", err, out)
	}
	for _, want := range []string{"the deadline (300ms) passed before the audit finished: the report is partial", "not run on 1 instance: slow "} {
		if !strings.Contains(rep.Incomplete, want) {
			t.Errorf("incomplete = %q, want it to contain %q", rep.Incomplete, want)
		}
	}
	if strings.Contains(rep.Incomplete, "context") {
		t.Errorf("incomplete = %q speaks of contexts, not plain words", rep.Incomplete)
	}
	for _, f := range rep.Findings {
		if f.Kind == diff.KindUnreachable {
			t.Errorf("a slow instance cut off by the deadline is reported unreachable: %s", f.Message)
		}
	}
	if len(rep.Targets) != 1 || !rep.Targets[0].Instances[0].Reachable || rep.Summary.Unreachable != 0 {
		t.Errorf("instance not reachable in the partial report: %+v, summary %+v", rep.Targets, rep.Summary)
	}
}

// TestWildcardBreaksPolicy: instances answering Access-Control-Allow-Origin:
// * to every origin violate a policy that lists origins, also when the
// misconfig check (which does not count * as a mistake) is on.
func TestWildcardBreaksPolicy(t *testing.T) {
	f := newFleet(t)
	any := labserver.Behavior{AllowAnyOrigin: true, AllowMethods: []string{"GET"}}
	a, b := f.start("a", any), f.start("b", any)
	for _, checks := range []string{"drift", "drift,misconfig"} {
		code, out, errOut := runCLI("audit", "http://api.example.com/", "--instance", "a="+a, "--instance", "b="+b,
			"--origin", "https://app.example.com", "--no-lb", "--format", "json", "--checks", checks)
		if code != exitFindings || !strings.Contains(out, `"kind": "policy-violation"`) ||
			!strings.Contains(out, `"origin": "https://corsaudit-not-allowed.invalid"`) {
			t.Errorf("--checks %s: exit %d, want a policy-violation for the disallowed origin\n%.1500s\n%s", checks, code, out, errOut)
		}
	}
}

// TestInFlightWhenTheRunStops: an instance that hangs with requests in
// flight when the deadline passes or the run is interrupted was sent them:
// it is not "nothing sent", not unreachable either; its probes say "not
// answered before the run stopped", the summary counts it, and nothing
// says "no findings" about the partial run (exit 3).
func TestInFlightWhenTheRunStops(t *testing.T) {
	for _, tc := range []struct {
		desc      string
		interrupt bool
		reason    string
	}{
		{"deadline", false, "not answered before the run stopped: its deadline passed"},
		{"interrupt", true, "not answered before the run stopped: interrupted"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			hang, requested := faultnet.Requested(t)
			if !tc.interrupt {
				// Answers each request after 100ms for half a second,
				// then hangs: the request in flight when the deadline
				// passes started half a second after the run began, so
				// its own timeout (as long as the deadline) is far from
				// passing.
				var mu sync.Mutex
				var first time.Time
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					if first.IsZero() {
						first = time.Now()
					}
					late := time.Since(first) > 500*time.Millisecond
					mu.Unlock()
					if late {
						<-r.Context().Done()
						return
					}
					select { // slow, well inside --timeout
					case <-time.After(100 * time.Millisecond):
					case <-r.Context().Done():
						return
					}
					w.WriteHeader(http.StatusNoContent)
				}))
				defer srv.Close()
				hang = srv.Listener.Addr().String()
			}
			out := filepath.Join(t.TempDir(), "report.json")
			args := []string{"audit", "http://api.example.com/", "--instance", "hang=" + hang, "--origin", "https://app.example.com",
				"--no-lb", "--format", "json", "--output", out, "--per-instance", "1"}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.interrupt {
				args = append(args, "--timeout", "1m", "--deadline", "1m")
				go func() {
					<-requested
					cancel()
				}()
			} else {
				args = append(args, "--timeout", "1s", "--deadline", "1s")
			}
			var stdout, stderr bytes.Buffer
			code := execute(ctx, iostreams{out: &stdout, errOut: &stderr, in: strings.NewReader("")}, args)
			if code != exitIncomplete {
				t.Errorf("exit %d, want %d\n%s", code, exitIncomplete, stderr.String())
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var rep diff.Report
			if err := json.Unmarshal(data, &rep); err != nil {
				t.Fatalf("report: %v", err)
			}
			in := rep.Targets[0].Instances[0]
			if in.Reachable != !tc.interrupt || in.NothingSent || in.Unanswered == 0 || in.Unreachable() {
				t.Errorf("instance: reachable %v, nothing_sent %v, unanswered %d, unreachable %v: want sent, unanswered, not unreachable",
					in.Reachable, in.NothingSent, in.Unanswered, in.Unreachable())
			}
			if !slices.ContainsFunc(in.NotRun, func(n diff.NotRun) bool { return n.Reason == tc.reason }) {
				t.Errorf("not_run %+v: want a reason %q", in.NotRun, tc.reason)
			}
			if rep.Summary.Unanswered != 1 || rep.Summary.Unreachable != 0 {
				t.Errorf("summary: %d unanswered, %d unreachable; want 1, 0", rep.Summary.Unanswered, rep.Summary.Unreachable)
			}
			if !strings.Contains(rep.Incomplete, "sent and not answered before the run stopped on 1 instance: hang") {
				t.Errorf("incomplete = %q", rep.Incomplete)
			}
			if e := stderr.String(); strings.Contains(e, "no findings") || !strings.Contains(e, "1 not answered before the run stopped") {
				t.Errorf("stderr says \"no findings\" or does not count the instance:\n%s", e)
			}
		})
	}
}

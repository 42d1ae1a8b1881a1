package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/labserver"
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

package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/diff"
)

// maxAgeFleet is three instances allowing PUT from the origin, the third
// with another Access-Control-Max-Age: one header-drift warning.
func maxAgeFleet(t *testing.T) []string {
	t.Helper()
	var args []string
	for i := 1; i <= 3; i++ {
		maxAge := "600"
		if i == 3 {
			maxAge = "60"
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Vary", "Origin")
			if r.Header.Get("Origin") == authOrigin {
				w.Header().Set("Access-Control-Allow-Origin", authOrigin)
				w.Header().Set("Access-Control-Allow-Methods", "GET, PUT")
				w.Header().Set("Access-Control-Max-Age", maxAge)
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(srv.Close)
		args = append(args, "--instance", fmt.Sprintf("i%d=%s", i, srv.Listener.Addr()))
	}
	return append([]string{"audit", "http://api.example.com/v1", "--direct-scheme", "http", "--no-lb",
		"--origin", authOrigin, "--method", "PUT", "--checks", "drift"}, args...)
}

// junitCounts reads the totals of a JUnit report.
func junitCounts(t *testing.T, out string) (tests, failures int) {
	t.Helper()
	var s struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("not JUnit: %v\n%s", err, out)
	}
	return s.Tests, s.Failures
}

// TestJUnitFollowsFailOn: the JUnit report fails testcases exactly for the
// findings at or above the run's fail-on, so CI goes red when the exit
// code says so and only then; the warnings below it are kept as output.
func TestJUnitFollowsFailOn(t *testing.T) {
	base := maxAgeFleet(t)
	for _, tc := range []struct {
		failOn   string
		code     int
		failures int
	}{
		{"error", exitClean, 0},
		{"warning", exitFindings, 1},
		{"never", exitClean, 0},
	} {
		t.Run(tc.failOn, func(t *testing.T) {
			code, out, stderr := runCLI(append(base, "--fail-on", tc.failOn, "--format", "junit")...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, stderr)
			}
			if _, failures := junitCounts(t, out); failures != tc.failures {
				t.Errorf("failures=%d, want %d (exit %d)\n%s", failures, tc.failures, code, out)
			}
			if !strings.Contains(out, "header-drift") {
				t.Errorf("the warning is not in the report:\n%s", out)
			}
		})
	}
}

// TestMergeFailOnFollowsTheRuns: merging plain reports decides the exit
// code as merging shards does: under --fail-on when given, else under the
// runs' own fail_on (error for reports that do not say).
func TestMergeFailOnFollowsTheRuns(t *testing.T) {
	dir := t.TempDir()
	withError := writeJSONReport(t, dir, "error.json", shardReport("api", diff.SeverityError, "i-1"))
	withWarning := writeJSONReport(t, dir, "warning.json", shardReport("web", diff.SeverityWarning, "i-2"))
	strict := shardReport("db", diff.SeverityWarning, "i-3")
	strict.FailOn = diff.FailOn(diff.SeverityWarning)
	strictPath := writeJSONReport(t, dir, "strict.json", strict)
	for _, tc := range []struct {
		desc string
		args []string
		code int
	}{
		{"an error under the default", []string{"merge", withError}, exitFindings},
		{"a warning under the default", []string{"merge", withWarning}, exitClean},
		{"a run that failed on warnings", []string{"merge", withWarning, strictPath}, exitFindings},
		{"--fail-on never", []string{"merge", withError, "--fail-on", "never"}, exitClean},
		{"--fail-on warning", []string{"merge", withWarning, "--fail-on", "warning"}, exitFindings},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			code, _, stderr := runCLI(tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, stderr)
			}
		})
	}
}

// TestMergeDuration: the merged report of runs an hour apart lasted as
// long as the longest of them, not the hour between them.
func TestMergeDuration(t *testing.T) {
	dir := t.TempDir()
	a := shardReport("api", "", "i-1")
	b := shardReport("web", "", "i-2")
	a.Duration, b.Duration = 2, 5
	b.StartedAt = a.StartedAt.Add(time.Hour)
	code, out, stderr := runCLI("merge", writeJSONReport(t, dir, "a.json", a), writeJSONReport(t, dir, "b.json", b), "--format", "json")
	if code != exitClean {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var r diff.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Duration != 5 || !r.StartedAt.Equal(a.StartedAt) {
		t.Errorf("duration %gs from %s, want 5s (the longest run) from %s", r.Duration, r.StartedAt, a.StartedAt)
	}
}

package main

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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

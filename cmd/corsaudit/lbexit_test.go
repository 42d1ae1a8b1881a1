package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/lab"
)

// TestBrokenLoadBalancerExitCode: healthy instances behind a load balancer
// that breaks CORS. The exit code a cron job or gate sees follows what
// users lose: 1 when the load balancer changes the browser's verdict
// (redirected preflights; preflights answered with * and credentials),
// 0 under the default --fail-on when it answers preflights itself but
// browsers decide the same (a warning), 1 with --fail-on warning.
func TestBrokenLoadBalancerExitCode(t *testing.T) {
	const origin = "https://app.example.com"
	answerOptions := func(next http.Handler, answer func(w http.ResponseWriter, r *http.Request)) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodOptions {
				answer(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	// sameVerdict answers preflights itself with headers no instance sends
	// (another Max-Age) that browsers decide as the instances' answers.
	sameVerdict := func(next http.Handler) http.Handler {
		return answerOptions(next, func(w http.ResponseWriter, r *http.Request) {
			if o := r.Header.Get("Origin"); o == origin {
				w.Header().Set("Access-Control-Allow-Origin", o)
				w.Header().Set("Access-Control-Allow-Credentials", "true")
				w.Header().Set("Access-Control-Allow-Methods", "GET, PUT")
				w.Header().Set("Access-Control-Allow-Headers", "Content-Type, X-Request-Id")
				w.Header().Set("Access-Control-Max-Age", "5")
			}
			w.Header().Set("Vary", "Origin")
			w.WriteHeader(http.StatusNoContent)
		})
	}
	for _, tc := range []struct {
		desc     string
		lb       func(next http.Handler) http.Handler
		failOn   string
		wantKind diff.Kind
		wantSev  diff.Severity
		wantCode int
	}{
		{desc: "redirects OPTIONS", lb: lab.RedirectOptions,
			wantKind: diff.KindLBRedirect, wantSev: diff.SeverityError, wantCode: exitFindings},
		{desc: "answers preflights with * and credentials", lb: func(next http.Handler) http.Handler {
			return answerOptions(next, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Access-Control-Allow-Origin", "*")
				w.Header().Set("Access-Control-Allow-Credentials", "true")
				w.Header().Set("Access-Control-Allow-Methods", "*")
				w.WriteHeader(http.StatusNoContent)
			})
		}, wantKind: diff.KindLBAnswersOptions, wantSev: diff.SeverityError, wantCode: exitFindings},
		{desc: "answers preflights itself, browsers decide the same", lb: sameVerdict,
			wantKind: diff.KindLBAnswersOptions, wantSev: diff.SeverityWarning, wantCode: exitClean},
		{desc: "the same, with --fail-on warning", lb: sameVerdict, failOn: "warning",
			wantKind: diff.KindLBAnswersOptions, wantSev: diff.SeverityWarning, wantCode: exitFindings},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			f := newFleet(t)
			args := []string{"audit", "", "--origin", origin, "--method", "GET", "--method", "PUT",
				"--header", "X-Request-Id", "--credentials", "--direct-scheme", "http", "--format", "json"}
			var backends []*url.URL
			for _, id := range []string{"web-1", "web-2", "web-3"} {
				addr := f.start(id, currentCORS)
				args = append(args, "--instance", id+"="+addr)
				backends = append(backends, &url.URL{Scheme: "http", Host: addr})
			}
			lb := httptest.NewServer(tc.lb(lab.RoundRobin(backends)))
			defer lb.Close()
			args[1] = lb.URL + "/v1/cart"
			if tc.failOn != "" {
				args = append(args, "--fail-on", tc.failOn)
			}
			rep, code, stderr := runJSON(t, args...)
			if code != tc.wantCode {
				t.Errorf("exit code = %d, want %d\n%s", code, tc.wantCode, stderr)
			}
			var found bool
			for _, fd := range rep.Findings {
				if fd.Kind == tc.wantKind {
					found = true
					if fd.Severity != tc.wantSev {
						t.Errorf("%s severity = %s, want %s: %s", fd.Kind, fd.Severity, tc.wantSev, fd.Message)
					}
				}
			}
			if !found {
				t.Errorf("no %s finding; findings: %+v", tc.wantKind, rep.Findings)
			}
		})
	}
}

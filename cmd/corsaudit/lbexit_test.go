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
// 0 under the default --fail-on when it answers preflights itself or
// changes their headers but browsers decide the same (a warning), 1 with
// --fail-on warning. "Answers itself" is said on evidence only (the
// instance header absent, a status the instances never give); a load
// balancer that passes preflights on without Vary (varnish's unset
// beresp.http.Vary) changes headers, a warning.
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
	wildcard := func(status int) func(next http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return answerOptions(next, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Access-Control-Allow-Origin", "*")
				w.Header().Set("Access-Control-Allow-Credentials", "true")
				w.Header().Set("Access-Control-Allow-Methods", "*")
				w.WriteHeader(status)
			})
		}
	}
	// dropVary passes everything on and strips Vary from the answers.
	dropVary := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(varyStripper{w}, r)
		})
	}
	for _, tc := range []struct {
		desc     string
		lb       func(next http.Handler) http.Handler
		failOn   string
		extra    []string
		wantKind diff.Kind
		wantSev  diff.Severity
		wantCode int
	}{
		{desc: "redirects OPTIONS", lb: lab.RedirectOptions,
			wantKind: diff.KindLBRedirect, wantSev: diff.SeverityError, wantCode: exitFindings},
		{desc: "answers preflights with * and credentials, instance header absent", lb: wildcard(http.StatusNoContent),
			extra:    []string{"--instance-header", "X-Instance-Id"},
			wantKind: diff.KindLBAnswersOptions, wantSev: diff.SeverityError, wantCode: exitFindings},
		{desc: "answers preflights with * and credentials and a status the instances never give", lb: wildcard(http.StatusOK),
			wantKind: diff.KindLBAnswersOptions, wantSev: diff.SeverityError, wantCode: exitFindings},
		{desc: "answers preflights with * and credentials, no evidence it answers itself: the verdict changes", lb: wildcard(http.StatusNoContent),
			wantKind: diff.KindLBMismatch, wantSev: diff.SeverityError, wantCode: exitFindings},
		{desc: "answers preflights itself, browsers decide the same: it changes headers", lb: sameVerdict,
			wantKind: diff.KindLBChangesHeaders, wantSev: diff.SeverityWarning, wantCode: exitClean},
		{desc: "the same, with --fail-on warning", lb: sameVerdict, failOn: "warning",
			wantKind: diff.KindLBChangesHeaders, wantSev: diff.SeverityWarning, wantCode: exitFindings},
		{desc: "the same, instance header absent: it answers itself", lb: sameVerdict, extra: []string{"--instance-header", "X-Instance-Id"},
			wantKind: diff.KindLBAnswersOptions, wantSev: diff.SeverityWarning, wantCode: exitClean},
		{desc: "passes everything on without Vary", lb: dropVary,
			wantKind: diff.KindLBChangesHeaders, wantSev: diff.SeverityWarning, wantCode: exitClean},
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
			args = append(args, tc.extra...)
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
			for _, fd := range rep.Findings {
				if fd.Kind == diff.KindLBAnswersOptions && tc.wantKind != diff.KindLBAnswersOptions {
					t.Errorf("lb-answers-options without evidence: %s", fd.Message)
				}
			}
		})
	}
}

// varyStripper is a ResponseWriter that drops Vary from the answer, as
// varnish's `unset beresp.http.Vary` does.
type varyStripper struct{ http.ResponseWriter }

func (v varyStripper) WriteHeader(code int) {
	v.Header().Del("Vary")
	v.ResponseWriter.WriteHeader(code)
}

func (v varyStripper) Write(b []byte) (int, error) {
	v.Header().Del("Vary")
	return v.ResponseWriter.Write(b)
}

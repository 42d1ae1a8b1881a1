package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/diff"
)

// routedCORS allows https://app.example.com on every path, except on
// /v1/items when itemsDrift (one instance's router lacks the middleware).
func routedCORS(itemsDrift bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !(itemsDrift && r.URL.Path == "/v1/items") && r.Header.Get("Origin") == "https://app.example.com" {
			w.Header().Set("Access-Control-Allow-Origin", "https://app.example.com")
			w.Header().Set("Access-Control-Allow-Methods", "GET, PUT")
			w.Header().Set("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
		}
	})
}

// TestAuditPaths: a two-path target where one instance drifts on one path
// only: every finding names that path, and the plan covers both paths.
func TestAuditPaths(t *testing.T) {
	args := []string{"audit", "http://api.example.com/v1/cart", "--no-lb", "--direct-scheme", "http",
		"--origin", "https://app.example.com", "--method", "GET", "--method", "PUT", "--format", "json"}
	for i := 1; i <= 3; i++ {
		srv := httptest.NewServer(routedCORS(i == 3))
		t.Cleanup(srv.Close)
		args = append(args, "--instance", fmt.Sprintf("i%d=%s", i, srv.Listener.Addr()))
	}
	onePath := 0 // probes of the one-path plan
	for _, tc := range []struct {
		desc      string
		paths     []string
		wantPaths map[string]bool // paths named by findings
	}{
		{desc: "the URL's path only: no drift there", wantPaths: map[string]bool{}},
		{desc: "two paths: findings name /v1/items only", paths: []string{"/v1/cart", "/v1/items"},
			wantPaths: map[string]bool{"/v1/items": true}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			a := append([]string(nil), args...)
			for _, p := range tc.paths {
				a = append(a, "--path", p)
			}
			rep, _, stderr := runJSON(t, a...)
			got := map[string]bool{}
			for _, f := range rep.Findings {
				got[f.Path] = true
				if f.Kind == diff.KindVerdictDrift && (strings.Join(f.Instances, ",") != "i3" || !strings.Contains(f.Reproduce, "/v1/items")) {
					t.Errorf("verdict-drift on %v, reproduce %q: want i3 on /v1/items", f.Instances, f.Reproduce)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.wantPaths) {
				t.Errorf("findings name paths %v, want %v\n%s", got, tc.wantPaths, stderr)
			}
			n := len(rep.Targets[0].Probes)
			if len(tc.paths) == 0 {
				onePath = n
				if strings.Contains(stderr, "paths") {
					t.Errorf("a single path is announced as paths:\n%s", stderr)
				}
				return
			}
			if n != 2*onePath || onePath == 0 || !strings.Contains(stderr, "on 2 paths") {
				t.Errorf("%d probes for 2 paths (%d for one); stderr:\n%s", n, onePath, stderr)
			}
		})
	}
}

// TestCheckReadmeConnectTo is README's check example against README's
// setup: the public URL is https, the instance at --connect-to serves plain
// HTTP behind the TLS load balancer. Without --direct-scheme the failure
// says to add it.
func TestCheckReadmeConnectTo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "https://app.example.com")
		w.Header().Set("Access-Control-Allow-Methods", "GET, PUT")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	readme := []string{"check", "https://api.example.com/v1/cart", "--origin", "https://app.example.com", "--method", "PUT",
		"--header", "Content-Type: application/json", "--connect-to", srv.Listener.Addr().String(), "--format", "json"}
	for _, tc := range []struct {
		desc     string
		extra    []string
		wantCode int
		want     string // in stdout (json) or stderr
	}{
		{desc: "with --direct-scheme http", extra: []string{"--direct-scheme", "http"}, wantCode: exitClean, want: `"allowed": true`},
		{desc: "without it: the error says what to add", wantCode: exitIncomplete, want: "set --direct-scheme http"},
		{desc: "--direct-scheme without --connect-to", extra: []string{"--direct-scheme", "http", "--connect-to", ""},
			wantCode: exitUsage, want: "direct-scheme: needs --connect-to"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			code, out, stderr := runCLI(append(append([]string(nil), readme...), tc.extra...)...)
			if code != tc.wantCode || !strings.Contains(out+stderr, tc.want) {
				t.Errorf("exit %d, want %d with %q\nstdout: %s\nstderr: %s", code, tc.wantCode, tc.want, out, stderr)
			}
		})
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/corsaudit/corsaudit/diff"
)

const (
	authOrigin = "https://app.example.com"
	authSecret = "Bearer tok-7f3a9c-do-not-print"
	authEnv    = "CORSAUDIT_TEST_TOKEN"
)

// loginAPI is an endpoint behind a login: an anonymous GET is 401 without
// CORS headers (nginx add_header without always), a GET with the token is
// 200 with CORS headers (none when noCORS). It counts where the token was
// sent: never on a preflight, never from an origin the policy does not
// list.
type loginAPI struct {
	noCORS bool

	mu                         sync.Mutex
	authed, onPreflight, other int
}

func (a *loginAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	hasToken := r.Header.Get("Authorization") != ""
	a.mu.Lock()
	switch {
	case hasToken && r.Method == http.MethodOptions:
		a.onPreflight++
	case hasToken && origin != authOrigin:
		a.other++
	case hasToken && r.Header.Get("Authorization") == authSecret:
		a.authed++
	}
	a.mu.Unlock()
	cors := func() {
		w.Header().Set("Vary", "Origin")
		if origin == authOrigin {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
		}
	}
	if r.Method == http.MethodOptions {
		cors()
		w.Header().Set("Access-Control-Allow-Methods", "GET, PUT")
		w.Header().Set("Access-Control-Allow-Headers", "X-Request-Id")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Header.Get("Authorization") != authSecret {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if !a.noCORS {
		cors()
	}
	w.WriteHeader(http.StatusOK)
}

// loginFleet starts three instances (the third without CORS on its
// successful answers when drift) and an LB in front of the first, and
// writes the config.
func loginFleet(t *testing.T, auth string, drift bool) (path string, apis []*loginAPI) {
	t.Helper()
	var insts strings.Builder
	for i := 1; i <= 3; i++ {
		a := &loginAPI{noCORS: drift && i == 3}
		apis = append(apis, a)
		srv := httptest.NewServer(a)
		t.Cleanup(srv.Close)
		fmt.Fprintf(&insts, "          - {id: i%d, addr: %s}\n", i, srv.Listener.Addr())
	}
	lb := httptest.NewServer(apis[0])
	t.Cleanup(lb.Close)
	return writeConfig(t, fmt.Sprintf(`targets:
  - name: api
    url: %s/v1/cart
    discover:
      static:
        instances:
%s    lb: {samples: 4}
    policy:
      origins: [%s]
      methods: [GET, PUT]
      headers: [X-Request-Id]
      credentials: true
%s`, lb.URL, insts.String(), authOrigin, auth)), apis
}

func TestAuthLoggedInEndpoint(t *testing.T) {
	t.Setenv(authEnv, authSecret)
	secretFile := filepath.Join(t.TempDir(), "it's the token")
	if err := os.WriteFile(secretFile, []byte(authSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fromEnv := "    auth: {header: Authorization, value_from_env: " + authEnv + "}\n"
	fromFile := "    auth: {header: Authorization, value_from_file: \"" + secretFile + "\"}\n"
	for _, tc := range []struct {
		desc  string
		auth  string
		drift bool
		// want maps kind -> instances; exactly these findings.
		want      map[diff.Kind]string
		wantCode  int
		reproduce string // in the drift finding's curl command
	}{
		{desc: "anonymous: the 401 without CORS is its own warning, no policy violation",
			want: map[diff.Kind]string{diff.KindErrorWithoutCORS: "i1,i2,i3"}, wantCode: exitClean},
		{desc: "logged in from a variable: no finding", auth: fromEnv, want: map[diff.Kind]string{}, wantCode: exitClean},
		{desc: "logged in, one instance drops CORS on its 200: only that instance; curl names the variable",
			auth: fromEnv, drift: true, want: map[diff.Kind]string{diff.KindVerdictDrift: "i3"}, wantCode: exitFindings,
			reproduce: `-H 'Authorization: '"$` + authEnv + `"`},
		{desc: "logged in from a file: curl reads the file", auth: fromFile, drift: true,
			want: map[diff.Kind]string{diff.KindVerdictDrift: "i3"}, wantCode: exitFindings,
			reproduce: `-H 'Authorization: '"$(cat '` + strings.ReplaceAll(secretFile, "'", `'\''`) + `')"`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			path, apis := loginFleet(t, tc.auth, tc.drift)
			metrics := filepath.Join(t.TempDir(), "corsaudit.prom")
			var outputs []string
			for _, format := range []string{"json", "table", "sarif", "junit", "html"} {
				code, out, stderr := runCLI("audit", "--config", path, "--format", format, "--metrics-file", metrics)
				if code != tc.wantCode {
					t.Errorf("%s: exit %d, want %d; stderr:\n%s", format, code, tc.wantCode, stderr)
				}
				prom, err := os.ReadFile(metrics)
				if err != nil {
					t.Fatalf("%s: metrics: %v", format, err)
				}
				outputs = append(outputs, out, stderr, string(prom))
				if format != "json" {
					continue
				}
				var rep diff.Report
				if err := json.Unmarshal([]byte(out), &rep); err != nil {
					t.Fatalf("json report: %v", err)
				}
				got := map[diff.Kind]string{}
				for _, f := range rep.Findings {
					got[f.Kind] = strings.Join(f.Instances, ",")
					if f.Path != "/v1/cart" {
						t.Errorf("finding %s: path %q, want /v1/cart", f.Kind, f.Path)
					}
					if tc.reproduce != "" && !strings.Contains(f.Reproduce, tc.reproduce) {
						t.Errorf("finding %s: reproduce %q lacks %s", f.Kind, f.Reproduce, tc.reproduce)
					}
					if tc.reproduce != "" && !slices.Contains(shellArgs(t, f.Reproduce, authEnv+"="+authSecret), "Authorization: "+authSecret) {
						t.Errorf("finding %s: pasted, %s does not send the secret", f.Kind, f.Reproduce)
					}
					outputs = append(outputs, f.Reproduce)
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("findings %v, want %v", got, tc.want)
				}
			}
			for i, o := range outputs {
				if strings.Contains(o, "tok-7f3a9c") {
					t.Errorf("output %d holds the secret:\n%s", i, o)
				}
			}
			for i, a := range apis {
				if a.onPreflight != 0 || a.other != 0 {
					t.Errorf("i%d got the token on %d preflights and %d requests from other origins", i+1, a.onPreflight, a.other)
				}
				if (a.authed > 0) != (tc.auth != "") {
					t.Errorf("i%d got %d authenticated requests with auth %q", i+1, a.authed, tc.auth)
				}
			}
		})
	}
}

// TestAuthConfigErrors: the secret never in a message, and a missing or
// misplaced secret says what to write. config check reads no secret: what
// only reading finds (read) is audit's to report, before it sends anything.
func TestAuthConfigErrors(t *testing.T) {
	t.Setenv(authEnv, "line1\nline2-tok-7f3a9c")
	for _, tc := range []struct {
		desc, auth, want string
		read             bool
	}{
		{"unset variable", "{header: Authorization, value_from_env: CORSAUDIT_UNSET_VAR}", "targets[0].auth.value_from_env: CORSAUDIT_UNSET_VAR is not set or empty", true},
		{"control characters", "{header: Authorization, value_from_env: " + authEnv + "}", "the secret holds control characters", true},
		{"no source", "{header: Authorization}", "give value_from_env: VARIABLE or value_from_file: PATH", false},
		{"both kinds", "{header: Authorization, cookie: session, value_from_env: " + authEnv + "}", "give header: or cookie:, not both", false},
		{"cookie as a header", "{header: Cookie, value_from_env: " + authEnv + "}", "write cookie: NAME", false},
		{"missing file", "{cookie: session, value_from_file: /nonexistent/token}", "cannot read /nonexistent/token", true},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			path := writeConfig(t, `targets:
  - url: http://127.0.0.1:1/
    discover: {static: {instances: [{id: a, addr: "127.0.0.1:1"}]}}
    policy: {origins: [https://app.example.com], credentials: true}
    auth: `+tc.auth+"\n")
			code, out, stderr := runCLI("config", "check", "--config", path)
			switch {
			case tc.read && code != exitClean:
				t.Errorf("config check: exit %d, stderr %q; want 0 (it reads no secret)", code, stderr)
			case !tc.read && (code != exitUsage || !strings.Contains(stderr, tc.want)):
				t.Errorf("config check: exit %d, stderr %q; want %d and %q", code, stderr, exitUsage, tc.want)
			}
			acode, aout, astderr := runCLI("audit", "--config", path, "--format", "json")
			if acode != exitUsage || !strings.Contains(astderr, tc.want) || aout != "" {
				t.Errorf("audit: exit %d, stdout %q, stderr %q; want %d, no report and %q", acode, aout, astderr, exitUsage, tc.want)
			}
			if strings.Contains(out+stderr+aout+astderr, "tok-7f3a9c") {
				t.Errorf("the secret is printed:\n%s%s%s%s", out, stderr, aout, astderr)
			}
		})
	}
}

// TestAuthAdHocFlags: --auth-header/--auth-cookie with --auth-from-env or
// --auth-from-file map onto auth, and a misuse names the flag.
func TestAuthAdHocFlags(t *testing.T) {
	t.Setenv(authEnv, authSecret)
	api := &loginAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	base := []string{"audit", "http://api.example.com/v1/cart", "--instance", "i1=" + srv.Listener.Addr().String(),
		"--direct-scheme", "http", "--no-lb", "--origin", authOrigin, "--checks", "drift", "--format", "json"}
	for _, tc := range []struct {
		desc     string
		flags    []string
		wantCode int
		want     string // in stderr
		authed   bool
	}{
		{desc: "header from env", flags: []string{"--credentials", "--auth-header", "Authorization", "--auth-from-env", authEnv},
			wantCode: exitClean, authed: true},
		{desc: "not a credentialed policy", flags: []string{"--auth-header", "Authorization", "--auth-from-env", authEnv},
			wantCode: exitUsage, want: "--auth-header/--auth-cookie: a browser sends Authorization only on credentialed requests"},
		{desc: "unset variable", flags: []string{"--credentials", "--auth-header", "Authorization", "--auth-from-env", "CORSAUDIT_UNSET_VAR"},
			wantCode: exitUsage, want: "--auth-from-env: CORSAUDIT_UNSET_VAR is not set or empty"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			api.authed = 0
			code, out, stderr := runCLI(append(append([]string(nil), base...), tc.flags...)...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d with %q\nstderr: %s", code, tc.wantCode, tc.want, stderr)
			}
			if (api.authed > 0) != tc.authed {
				t.Errorf("%d authenticated requests, want some: %v", api.authed, tc.authed)
			}
			if strings.Contains(out+stderr, "tok-7f3a9c") {
				t.Errorf("the secret is printed")
			}
		})
	}
}

// shellArgs is what /bin/sh makes of a printed curl line: the arguments
// curl would receive (printf runs in its place), with only env set.
func shellArgs(t *testing.T, line string, env ...string) []string {
	t.Helper()
	rest, ok := strings.CutPrefix(line, "curl ")
	if !ok {
		t.Fatalf("not a curl line: %s", line)
	}
	cmd := exec.Command("/bin/sh", "-c", `printf '%s\0' `+rest)
	cmd.Dir, cmd.Env = t.TempDir(), env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sh: %s: %v", line, err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

// echoAPI answers a request carrying the credential by echoing it where a
// careless or hostile instance would: in Location, Access-Control-Allow-
// Origin, Access-Control-Expose-Headers and the instance header; with
// garbled, in a malformed header line that Go's client quotes in its
// error message.
func echoAPI(garbled bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.Header.Get("Authorization")
		w.Header().Set("Vary", "Origin")
		if r.Method == http.MethodOptions || token == "" {
			w.Header().Set("Access-Control-Allow-Origin", authOrigin)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Set("Access-Control-Allow-Methods", "GET, PUT")
			w.Header().Set("Access-Control-Allow-Headers", "X-Request-Id")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if garbled {
			c, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer c.Close()
			buf.WriteString("HTTP/1.1 200 OK\r\nBroken header line " + token + "\r\n\r\n")
			buf.Flush()
			return
		}
		bare := strings.TrimPrefix(token, "Bearer ")
		w.Header().Set("Location", "https://app.example.com/cb?token="+url.QueryEscape(token)+"&t="+bare)
		w.Header().Set("Access-Control-Allow-Origin", token)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Access-Control-Expose-Headers", "X-"+bare)
		w.Header().Set("X-Served-By", "i2 "+token)
		w.WriteHeader(http.StatusFound)
	})
}

// TestEchoedCredentialIsRedacted: an instance that echoes the credential
// does not make corsaudit store or print it: it is redacted from every
// byte recorded from the network before anything is stored, so no format
// (table, json, sarif, junit, html, metrics), no shard file and nothing on
// stderr holds it.
func TestEchoedCredentialIsRedacted(t *testing.T) {
	t.Setenv(authEnv, authSecret)
	var insts strings.Builder
	for i, h := range []http.Handler{&loginAPI{}, echoAPI(false), echoAPI(true)} {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		fmt.Fprintf(&insts, "          - {id: i%d, addr: %s}\n", i+1, srv.Listener.Addr())
	}
	lb := httptest.NewServer(echoAPI(false))
	t.Cleanup(lb.Close)
	path := writeConfig(t, fmt.Sprintf(`targets:
  - name: api
    url: %s/v1/cart
    discover:
      static:
        instances:
%s    lb: {samples: 2, instance_header: X-Served-By}
    policy: {origins: [%s], methods: [GET, PUT], headers: [X-Request-Id], credentials: true}
    auth: {header: Authorization, value_from_env: %s}
`, lb.URL, insts.String(), authOrigin, authEnv))
	dir := t.TempDir()
	const leaked = "tok-7f3a9c"
	outputs := map[string]string{}
	for _, format := range []string{"json", "table", "sarif", "junit", "html"} {
		metrics := filepath.Join(dir, format+".prom")
		code, out, stderr := runCLI("audit", "--config", path, "--format", format, "--metrics-file", metrics)
		if code != exitFindings {
			t.Fatalf("%s: exit %d, want %d (the echoing instances drift)\n%s", format, code, exitFindings, stderr)
		}
		prom, _ := os.ReadFile(metrics)
		outputs[format], outputs[format+" stderr"], outputs[format+" metrics"] = out, stderr, string(prom)
	}
	if !strings.Contains(outputs["json"], "REDACTED") {
		t.Errorf("the JSON report shows no redaction: did the instances echo anything?\n%s", outputs["json"])
	}
	inv := filepath.Join(dir, "inventory.json")
	if code, _, stderr := runCLI("discover", "--config", path, "--output", inv); code != exitClean {
		t.Fatalf("discover: exit %d\n%s", code, stderr)
	}
	shard := filepath.Join(dir, "shard.json")
	code, _, stderr := runCLI("audit", "--inventory", inv, "--shard", "0/1", "--output", shard)
	if code != exitClean {
		t.Fatalf("shard: exit %d\n%s", code, stderr)
	}
	b, _ := os.ReadFile(shard)
	outputs["shard file"], outputs["shard stderr"] = string(b), stderr
	_, merged, stderr := runCLI("merge", shard, "--format", "table")
	outputs["merged table"], outputs["merge stderr"] = merged, stderr
	for what, o := range outputs {
		if strings.Contains(o, leaked) {
			i := strings.Index(o, leaked)
			t.Errorf("%s holds the credential: ...%s...", what, o[max(0, i-80):min(len(o), i+40)])
		}
	}
}

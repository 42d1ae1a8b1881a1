package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/discovery"
)

const pageOrigin = "https://app.example.com"

// httpPageOrigin is a page on http, for checks of http URLs on public host
// names (from an https page a browser blocks them as mixed content).
const httpPageOrigin = "http://app.example.com"

func TestCheckFlags(t *testing.T) {
	tests := []struct {
		desc string
		args []string
		want checkOptions
	}{
		{
			desc: "defaults",
			args: []string{"http://api.example.com/x", "--origin", pageOrigin},
			want: checkOptions{URL: "http://api.example.com/x", Origin: pageOrigin, Method: "GET",
				Browser: "", Timeout: 5 * time.Second},
		},
		{
			desc: "every flag",
			args: []string{"https://api.example.com/v1", "--origin", "null", "--method", "put",
				"--header", "Content-Type: application/json", "-H", "X-Request-Id: 7", "--credentials",
				"--send-actual", "--connect-to", "10.0.0.5:8443", "--browser", "firefox", "--format", "json",
				"--timeout", "750ms"},
			want: checkOptions{URL: "https://api.example.com/v1", Origin: "null", Method: "put",
				Headers: []string{"Content-Type: application/json", "X-Request-Id: 7"}, Credentials: true,
				SendActual: true, ConnectTo: "10.0.0.5:8443", Browser: "firefox", Format: "json",
				Timeout: 750 * time.Millisecond},
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			var got *checkOptions
			cmd := newCmdCheck(iostreams{out: &bytes.Buffer{}, errOut: &bytes.Buffer{}}, func(o *checkOptions) error {
				got = o
				return nil
			})
			cmd.SetArgs(tt.args)
			if err := cmd.Execute(); err != nil {
				t.Fatalf("execute: %v", err)
			}
			if got == nil {
				t.Fatal("runF was not called")
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("options:\n got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestCheckUsageErrors(t *testing.T) {
	tests := []struct {
		desc string
		args []string
		want string // in stderr
	}{
		{"no URL", []string{"check", "--origin", pageOrigin}, "want exactly one URL"},
		{"no origin", []string{"check", "http://127.0.0.1:1/"}, "origin: --origin is required"},
		{"origin with a path", []string{"check", "http://127.0.0.1:1/", "--origin", "https://a.example/x"}, "is not an origin (scheme://host[:port] only)"},
		{"ftp origin (the config rejects it too)", []string{"check", "http://127.0.0.1:1/", "--origin", "ftp://a.example"}, "scheme must be http or https"},
		{"relative URL", []string{"check", "/x", "--origin", pageOrigin}, "is not an absolute http(s) URL"},
		{"header without colon", []string{"check", "http://127.0.0.1:1/", "--origin", pageOrigin, "-H", "X-A"}, "is not 'Name: value'"},
		{"bad header name", []string{"check", "http://127.0.0.1:1/", "--origin", pageOrigin, "-H", "X A: 1"}, "is not a valid header name"},
		{"bad method", []string{"check", "http://127.0.0.1:1/", "--origin", pageOrigin, "-X", "GE T"}, "is not a valid HTTP method"},
		{"bad format", []string{"check", "http://127.0.0.1:1/", "--origin", pageOrigin, "--format", "xml"}, `format: unknown format "xml" (known: text, json)`},
		{"bad connect-to", []string{"check", "http://127.0.0.1:1/", "--origin", pageOrigin, "--connect-to", "a:b:c"}, "connect-to:"},
		{"unknown flag", []string{"check", "http://127.0.0.1:1/", "--origin", pageOrigin, "--nope"}, "unknown flag"},
		{"simple POST without --send-actual", []string{"check", "http://127.0.0.1:1/", "--origin", pageOrigin, "-X", "POST"}, "--send-actual"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := execute(context.Background(), iostreams{out: &stdout, errOut: &stderr}, tt.args)
			if code != exitUsage {
				t.Errorf("exit code = %d, want %d; stderr: %s", code, exitUsage, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.want)
			}
		})
	}
}

// scriptedCORS answers OPTIONS with pre and anything else with act, and
// records what it receives.
type scriptedCORS struct {
	pre, act func(w http.ResponseWriter)

	mu       sync.Mutex
	requests []*http.Request
}

func (s *scriptedCORS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Clone(context.Background()))
	s.mu.Unlock()
	if r.Method == http.MethodOptions && r.Header.Get(cors.ACRM) != "" {
		s.pre(w)
		return
	}
	s.act(w)
}

func (s *scriptedCORS) methods() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m []string
	for _, r := range s.requests {
		m = append(m, r.Method)
	}
	return m
}

// answer writes status with headers given as name, value pairs.
func answer(status int, kv ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(kv); i += 2 {
			w.Header().Add(kv[i], kv[i+1])
		}
		w.WriteHeader(status)
	}
}

// startScripted serves s on loopback and asserts at cleanup that no cookie
// ever arrived.
func startScripted(t *testing.T, s *scriptedCORS) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		srv.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, r := range s.requests {
			if c := r.Header.Get("Cookie"); c != "" {
				t.Errorf("server: %s request carried Cookie %q", r.Method, c)
			}
		}
	})
	return srv
}

// TestCheckVerdicts runs `corsaudit check` against live loopback servers,
// including the five cases of the "done when".
func TestCheckVerdicts(t *testing.T) {
	const prefix = "Access to fetch at '%s' from origin '" + pageOrigin + "' has been blocked by CORS policy: "
	tests := []struct {
		desc      string
		server    *scriptedCORS
		args      []string
		code      int
		preflight bool
		reason    cors.Reason
		message   string // after the "Access to fetch at ..." prefix
		methods   []string
	}{
		{
			desc:      "preflight answered with a 301",
			server:    &scriptedCORS{pre: answer(301, "Location", "https://api.example.com/elsewhere", cors.ACAO, pageOrigin, cors.ACAM, "PUT"), act: answer(200)},
			args:      []string{"--method", "PUT"},
			code:      exitFindings,
			preflight: true,
			reason:    cors.ReasonPreflightRedirect,
			message:   "Response to preflight request doesn't pass access control check: Redirect is not allowed for a preflight request.",
			methods:   []string{"OPTIONS"},
		},
		{
			desc:      "preflight answered with a 405",
			server:    &scriptedCORS{pre: answer(405, cors.ACAO, pageOrigin, cors.ACAM, "PUT"), act: answer(200)},
			args:      []string{"--method", "PUT", "--header", "Content-Type: application/json"},
			code:      exitFindings,
			preflight: true,
			reason:    cors.ReasonPreflightStatus,
			message:   "Response to preflight request doesn't pass access control check: It does not have HTTP ok status.",
			methods:   []string{"OPTIONS"},
		},
		{
			desc:    "ACAO * with credentials",
			server:  &scriptedCORS{pre: answer(204), act: answer(200, cors.ACAO, "*", cors.ACAC, "true")},
			args:    []string{"--credentials"},
			code:    exitFindings,
			reason:  cors.ReasonWildcardWithCredentials,
			message: "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'.",
			methods: []string{"GET"},
		},
		{
			desc:      "ACAM put for PUT",
			server:    &scriptedCORS{pre: answer(204, cors.ACAO, pageOrigin, cors.ACAM, "put"), act: answer(200, cors.ACAO, pageOrigin)},
			args:      []string{"--method", "PUT"},
			code:      exitFindings,
			preflight: true,
			reason:    cors.ReasonMethodNotAllowed,
			message:   "Method PUT is not allowed by Access-Control-Allow-Methods in preflight response.",
			methods:   []string{"OPTIONS"},
		},
		{
			desc:    "simple GET without ACAO",
			server:  &scriptedCORS{pre: answer(204), act: answer(200)},
			code:    exitFindings,
			reason:  cors.ReasonACAOMissing,
			message: "No 'Access-Control-Allow-Origin' header is present on the requested resource.",
			methods: []string{"GET"},
		},
		{
			desc:    "simple GET allowed",
			server:  &scriptedCORS{pre: answer(204), act: answer(200, cors.ACAO, pageOrigin, "Vary", cors.Origin)},
			code:    exitClean,
			methods: []string{"GET"},
		},
		{
			desc:      "PUT allowed by its preflight is not sent without --send-actual",
			server:    &scriptedCORS{pre: answer(204, cors.ACAO, pageOrigin, cors.ACAM, "PUT"), act: answer(200)},
			args:      []string{"--method", "PUT"},
			code:      exitClean,
			preflight: true,
			methods:   []string{"OPTIONS"},
		},
		{
			desc:      "PUT with --send-actual is judged on its actual response",
			server:    &scriptedCORS{pre: answer(204, cors.ACAO, pageOrigin, cors.ACAM, "PUT"), act: answer(200)},
			args:      []string{"--method", "PUT", "--send-actual"},
			code:      exitFindings,
			preflight: true,
			reason:    cors.ReasonACAOMissing,
			message:   "No 'Access-Control-Allow-Origin' header is present on the requested resource.",
			methods:   []string{"OPTIONS", "PUT"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			srv := startScripted(t, tt.server)
			target := srv.URL + "/v1/cart"
			args := append([]string{"check", target, "--origin", pageOrigin, "--format", "json", "--browser", "chromium"}, tt.args...)
			var stdout, stderr bytes.Buffer
			code := execute(context.Background(), iostreams{out: &stdout, errOut: &stderr}, args)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			var res checkResult
			if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
			}
			if res.Allowed != (tt.code == exitClean) {
				t.Errorf("allowed = %v, want %v", res.Allowed, tt.code == exitClean)
			}
			if res.Preflight != tt.preflight {
				t.Errorf("preflight = %v, want %v", res.Preflight, tt.preflight)
			}
			if res.Reason != string(tt.reason) {
				t.Errorf("reason = %q, want %q", res.Reason, tt.reason)
			}
			wantMsg := ""
			if tt.message != "" {
				wantMsg = strings.Replace(prefix, "%s", target, 1) + tt.message
			}
			if res.Message != wantMsg {
				t.Errorf("message:\n got %q\nwant %q", res.Message, wantMsg)
			}
			if got := tt.server.methods(); !reflect.DeepEqual(got, tt.methods) {
				t.Errorf("server received %v, want %v", got, tt.methods)
			}
			if tt.preflight && (res.PreflightResponse == nil || res.PreflightResponse.Status == 0) {
				t.Errorf("preflight_response missing: %+v", res.PreflightResponse)
			}
		})
	}
}

func TestCheckTextOutput(t *testing.T) {
	s := &scriptedCORS{pre: answer(301, "Location", "https://api.example.com/x", cors.ACAO, pageOrigin), act: answer(200)}
	srv := startScripted(t, s)
	var stdout, stderr bytes.Buffer
	code := execute(context.Background(), iostreams{out: &stdout, errOut: &stderr},
		[]string{"check", srv.URL + "/x", "--origin", pageOrigin, "-X", "DELETE", "--format", "text"})
	if code != exitFindings {
		t.Errorf("exit code = %d, want %d; stderr: %s", code, exitFindings, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"BLOCKED (preflight-redirect): Access to fetch at",
		"preflight: sent, because",
		"Access-Control-Request-Method: DELETE",
		"  OPTIONS -> 301",
		"    Location: https://api.example.com/x",
		"actual request: not sent (the preflight failed)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
}

// TestCheckConnectTo sends the request to another address while keeping the
// URL's Host, in both --connect-to forms.
func TestCheckConnectTo(t *testing.T) {
	var mu sync.Mutex
	var hosts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hosts = append(hosts, r.Host)
		mu.Unlock()
		w.Header().Set(cors.ACAO, httpPageOrigin)
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	tests := []struct {
		desc      string
		url       string
		connectTo string
		code      int
		host      string // Host header the server must see; "" when nothing arrives
	}{
		{"HOST:PORT", "http://api.example.com:8080/x", addr, exitClean, "api.example.com:8080"},
		{"curl form matching the URL", "http://api.example.com:8080/x", "api.example.com:8080:127.0.0.1:" + port, exitClean, "api.example.com:8080"},
		{"curl form with empty source host", "http://api.example.com/x", ":80:127.0.0.1:" + port, exitClean, "api.example.com"},
		{"curl form not matching: dials the URL (unreachable)", "http://127.0.0.1:1/x", "other.example.com:1:127.0.0.1:" + port, exitIncomplete, ""},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			mu.Lock()
			hosts = nil
			mu.Unlock()
			var stdout, stderr bytes.Buffer
			code := execute(context.Background(), iostreams{out: &stdout, errOut: &stderr},
				[]string{"check", tt.url, "--origin", httpPageOrigin, "--connect-to", tt.connectTo, "--format", "json", "--timeout", "2s", "--browser", "chromium"})
			if code != tt.code {
				t.Errorf("exit code = %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			mu.Lock()
			got := append([]string(nil), hosts...)
			mu.Unlock()
			var want []string
			if tt.host != "" {
				want = []string{tt.host}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("server saw Host %v, want %v", got, want)
			}
		})
	}
}

func TestCheckUnreachable(t *testing.T) {
	// A listener closed at once: its port refuses connections.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	u := url.URL{Scheme: "http", Host: addr, Path: "/x"}
	var stdout, stderr bytes.Buffer
	code := execute(context.Background(), iostreams{out: &stdout, errOut: &stderr},
		[]string{"check", u.String(), "--origin", pageOrigin, "-X", "PUT"})
	if code != exitIncomplete {
		t.Errorf("exit code = %d, want %d", code, exitIncomplete)
	}
	if !strings.Contains(stderr.String(), "check: OPTIONS "+u.String()+": refused") {
		t.Errorf("stderr = %q, want the refused preflight named", stderr.String())
	}
}

// TestCheckPlansWithItsBrowser: what is sent follows --browser (Firefox
// does not safelist DPR, Chromium does), and the verdict is that browser's.
func TestCheckPlansWithItsBrowser(t *testing.T) {
	tests := []struct {
		desc      string
		browser   string
		preflight bool
		methods   []string
	}{
		{desc: "chromium safelists DPR", browser: "chromium", methods: []string{"GET"}},
		{desc: "firefox preflights DPR", browser: "firefox", preflight: true, methods: []string{"OPTIONS", "GET"}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			s := &scriptedCORS{pre: answer(204, cors.ACAO, pageOrigin, cors.ACAH, "DPR"), act: answer(200, cors.ACAO, pageOrigin)}
			srv := startScripted(t, s)
			var stdout, stderr bytes.Buffer
			code := execute(context.Background(), iostreams{out: &stdout, errOut: &stderr},
				[]string{"check", srv.URL + "/x", "--origin", pageOrigin, "--browser", tt.browser, "--header", "DPR: 2", "--format", "json"})
			if code != exitClean {
				t.Errorf("exit code = %d, want %d; stderr: %s\n%s", code, exitClean, stderr.String(), stdout.String())
			}
			var res checkResult
			if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
			}
			if res.Preflight != tt.preflight || !res.Allowed {
				t.Errorf("preflight = %v, allowed = %v; want %v, true", res.Preflight, res.Allowed, tt.preflight)
			}
			if got := s.methods(); !reflect.DeepEqual(got, tt.methods) {
				t.Errorf("server received %v, want %v", got, tt.methods)
			}
			if tt.preflight && res.PreflightHeaders != "dpr" {
				t.Errorf("preflight_headers = %q, want dpr", res.PreflightHeaders)
			}
		})
	}
}

// rawCORS is a raw TCP server (so that header lines go out byte for byte)
// answering every request with head, an HTTP/1.1 status line and header
// lines.
func rawCORS(t *testing.T, head string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					if _, err := http.ReadRequest(r); err != nil {
						return
					}
					if _, err := io.WriteString(c, head+"Content-Length: 0\r\n\r\n"); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestCheckAndAuditReadHeadersAlike: `check` and the audit read a header
// name followed by a space before its colon the same way (as Chromium
// does: it names the header), because both act through audit.ActAsBrowser.
func TestCheckAndAuditReadHeadersAlike(t *testing.T) {
	addr := rawCORS(t, "HTTP/1.1 200 OK\r\n"+cors.ACAO+" : "+pageOrigin+"\r\n")
	var stdout, stderr bytes.Buffer
	code := execute(context.Background(), iostreams{out: &stdout, errOut: &stderr},
		[]string{"check", "http://" + addr + "/x", "--origin", pageOrigin, "--format", "json", "--browser", "chromium"})
	var res checkResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("check output is not JSON (exit %d): %v\n%s", code, err, stderr.String())
	}
	spec := audit.TargetSpec{
		Target: discovery.Target{Name: "t", URL: "http://api.example.com/x",
			Instances: []discovery.Instance{{ID: "i1", Addr: addr}}},
		Probes: []audit.Probe{{ID: "p1", Origin: pageOrigin, Method: http.MethodGet}},
		LB:     audit.LB{Disabled: true},
	}
	defaults := config.Default()
	results, err := audit.Run(context.Background(), []audit.TargetSpec{spec}, defaults.AuditOptions())
	if err != nil {
		t.Fatal(err)
	}
	obs := results[0].Direct.At(0, 0)
	if !res.Allowed || code != exitClean {
		t.Errorf("check: allowed = %v (exit %d, reason %q), want allowed", res.Allowed, code, res.Reason)
	}
	if !obs.Done || obs.Verdict().Allowed != res.Allowed || string(obs.Verdict().Reason) != res.Reason {
		t.Errorf("audit: done %v, allowed %v, reason %q; check: allowed %v, reason %q: want the same verdict",
			obs.Done, obs.Verdict().Allowed, obs.Verdict().Reason, res.Allowed, res.Reason)
	}
}

// TestCheckReproduce: check prints the curl command of the request that
// decided the verdict (the actual GET after a passing preflight), with
// --connect-to when it went to another address.
func TestCheckReproduce(t *testing.T) {
	s := &scriptedCORS{pre: answer(204, cors.ACAO, httpPageOrigin, cors.ACAH, "x-request-id"), act: answer(401)}
	srv := startScripted(t, s)
	addr := srv.Listener.Addr().String()
	var stdout, stderr bytes.Buffer
	code := execute(context.Background(), iostreams{out: &stdout, errOut: &stderr},
		[]string{"check", "http://api.example.com:8080/x", "--connect-to", addr, "--origin", httpPageOrigin,
			"-H", "X-Request-Id: 7", "--format", "text"})
	if code != exitFindings {
		t.Errorf("exit code = %d, want %d; stderr: %s", code, exitFindings, stderr.String())
	}
	want := "reproduce: curl -sS -o /dev/null -D - --max-time 5 http://api.example.com:8080/x --connect-to api.example.com:8080:" + addr +
		" -H 'Accept: */*' -H 'Origin: http://app.example.com' -H 'Sec-Fetch-Mode: cors' -H 'User-Agent: " + audit.UserAgent +
		"' -H 'X-Request-Id: 7'\n"
	if !strings.Contains(stdout.String(), want) {
		t.Errorf("text output lacks\n%s\ngot:\n%s", want, stdout.String())
	}
}

// TestCheckEveryEngine: without --browser, check acts as Chromium, Firefox
// and WebKit in turn, prints each verdict, says when they differ, and exits
// 1 when any of them blocks (that engine's users are blocked).
func TestCheckEveryEngine(t *testing.T) {
	tests := []struct {
		desc       string
		pre, act   func(http.ResponseWriter)
		header     string
		wantCode   int
		wantDiffer bool
		wantAllow  map[cors.Browser]bool
		wantNote   bool // spec note on every engine
	}{
		{desc: "Authorization under Access-Control-Allow-Headers: * is allowed by all three, with the spec note",
			pre: answer(204, cors.ACAO, pageOrigin, cors.ACAH, "*"), act: answer(200, cors.ACAO, pageOrigin),
			header: "Authorization: Bearer x", wantCode: exitClean,
			wantAllow: map[cors.Browser]bool{cors.Chromium: true, cors.Firefox: true, cors.Webkit: true}, wantNote: true},
		{desc: "DPR: Chromium sends no preflight, Firefox and WebKit do and the preflight does not allow it",
			pre: answer(204, cors.ACAO, pageOrigin), act: answer(200, cors.ACAO, pageOrigin),
			header: "DPR: 2", wantCode: exitFindings, wantDiffer: true,
			wantAllow: map[cors.Browser]bool{cors.Chromium: true, cors.Firefox: false, cors.Webkit: false}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			srv := startScripted(t, &scriptedCORS{pre: tt.pre, act: tt.act})
			var stdout, stderr bytes.Buffer
			code := execute(context.Background(), iostreams{out: &stdout, errOut: &stderr},
				[]string{"check", srv.URL + "/x", "--origin", pageOrigin, "--method", "GET", "--header", tt.header, "--format", "json"})
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d; stderr: %s", code, tt.wantCode, stderr.String())
			}
			var res checkResult
			if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
			}
			if len(res.Engines) != 3 || res.Differ != tt.wantDiffer {
				t.Fatalf("engines = %+v, differ = %v; want 3 engines, differ %v", res.Engines, res.Differ, tt.wantDiffer)
			}
			for _, e := range res.Engines {
				if e.Allowed != tt.wantAllow[e.Browser] {
					t.Errorf("%s: allowed = %v, want %v (%s)", e.Browser, e.Allowed, tt.wantAllow[e.Browser], e.Message)
				}
				if tt.wantNote && e.SpecNote == "" {
					t.Errorf("%s: no spec note", e.Browser)
				}
			}
			stdout.Reset()
			execute(context.Background(), iostreams{out: &stdout, errOut: &stderr},
				[]string{"check", srv.URL + "/x", "--origin", pageOrigin, "--header", tt.header, "--format", "text"})
			if got := strings.Contains(stdout.String(), "the engines differ"); got != tt.wantDiffer {
				t.Errorf("text output says the engines differ = %v, want %v:\n%s", got, tt.wantDiffer, stdout.String())
			}
		})
	}
}

// TestCheckEngineLines: check's line for each engine is that engine's
// console wording (cors.ConsoleMessage), with --browser and without
// (every engine in turn).
func TestCheckEngineLines(t *testing.T) {
	srv := startScripted(t, &scriptedCORS{act: answer(403)})
	url := srv.URL + "/x"
	want := map[string]string{
		"chromium": "chromium: BLOCKED (acao-missing): Access to fetch at '" + url + "' from origin '" + pageOrigin +
			"' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested resource.\n",
		"firefox": "firefox:  BLOCKED (acao-missing): Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at " +
			url + ". (Reason: CORS header ‘Access-Control-Allow-Origin’ missing). Status code: 403.\n",
		"webkit": "webkit:   BLOCKED (acao-missing): Origin " + pageOrigin + " is not allowed by Access-Control-Allow-Origin. Status code: 403\n",
	}
	code, out, stderr := runCLI("check", url, "--origin", pageOrigin, "--format", "text")
	if code != exitFindings {
		t.Fatalf("exit code = %d, want %d; stderr: %s", code, exitFindings, stderr)
	}
	for _, b := range []string{"chromium", "firefox", "webkit"} {
		if !strings.Contains(out, want[b]) {
			t.Errorf("every engine: the %s line is not\n%s\ngot:\n%s", b, want[b], out)
		}
		code, out, stderr := runCLI("check", url, "--origin", pageOrigin, "--browser", b, "--format", "json")
		var res checkResult
		if err := json.Unmarshal([]byte(out), &res); err != nil || code != exitFindings {
			t.Fatalf("--browser %s: exit %d, %v\n%s%s", b, code, err, out, stderr)
		}
		_, line, _ := strings.Cut(strings.TrimSuffix(want[b], "\n"), "(acao-missing): ")
		if res.Message != line {
			t.Errorf("--browser %s: message\n%s\nwant\n%s", b, res.Message, line)
		}
	}
}

// TestCheckHeaderValuesGoCannotSend: a header value with a byte Go's client
// refuses is refused up front with the reason (exit 2), never "could not
// be reached" (exit 3): fetch() itself rejects NUL, CR and LF (a browser
// never sends them); other control bytes a browser sends after a
// preflight, and corsaudit says it cannot. The server on loopback asserts
// that nothing is sent.
func TestCheckHeaderValuesGoCannotSend(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request sent: %s %s %q", r.Method, r.URL, r.Header)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		desc, header, want string
	}{
		{"SOH in Accept-Language", "Accept-Language: en\x01", "value of Accept-Language holds the control byte 0x01"},
		{"ESC in a custom header", "X-Trace: a\x1bb", "value of X-Trace holds the control byte 0x1b"},
		{"DEL in Accept", "Accept: text/plain\x7f", "value of Accept holds the control byte 0x7f"},
		{"NUL", "Accept: a\x00b", "fetch() rejects a value with NUL, CR or LF"},
		{"CR inside", "X-Trace: a\rb", "fetch() rejects a value with NUL, CR or LF"},
		{"LF inside", "X-Trace: a\nb", "fetch() rejects a value with NUL, CR or LF"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			code, _, errOut := runCLI("check", srv.URL+"/x", "--origin", pageOrigin, "--header", tc.header)
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want %d; stderr %q, want it to contain %q", code, exitUsage, errOut, tc.want)
			}
		})
	}
}

// TestMalformedHeaderBytesAreAnAnswer: an instance whose response carries
// a header line Go's parser rejects (a NUL or another control byte) gave
// an answer: `check` says what the browser decides (exit 0 or 1, never 3
// "could not be reached"), and the audit judges the instance (an
// invalid-header finding where a browser is affected), never unreachable.
func TestMalformedHeaderBytesAreAnAnswer(t *testing.T) {
	allow := "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: " + pageOrigin + "\r\nVary: Origin\r\n"
	for _, tc := range []struct {
		desc     string
		head     string
		code     int    // check's exit code
		reason   string // check's reason ("" allowed)
		finding  bool   // the audit reports invalid-header for the instance
		malforms string // in the finding
	}{
		{"NUL in another header: a network error in every browser", allow + "X-Junk: a\x00b\r\n", exitFindings, "invalid-response", true, `X-Junk: a\x00b`},
		{"NUL at the end of ACAO", "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: " + pageOrigin + "\x00\r\n", exitFindings, "invalid-response", true, "NUL byte"},
		{"control byte at the end of ACAO: no origin matches", "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: " + pageOrigin + "\x01\r\nVary: Origin\r\n", exitFindings, "acao-mismatch", true, "control byte 0x01"},
		{"control byte in another header: browsers read the response", allow + "X-Junk: a\x01b\r\n", exitClean, "", false, ""},
		{"line without a colon: dropped", allow + "NoColon\r\n", exitClean, "", false, ""},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			addr := rawCORS(t, tc.head)
			code, out, errOut := runCLI("check", "http://"+addr+"/x", "--origin", pageOrigin, "--format", "json")
			var res struct {
				Allowed bool   `json:"allowed"`
				Reason  string `json:"reason"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil || code != tc.code || res.Reason != tc.reason {
				t.Errorf("check: exit %d, reason %q (%v); want exit %d, reason %q\nstderr: %s\n%s", code, res.Reason, err, tc.code, tc.reason, errOut, out)
			}
			good := rawCORS(t, allow)
			rep, _, stderr := runJSON(t, "audit", "http://api.example.com/x", "--no-lb", "--format", "json", "--origin", pageOrigin,
				"--instance", "bad="+addr, "--instance", "good1="+good, "--instance", "good2="+good, "--checks", "drift,misconfig")
			if rep.Summary.Unreachable != 0 {
				t.Errorf("audit: %d unreachable, want 0\n%s", rep.Summary.Unreachable, stderr)
			}
			var found bool
			for _, f := range rep.Findings {
				if f.Kind == diff.KindUnreachable {
					t.Errorf("audit: unreachable finding: %s", f.Message)
				}
				if f.Kind == diff.KindInvalidHeader && slices.Equal(f.Instances, []string{"bad"}) {
					found = true
					if !strings.Contains(f.Message, tc.malforms) {
						t.Errorf("audit: invalid-header %q, want it to name %q", f.Message, tc.malforms)
					}
				}
			}
			if found != tc.finding {
				t.Errorf("audit: invalid-header finding for bad: %v, want %v; findings %+v", found, tc.finding, rep.Findings)
			}
		})
	}
}

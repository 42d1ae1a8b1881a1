package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/internal/testenv"
)

// browserOutcome is what the browser did for one scenario, from the page's
// report and the scripted server's records.
type browserOutcome struct {
	result    browserResult
	preflight *received // the OPTIONS the browser sent, if any
	actual    *received // the actual request the browser sent, if any
	all       []received
	message   string // the console line Chromium logged, when blocked
}

func outcomeOf(res browserResult, reqs []received) browserOutcome {
	o := browserOutcome{result: res, all: reqs}
	for i := range reqs {
		r := &reqs[i]
		switch {
		case r.isPreflight():
			if o.preflight == nil {
				o.preflight = r
			}
		case o.actual == nil:
			o.actual = r
		}
	}
	return o
}

// corsRequest is the scenario as the cors package sees it.
func (s *scenario) corsRequest(origin string) cors.Request {
	r := cors.Request{Origin: origin, Method: s.method, Credentials: s.credentials}
	for _, hd := range s.headers {
		r.Headers = append(r.Headers, cors.Header{Name: hd[0], Value: hd[1]})
	}
	return r
}

// TestChromiumConformance runs every scenario in headless Chromium and
// asserts that cors.PlanPreflight and cors.Evaluate(cors.Chromium, ...)
// reach the browser's preflight decision, preflight request and verdict on
// the very responses the browser received; then that `corsaudit check`
// does too, against the same scripted server.
func TestChromiumConformance(t *testing.T) {
	bin := testenv.LookTool(t, "browser conformance suite", "chromium", "chromium-browser", "google-chrome")
	scs := scenarios()
	if len(scs) < 100 {
		t.Fatalf("conformance: %d scenarios, want at least 100", len(scs))
	}
	page := newPageServer(t)
	origin := page.srv.URL
	script := newScriptServer(t, origin, scs)
	for _, s := range scs {
		page.add(pageScenario{ID: s.id, URL: script.url("b", s.id),
			Method: s.method, Headers: append([][2]string{}, s.headers...), Credentials: s.credentials})
	}

	// Build the command while the browser runs.
	type built struct {
		path string
		err  error
	}
	buildc := make(chan built, 1)
	go func() {
		p, err := buildCorsaudit(t.TempDir())
		buildc <- built{p, err}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	results, browser, err := runInBrowser(ctx, t, bin, page, len(scs))
	if err != nil {
		t.Fatal(err)
	}
	console := browser.consoleMessages()

	outcomes := map[string]browserOutcome{}
	for _, s := range scs {
		o := outcomeOf(results[s.id], script.requests("b", s.id))
		if !o.result.OK {
			o.message = browserMessage(console, script.url("b", s.id))
		}
		outcomes[s.id] = o
	}

	var record []observed
	t.Run("browser", func(t *testing.T) {
		for _, s := range scs {
			url := script.url("b", s.id)
			ob := observe(s, outcomes[s.id])
			record = append(record, ob.normalize(script.srv.URL, origin))
			t.Run(s.id+" "+s.desc, func(t *testing.T) {
				assertLiveBrowser(t, origin, outcomes[s.id])
				assertCorsAgrees(t, s, origin, url, ob)
			})
		}
	})
	t.Run("record", func(t *testing.T) { compareRecord(t, record) })

	b := <-buildc
	if b.err != nil {
		t.Fatalf("go build ./cmd/corsaudit: %v", b.err)
	}
	t.Run("check", func(t *testing.T) {
		runChecks(t, b.path, scs, origin, script, outcomes)
	})
}

// observed is what Chromium did for one scenario: live, or as recorded in
// testdata/chromium.json. Messages and URLs in a record use the
// placeholders {origin}, {ORIGIN} and {server}.
type observed struct {
	ID         string   `json:"id"`
	Desc       string   `json:"desc"`
	Allowed    bool     `json:"allowed"`
	Preflight  bool     `json:"preflight"`
	ACRM       string   `json:"acrm,omitempty"`
	ACRH       string   `json:"acrh,omitempty"`
	ActualSent bool     `json:"actual_sent"`
	Message    string   `json:"message,omitempty"`
	Readable   []string `json:"readable,omitempty"`
}

// observe turns a live browser outcome into an observed record.
func observe(s *scenario, o browserOutcome) observed {
	ob := observed{ID: s.id, Desc: s.desc, Allowed: o.result.OK, Preflight: o.preflight != nil,
		ActualSent: o.actual != nil, Readable: o.result.Headers}
	if o.preflight != nil {
		ob.ACRM, ob.ACRH = o.preflight.acrm, o.preflight.acrh
	}
	ob.Message = o.message
	return ob
}

// normalize replaces the live server and page origins with placeholders.
func (ob observed) normalize(server, origin string) observed {
	r := strings.NewReplacer(server, "{server}", origin, "{origin}", strings.ToUpper(origin), "{ORIGIN}",
		strings.TrimPrefix(origin, "http://"), "{hostport}")
	ob.Message = r.Replace(ob.Message)
	return ob
}

// assertLiveBrowser checks what only a live run shows: what the browser
// put on the wire.
func assertLiveBrowser(t *testing.T, origin string, o browserOutcome) {
	t.Helper()
	for _, r := range o.all {
		if r.cookie != "" {
			t.Errorf("server: %s request carried Cookie %q; no cookie was ever set", r.method, r.cookie)
		}
		if r.origin != origin {
			t.Errorf("server: %s request carried Origin %q, want %q", r.method, r.origin, origin)
		}
	}
	if o.result.OK && o.actual == nil {
		t.Errorf("chromium: fetch succeeded but no actual request reached the server")
	}
	if !o.result.OK && !strings.Contains(o.result.Error, "TypeError") {
		t.Errorf("chromium: fetch failed with %q, want a TypeError", o.result.Error)
	}
}

// assertCorsAgrees compares what Chromium did for one scenario with
// cors.PlanPreflight, cors.Evaluate and cors.ConsoleMessage on the very
// responses the browser received.
func assertCorsAgrees(t *testing.T, s *scenario, origin, url string, ob observed) {
	t.Helper()
	req := s.corsRequest(origin)
	plan := cors.PlanPreflight(req)
	if plan.Needed != ob.Preflight {
		t.Errorf("PlanPreflight(%+v).Needed = %v (%s), chromium sent a preflight: %v", req, plan.Needed, plan.Why, ob.Preflight)
	}
	if ob.Preflight && plan.Needed {
		if plan.Method != ob.ACRM {
			t.Errorf("plan Access-Control-Request-Method = %q, chromium sent %q", plan.Method, ob.ACRM)
		}
		if plan.Headers != ob.ACRH {
			t.Errorf("plan Access-Control-Request-Headers = %q, chromium sent %q", plan.Headers, ob.ACRH)
		}
	}
	var pre, act *cors.Response
	if ob.Preflight {
		pre = &cors.Response{Status: s.preflight.status, Header: scriptedHeader(s.preflight, origin, url)}
	}
	if ob.ActualSent {
		act = &cors.Response{Status: s.actual.status, Header: scriptedHeader(s.actual, origin, url)}
	}
	v := cors.Evaluate(cors.Chromium, req, pre, act)
	if v.Allowed != ob.Allowed {
		t.Errorf("Evaluate: allowed = %v (reason %q: %s), chromium allowed = %v (%s)", v.Allowed, v.Reason, v.Message, ob.Allowed, ob.Message)
	}
	if v.Preflight != ob.Preflight {
		t.Errorf("Evaluate: preflight = %v, chromium sent a preflight: %v", v.Preflight, ob.Preflight)
	}
	if ob.Allowed {
		if v.Reason != "" || v.Message != "" {
			t.Errorf("Evaluate: allowed with reason %q, message %q; want both empty", v.Reason, v.Message)
		}
		if !reflect.DeepEqual(normalizeNames(v.Exposed), normalizeNames(ob.Readable)) {
			t.Errorf("Evaluate: exposed %q, the page could read %q", v.Exposed, ob.Readable)
		}
		return
	}
	if v.Reason == "" {
		t.Errorf("Evaluate: blocked without a reason code")
	}
	got := cors.ConsoleMessage(url, origin, v)
	known, isKnown := knownMessageDiffs[s.id]
	switch {
	case ob.Message == "":
		t.Errorf("chromium logged no console message for %s", url)
	case got != ob.Message && isKnown:
		t.Logf("known disagreement (%s):\n got: %s\nwant: %s", known, got, ob.Message)
	case got != ob.Message:
		t.Errorf("console message:\n got: %s\nwant: %s", got, ob.Message)
	case isKnown:
		t.Errorf("the known disagreement %q no longer occurs: remove %s from knownMessageDiffs", known, s.id)
	}
}

// knownMessageDiffs lists the scenarios where cors.ConsoleMessage is known
// to word the message differently from Chromium, and how. The verdict must
// still agree; an entry that stops disagreeing fails the test.
var knownMessageDiffs = map[string]string{}

// normalizeNames sorts lower-cased names; nil for none.
func normalizeNames(names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, strings.ToLower(n))
	}
	sort.Strings(out)
	return out
}

// scriptedHeader is the header block the scripted server wrote, as a client
// parses it.
func scriptedHeader(resp scripted, origin, self string) http.Header {
	s := &scriptServer{pageOrigin: origin}
	return s.responseFor(resp, self)
}

// browserMessage returns the CORS console message Chromium logged for url.
func browserMessage(console []string, url string) string {
	for _, m := range console {
		if strings.Contains(m, "'"+url+"'") && strings.Contains(m, "CORS policy") {
			return m
		}
	}
	return ""
}

// buildCorsaudit builds the command into dir.
func buildCorsaudit(dir string) (string, error) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out := filepath.Join(dir, "corsaudit")
	cmd := exec.Command(goBin, "build", "-o", out, "github.com/corsaudit/corsaudit/cmd/corsaudit")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", errors.New(err.Error() + "\n" + stderr.String())
	}
	return out, nil
}

// checkOutput is the part of `corsaudit check --format json` the suite reads.
type checkOutput struct {
	Allowed          bool   `json:"allowed"`
	Preflight        bool   `json:"preflight"`
	PreflightMethod  string `json:"preflight_method"`
	PreflightHeaders string `json:"preflight_headers"`
	Reason           string `json:"reason"`
	Message          string `json:"message"`
}

// runCheckCmd runs the command and returns its exit code and JSON output.
func runCheckCmd(bin string, s *scenario, url, origin string, sendActual bool) (int, checkOutput, string, error) {
	args := []string{"check", url, "--origin", origin, "--method", s.method, "--format", "json", "--timeout", "5s"}
	for _, hd := range s.headers {
		args = append(args, "--header", hd[0]+": "+hd[1])
	}
	if s.credentials {
		args = append(args, "--credentials")
	}
	if sendActual {
		args = append(args, "--send-actual")
	}
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		return 0, checkOutput{}, "", err
	}
	var out checkOutput
	if stdout.Len() > 0 {
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			return code, out, stderr.String(), errors.New("check: output is not JSON: " + err.Error() + "\n" + stdout.String())
		}
	}
	return code, out, stderr.String(), nil
}

// runChecks runs `corsaudit check` for every scenario, twice for unsafe
// methods (with --send-actual, compared with the browser; without it,
// asserting that no actual request reaches the server).
func runChecks(t *testing.T, bin string, scs []*scenario, origin string, script *scriptServer, outcomes map[string]browserOutcome) {
	type job struct {
		s          *scenario
		ns         string
		sendActual bool
	}
	type done struct {
		code   int
		out    checkOutput
		stderr string
		err    error
	}
	var jobs []job
	for _, s := range scs {
		jobs = append(jobs, job{s, "c", true})
		// Without --send-actual, an unsafe request whose actual request a
		// browser would send must still never reach the server.
		if m := strings.ToUpper(s.method); m != http.MethodGet && m != http.MethodHead && outcomes[s.id].actual != nil {
			jobs = append(jobs, job{s, "n", false})
		}
	}
	res := make([]done, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var d done
			d.code, d.out, d.stderr, d.err = runCheckCmd(bin, j.s, script.url(j.ns, j.s.id), origin, j.sendActual)
			res[i] = d
		}()
	}
	wg.Wait()

	for i, j := range jobs {
		d := res[i]
		name := j.s.id + " " + j.s.desc
		if !j.sendActual {
			name += " (without --send-actual)"
		}
		t.Run(name, func(t *testing.T) {
			if d.err != nil {
				t.Fatal(d.err)
			}
			reqs := script.requests(j.ns, j.s.id)
			for _, r := range reqs {
				if r.cookie != "" {
					t.Errorf("server: check sent Cookie %q", r.cookie)
				}
				if !j.sendActual && !r.isPreflight() {
					t.Errorf("server: check sent the actual %s request without --send-actual", r.method)
				}
			}
			o := outcomes[j.s.id]
			switch {
			case !j.sendActual && o.preflight == nil:
				// A simple unsafe request can only be judged from its
				// actual response: a usage error without --send-actual.
				if d.code != 2 {
					t.Errorf("exit code = %d, want 2; stderr: %s", d.code, d.stderr)
				}
				return
			case !j.sendActual:
				// Check judges the passing preflight alone.
				if !d.out.Allowed || !d.out.Preflight || d.code != 0 {
					t.Errorf("check: allowed = %v, preflight = %v, exit code %d; want a passing preflight (exit 0)", d.out.Allowed, d.out.Preflight, d.code)
				}
				return
			}
			var checkActual bool
			for _, r := range reqs {
				checkActual = checkActual || !r.isPreflight()
			}
			if checkActual != (o.actual != nil) {
				t.Errorf("check sent the actual request: %v, chromium: %v", checkActual, o.actual != nil)
			}
			wantCode := 1
			if o.result.OK {
				wantCode = 0
			}
			if d.code != wantCode {
				t.Errorf("exit code = %d, want %d (chromium ok = %v); stderr: %s", d.code, wantCode, o.result.OK, d.stderr)
			}
			if d.out.Allowed != o.result.OK {
				t.Errorf("check: allowed = %v (reason %q), chromium: ok = %v %s", d.out.Allowed, d.out.Reason, o.result.OK, o.result.Error)
			}
			if d.out.Preflight != (o.preflight != nil) {
				t.Errorf("check: preflight = %v, chromium sent one: %v", d.out.Preflight, o.preflight != nil)
			}
			var checkPre *received
			for k := range reqs {
				if reqs[k].isPreflight() {
					checkPre = &reqs[k]
					break
				}
			}
			if o.preflight != nil {
				if checkPre == nil {
					t.Fatalf("server: check sent no preflight")
				}
				if checkPre.acrm != o.preflight.acrm || checkPre.acrh != o.preflight.acrh {
					t.Errorf("check preflight ACRM %q ACRH %q, chromium sent ACRM %q ACRH %q",
						checkPre.acrm, checkPre.acrh, o.preflight.acrm, o.preflight.acrh)
				}
			} else if checkPre != nil {
				t.Errorf("server: check sent a preflight chromium did not send")
			}
			if !d.out.Allowed && d.out.Reason == "" {
				t.Errorf("check: blocked without a reason code")
			}
			// The browser's console line, for the URL check was given.
			want := strings.Replace(o.message, "'"+script.url("b", j.s.id)+"'", "'"+script.url(j.ns, j.s.id)+"'", 1)
			_, known := knownMessageDiffs[j.s.id]
			if d.out.Message != want && !known {
				t.Errorf("check: message\n got: %s\nwant: %s", d.out.Message, want)
			}
		})
	}
}

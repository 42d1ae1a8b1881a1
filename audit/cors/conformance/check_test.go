package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/corsaudit/corsaudit/audit/cors"
)

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
func runCheckCmd(bin string, model cors.Browser, s *scenario, url, origin string, sendActual bool) (int, checkOutput, string, error) {
	args := []string{"check", url, "--origin", origin, "--method", s.method, "--format", "json", "--timeout", "5s",
		"--browser", string(model)}
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
func runChecks(t *testing.T, e *engine, bin string, scs []*scenario, pageOrigin string, script *scriptServer, outcomes map[string]browserOutcome) {
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
			d.code, d.out, d.stderr, d.err = runCheckCmd(bin, e.model, j.s, script.url(j.ns, j.s.id), j.s.origin(pageOrigin), j.sendActual)
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
				t.Errorf("check sent the actual request: %v, %s: %v", checkActual, e.name, o.actual != nil)
			}
			if why, known := e.checkDiffs[j.s.desc]; known {
				if d.out.Allowed != o.result.OK {
					t.Logf("known disagreement: %s", why)
					return
				}
				t.Errorf("the known check disagreement %q no longer occurs: remove %q from %s's checkDiffs", why, j.s.desc, e.name)
			}
			wantCode := 1
			if o.result.OK {
				wantCode = 0
			}
			if d.code != wantCode {
				t.Errorf("exit code = %d, want %d (%s ok = %v); stderr: %s", d.code, wantCode, e.name, o.result.OK, d.stderr)
			}
			if d.out.Allowed != o.result.OK {
				t.Errorf("check: allowed = %v (reason %q), %s: ok = %v %s", d.out.Allowed, d.out.Reason, e.name, o.result.OK, o.result.Error)
			}
			if d.out.Preflight != (o.preflight != nil) {
				t.Errorf("check: preflight = %v, %s sent one: %v", d.out.Preflight, e.name, o.preflight != nil)
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
					t.Errorf("check preflight ACRM %q ACRH %q, %s sent ACRM %q ACRH %q",
						checkPre.acrm, checkPre.acrh, e.name, o.preflight.acrm, o.preflight.acrh)
				}
			} else if checkPre != nil {
				t.Errorf("server: check sent a preflight %s did not send", e.name)
			}
			if !d.out.Allowed && d.out.Reason == "" {
				t.Errorf("check: blocked without a reason code")
			}
			if e.console == nil || o.message == "" {
				return // no console line to compare with
			}
			// The engine's console line, for the URL check was given.
			want := strings.Replace(o.message, script.url("b", j.s.id), script.url(j.ns, j.s.id), 1)
			_, known := knownMessageDiffs[e.name+" "+j.s.id]
			if d.out.Message != want && !known {
				t.Errorf("check: message\n got: %s\nwant: %s", d.out.Message, want)
			}
		})
	}
}

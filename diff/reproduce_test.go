package diff

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/internal/escape"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
	"github.com/corsaudit/corsaudit/internal/testinfra/faultnet"
	"github.com/corsaudit/corsaudit/internal/testinfra/testenv"
)

const reproOrigin = "https://app.example.com"

// sentReq is a request as the engine records it, with only an Origin (and
// the preflight's ACRM) to keep the expected commands short.
func sentReq(method, connectTo string) *audit.SentRequest {
	h := http.Header{cors.Origin: {reproOrigin}}
	if method == http.MethodOptions {
		h.Set(cors.ACRM, "PUT")
	}
	return &audit.SentRequest{Method: method, URL: "https://api.example.com/v1/cart", ConnectTo: connectTo, Header: h}
}

func TestReproduce(t *testing.T) {
	const (
		options = "curl -sS -o /dev/null -D - -X OPTIONS https://api.example.com/v1/cart --connect-to api.example.com:443:10.0.0.7:8443 -H 'Access-Control-Request-Method: PUT' -H 'Origin: https://app.example.com'"
		get     = "curl -sS -o /dev/null -D - https://api.example.com/v1/cart --connect-to api.example.com:443:10.0.0.7:8443 -H 'Origin: https://app.example.com'"
	)
	passed := &audit.Exchange{Request: sentReq(http.MethodOptions, "10.0.0.7:8443"), Status: 204}
	blockedAt := func(stage string) cors.Verdict {
		return cors.Verdict{Stage: stage, Reason: cors.ReasonACAOMissing}
	}
	tests := []struct {
		desc string
		obs  audit.Observation
		want string
	}{
		{
			desc: "preflight passed, actual GET 401 without ACAO: the GET",
			obs: audit.Observation{Done: true, Preflight: passed,
				Actual: &audit.Exchange{Request: sentReq(http.MethodGet, "10.0.0.7:8443"), Status: 401}}.WithVerdict(blockedAt(cors.StageActual)),
			want: get,
		},
		{
			desc: "preflight blocked: the OPTIONS",
			obs:  audit.Observation{Done: true, Preflight: passed}.WithVerdict(blockedAt(cors.StagePreflight)),
			want: options,
		},
		{
			desc: "preflight refused: the OPTIONS",
			obs:  audit.Observation{Done: true, Preflight: &audit.Exchange{Request: sentReq(http.MethodOptions, "10.0.0.7:8443"), Err: audit.ErrRefused}},
			want: options,
		},
		{
			desc: "preflight passed, actual GET timed out: the GET",
			obs: audit.Observation{Done: true, Preflight: passed,
				Actual: &audit.Exchange{Request: sentReq(http.MethodGet, "10.0.0.7:8443"), Err: audit.ErrTimeout}},
			want: get,
		},
		{
			desc: "allowed PUT, only preflighted: the OPTIONS",
			obs:  audit.Observation{Done: true, Preflight: passed}.WithVerdict(cors.Verdict{Allowed: true}),
			want: options,
		},
		{
			desc: "through the load balancer: no --connect-to",
			obs: audit.Observation{Done: true,
				Actual: &audit.Exchange{Request: sentReq(http.MethodGet, ""), Status: 200}}.WithVerdict(blockedAt(cors.StageActual)),
			want: "curl -sS -o /dev/null -D - https://api.example.com/v1/cart -H 'Origin: https://app.example.com'",
		},
		{
			desc: "HEAD",
			obs: audit.Observation{Done: true,
				Actual: &audit.Exchange{Request: sentReq(http.MethodHead, ""), Status: 200}}.WithVerdict(blockedAt(cors.StageActual)),
			want: "curl -sS -o /dev/null -D - -I https://api.example.com/v1/cart -H 'Origin: https://app.example.com'",
		},
		{
			desc: "nothing sent (simple POST): nothing to reproduce",
			obs:  audit.Observation{NotRun: "not run: no request may be sent"},
		},
		{
			desc: "actual cut off by the deadline: nothing observed",
			obs:  audit.Observation{Preflight: passed, NotRun: audit.NotRunDeadline},
		},
		{
			desc: "report written before requests were recorded",
			obs:  audit.Observation{Done: true, Preflight: &audit.Exchange{Status: 204}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := Reproduce(tt.obs); got != tt.want {
				t.Errorf("Reproduce:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestCurlRequestIPv6(t *testing.T) {
	r := &audit.SentRequest{Method: http.MethodGet, URL: "http://[::1]:8080/x", ConnectTo: "[::1]:9090"}
	want := "curl -sS -o /dev/null -D - 'http://[::1]:8080/x' --connect-to '[::1]:8080:[::1]:9090'"
	if got := CurlRequest(r); got != want {
		t.Errorf("CurlRequest:\n got %s\nwant %s", got, want)
	}
}

// TestReproduceFromRun: from a real run, an instance whose preflight passes
// and whose actual GET is a 401 without ACAO is reproduced by the GET, sent
// to the instance with --connect-to, headers exactly as sent.
func TestReproduceFromRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			w.Header().Set(cors.ACAO, reproOrigin)
			w.Header().Set(cors.ACAH, "x-request-id")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	spec := audit.TargetSpec{
		Target: discovery.Target{Name: "t", URL: "http://api.example.com/v1/cart",
			Instances: []discovery.Instance{{ID: "i1", Addr: addr}}},
		Probes: []audit.Probe{{ID: "p1", Origin: reproOrigin, Method: http.MethodGet,
			Headers: []cors.Header{{Name: "X-Request-Id", Value: "corsaudit"}}}},
		LB: audit.LB{Disabled: true},
	}
	res, err := audit.Run(context.Background(), []audit.TargetSpec{spec}, audit.Options{Concurrency: 8, PerInstance: 4, Timeout: 5 * time.Second, Browser: cors.Chromium})
	if err != nil {
		t.Fatal(err)
	}
	o := res[0].Direct.At(0, 0)
	if o.Verdict().Allowed || o.Verdict().Stage != cors.StageActual || o.Preflight == nil || o.Actual == nil || o.Actual.Status != 401 {
		t.Fatalf("observation = %+v, want a passing preflight and a blocked 401 GET", o)
	}
	want := "curl -sS -o /dev/null -D - --max-time 5 http://api.example.com/v1/cart --connect-to api.example.com:80:" + addr +
		" -H 'Accept: */*' -H 'Origin: https://app.example.com' -H 'Sec-Fetch-Mode: cors' -H 'User-Agent: " + audit.UserAgent +
		"' -H 'X-Request-Id: corsaudit'"
	if got := Reproduce(o); got != want {
		t.Errorf("Reproduce:\n got %s\nwant %s", got, want)
	}
}

// shellArgv is what a POSIX shell makes of a printed curl line: the
// arguments curl would receive, read by running the line in /bin/sh with
// printf in curl's place, in dir with only env set.
func shellArgv(t *testing.T, line, dir string, env ...string) []string {
	t.Helper()
	rest, ok := strings.CutPrefix(line, "curl ")
	if !ok {
		t.Fatalf("not a curl line: %s", line)
	}
	cmd := exec.Command("/bin/sh", "-c", `printf '%s\0' `+rest)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sh: %s: %v", line, err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

// TestCurlLineRunsNothing: whatever bytes a sent request holds (from a
// config, the network, a discovery API, a shard file), the shell reads
// every word of its curl line back as those bytes and runs nothing; a
// credential placeholder expands to the secret, its variable name and file
// path quoted.
func TestCurlLineRunsNothing(t *testing.T) {
	if _, err := exec.LookPath("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "it's a $(secret) `file`")
	if err := os.WriteFile(secretFile, []byte("s3cr3t-from-file"), 0o600); err != nil {
		t.Fatal(err)
	}
	const pwned = "pwned"
	run := "$(touch " + pwned + ")"
	for _, tc := range []struct {
		desc string
		req  audit.SentRequest
		want []string // the arguments after curl's fixed options
	}{
		{desc: "hostile header name and value",
			req:  audit.SentRequest{Method: "GET", URL: "https://a.example/", Header: http.Header{"X-`touch`": {run + "'`id`'"}}},
			want: []string{"https://a.example/", "-H", "X-`touch`: " + run + "'`id`'"}},
		{desc: "hostile method, URL and connect-to (shard or discovery bytes)",
			req:  audit.SentRequest{Method: "P`id`", URL: "https://a.example/" + run + "?q='x'", ConnectTo: "10.0.0.1:80;" + run},
			want: []string{"-X", "P`id`", "https://a.example/" + run + "?q='x'", "--connect-to", "a.example:443:10.0.0.1:80;" + run}},
		{desc: "credential header with backquotes, from a variable",
			req: audit.SentRequest{Method: "GET", URL: "https://a.example/", Header: http.Header{"X-`touch`": {"$CORSAUDIT_TOKEN"}},
				Placeholders: []string{"X-`touch`"}},
			want: []string{"https://a.example/", "-H", "X-`touch`: s3cr3t-from-env"}},
		{desc: "cookie from a file whose path needs quoting",
			req: audit.SentRequest{Method: "GET", URL: "https://a.example/", Header: http.Header{"Cookie": {"session=" + audit.ShownFile(secretFile)}},
				Placeholders: []string{"Cookie"}},
			want: []string{"https://a.example/", "-H", "Cookie: session=s3cr3t-from-file"}},
		{desc: "a placeholder that is no credential expression is printed, not run",
			req: audit.SentRequest{Method: "GET", URL: "https://a.example/", Header: http.Header{"Authorization": {run}},
				Placeholders: []string{"Authorization"}},
			want: []string{"https://a.example/", "-H", "Authorization: " + run}},
		{desc: "a variable placeholder followed by more is printed, not run",
			req: audit.SentRequest{Method: "GET", URL: "https://a.example/", Header: http.Header{"Authorization": {"$CORSAUDIT_TOKEN; " + run}},
				Placeholders: []string{"Authorization"}},
			want: []string{"https://a.example/", "-H", "Authorization: $CORSAUDIT_TOKEN; " + run}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			line := CurlRequest(&tc.req)
			got := shellArgv(t, line, dir, "CORSAUDIT_TOKEN=s3cr3t-from-env")
			fixed := []string{"-sS", "-o", "/dev/null", "-D", "-"}
			want := append(fixed, tc.want...)
			if !slices.Equal(got, want) {
				t.Errorf("the shell reads\n%s\nas %q,\nwant %q", line, got, want)
			}
			if _, err := os.Stat(filepath.Join(dir, pwned)); err == nil {
				t.Errorf("pasting\n%s\nran a command", line)
				os.Remove(filepath.Join(dir, pwned))
			}
		})
	}
}

// TestUntrusted: a reproduce line read from a report file is printed only
// as the curl commands CurlRequest writes, placeholders not expanded; a
// line holding anything else is dropped.
func TestUntrusted(t *testing.T) {
	get := CurlRequest(&audit.SentRequest{Method: "GET", URL: "https://a.example/x?y='1'", ConnectTo: "[::1]:8080",
		Header: http.Header{"Origin": {"https://app.example"}, "X-`id`": {"it's $(id)"}}})
	options := CurlRequest(&audit.SentRequest{Method: "OPTIONS", URL: "http://[::1]:9/", Header: http.Header{"Access-Control-Request-Method": {"PUT"}}})
	cred := &audit.SentRequest{Method: "HEAD", URL: "https://a.example/", Header: http.Header{
		"Authorization": {"$CORSAUDIT_TOKEN"}, "Cookie": {"s=" + audit.ShownFile("/run/it's")}}, Placeholders: []string{"Authorization", "Cookie"}}
	literal := *cred
	literal.Placeholders = nil
	for _, tc := range []struct{ desc, in, want string }{
		{"a curl line as written", get, get},
		{"two commands (cache-leak)", get + " && " + options, get + " && " + options},
		{"placeholders are printed, not expanded", CurlRequest(cred), CurlRequest(&literal)},
		{"a command after curl", get + "; touch pwned", ""},
		{"a command substitution", get + " -H \"$(id)\"", ""},
		{"backquotes", "curl -sS -o /dev/null -D - `id`", ""},
		{"another command", "rm -sS -o /dev/null -D - https://a.example/", ""},
		{"another option", "curl -sS -o /dev/null -D - https://a.example/ -o ~/.bashrc", ""},
		{"a redirection", "curl -sS -o /dev/null -D - https://a.example/ > ~/.bashrc", ""},
		{"an unknown variable form", `curl -sS -o /dev/null -D - https://a.example/ -H 'A: '"${IFS}"`, ""},
		{"empty", "", ""},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if got := Untrusted(tc.in); got != tc.want {
				t.Errorf("Untrusted(%s)\n = %s\nwant %s", tc.in, got, tc.want)
			}
		})
	}
}

// TestReproduceCarriesMaxTime: a curl line carries the run's per-request
// timeout as --max-time, so pasting the unreachable finding's line against
// the instance that hung returns (curl exit 28) instead of hanging.
func TestReproduceCarriesMaxTime(t *testing.T) {
	hang := faultnet.Start(t, faultnet.Hang)
	spec := audit.TargetSpec{
		Target: discovery.Target{Name: "t", URL: "http://api.example.com/v1/cart",
			Instances: []discovery.Instance{{ID: "i1", Addr: hang.Addr()}}},
		Probes: []audit.Probe{{ID: "p1", Origin: reproOrigin, Method: http.MethodGet}},
		LB:     audit.LB{Disabled: true},
	}
	res, err := audit.Run(context.Background(), []audit.TargetSpec{spec}, audit.Options{Concurrency: 8, PerInstance: 4, Timeout: 300 * time.Millisecond, Browser: cors.Chromium})
	if err != nil {
		t.Fatal(err)
	}
	line := Reproduce(res[0].Direct.At(0, 0))
	if !strings.Contains(line, " --max-time 0.3 ") {
		t.Fatalf("reproduce line lacks --max-time 0.3:\n%s", line)
	}
	if Untrusted(line) != line {
		t.Errorf("Untrusted does not read the line back:\n%s\n%s", line, Untrusted(line))
	}
	curl := testenv.LookTool(t, "run a reproduce line", "curl")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", strings.Replace(line, "curl", escape.Shell(curl), 1))
	err = cmd.Run()
	var exit *exec.ExitError
	if ctx.Err() != nil || !errors.As(err, &exit) || exit.ExitCode() != 28 {
		t.Errorf("pasted against the hanging instance, curl ended with %v (context %v), want exit 28 (timeout)", err, ctx.Err())
	}
}

// reproduced is one recorded exchange a reproduce command may have been
// made from, and its observation.
type reproduced struct {
	o  audit.Observation
	ex *audit.Exchange
}

// reproducedSteps finds, among the recorded exchanges of res (instances,
// load balancer samples, cache checks), those a reproduce command may
// have been made from: several LB samples send the same request.
func reproducedSteps(res *audit.TargetResult, command string) []reproduced {
	var all []audit.Observation
	for i := range res.Spec.Target.Instances {
		for _, o := range res.Direct.Each(i) {
			all = append(all, o)
		}
	}
	for _, l := range res.Layers() {
		for _, row := range l.Samples {
			all = append(all, row...)
		}
	}
	for _, c := range res.Cache {
		for _, ex := range []*audit.Exchange{c.FirstAnswer, c.SecondAnswer, c.Fresh} {
			o := audit.Observation{Actual: ex, Done: true}
			if c.Preflight {
				o = audit.Observation{Preflight: ex, Done: true}
			}
			all = append(all, o)
		}
	}
	var out []reproduced
	for _, o := range all {
		for _, ex := range []*audit.Exchange{o.Preflight, o.Actual} {
			if r := o.Sent(ex); ex != nil && r != nil && CurlRequest(r) == command {
				out = append(out, reproduced{o, ex})
			}
		}
	}
	return out
}

// TestReproduceStepPerKind: for every kind of finding, the curl command
// reproduces the step the finding is about: a step its header difference
// is in, the preflight a load balancer redirects or answers, the request
// that got no answer, the step whose answer trusts an origin or carries an
// invalid header, the step that decided the verdict of a side of a split.
func TestReproduceStepPerKind(t *testing.T) {
	// A preflighted GET still allowed by an instance that lacks PUT and
	// DELETE: header drift in the preflight, where the GET shows nothing.
	withHeader := audit.Plan(audit.Policy{Origins: []string{appOrigin}, Methods: []string{"GET", "PUT", "DELETE"}, Headers: []string{"X-Request-Id"}})
	drift := compareCase{desc: "preflight-only header drift on a GET",
		res: fleetOf(withHeader, append(same(3, policyAnswers(setPre(cors.ACAM, "GET, PUT, DELETE"), setPre(cors.ACAH, "X-Request-Id"))),
			policyAnswers(setPre(cors.ACAM, "GET"), setPre(cors.ACAH, "X-Request-Id")))...)}
	var results []*audit.TargetResult
	var findings [][]Finding
	for _, tc := range append(append(compareCases(), frontCases()...), drift) {
		_, got := Compare(tc.res, tc.opt)
		results, findings = append(results, tc.res), append(findings, got)
	}
	for _, b := range []labserver.Behavior{withCredentials(reflectAll), withCredentials(nullAllowed), withCredentials(httpAllowed),
		withCredentials(suffixMatch), withCredentials(wildcard)} {
		res, got := fleet(t, b, b)
		results, findings = append(results, res), append(findings, got)
	}
	checked := map[Kind]bool{}
	for n, fs := range findings {
		res := results[n]
		for _, f := range fs {
			if f.Kind == KindSkipped {
				continue
			}
			for _, command := range strings.Split(f.Reproduce, " && ") {
				candidates := reproducedSteps(res, command)
				if len(candidates) == 0 {
					t.Errorf("%s: %s is not a recorded request", f.Kind, command)
					continue
				}
				var problems []string
				for _, c := range candidates {
					if why := wrongStep(f, c.o, c.ex); why != "" {
						problems = append(problems, why)
					}
				}
				if len(problems) == len(candidates) {
					t.Errorf("%s (%s): %s:\n%s", f.Kind, f.Message, problems[0], command)
				}
				checked[f.Kind] = true
			}
		}
	}
	for _, k := range Kinds {
		// unaudited-route comes from the routes alone, never from Compare:
		// TestRouteFindings checks its reproduce step; config-* from what
		// the provider read (TestConfigFindings), without a recorded request.
		if !checked[k.Kind] && k.Kind != KindSkipped && k.Kind != KindErrorWithoutCORS && k.Kind != KindUnauditedRoute && !strings.HasPrefix(string(k.Kind), "config-") {
			t.Errorf("no %s finding was checked", k.Kind)
		}
	}
}

// stepName says which step of o ex is.
func stepName(ex *audit.Exchange, o audit.Observation) string {
	if ex == o.Preflight {
		return "preflight"
	}
	return "actual"
}

// wrongStep says why exchange ex of o is not the step finding f is about
// ("" when it is).
func wrongStep(f Finding, o audit.Observation, ex *audit.Exchange) string {
	step := stepName(ex, o)
	var want []string
	switch {
	case len(f.Difference) > 0:
		for _, d := range f.Difference {
			want = append(want, d.Step)
		}
	case f.Kind == KindLBRedirect || f.Kind == KindLBAnswersOptions:
		want = []string{"preflight"}
	case f.Kind == KindVaryMissing || f.Kind == KindErrorWithoutCORS:
		want = []string{"actual"}
	case f.Kind == KindUnreachable:
		if !ex.Failed() {
			return "the request reproduced got an answer"
		}
		return ""
	case f.Kind == KindInvalidHeader:
		if !slices.ContainsFunc([]string{cors.ACAO, cors.ACAC}, func(h string) bool { return len(ex.Header.Values(h)) > 1 }) {
			return fmt.Sprintf("the %s reproduced has no invalid header: %v", step, ex.Header)
		}
		return ""
	case slices.Contains(misconfigKinds, f.Kind):
		want = []string{"actual"}
		if strings.HasSuffix(f.Observed, "(preflight)") {
			want = []string{"preflight"}
		}
	case f.Kind == KindSplit || f.Kind == KindPolicyViolation || f.Kind == KindVerdictDrift || f.Kind == KindLBMismatch,
		slices.Contains([]Kind{KindCacheLeak, KindCacheNoOrigin, KindCacheRefusal, KindCachePreflightKey, KindCacheRevalidation}, f.Kind):
		// No difference to show: the step that decided the verdict.
		want = []string{stepName(decidingExchange(o), o)}
	default:
		return "no rule says which step it is about"
	}
	if !slices.Contains(want, step) {
		return fmt.Sprintf("reproduces the %s, want the %s", step, strings.Join(want, " or "))
	}
	return ""
}

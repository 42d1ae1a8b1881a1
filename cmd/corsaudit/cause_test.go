package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/lab"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

// shopCORS is the shop's CORS config: https://shop.test may GET, POST, PUT
// and DELETE with X-Trace and credentials.
func shopCORS(edit func(*labserver.Behavior)) labserver.Behavior {
	b := labserver.Behavior{AllowOrigins: []string{"https://shop.test"}, AllowMethods: []string{"GET", "POST", "PUT", "DELETE"},
		AllowHeaders: []string{"Content-Type", "X-Trace"}, Credentials: true, MaxAge: 600}
	if edit != nil {
		edit(&b)
	}
	return b
}

// without drops the tokens from a list.
func without(list []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return slices.Contains(drop, s) })
}

// stripHeader is a load balancer that deletes a header from every answer.
func stripHeader(next http.Handler, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(stripWriter{w, name}, r)
	})
}

type stripWriter struct {
	http.ResponseWriter
	name string
}

func (w stripWriter) WriteHeader(code int) {
	w.Header().Del(w.name)
	w.ResponseWriter.WriteHeader(code)
}

// shopFleet starts w1..w4 (edits[id] changes one's config) behind a
// loopback round-robin load balancer (wrapped by lb when not nil) and
// writes the config that audits them on /v1/cart and /v1/items.
func shopFleet(t *testing.T, edits map[string]func(*labserver.Behavior), lb func(http.Handler) http.Handler) string {
	t.Helper()
	f := newFleet(t)
	instances := map[string]string{}
	var backends []*url.URL
	for _, id := range []string{"w1", "w2", "w3", "w4"} {
		instances[id] = f.start(id, shopCORS(edits[id]))
		backends = append(backends, &url.URL{Scheme: "http", Host: instances[id]})
	}
	var h http.Handler = lab.RoundRobin(backends)
	if lb != nil {
		h = lb(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ids := make([]string, 0, len(instances))
	for id := range instances {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b strings.Builder
	fmt.Fprintf(&b, "targets:\n  - name: shop\n    url: %s/v1/cart\n    paths: [/v1/cart, /v1/items]\n    discover:\n      static:\n        instances:\n", srv.URL)
	for _, id := range ids {
		fmt.Fprintf(&b, "          - {id: %s, addr: %s}\n", id, instances[id])
	}
	b.WriteString("    direct: {scheme: http}\n    lb: {samples: 40, instance_header: X-Instance-Id}\n" +
		"    policy:\n      origins: [https://shop.test]\n      methods: [GET, POST, PUT, DELETE]\n      headers: [X-Trace]\n      credentials: true\n")
	return writeConfig(t, b.String())
}

// causeLines is the report's findings, one line each, for failures.
func causeLines(rep *diff.Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "  %s %s %v explains %v share %.2f: %s\n", f.Severity, f.Kind, f.Instances, f.Explains, f.Share, f.Message)
	}
	return b.String()
}

// TestOneFindingPerCause is issue 28: four instances behind a round-robin
// load balancer, audited on two paths. One instance's difference is one
// finding, whatever it explains (blocked requests on every path, other
// headers on the other preflights, the requests through the load balancer
// that land on it), at the severity of the worst; two differences are two
// findings; a load balancer that changes answers itself is its own. The
// exit code is the one the symptoms gave.
func TestOneFindingPerCause(t *testing.T) {
	noPUT := func(b *labserver.Behavior) { b.AllowMethods = without(b.AllowMethods, "PUT") }
	for _, tc := range []struct {
		desc  string
		edits map[string]func(*labserver.Behavior)
		lb    func(http.Handler) http.Handler
		// want is, per finding, its kind and instances, sorted.
		want []string
		// difference is w3's finding's difference, header by header.
		difference []string
		// explains is what w3's finding explains.
		explains []diff.Kind
		message  string
	}{
		{desc: "w3 lacks PUT: one error naming w3, both paths, the LB's share",
			edits:      map[string]func(*labserver.Behavior){"w3": noPUT},
			want:       []string{"verdict-drift w3"},
			difference: []string{"preflight Access-Control-Allow-Methods -PUT"},
			explains:   []diff.Kind{diff.KindVerdictDrift, diff.KindHeaderDrift, diff.KindLBMismatch},
			message:    "w3 (1 of 4 instances) omits PUT from Access-Control-Allow-Methods on /v1/cart and /v1/items: PUT from https://shop.test is blocked there, and on "},
		{desc: "w3 also lacks X-Trace: one finding, both headers in its difference",
			edits: map[string]func(*labserver.Behavior){"w3": func(b *labserver.Behavior) {
				noPUT(b)
				b.AllowHeaders = without(b.AllowHeaders, "X-Trace")
			}},
			want:       []string{"verdict-drift w3"},
			difference: []string{"preflight Access-Control-Allow-Methods -PUT", "preflight Access-Control-Allow-Headers -x-trace"},
			explains:   []diff.Kind{diff.KindVerdictDrift, diff.KindHeaderDrift, diff.KindLBMismatch},
			message:    "w3 (1 of 4 instances) omits PUT from Access-Control-Allow-Methods and x-trace from Access-Control-Allow-Headers on /v1/cart and /v1/items: "},
		{desc: "w4 lacks DELETE instead: two findings, one per cause",
			edits: map[string]func(*labserver.Behavior){"w3": noPUT, "w4": func(b *labserver.Behavior) {
				b.AllowMethods = without(b.AllowMethods, "DELETE")
			}},
			want:       []string{"verdict-drift w3", "verdict-drift w4"},
			difference: []string{"preflight Access-Control-Allow-Methods -PUT"},
			explains:   []diff.Kind{diff.KindVerdictDrift, diff.KindHeaderDrift, diff.KindLBMismatch},
			message:    "w3 (1 of 4 instances) omits PUT from Access-Control-Allow-Methods on /v1/cart and /v1/items"},
		{desc: "the LB strips Access-Control-Allow-Credentials too: its own finding stays apart",
			edits: map[string]func(*labserver.Behavior){"w3": noPUT},
			lb:    func(h http.Handler) http.Handler { return stripHeader(h, cors.ACAC) },
			// Every request through the LB is changed by it: none is w3's
			// answer passed through.
			want:       []string{"lb-mismatch lb,w1,w2,w3,w4", "verdict-drift w3"},
			difference: []string{"preflight Access-Control-Allow-Methods -PUT"},
			explains:   []diff.Kind{diff.KindVerdictDrift, diff.KindHeaderDrift},
			message:    "w3 (1 of 4 instances) omits PUT from Access-Control-Allow-Methods on /v1/cart and /v1/items: PUT from https://shop.test is blocked there"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			path := shopFleet(t, tc.edits, tc.lb)
			rep, code, stderr := runJSON(t, "audit", "--config", path, "--format", "json")
			if code != exitFindings {
				t.Errorf("exit %d, want %d\n%s", code, exitFindings, stderr)
			}
			var got []string
			for _, f := range rep.Findings {
				got = append(got, string(f.Kind)+" "+strings.Join(f.Instances, ","))
			}
			if !slices.Equal(slices.Sorted(slices.Values(got)), tc.want) {
				t.Fatalf("findings %q, want %q:\n%s", got, tc.want, causeLines(rep))
			}
			f := rep.Findings[slices.Index(got, "verdict-drift w3")]
			var ds []string
			for _, d := range f.Difference {
				ds = append(ds, d.Step+" "+d.String())
			}
			if f.Severity != diff.SeverityError || !slices.Equal(f.Explains, tc.explains) || !slices.Equal(ds, tc.difference) ||
				!strings.HasPrefix(f.Message, tc.message) {
				t.Errorf("w3's finding: %s explains %v, difference %q, message %q; want error explaining %v, difference %q, message %q...",
					f.Severity, f.Explains, ds, f.Message, tc.explains, tc.difference, tc.message)
			}
			if !slices.Equal(f.Paths, []string{"/v1/cart", "/v1/items"}) || f.Path != "/v1/cart" {
				t.Errorf("paths %v (path %q), want both, /v1/cart first", f.Paths, f.Path)
			}
			// Every probe on which w3 drifts (blocked or other headers), on
			// both paths, is one of the finding's, with its path.
			var drifted, listed []string
			for c := range rep.Targets[0].Cells.All() {
				if c.Instance == "w3" && c.Drift {
					drifted = append(drifted, c.Probe)
				}
			}
			paths := map[string]bool{}
			for _, p := range f.Probes {
				listed = append(listed, p.ID)
				paths[p.Path] = true
			}
			sort.Strings(drifted)
			sort.Strings(listed)
			if len(drifted) == 0 || !slices.Equal(drifted, listed) || len(paths) != 2 {
				t.Errorf("probes %v on paths %v, want w3's drifting cells %v on both paths", listed, paths, drifted)
			}
			wantShare := slices.Contains(tc.explains, diff.KindLBMismatch)
			if wantShare != (f.Share > 0.1 && f.Share <= 0.5) {
				t.Errorf("share %.2f, want about 0.25 (one instance in four) when the LB passes w3's answers through: %v", f.Share, wantShare)
			}
			if wantShare != (len(f.Evidence) == 2 && slices.Equal(f.Evidence[1].Instances, []string{"lb"})) {
				t.Errorf("evidence %+v, want w3's and, when they pass through, the LB's", f.Evidence)
			}
			if !strings.Contains(f.Reproduce, "--connect-to") || !strings.Contains(f.Reproduce, "-X OPTIONS") {
				t.Errorf("reproduce %q, want w3's preflight, where the difference is", f.Reproduce)
			}
		})
	}
}

// TestEvidencePerInstance: two instances make one mistake on different
// probes (starlette answers * with credentials on every answer; caddy,
// a front that answers preflights itself, only on preflights, the actual
// answers being right): the wildcard-credentials finding gives each its
// own probes and a curl line where it shows the mistake, in JSON and in
// the table.
func TestEvidencePerInstance(t *testing.T) {
	f := newFleet(t)
	good := shopCORS(nil)
	starlette := shopCORS(func(b *labserver.Behavior) { b.AllowAnyOrigin = true })
	caddy := labserver.New(good)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			w.Header().Set(cors.ACAO, "*")
			w.Header().Set(cors.ACAC, "true")
			w.Header().Set(cors.ACAM, "GET, POST, PUT, DELETE")
			w.Header().Set(cors.ACAH, "Content-Type, X-Trace")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		caddy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	instances := map[string]string{"caddy": front.Listener.Addr().String(), "starlette": f.start("starlette", starlette)}
	for _, id := range []string{"w1", "w2", "w3"} {
		instances[id] = f.start(id, good)
	}
	var b strings.Builder
	b.WriteString("targets:\n  - name: shop\n    url: http://shop.example/v1/cart\n    discover:\n      static:\n        instances:\n")
	for _, id := range []string{"caddy", "starlette", "w1", "w2", "w3"} {
		fmt.Fprintf(&b, "          - {id: %s, addr: %s}\n", id, instances[id])
	}
	b.WriteString("    direct: {scheme: http}\n    lb: {disabled: true}\n" +
		"    policy:\n      origins: [https://shop.test]\n      methods: [GET, PUT]\n      headers: [X-Trace]\n      credentials: true\n")
	path := writeConfig(t, b.String())
	rep, code, stderr := runJSON(t, "audit", "--config", path, "--format", "json")
	if code != exitFindings {
		t.Errorf("exit %d, want %d (credentialed requests fail on both)\n%s", code, exitFindings, stderr)
	}
	probes := map[string]diff.ProbeRef{}
	for _, p := range rep.Targets[0].Probes {
		probes[p.ID] = p
	}
	needsPreflight := func(id string) bool {
		p := probes[id]
		return p.Method != "GET" || len(p.Headers) > 0
	}
	for _, kind := range []diff.Kind{diff.KindWildcardCredentials, diff.KindVerdictDrift} {
		var fd *diff.Finding
		for k, f := range rep.Findings {
			if f.Kind == kind && slices.Equal(f.Instances, []string{"caddy", "starlette"}) {
				fd = &rep.Findings[k]
			}
		}
		if fd == nil {
			t.Fatalf("no %s finding naming caddy and starlette:\n%s", kind, causeLines(rep))
		}
		if len(fd.Evidence) != 2 {
			t.Fatalf("%s: evidence %+v, want one per instance", kind, fd.Evidence)
		}
		for _, e := range fd.Evidence {
			if len(e.Instances) != 1 || len(e.Probes) == 0 {
				t.Fatalf("%s: evidence %+v, want one instance and its probes", kind, e)
			}
			id := e.Instances[0]
			simple := slices.ContainsFunc(e.Probes, func(p string) bool { return !needsPreflight(p) })
			// caddy shows it on preflights only, and is reproduced by one;
			// starlette on a simple GET too.
			if id == "caddy" && (simple || !strings.Contains(e.Reproduce, "-X OPTIONS")) ||
				id == "starlette" && !simple ||
				!strings.Contains(e.Reproduce, "--connect-to") || !strings.Contains(e.Reproduce, instances[id]) {
				t.Errorf("%s: %s's evidence: probes %v, reproduce %q", kind, id, e.Probes, e.Reproduce)
			}
		}
	}
	code, out, stderr := runCLI("audit", "--config", path, "--format", "table")
	if code != exitFindings {
		t.Errorf("table: exit %d\n%s", code, stderr)
	}
	caddyLine := regexp.MustCompile(`(?m)^ +on caddy: p\d+.*\n +\$ curl .*-X OPTIONS .*` + regexp.QuoteMeta(instances["caddy"]))
	if !caddyLine.MatchString(out) || !regexp.MustCompile(`(?m)^ +on starlette: p\d+`).MatchString(out) {
		t.Errorf("the table does not give each instance its probes and curl line:\n%s", out)
	}
}

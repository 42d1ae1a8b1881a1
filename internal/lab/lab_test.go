package lab

import (
	"context"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
	"github.com/corsaudit/corsaudit/internal/testinfra/testenv"
)

const (
	allowed = "https://app.example.com"
	other   = "https://other.example.com"
)

// answer is the part of a response the tests look at.
type answer struct {
	status int
	header http.Header
	body   string
}

func (a answer) instance() string { return a.header.Get(labserver.InstanceHeader) }

// send makes one request, never following redirects, on a fresh connection.
func send(t *testing.T, method, url, origin, acrm string) answer {
	t.Helper()
	return sendWith(t, method, url, origin, acrm, nil)
}

// sendWith is send with extra request headers.
func sendWith(t *testing.T, method, url, origin, acrm string, extra http.Header) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if origin != "" {
		req.Header.Set(cors.Origin, origin)
	}
	if acrm != "" {
		req.Header.Set(cors.ACRM, acrm)
		req.Header.Set(cors.ACRH, "content-type")
	}
	for k, vs := range extra {
		req.Header[k] = vs
	}
	client := &http.Client{
		Transport:     &http.Transport{DisableKeepAlives: true, Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func direct(in Instance) string { return "http://" + in.Addr + Path }

func startLab(t *testing.T, sc Scenario) *Lab {
	t.Helper()
	for _, tool := range sc.Tools() {
		testenv.LookTool(t, sc.Name+" lab", tool)
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	l, err := Start(ctx, sc, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return l
}

// reachAll sends GETs through the load balancer until every instance has
// answered, failing after 4 rounds.
func reachAll(t *testing.T, l *Lab) {
	t.Helper()
	seen := map[string]bool{}
	for i := 0; i < 4*len(l.Instances) && len(seen) < len(l.Instances); i++ {
		a := send(t, "GET", l.URL, allowed, "")
		if a.status != 200 {
			t.Fatalf("GET via LB: status %d", a.status)
		}
		seen[a.instance()] = true
	}
	for _, in := range l.Instances {
		if !seen[in.ID] {
			t.Errorf("round-robin never reached %s (saw %v)", in.ID, seen)
		}
	}
}

// noPreflightReached checks that no backend saw a preflight.
func noPreflightReached(t *testing.T, l *Lab) {
	t.Helper()
	for _, in := range l.Instances {
		if n := in.Server.Stats().Preflights; n != 0 {
			t.Errorf("%s saw %d preflights, want 0: the load balancer should not forward them", in.ID, n)
		}
	}
}

func corsOf(h http.Header) http.Header {
	out := http.Header{}
	for _, k := range []string{cors.ACAO, cors.ACAC,
		cors.ACAM, cors.ACAH, cors.ACMA,
		cors.ACEH, "Vary"} {
		if vs := h.Values(k); len(vs) > 0 {
			out[k] = vs
		}
	}
	return out
}

// checks holds, per scenario kind, what the load balancer must visibly do.
var checks = map[string]func(t *testing.T, l *Lab){
	"vary-missing": func(t *testing.T, l *Lab) {
		reachAll(t, l)
		a := send(t, "GET", l.URL, allowed, "")
		if got := a.header.Get(cors.ACAO); got != allowed {
			t.Errorf("GET via LB: ACAO %q, want the allowed origin echoed", got)
		}
		if v := a.header.Values("Vary"); len(v) != 0 {
			t.Errorf("GET via LB: Vary %v, want none", v)
		}
	},
	"clean": func(t *testing.T, l *Lab) {
		reachAll(t, l)
		for range l.Instances {
			via := send(t, "OPTIONS", l.URL, allowed, "PUT")
			in := instanceByID(t, l, via.instance())
			want := send(t, "OPTIONS", direct(in), allowed, "PUT")
			if via.status != want.status || !reflect.DeepEqual(corsOf(via.header), corsOf(want.header)) {
				t.Errorf("preflight via LB (%s) = %d %v, direct = %d %v", in.ID, via.status, corsOf(via.header), want.status, corsOf(want.header))
			}
		}
		for _, in := range l.Instances {
			if in.Server.Stats().Preflights == 0 {
				t.Errorf("%s saw no preflight", in.ID)
			}
		}
	},
	"round-robin": func(t *testing.T, l *Lab) {
		reachAll(t, l)
		var putAllowed, putRefused int
		for range l.Instances {
			a := send(t, "OPTIONS", l.URL, allowed, "PUT")
			if a.status != 204 {
				t.Fatalf("preflight via LB: status %d", a.status)
			}
			acam := a.header.Get(cors.ACAM)
			if strings.Contains(acam, "PUT") {
				putAllowed++
			} else {
				putRefused++
				if a.instance() != "web-3" {
					t.Errorf("%s refused PUT (ACAM %q); only web-3 runs the old config", a.instance(), acam)
				}
			}
		}
		if putAllowed != 3 || putRefused != 1 {
			t.Errorf("4 preflights via LB: %d allowed PUT, %d did not; want 3 and 1 (round-robin over 4, one old)", putAllowed, putRefused)
		}
	},
	"redirect-options": func(t *testing.T, l *Lab) {
		a := send(t, "OPTIONS", l.URL, allowed, "PUT")
		if a.status != http.StatusMovedPermanently {
			t.Errorf("preflight via LB: status %d, want 301", a.status)
		}
		if loc := a.header.Get("Location"); !strings.HasPrefix(loc, "https://127.0.0.1") || !strings.HasSuffix(loc, Path) {
			t.Errorf("preflight via LB: Location %q, want https://127.0.0.1...%s", loc, Path)
		}
		if g := send(t, "GET", l.URL, allowed, ""); g.status != 200 || g.header.Get(cors.ACAO) != allowed {
			t.Errorf("GET via LB: %d ACAO %q, want 200 %q", g.status, g.header.Get(cors.ACAO), allowed)
		}
		noPreflightReached(t, l)
	},
	"answers-options": func(t *testing.T, l *Lab) {
		a := send(t, "OPTIONS", l.URL, allowed, "PUT")
		want := http.Header{
			cors.ACAO: {"*"},
			cors.ACAM: {"GET, POST, OPTIONS"},
			cors.ACAH: {"Content-Type"},
			cors.ACMA: {"86400"},
		}
		if a.status != 204 || !reflect.DeepEqual(corsOf(a.header), want) {
			t.Errorf("preflight via LB = %d %v, want 204 %v", a.status, corsOf(a.header), want)
		}
		if id := a.instance(); id != "" {
			t.Errorf("preflight via LB answered by %q, want the LB itself (no %s)", id, labserver.InstanceHeader)
		}
		noPreflightReached(t, l)
		d := send(t, "OPTIONS", direct(l.Instances[0]), allowed, "PUT")
		if reflect.DeepEqual(corsOf(d.header), want) {
			t.Errorf("direct preflight equals the LB's own answer %v; the scenario needs them to differ", want)
		}
		if g := send(t, "GET", l.URL, allowed, ""); g.instance() == "" {
			t.Error("GET via LB did not reach an instance")
		}
	},
	"duplicate-header": func(t *testing.T, l *Lab) {
		for _, m := range []struct{ method, acrm string }{{"GET", ""}, {"OPTIONS", "PUT"}} {
			a := send(t, m.method, l.URL, allowed, m.acrm)
			got := a.header.Values(cors.ACAO)
			if want := []string{allowed, "*"}; !reflect.DeepEqual(got, want) {
				t.Errorf("%s via LB: ACAO %q, want two values %q", m.method, got, want)
			}
			d := send(t, m.method, direct(l.Instances[0]), allowed, m.acrm)
			if got := d.header.Values(cors.ACAO); len(got) != 1 {
				t.Errorf("%s direct: ACAO %q, want one value", m.method, got)
			}
		}
	},
	"strip-header": func(t *testing.T, l *Lab) {
		for _, m := range []struct{ method, acrm string }{{"GET", ""}, {"OPTIONS", "PUT"}} {
			a := send(t, m.method, l.URL, allowed, m.acrm)
			if v := a.header.Values(cors.ACAC); len(v) != 0 {
				t.Errorf("%s via LB: ACAC %q, want it stripped", m.method, v)
			}
			if v := a.header.Get(cors.ACAO); v != allowed {
				t.Errorf("%s via LB: ACAO %q, want %q kept", m.method, v, allowed)
			}
			d := send(t, m.method, direct(l.Instances[0]), allowed, m.acrm)
			if v := d.header.Get(cors.ACAC); v != "true" {
				t.Errorf("%s direct: ACAC %q, want true", m.method, v)
			}
		}
	},
	"cache-leak": func(t *testing.T, l *Lab) {
		before := gets(l)
		first := send(t, "GET", l.URL, allowed, "")
		if got := first.header.Get(cors.ACAO); first.status != 200 || got != allowed {
			t.Fatalf("first GET via LB: %d ACAO %q, want 200 %q", first.status, got, allowed)
		}
		second := send(t, "GET", l.URL, other, "")
		if got := second.header.Get(cors.ACAO); got != allowed {
			t.Errorf("GET via LB from %s: ACAO %q, want the cached %q", other, got, allowed)
		}
		if !cacheHit(second.header) {
			t.Errorf("GET via LB from %s: %v, want a cache hit (X-Cache-Status: HIT or an Age)", other, second.header)
		}
		if n := gets(l) - before; n != 1 {
			t.Errorf("instances saw %d GETs through the LB, want 1: the second must come from the cache", n)
		}
		d := send(t, "GET", direct(l.Instances[0]), other, "")
		if got := d.header.Values(cors.ACAO); len(got) != 0 {
			t.Errorf("GET direct from %s: ACAO %q, want none (not allowed)", other, got)
		}
	},
	"cache-origin": func(t *testing.T, l *Lab) {
		before := gets(l)
		send(t, "GET", l.URL, allowed, "")
		if got := send(t, "GET", l.URL, other, "").header.Values(cors.ACAO); len(got) != 0 {
			t.Errorf("GET via LB from %s: ACAO %q, want none: each origin its own entry", other, got)
		}
		again := send(t, "GET", l.URL, allowed, "")
		if got := again.header.Get(cors.ACAO); got != allowed {
			t.Errorf("second GET via LB from %s: ACAO %q, want %q", allowed, got, allowed)
		}
		// nginx keys on the Origin; haproxy stores no answer with a Vary
		// it does not process: nothing to mix up.
		want := 2
		if l.Scenario.Proxy == HAProxy {
			want = 3
		}
		if n := gets(l) - before; n != want {
			t.Errorf("instances saw %d GETs through the LB, want %d", n, want)
		}
	},
	"strip-vary": func(t *testing.T, l *Lab) {
		before := gets(l)
		for _, m := range []struct{ method, acrm string }{{"GET", ""}, {"OPTIONS", "PUT"}, {"GET", ""}} {
			a := send(t, m.method, l.URL, allowed, m.acrm)
			if v := a.header.Values("Vary"); len(v) != 0 {
				t.Errorf("%s via varnish: Vary %q, want it dropped", m.method, v)
			}
			if a.header.Get(cors.ACAO) != allowed {
				t.Errorf("%s via varnish: ACAO %q, want %q", m.method, a.header.Get(cors.ACAO), allowed)
			}
		}
		if n := gets(l) - before; n != 2 {
			t.Errorf("instances saw %d GETs, want 2: varnish passes everything", n)
		}
		if v := send(t, "GET", direct(l.Instances[0]), allowed, "").header.Get("Vary"); v != cors.Origin {
			t.Errorf("direct GET: Vary %q, want Origin", v)
		}
	},
	"cache-url": func(t *testing.T, l *Lab) {
		put := send(t, "OPTIONS", l.URL, allowed, "PUT")
		del := send(t, "OPTIONS", l.URL, allowed, "DELETE")
		if put.header.Get(cors.ACAM) != "PUT" || del.header.Get(cors.ACAM) != "PUT" || !cacheHit(del.header) {
			t.Errorf("preflights for PUT then DELETE via varnish: ACAM %q then %q (%v), want PUT twice, the second from the cache",
				put.header.Get(cors.ACAM), del.header.Get(cors.ACAM), del.header)
		}
		if got := send(t, "OPTIONS", direct(l.Instances[0]), allowed, "DELETE").header.Get(cors.ACAM); got != "DELETE" {
			t.Errorf("direct preflight for DELETE: ACAM %q, want DELETE (reflected)", got)
		}
		send(t, "GET", l.URL, allowed, "")
		if got := send(t, "GET", l.URL, other, "").header.Get(cors.ACAO); got != allowed {
			t.Errorf("GET via varnish from %s: ACAO %q, want the cached %q", other, got, allowed)
		}
	},
	"cache-key": func(t *testing.T, l *Lab) {
		send(t, "OPTIONS", l.URL, allowed, "PUT")
		del := send(t, "OPTIONS", l.URL, allowed, "DELETE")
		if got := del.header.Get(cors.ACAM); got != "DELETE" {
			t.Errorf("preflight for DELETE after PUT via varnish: ACAM %q, want DELETE", got)
		}
		again := send(t, "OPTIONS", l.URL, allowed, "DELETE")
		if !cacheHit(again.header) || again.header.Get(cors.ACAM) != "DELETE" {
			t.Errorf("preflight for DELETE again: %v, want it from the cache", again.header)
		}
		send(t, "GET", l.URL, allowed, "")
		if got := send(t, "GET", l.URL, other, "").header.Values(cors.ACAO); len(got) != 0 {
			t.Errorf("GET via varnish from %s: ACAO %q, want none", other, got)
		}
	},
	"drop-304-cors": func(t *testing.T, l *Lab) {
		first := send(t, "GET", l.URL, allowed, "")
		et := first.header.Get("ETag")
		if first.status != 200 || et == "" || first.header.Get(cors.ACAO) != allowed {
			t.Fatalf("GET via varnish: %d %v, want 200 with an ETag and ACAO", first.status, first.header)
		}
		reval := sendWith(t, "GET", l.URL, allowed, "", http.Header{"If-None-Match": {et}})
		if reval.status != http.StatusNotModified || reval.header.Get(cors.ACAO) != "" {
			t.Errorf("revalidation via varnish: %d ACAO %q, want 304 without it", reval.status, reval.header.Get(cors.ACAO))
		}
		d := sendWith(t, "GET", direct(l.Instances[0]), allowed, "", http.Header{"If-None-Match": {et}})
		if d.status != http.StatusNotModified || d.header.Get(cors.ACAO) != allowed {
			t.Errorf("revalidation direct: %d ACAO %q, want 304 with %q", d.status, d.header.Get(cors.ACAO), allowed)
		}
	},
	"chain-strip-vary": func(t *testing.T, l *Lab) {
		if v := send(t, "GET", l.URL, allowed, "").header.Values("Vary"); len(v) != 0 {
			t.Errorf("GET via varnish: Vary %q, want it dropped", v)
		}
		if v := send(t, "GET", "http://"+l.Inner+Path, allowed, "").header.Get("Vary"); v != cors.Origin {
			t.Errorf("GET via haproxy: Vary %q, want Origin", v)
		}
	},
	"chain-strip-header": func(t *testing.T, l *Lab) {
		for _, u := range []string{l.URL, "http://" + l.Inner + Path} {
			if v := send(t, "GET", u, allowed, "").header.Values(cors.ACAC); len(v) != 0 {
				t.Errorf("GET via %s: ACAC %q, want it stripped by haproxy", u, v)
			}
		}
	},
}

// gets counts the GETs the instances received.
func gets(l *Lab) int {
	n := 0
	for _, in := range l.Instances {
		n += in.Server.Stats().Actual["GET"]
	}
	return n
}

// cacheHit reports whether an answer came from a cache: nginx's
// X-Cache-Status, or an Age (haproxy, varnish) with varnish's two ids.
func cacheHit(h http.Header) bool {
	if h.Get("X-Cache-Status") == "HIT" {
		return true
	}
	if h.Get("X-Cache-Status") != "" {
		return false
	}
	if v := h.Get("X-Varnish"); v != "" {
		return len(strings.Fields(v)) == 2
	}
	return h.Get("Age") != ""
}

func instanceByID(t *testing.T, l *Lab, id string) Instance {
	t.Helper()
	for _, in := range l.Instances {
		if in.ID == id {
			return in
		}
	}
	t.Fatalf("no instance %q (response without %s?)", id, labserver.InstanceHeader)
	return Instance{}
}

func TestScenarios(t *testing.T) {
	for _, sc := range Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			kind := strings.TrimPrefix(sc.Name, string(sc.Proxy)+"-")
			if sc.Front != nil {
				kind = "chain-" + strings.TrimPrefix(sc.Name, string(sc.Front.Proxy)+"-"+string(sc.Proxy)+"-")
			}
			check, ok := checks[kind]
			if !ok {
				t.Fatalf("no check for scenario kind %q", kind)
			}
			l := startLab(t, sc)
			for _, in := range l.Instances {
				if a := send(t, "GET", direct(in), allowed, ""); a.instance() != in.ID {
					t.Errorf("direct GET to %s answered by %q", in.ID, a.instance())
				}
			}
			check(t, l)
			for _, in := range l.Instances {
				st := in.Server.Stats()
				if st.Cookies != 0 || st.Unsafe != 0 {
					t.Errorf("%s saw %d cookies and %d unsafe requests, want none", in.ID, st.Cookies, st.Unsafe)
				}
			}
		})
	}
}

func TestCloseStopsProxy(t *testing.T) {
	for _, name := range []string{"nginx-clean", "haproxy-clean", "varnish-strip-vary", "varnish-haproxy-strip-vary"} {
		t.Run(name, func(t *testing.T) {
			sc, err := Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			l := startLab(t, sc)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-l.Exited():
			default:
				t.Fatal("Close returned before the proxy exited")
			}
			if c, err := net.DialTimeout("tcp", l.Addr, time.Second); err == nil {
				c.Close()
				t.Errorf("%s still accepts connections after Close", l.Addr)
			}
			if err := l.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

func TestStartReportsBadConfig(t *testing.T) {
	testenv.LookTool(t, "nginx lab", "nginx")
	sc, err := Lookup("nginx-clean")
	if err != nil {
		t.Fatal(err)
	}
	sc.rules = "no_such_directive on;"
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	l, err := Start(ctx, sc, t.TempDir())
	if err == nil {
		l.Close()
		t.Fatal("Start succeeded with an invalid nginx directive")
	}
	if !strings.Contains(err.Error(), "no_such_directive") || !strings.HasPrefix(err.Error(), "lab: nginx-clean: ") {
		t.Errorf("err = %v, want the lab: prefix and nginx's complaint", err)
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		desc    string
		name    string
		wantErr string
	}{
		{desc: "nginx cache scenario", name: "nginx-cache-leak"},
		{desc: "haproxy redirect scenario", name: "haproxy-redirect-options"},
		{desc: "haproxy cache scenario", name: "haproxy-cache-leak"},
		{desc: "varnish in front of haproxy", name: "varnish-haproxy-strip-vary"},
		{desc: "nginx has no varnish scenario", name: "nginx-strip-vary", wantErr: `lab: unknown scenario "nginx-strip-vary"`},
		{desc: "unknown", name: "nope", wantErr: "known: haproxy-answers-options"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			sc, err := Lookup(tc.name)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || sc.Name != tc.name {
				t.Fatalf("Lookup(%q) = %q, %v", tc.name, sc.Name, err)
			}
		})
	}
}

package audit

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"

	"github.com/corsaudit/corsaudit/audit/cors"
)

func TestAdversarialProbesExample(t *testing.T) {
	pol := Policy{Origins: []string{"https://app.example.com"}, Methods: []string{"GET"}, Credentials: true}
	got := AdversarialProbes(pol, "api.example.com", "r4nd")
	want := []struct{ class, origin string }{
		{ClassArbitrary, "https://r4nd.example"},
		{ClassNull, "null"},
		{ClassSchemeDowngrade, "http://app.example.com"},
		{ClassPostDomain, "https://app.example.com.r4nd.example"},
		{ClassPreDomain, "https://r4ndapp.example.com"},
		{ClassPreDomain, "https://r4ndexample.com"},
		{ClassUnescapedDot, "https://appxexample.com"},
		{ClassSubdomain, "https://r4nd.example.com"},
		{ClassPort, "https://app.example.com:1337"},
		{ClassSubstring, "https://app.example.co"},
		{ClassPostDomain, "https://api.example.com.r4nd.example"},
		{ClassPreDomain, "https://r4ndapi.example.com"},
		{ClassUnescapedDot, "https://apixexample.com"},
		{ClassConcatenation, "https://app.example.com https://app.example.com"},
		{ClassLocalhost, "http://localhost"},
		{ClassLocalhost, "http://localhost:3000"},
		{ClassLocalhost, "http://127.0.0.1"},
		{ClassThirdParty, "https://r4nd.github.io"},
		{ClassThirdParty, "https://r4nd.herokuapp.com"},
		{ClassThirdParty, "https://r4nd.netlify.app"},
		{ClassThirdParty, "https://r4nd.vercel.app"},
		{ClassThirdParty, "https://r4nd.pages.dev"},
	}
	for _, c := range specialChars {
		want = append(want, struct{ class, origin string }{ClassSpecialChar, "https://app.example.com" + c + ".r4nd.example"})
	}
	if len(got) != len(want) {
		for _, p := range got {
			t.Logf("%s %s", p.Class, p.Origin)
		}
		t.Fatalf("got %d probes, want %d", len(got), len(want))
	}
	for i, w := range want {
		p := got[i]
		if p.Class != w.class || p.Origin != w.origin {
			t.Errorf("probe %d = %s %q, want %s %q", i, p.Class, p.Origin, w.class, w.origin)
		}
		if p.Method != http.MethodGet || len(p.Headers) != 0 || !p.Credentials || p.ID != "" || p.Expect != ExpectNone {
			t.Errorf("probe %d = %+v, want a credentialed simple GET with no ID and no expectation", i, p)
		}
	}
}

func TestAdversarialProbesCases(t *testing.T) {
	cases := []struct {
		desc   string
		pol    Policy
		host   string
		has    []string // origins that must be present (class:origin)
		hasNot []string // origins that must be absent
		check  func(t *testing.T, ps []Probe)
	}{
		{
			desc:   "policy origins are never probed as adversarial, even when a derivation yields one",
			pol:    Policy{Origins: []string{"https://app.example.com", "http://app.example.com", "https://app.example.com:1337", "null", "http://localhost:3000"}},
			host:   "api.example.com",
			hasNot: []string{ClassSchemeDowngrade + ":http://app.example.com", ClassPort + ":https://app.example.com:1337", ClassNull + ":null", ClassLocalhost + ":http://localhost:3000"},
			has:    []string{ClassLocalhost + ":http://localhost", ClassConcatenation + ":https://app.example.com http://app.example.com"},
		},
		{
			desc:   "policy origins compare case-insensitively and without default ports",
			pol:    Policy{Origins: []string{"HTTPS://App.Example.com:443", "HTTP://APP.example.com:80"}},
			hasNot: []string{ClassSchemeDowngrade + ":http://app.example.com"},
			has:    []string{ClassPostDomain + ":https://app.example.com.corsaudit.example"},
		},
		{
			desc: "a policy origin with a port keeps it",
			pol:  Policy{Origins: []string{"https://app.example.co.uk:8443"}},
			has: []string{ClassPreDomain + ":https://corsauditexample.co.uk:8443", ClassSubdomain + ":https://corsaudit.example.co.uk:8443",
				ClassSchemeDowngrade + ":http://app.example.co.uk:8443", ClassPostDomain + ":https://app.example.co.uk.corsaudit.example:8443"},
			hasNot: []string{ClassPort + ":https://app.example.co.uk:1337", ClassSubdomain + ":https://corsaudit.co.uk:8443"},
		},
		{
			desc: "an http policy origin gets no scheme downgrade",
			pol:  Policy{Origins: []string{"http://legacy.example.org"}},
			check: func(t *testing.T, ps []Probe) {
				for _, p := range ps {
					if p.Class == ClassSchemeDowngrade {
						t.Errorf("unexpected scheme downgrade %q", p.Origin)
					}
				}
			},
		},
		{
			desc: "a non-simple policy method adds a preflighted arbitrary probe",
			pol:  Policy{Origins: []string{"https://app.example.com"}, Methods: []string{"GET", "POST", "DELETE", "PUT"}},
			check: func(t *testing.T, ps []Probe) {
				if len(ps) < 3 || ps[2].Class != ClassArbitrary || ps[2].Method != "DELETE" || ps[2].Origin != ps[0].Origin {
					t.Errorf("third probe = %+v, want DELETE from the arbitrary origin", ps[2])
				}
			},
		},
		{
			desc: "policy headers alone add a preflighted GET",
			pol:  Policy{Origins: []string{"https://app.example.com"}, Headers: []string{"X-Request-Id"}},
			check: func(t *testing.T, ps []Probe) {
				if len(ps) < 3 || ps[2].Method != "GET" || len(ps[2].Headers) != 1 || ps[2].Headers[0].Name != "X-Request-Id" {
					t.Errorf("third probe = %+v, want GET with X-Request-Id", ps[2])
				}
			},
		},
		{
			desc: "no policy origins still probes arbitrary, null, target host, localhost and third parties",
			pol:  Policy{},
			host: "api.example.com:8443",
			has: []string{ClassArbitrary + ":https://corsaudit.example", ClassNull + ":null",
				ClassPostDomain + ":https://api.example.com.corsaudit.example", ClassThirdParty + ":https://corsaudit.github.io"},
			check: func(t *testing.T, ps []Probe) {
				for _, p := range ps {
					if p.Class == ClassSpecialChar || p.Class == ClassConcatenation {
						t.Errorf("unexpected %s probe %q without policy origins", p.Class, p.Origin)
					}
				}
			},
		},
		{
			desc:   "unparsable and wildcard policy origins are ignored, IP hosts get no domain derivations",
			pol:    Policy{Origins: []string{"*", "app.example.com", "https://10.0.0.1"}},
			host:   "10.0.0.2",
			has:    []string{ClassSchemeDowngrade + ":http://10.0.0.1", ClassPort + ":https://10.0.0.1:1337"},
			hasNot: []string{ClassUnescapedDot + ":https://10x0.0.1", ClassSubstring + ":https://10.0.0."},
		},
		{
			desc: "the random label is cleaned to a DNS label",
			pol:  Policy{Origins: []string{"https://app.example.com"}},
			check: func(t *testing.T, ps []Probe) {
				if got := AdversarialProbes(Policy{}, "", "A b/C.9")[0].Origin; got != "https://abc9.example" {
					t.Errorf("arbitrary origin = %q, want https://abc9.example", got)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			ps := AdversarialProbes(tc.pol, tc.host, "")
			set := map[string]bool{}
			for _, p := range ps {
				set[p.Class+":"+p.Origin] = true
			}
			for _, h := range tc.has {
				if !set[h] {
					t.Errorf("missing %s", h)
				}
			}
			for _, h := range tc.hasNot {
				if set[h] {
					t.Errorf("unexpected %s", h)
				}
			}
			if tc.check != nil {
				tc.check(t, ps)
			}
		})
	}
}

func TestOriginLabel(t *testing.T) {
	pol := Policy{Origins: []string{"https://app.example.com"}, Methods: []string{"GET", "PUT"}}
	other := pol
	other.Credentials = true
	for _, tc := range []struct {
		desc     string
		a, b     string
		wantSame bool
	}{
		{"same host and policy", originLabel("api.example.com", pol), originLabel("api.example.com", pol), true},
		{"another host", originLabel("api.example.com", pol), originLabel("api2.example.com", pol), false},
		{"another policy", originLabel("api.example.com", pol), originLabel("api.example.com", other), false},
	} {
		if len(tc.a) != 8 || cleanLabel(tc.a) != tc.a {
			t.Errorf("%s: originLabel = %q, want 8 lower-case letters and digits", tc.desc, tc.a)
		}
		if (tc.a == tc.b) != tc.wantSame {
			t.Errorf("%s: labels %q and %q, want same=%v", tc.desc, tc.a, tc.b, tc.wantSame)
		}
	}
}

func TestPlanTarget(t *testing.T) {
	pol := Policy{Origins: []string{"https://app.example.com"}, Methods: []string{"GET", "PUT"}}
	policyOnly := len(Plan(pol))
	for _, tc := range []struct {
		desc        string
		adversarial bool
		max         int
		wantLen     int
		wantDropped bool
		wantErr     bool
	}{
		{desc: "policy only", adversarial: false, max: 200, wantLen: policyOnly},
		{desc: "bounded adversarial", adversarial: true, max: policyOnly + 3, wantLen: policyOnly + 3, wantDropped: true},
		{desc: "policy over the bound", adversarial: true, max: policyOnly - 1, wantErr: true},
	} {
		probes, dropped, err := PlanTarget(pol, "api.example.com", tc.adversarial, tc.max)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v, want error %v", tc.desc, err, tc.wantErr)
			continue
		}
		if len(probes) != tc.wantLen || (dropped > 0) != tc.wantDropped {
			t.Errorf("%s: %d probes, %d dropped; want %d, dropped %v", tc.desc, len(probes), dropped, tc.wantLen, tc.wantDropped)
		}
		for i, p := range probes {
			if want := fmt.Sprintf("p%d", i+1); p.ID != want {
				t.Errorf("%s: probe %d has id %q, want %q", tc.desc, i, p.ID, want)
			}
		}
	}
	a, _, _ := PlanTarget(pol, "api.example.com", true, 200)
	b, _, _ := PlanTarget(pol, "api.example.com", true, 200)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("two plans of the same target differ:\n%v\n%v", a, b)
	}
}

func TestIsAdversarial(t *testing.T) {
	cases := []struct {
		desc  string
		class string
		want  bool
	}{
		{"policy", ClassPolicy, false},
		{"disallowed", ClassDisallowed, false},
		{"empty", "", false},
		{"null", ClassNull, true},
		{"special-char", ClassSpecialChar, true},
	}
	for _, tc := range cases {
		if got := IsAdversarial(tc.class); got != tc.want {
			t.Errorf("%s: IsAdversarial(%q) = %v, want %v", tc.desc, tc.class, got, tc.want)
		}
	}
}

// FuzzAdversarialProbes checks, for any policy origin and target host,
// that every adversarial origin is a valid header value, unique, not a
// policy origin, and that the count stays within the documented bound.
func FuzzAdversarialProbes(f *testing.F) {
	f.Add("https://app.example.com", "https://admin.example.com", "api.example.com", "r4nd")
	f.Add("http://[::1]:8080", "null", "[::1]:443", "")
	f.Add("https://a.b.c.d.example.co.uk:1", "*", "x", "ZZ")
	f.Fuzz(func(t *testing.T, o1, o2, host, rnd string) {
		pol := Policy{Origins: []string{o1, o2}, Methods: []string{"PUT"}}
		ps := AdversarialProbes(pol, host, rnd)
		if max := 8*2 + 3 + 31; len(ps) > max {
			t.Fatalf("%d probes, more than %d", len(ps), max)
		}
		seen := map[string]bool{}
		policy := map[string]bool{normalizeOrigin(o1): true, normalizeOrigin(o2): true}
		for _, p := range ps {
			if !IsAdversarial(p.Class) {
				t.Errorf("probe %q has class %q", p.Origin, p.Class)
			}
			if !httpguts.ValidHeaderFieldValue(p.Origin) || strings.TrimSpace(p.Origin) != p.Origin || p.Origin == "" {
				t.Errorf("origin %q is not a valid header value", p.Origin)
			}
			key := p.Method + " " + p.Origin
			if seen[key] {
				t.Errorf("duplicate probe %s", key)
			}
			seen[key] = true
			if policy[normalizeOrigin(p.Origin)] {
				t.Errorf("policy origin %q probed as adversarial", p.Origin)
			}
		}
	})
}

// TestPlannedProbesPassCheck: Probe.Check, run on probes read from an
// inventory or a shard file, accepts every probe a plan makes (adversarial
// origins with special characters included), and refuses tampered ones.
func TestPlannedProbesPassCheck(t *testing.T) {
	pol := Policy{Origins: []string{"https://app.example.com", "http://localhost:3000", "null"}, Methods: []string{"GET", "PUT", "DELETE", "PATCH"},
		Headers: []string{"Content-Type", "Authorization", "X-Request-Id", "Accept-Language"}, Credentials: true}
	probes, _, err := PlanTarget(pol, "api.example.com", true, 10000)
	if err != nil {
		t.Fatal(err)
	}
	probes = PerPath(probes, []string{"/v1/cart", "/v1/items?x=1"})
	for _, p := range probes {
		if err := p.Check(); err != nil {
			t.Errorf("%s (%s): %v", p.ID, p, err)
		}
	}
	good := probes[0]
	for _, tc := range []struct {
		desc string
		edit func(*Probe)
		want string
	}{
		{"no id", func(p *Probe) { p.ID = "" }, "id: empty"},
		{"unknown class", func(p *Probe) { p.Class = "x" }, `class: "x" is not a probe class`},
		{"unknown expectation", func(p *Probe) { p.Expect = "maybe" }, `expect: "maybe"`},
		{"method with a space", func(p *Probe) { p.Method = "GE T" }, `method: "GE T"`},
		{"forbidden method", func(p *Probe) { p.Method = "TRACE" }, `method: "TRACE"`},
		{"no origin", func(p *Probe) { p.Origin = "" }, "origin: empty"},
		{"origin with CR LF", func(p *Probe) { p.Origin = "https://a.example\r\nX: 1" }, "origin: value of Origin"},
		{"policy origin with a path", func(p *Probe) { p.Origin = "https://a.example/x" }, "origin: "},
		{"header with LF", func(p *Probe) { p.Headers = []cors.Header{{Name: "X-A", Value: "1\n2"}} }, "headers[0]: value of X-A"},
		{"forbidden header", func(p *Probe) { p.Headers = []cors.Header{{Name: "Cookie", Value: "a=b"}} }, "headers[0]: fetch() does not let a page set Cookie"},
		{"relative path", func(p *Probe) { p.Path = "v1" }, `path: "v1" is not an absolute path`},
		{"absolute URL as path", func(p *Probe) { p.Path = "http://evil.example/" }, "is not an absolute path"},
	} {
		p := good
		p.Headers = append([]cors.Header(nil), good.Headers...)
		tc.edit(&p)
		if err := p.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.desc, err, tc.want)
		}
	}
}

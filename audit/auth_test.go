package audit

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/corsaudit/corsaudit/audit/cors"
)

// TestCredentialOnlyWhereABrowserSendsIt: the secret goes on the actual
// request of a credentialed (or header-setting) fetch only, never on the
// preflight, and the record holds the placeholder.
func TestCredentialOnlyWhereABrowserSendsIt(t *testing.T) {
	const secret = "Bearer s3cret"
	var mu sync.Mutex
	got := map[string]string{} // method -> Authorization / Cookie received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.Method] = r.Header.Get("Authorization") + r.Header.Get("Cookie")
		mu.Unlock()
		w.Header().Set(cors.ACAO, r.Header.Get(cors.Origin))
		w.Header().Set(cors.ACAC, "true")
		w.Header().Set(cors.ACAH, "X-Request-Id, Authorization")
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/x")
	bearer := &Credential{Header: "Authorization", Value: secret, Shown: "$TOKEN"}
	cookie := &Credential{Header: "Cookie", Cookie: "session", Value: "s3cret", Shown: "$(cat /run/token)"}
	for _, tc := range []struct {
		desc             string
		cred             *Credential
		req              cors.Request
		wantGET, wantPre string
		wantRecord       string
	}{
		{desc: "credentialed simple GET", cred: bearer, req: cors.Request{Origin: "https://a.example", Method: "GET", Credentials: true},
			wantGET: secret, wantRecord: "$TOKEN"},
		{desc: "preflighted GET: never on the preflight", cred: bearer,
			req:     cors.Request{Origin: "https://a.example", Method: "GET", Credentials: true, Headers: []cors.Header{{Name: "X-Request-Id", Value: "1"}}},
			wantGET: secret, wantRecord: "$TOKEN"},
		{desc: "page sets Authorization without credentials", cred: bearer,
			req:     cors.Request{Origin: "https://a.example", Method: "GET", Headers: []cors.Header{{Name: "Authorization", Value: "Bearer corsaudit"}}},
			wantGET: secret, wantRecord: "$TOKEN"},
		{desc: "no credentials: nothing", cred: bearer, req: cors.Request{Origin: "https://a.example", Method: "GET"}},
		{desc: "cookie", cred: cookie, req: cors.Request{Origin: "https://a.example", Method: "GET", Credentials: true},
			wantGET: "session=s3cret", wantRecord: "session=$(cat /run/token)"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			clear(got)
			f := ActAsBrowser(context.Background(), NewEndpoint(u, "", "", TransportOptions{}), tc.req, testFetch(FetchOptions{Credential: tc.cred}))
			if got["GET"] != tc.wantGET || got["OPTIONS"] != tc.wantPre {
				t.Errorf("received GET %q OPTIONS %q, want %q and %q", got["GET"], got["OPTIONS"], tc.wantGET, tc.wantPre)
			}
			rec := f.Actual.Sent()
			recorded := rec.Header.Get(tc.cred.Header)
			if recorded != tc.wantRecord || strings.Contains(fmt.Sprint(rec, f.Preflight, tc.cred), "s3cret") {
				t.Errorf("record %+v holds %q, want %q and never the secret", rec, recorded, tc.wantRecord)
			}
		})
	}
}

func TestCredentialForProbe(t *testing.T) {
	for _, tc := range []struct {
		desc  string
		cred  *Credential
		class string
		want  bool
	}{
		{"policy probe", &Credential{}, ClassPolicy, true},
		{"disallowed origin", &Credential{}, ClassDisallowed, false},
		{"adversarial", &Credential{}, ClassArbitrary, false},
		{"adversarial when asked", &Credential{Adversarial: true}, ClassArbitrary, true},
		{"no credential", nil, ClassPolicy, false},
	} {
		if got := tc.cred.forProbe(Probe{Class: tc.class}) != nil; got != tc.want {
			t.Errorf("%s: sends = %v, want %v", tc.desc, got, tc.want)
		}
	}
}

func TestPerPath(t *testing.T) {
	plan := []Probe{{ID: "p1", Method: "GET"}, {ID: "p2", Method: "PUT"}}
	for _, tc := range []struct {
		desc  string
		paths []string
		want  string
	}{
		{"no paths: the URL's", nil, "p1 GET ; p2 PUT "},
		{"two paths", []string{"/a", "/b?x=1"}, "p1 GET /a; p2 PUT /a; p3 GET /b?x=1; p4 PUT /b?x=1"},
	} {
		var parts []string
		for _, p := range PerPath(plan, tc.paths) {
			parts = append(parts, p.ID+" "+p.Method+" "+p.Path)
		}
		if got := strings.Join(parts, "; "); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.desc, got, tc.want)
		}
	}
}

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		desc, path string
		ok         bool
	}{
		{"path", "/v1/cart", true},
		{"with query", "/v1/items?limit=1", true},
		{"relative", "v1/cart", false},
		{"absolute URL", "https://x.example/v1", false},
		{"network path", "//x.example/v1", false},
		{"fragment", "/v1#top", false},
	} {
		if _, err := ParsePath(tc.path); (err == nil) != tc.ok {
			t.Errorf("%s: ParsePath(%q) = %v, want ok %v", tc.desc, tc.path, err, tc.ok)
		}
	}
}

func TestTLSFilesErrors(t *testing.T) {
	for _, tc := range []struct {
		desc  string
		files TLSFiles
		want  string
	}{
		{"nothing set", TLSFiles{}, ""},
		{"missing CA", TLSFiles{CAFile: "/nonexistent/ca.pem"}, "ca_file: "},
		{"cert without key", TLSFiles{CertFile: "c.pem"}, "cert_file: key_file is required with it"},
		{"key without cert", TLSFiles{KeyFile: "k.pem"}, "key_file: cert_file is required with it"},
	} {
		c, err := tc.files.Config()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if (tc.want == "") != (err == nil) || !strings.HasPrefix(got, tc.want) || (tc.desc == "nothing set" && c != nil) {
			t.Errorf("%s: config %v, err %q, want %q", tc.desc, c, got, tc.want)
		}
	}
}

func TestCredentialRedact(t *testing.T) {
	bearer := &Credential{Header: "Authorization", Value: "Bearer tok/7f3a+9c=="}
	short := &Credential{Header: "Authorization", Value: "Bearer ab"}
	for _, tc := range []struct {
		desc string
		cred *Credential
		in   string
		want string
	}{
		{"the whole value", bearer, "Bearer tok/7f3a+9c==", Redacted},
		{"the token alone", bearer, "X-tok/7f3a+9c==, X-Other", "X-" + Redacted + ", X-Other"},
		{"in a query", bearer, "https://a.example/cb?t=Bearer+tok%2F7f3a%2B9c%3D%3D&u=tok%2F7f3a%2B9c%3D%3D",
			"https://a.example/cb?t=" + Redacted + "&u=" + Redacted},
		{"in a path", bearer, "https://a.example/tok%2F7f3a+9c==/x", "https://a.example/" + Redacted + "/x"},
		{"nothing to redact", bearer, "https://app.example.com", "https://app.example.com"},
		{"a short token is redacted only whole", short, "Bearer ab, ab", Redacted + ", ab"},
		{"no credential", nil, "Bearer tok/7f3a+9c==", "Bearer tok/7f3a+9c=="},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if got := tc.cred.Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

package labserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/audit/cors"
)

var corsHeaders = []string{
	cors.ACAO,
	cors.ACAC,
	cors.ACAM,
	cors.ACAH,
	cors.ACEH,
	cors.ACMA,
	"Vary",
	"Location",
	InstanceHeader,
}

func TestServeHTTP(t *testing.T) {
	base := Behavior{
		ID:            "web-01",
		AllowOrigins:  []string{"https://app.example.com"},
		AllowMethods:  []string{"GET", "PUT", "DELETE"},
		AllowHeaders:  []string{"Content-Type", "X-Request-Id"},
		ExposeHeaders: []string{"X-Request-Id"},
		Credentials:   true,
		MaxAge:        600,
	}
	with := func(f func(*Behavior)) Behavior {
		b := base
		f(&b)
		return b
	}
	tests := []struct {
		desc     string
		b        Behavior
		method   string
		origin   string
		acrm     string
		wantCode int
		want     http.Header // the CORS headers exactly; others must be absent
		wantBody string
	}{
		{
			desc: "preflight from an allowed origin", b: base,
			method: "OPTIONS", origin: "https://app.example.com", acrm: "PUT",
			wantCode: 204,
			want: http.Header{
				cors.ACAO:      {"https://app.example.com"},
				cors.ACAC:      {"true"},
				cors.ACAM:      {"GET, PUT, DELETE"},
				cors.ACAH:      {"Content-Type, X-Request-Id"},
				cors.ACMA:      {"600"},
				"Vary":         {"Origin"},
				InstanceHeader: {"web-01"},
			},
		},
		{
			desc: "preflight from another origin gets no CORS headers", b: base,
			method: "OPTIONS", origin: "https://evil.test", acrm: "PUT",
			wantCode: 204,
			want:     http.Header{"Vary": {"Origin"}, InstanceHeader: {"web-01"}},
		},
		{
			desc: "preflight status, no max age, no credentials",
			b: with(func(b *Behavior) {
				b.PreflightStatus = 200
				b.MaxAge = 0
				b.Credentials = false
				b.AllowHeaders = nil
			}),
			method: "OPTIONS", origin: "https://app.example.com", acrm: "GET",
			wantCode: 200,
			want: http.Header{
				cors.ACAO:      {"https://app.example.com"},
				cors.ACAM:      {"GET, PUT, DELETE"},
				"Vary":         {"Origin"},
				InstanceHeader: {"web-01"},
			},
		},
		{
			desc: "actual GET from an allowed origin", b: base,
			method: "GET", origin: "https://app.example.com",
			wantCode: 200,
			want: http.Header{
				cors.ACAO:      {"https://app.example.com"},
				cors.ACAC:      {"true"},
				cors.ACEH:      {"X-Request-Id"},
				"Vary":         {"Origin"},
				InstanceHeader: {"web-01"},
			},
			wantBody: `{"instance":"web-01"}` + "\n",
		},
		{
			desc: "actual GET without Origin", b: base,
			method:   "GET",
			wantCode: 200,
			want:     http.Header{"Vary": {"Origin"}, InstanceHeader: {"web-01"}},
			wantBody: `{"instance":"web-01"}` + "\n",
		},
		{
			desc: "OPTIONS without Access-Control-Request-Method is not a preflight", b: base,
			method: "OPTIONS", origin: "https://app.example.com",
			wantCode: 200,
			want: http.Header{
				cors.ACAO:      {"https://app.example.com"},
				cors.ACAC:      {"true"},
				cors.ACEH:      {"X-Request-Id"},
				"Vary":         {"Origin"},
				InstanceHeader: {"web-01"},
			},
			wantBody: `{"instance":"web-01"}` + "\n",
		},
		{
			desc:   "any origin answers * without reflection",
			b:      with(func(b *Behavior) { b.AllowAnyOrigin = true; b.Credentials = false; b.ExposeHeaders = nil }),
			method: "GET", origin: "https://whoever.test",
			wantCode: 200,
			want: http.Header{
				cors.ACAO:      {"*"},
				"Vary":         {"Origin"},
				InstanceHeader: {"web-01"},
			},
			wantBody: `{"instance":"web-01"}` + "\n",
		},
		{
			desc:   "reflect origin echoes anything",
			b:      with(func(b *Behavior) { b.ReflectOrigin = true; b.ExposeHeaders = nil }),
			method: "GET", origin: "https://evil.test",
			wantCode: 200,
			want: http.Header{
				cors.ACAO:      {"https://evil.test"},
				cors.ACAC:      {"true"},
				"Vary":         {"Origin"},
				InstanceHeader: {"web-01"},
			},
			wantBody: `{"instance":"web-01"}` + "\n",
		},
		{
			desc: "null refused by default", b: with(func(b *Behavior) { b.ExposeHeaders = nil }),
			method: "GET", origin: "null",
			wantCode: 200,
			want:     http.Header{"Vary": {"Origin"}, InstanceHeader: {"web-01"}},
			wantBody: `{"instance":"web-01"}` + "\n",
		},
		{
			desc: "allow null", b: with(func(b *Behavior) { b.AllowNull = true; b.ExposeHeaders = nil }),
			method: "OPTIONS", origin: "null", acrm: "DELETE",
			wantCode: 204,
			want: http.Header{
				cors.ACAO:      {"null"},
				cors.ACAC:      {"true"},
				cors.ACAM:      {"GET, PUT, DELETE"},
				cors.ACAH:      {"Content-Type, X-Request-Id"},
				cors.ACMA:      {"600"},
				"Vary":         {"Origin"},
				InstanceHeader: {"web-01"},
			},
		},
		{
			desc: "custom matcher: suffix mistake lets a look-alike in",
			b: with(func(b *Behavior) {
				b.OriginMatch = func(o string) bool { return strings.HasSuffix(o, "example.com") }
				b.ExposeHeaders = nil
			}),
			method: "GET", origin: "https://evilexample.com",
			wantCode: 200,
			want: http.Header{
				cors.ACAO:      {"https://evilexample.com"},
				cors.ACAC:      {"true"},
				"Vary":         {"Origin"},
				InstanceHeader: {"web-01"},
			},
			wantBody: `{"instance":"web-01"}` + "\n",
		},
		{
			desc: "match rule: unanchored regexp",
			b: with(func(b *Behavior) {
				b.AllowOrigins = nil
				b.Match = `regexp:https://app\.example\.com`
				b.ExposeHeaders = nil
				b.Credentials = false
			}),
			method: "GET", origin: "https://app.example.com.evil.test",
			wantCode: 200,
			want: http.Header{
				cors.ACAO:      {"https://app.example.com.evil.test"},
				"Vary":         {"Origin"},
				InstanceHeader: {"web-01"},
			},
			wantBody: `{"instance":"web-01"}` + "\n",
		},
		{
			desc:   "no vary",
			b:      with(func(b *Behavior) { b.NoVary = true; b.ExposeHeaders = nil; b.Credentials = false }),
			method: "GET", origin: "https://app.example.com",
			wantCode: 200,
			want: http.Header{
				cors.ACAO:      {"https://app.example.com"},
				InstanceHeader: {"web-01"},
			},
			wantBody: `{"instance":"web-01"}` + "\n",
		},
		{
			desc:   "redirected preflight",
			b:      with(func(b *Behavior) { b.RedirectPreflight = "https://api.example.com/v1/cart" }),
			method: "OPTIONS", origin: "https://app.example.com", acrm: "PUT",
			wantCode: 301,
			want: http.Header{
				"Location":     {"https://api.example.com/v1/cart"},
				InstanceHeader: {"web-01"},
			},
		},
		{
			desc: "extra header duplicates ACAO",
			b: with(func(b *Behavior) {
				b.ExtraHeaders = http.Header{cors.ACAO: {"*"}}
				b.ExposeHeaders = nil
				b.Credentials = false
			}),
			method: "GET", origin: "https://app.example.com",
			wantCode: 200,
			want: http.Header{
				cors.ACAO:      {"https://app.example.com", "*"},
				"Vary":         {"Origin"},
				InstanceHeader: {"web-01"},
			},
			wantBody: `{"instance":"web-01"}` + "\n",
		},
		{
			desc: "HEAD has no body", b: with(func(b *Behavior) { b.ExposeHeaders = nil; b.Credentials = false }),
			method: "HEAD", origin: "https://app.example.com",
			wantCode: 200,
			want: http.Header{
				cors.ACAO:      {"https://app.example.com"},
				"Vary":         {"Origin"},
				InstanceHeader: {"web-01"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			srv := httptest.NewServer(New(tc.b))
			defer srv.Close()
			req, err := http.NewRequest(tc.method, srv.URL+"/v1/cart", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.origin != "" {
				req.Header.Set(cors.Origin, tc.origin)
			}
			if tc.acrm != "" {
				req.Header.Set(cors.ACRM, tc.acrm)
			}
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantCode {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantCode)
			}
			got := http.Header{}
			for _, k := range corsHeaders {
				if vs := resp.Header.Values(k); len(vs) > 0 {
					got[k] = vs
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("headers:\n got %v\nwant %v", got, tc.want)
			}
			if string(body) != tc.wantBody {
				t.Errorf("body = %q, want %q", body, tc.wantBody)
			}
		})
	}
}

func TestStats(t *testing.T) {
	s := New(Behavior{ID: "web-01", AllowOrigins: []string{"https://app.example.com"}})
	srv := httptest.NewServer(s)
	defer srv.Close()
	send := func(method, body string, hdr map[string]string) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, srv.URL, rd)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	pre := map[string]string{cors.Origin: "https://app.example.com", cors.ACRM: "PUT"}
	send("OPTIONS", "", pre)
	send("OPTIONS", "", pre)
	send("OPTIONS", "", nil) // not a preflight
	send("GET", "", map[string]string{"Cookie": "sid=1"})
	send("GET", "", map[string]string{"Authorization": "Bearer x"})
	send("HEAD", "", nil)
	send("POST", "", nil)   // no body: safe
	send("POST", "{}", nil) // body: unsafe
	send("PUT", "", nil)    // unsafe
	send("DELETE", "", nil) // unsafe
	send("PATCH", "x", nil) // unsafe
	want := Stats{
		Preflights:    2,
		Actual:        map[string]int{"OPTIONS": 1, "GET": 2, "HEAD": 1, "POST": 2, "PUT": 1, "DELETE": 1, "PATCH": 1},
		Cookies:       1,
		Authorization: 1,
		Unsafe:        4,
	}
	got := s.Stats()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
	got.Actual["GET"] = 99
	if s.Stats().Actual["GET"] != 2 {
		t.Error("Stats() returned the live map, want a copy")
	}
}

func TestParseMatch(t *testing.T) {
	tests := []struct {
		desc    string
		rule    string
		origin  string
		want    bool
		wantErr string
	}{
		{"suffix matches a look-alike domain", "suffix:example.com", "https://evilexample.com", true, ""},
		{"suffix refuses another domain", "suffix:.example.com", "https://example.org", false, ""},
		{"prefix matches a longer host", "prefix:https://app.example.com", "https://app.example.com.evil.test", true, ""},
		{"prefix refuses http", "prefix:https://app.example.com", "http://app.example.com", false, ""},
		{"unanchored regexp dot matches any char", `regexp:https://app.example.com`, "https://appXexample.com", true, ""},
		{"anchored regexp", `regexp:^https://app\.example\.com$`, "https://app.example.com.evil.test", false, ""},
		{desc: "bad match kind", rule: "glob:*.example.com", wantErr: `unknown kind "glob"`},
		{desc: "bad regexp", rule: "regexp:(", wantErr: "missing closing )"},
		{desc: "match without argument", rule: "suffix:", wantErr: "want suffix:S"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			m, err := ParseMatch(tc.rule)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "labserver: ") {
					t.Fatalf("err = %v, want one with the labserver: prefix containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := m(tc.origin); got != tc.want {
				t.Errorf("match(%q) = %v, want %v", tc.origin, got, tc.want)
			}
		})
	}
}

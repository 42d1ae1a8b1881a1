package audit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit/cors"
)

func TestSendsActual(t *testing.T) {
	for _, tc := range []struct {
		method     string
		sendUnsafe bool
		want       bool
	}{
		{"GET", false, true},
		{"HEAD", false, true},
		{"POST", false, false},
		{"PUT", false, false},
		{"DELETE", false, false},
		{"PUT", true, true},
		{"GET", true, true},
	} {
		if got := sendsActual(tc.method, tc.sendUnsafe); got != tc.want {
			t.Errorf("SendsActual(%s, %v) = %v, want %v", tc.method, tc.sendUnsafe, got, tc.want)
		}
	}
}

func TestEndpointRequestURL(t *testing.T) {
	public, _ := url.Parse("https://api.example.com/v1/cart?x=1")
	for _, tc := range []struct {
		desc, scheme, want string
	}{
		{"no direct scheme: the public URL", "", "https://api.example.com/v1/cart?x=1"},
		{"the public URL's own scheme", "https", "https://api.example.com/v1/cart?x=1"},
		{"plain HTTP to the instance: only the scheme changes", "http", "http://api.example.com/v1/cart?x=1"},
	} {
		e := NewEndpoint(public, "127.0.0.1:1", tc.scheme, TransportOptions{})
		if got := e.RequestURL().String(); got != tc.want || e.url != tc.want {
			t.Errorf("%s: RequestURL %s (recorded %s), want %s", tc.desc, got, e.url, tc.want)
		}
		if e.URL != public || public.Scheme != "https" {
			t.Errorf("%s: the public URL changed to %s", tc.desc, e.URL)
		}
		if at := e.at("/v2?y=2"); at.RequestURL().Path != "/v2" || at.RequestURL().Scheme != cmpScheme(tc.scheme, "https") || at.URL.Scheme != "https" {
			t.Errorf("%s: at(/v2): request URL %s, public %s", tc.desc, at.RequestURL(), at.URL)
		}
	}
}

func cmpScheme(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

func TestFetchEngines(t *testing.T) {
	all := cors.Engines()
	for _, tc := range []struct {
		desc       string
		method     string
		sendUnsafe bool
		want       []cors.Browser
	}{
		{"a GET is sent by every engine", "GET", false, all},
		{"a GET with --send-actual too", "get", true, all},
		{"a PUT only preflighted: every engine", "PUT", false, all},
		{"a PUT sent: once, by the first engine", "put", true, all[:1]},
	} {
		f := Fetch{Request: cors.Request{Origin: "https://app.example.com", Method: tc.method}, SendUnsafeActual: tc.sendUnsafe}
		if got := f.Engines(all); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Engines = %v, want %v", tc.desc, got, tc.want)
		}
	}
}

func TestFetchJudged(t *testing.T) {
	https, _ := url.Parse("https://api.example.com/v1")
	insecure, _ := url.Parse("http://api.example.com/v1")
	for _, tc := range []struct {
		desc       string
		u          *url.URL
		req        cors.Request
		sendUnsafe bool
		want       bool
	}{
		{"a simple GET: its actual request is sent", https, cors.Request{Origin: "https://app.example.com", Method: "GET"}, false, true},
		{"a preflighted PUT: the preflight decides", https, cors.Request{Origin: "https://app.example.com", Method: "PUT"}, false, true},
		{"a simple POST: only its actual response decides, not sent", https, cors.Request{Origin: "https://app.example.com", Method: "POST"}, false, false},
		{"a simple POST sent with --send-actual", https, cors.Request{Origin: "https://app.example.com", Method: "POST"}, true, true},
		{"a simple POST blocked as mixed content", insecure, cors.Request{Origin: "https://app.example.com", Method: "POST"}, false, true},
	} {
		f := Fetch{Request: tc.req, URL: tc.u, SendUnsafeActual: tc.sendUnsafe}
		if got := f.Judged(cors.Chromium); got != tc.want {
			t.Errorf("%s: Judged = %v, want %v", tc.desc, got, tc.want)
		}
	}
}

// TestFetchActDialsApart: Act sends to the address dialled, in the scheme
// spoken to it, with the public URL's Host; mixed content is judged on the
// public URL only (a plain-HTTP instance behind an https URL is sent to).
func TestFetchActDialsApart(t *testing.T) {
	var mu sync.Mutex
	var hosts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hosts = append(hosts, r.Method+" "+r.Host+r.URL.Path)
		mu.Unlock()
		w.Header().Set(cors.ACAO, r.Header.Get(cors.Origin))
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	for _, tc := range []struct {
		desc, url, scheme string
		wantSent          []string
		wantReason        cors.Reason
	}{
		{"https URL, plain HTTP to the instance: sent", "https://api.example.com/v1", "http", []string{"GET api.example.com/v1"}, ""},
		{"http URL from an https page: blocked, nothing sent", "http://api.example.com/v1", "http", nil, cors.ReasonMixedContent},
	} {
		mu.Lock()
		hosts = nil
		mu.Unlock()
		u, _ := url.Parse(tc.url)
		f := Fetch{Request: cors.Request{Origin: "https://app.example.com", Method: "GET"}, URL: u, ConnectTo: addr,
			Scheme: tc.scheme, Timeout: 5 * time.Second}
		got := f.Act(context.Background(), cors.Chromium)
		mu.Lock()
		sent := slices.Clone(hosts)
		mu.Unlock()
		if !slices.Equal(sent, tc.wantSent) {
			t.Errorf("%s: server got %v, want %v", tc.desc, sent, tc.wantSent)
		}
		if got.Verdict.Reason != tc.wantReason || got.Verdict.Allowed != (tc.wantReason == "") {
			t.Errorf("%s: verdict %+v, want reason %q", tc.desc, got.Verdict, tc.wantReason)
		}
		if tc.wantSent != nil {
			if got.Actual == nil || got.Actual.Sent().URL != "http://api.example.com/v1" || got.Actual.Sent().ConnectTo != addr {
				t.Errorf("%s: recorded %+v, want the request URL in the direct scheme, dialled at %s", tc.desc, got.Actual.Sent(), addr)
			}
		}
	}
}

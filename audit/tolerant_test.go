package audit

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit/cors"
)

// rawTLS is a TLS server (HTTP/1.1 only) answering every request with
// response, byte for byte, and recording the requests.
type rawTLS struct {
	*httptest.Server
	mu   sync.Mutex
	seen []*http.Request
}

func newRawServer(t *testing.T, useTLS bool, response string) *rawTLS {
	s := &rawTLS{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r)
		s.mu.Unlock()
		c, bw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		bw.WriteString(response)
		bw.Flush()
	}))
	if useTLS {
		s.TLS = &tls.Config{NextProtos: []string{"http/1.1"}}
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// TestMalformedResponseReadAsBrowsersDo: a response Go's client rejects
// for a header line outside HTTP's syntax is sent for again on a
// connection of its own (plain or TLS, same request, same SNI) and read as
// the browser reads it: an observation with the browser's verdict and the
// malformed line recorded; a head over the size bound stays a bad
// response.
func TestMalformedResponseReadAsBrowsersDo(t *testing.T) {
	const origin = "https://app.example.com"
	ok := "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: " + origin + "\r\n"
	for _, tc := range []struct {
		desc      string
		tls       bool
		browser   cors.Browser
		response  string
		allowed   bool
		reason    cors.Reason
		malformed string // in Exchange.Malformed ("" none)
		err       ErrorClass
	}{
		{"NUL in another header", false, cors.Chromium, ok + "X-Junk: a\x00b\r\n\r\n", false, cors.ReasonInvalidResponse, "holds a NUL byte", ErrNone},
		{"NUL in a name, Firefox drops the line", false, cors.Firefox, ok + "X\x00Y: 1\r\n\r\n", true, "", "", ErrNone},
		{"control byte at the end of ACAO, over TLS", true, cors.Chromium,
			"HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: " + origin + "\x01\r\n\r\n", false, cors.ReasonACAOMismatch, "control byte 0x01", ErrNone},
		{"control byte in another header", false, cors.Webkit, ok + "X-Junk: \x1b[31m\r\n\r\n", true, "", "", ErrNone},
		{"a head over the bound", false, cors.Chromium, ok + "X-Junk: a\x00b\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("p", 1000)+"\r\n", 70) + "\r\n",
			false, "", "", ErrBadResponse},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			srv := newRawServer(t, tc.tls, tc.response)
			scheme := "http"
			opts := TransportOptions{Timeout: 5 * time.Second}
			if tc.tls {
				scheme = "https"
				opts.TLSConfig = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
				opts.ServerName = "example.com" // httptest's certificate names example.com
			}
			u, _ := url.Parse(scheme + "://api.example.com/x")
			to := NewEndpoint(u, srv.Listener.Addr().String(), "", opts)
			var sent int64
			f := ActAsBrowser(context.Background(), to, cors.Request{Origin: origin, Method: "GET"}, FetchOptions{Browser: tc.browser, Timeout: 5 * time.Second, Sent: &sent, IgnoreMixedContent: true})
			if !f.Done || f.Actual == nil || f.Actual.Err != tc.err {
				t.Fatalf("done %v, actual %+v: want an answer with error class %q", f.Done, f.Actual, tc.err)
			}
			if tc.err != ErrNone {
				return
			}
			if f.Verdict.Allowed != tc.allowed || f.Verdict.Reason != tc.reason {
				t.Errorf("verdict: allowed %v, reason %q; want %v, %q", f.Verdict.Allowed, f.Verdict.Reason, tc.allowed, tc.reason)
			}
			if tc.malformed == "" && f.Actual.Malformed != "" || !strings.Contains(f.Actual.Malformed, tc.malformed) {
				t.Errorf("malformed %q, want %q", f.Actual.Malformed, tc.malformed)
			}
			if f.Actual.Status != http.StatusOK {
				t.Errorf("status %d, want 200", f.Actual.Status)
			}
			// Both requests went out, and are the same request.
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if sent != 2 || len(srv.seen) != 2 {
				t.Fatalf("%d requests counted, %d received; want 2", sent, len(srv.seen))
			}
			a, b := srv.seen[0], srv.seen[1]
			if a.Method != b.Method || a.Host != b.Host || a.URL.String() != b.URL.String() || !reflect.DeepEqual(a.Header, b.Header) ||
				tc.tls && (a.TLS.ServerName != opts.ServerName || b.TLS.ServerName != opts.ServerName) {
				t.Errorf("the second request differs from the first:\n%s %s %s %q\n%s %s %s %q", a.Method, a.Host, a.URL, a.Header, b.Method, b.Host, b.URL, b.Header)
			}
		})
	}
}

package audit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit/cors"
)

// TestActAsBrowserMixedContent checks that a fetch() a browser blocks as
// mixed content sends nothing (the server counts), and that a potentially
// trustworthy URL or IgnoreMixedContent (the audit) still sends.
func TestActAsBrowserMixedContent(t *testing.T) {
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		w.Header().Set(cors.ACAO, r.Header.Get(cors.Origin))
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	for _, tc := range []struct {
		desc   string
		url    string // dialled at srv whatever its host
		origin string
		ignore bool
		sent   int64
	}{
		{"https page, public http URL: blocked", "http://api.example.test/v1", "https://app.example.com", false, 0},
		{"https page, loopback http URL: sent", srv.URL + "/v1", "https://app.example.com", false, 1},
		{"http page, public http URL: sent", "http://api.example.test/v1", "http://app.example.com", false, 1},
		{"audit ignores mixed content: sent", "http://api.example.test/v1", "https://app.example.com", true, 1},
	} {
		got.Store(0)
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		to := NewEndpoint(u, addr, "", TransportOptions{Timeout: 5 * time.Second})
		f := ActAsBrowser(context.Background(), to, cors.Request{Origin: tc.origin, Method: http.MethodGet},
			testFetch(FetchOptions{IgnoreMixedContent: tc.ignore}))
		to.Client.CloseIdleConnections()
		if n := got.Load(); n != tc.sent {
			t.Errorf("%s: server got %d requests, want %d", tc.desc, n, tc.sent)
		}
		blocked := tc.sent == 0
		switch {
		case blocked && (f.Done || f.Preflight != nil || f.Actual != nil || f.NotRun == ""):
			t.Errorf("%s: blocked fetch recorded Done=%v preflight=%v actual=%v NotRun=%q; want nothing observed and a reason",
				tc.desc, f.Done, f.Preflight, f.Actual, f.NotRun)
		case blocked && (f.Verdict.Allowed || f.Verdict.Reason != cors.ReasonMixedContent):
			t.Errorf("%s: verdict %+v, want blocked as %s", tc.desc, f.Verdict, cors.ReasonMixedContent)
		case !blocked && (!f.Done || !f.Verdict.Allowed):
			t.Errorf("%s: Done=%v verdict %+v, want an allowed observation", tc.desc, f.Done, f.Verdict)
		}
	}
}

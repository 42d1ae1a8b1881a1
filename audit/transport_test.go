package audit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit/cors"
)

// TestHeadsPastTheBuffers: a request longer than a connection's write
// buffer arrives whole, and an answer whose head is longer than its read
// buffer (a header line alone longer than it) is read and recorded whole.
func TestHeadsPastTheBuffers(t *testing.T) {
	long := strings.Repeat("v", 3*writeBufferSize)
	expose := strings.Repeat("x-exposed-", 3*readBufferSize/10)
	pad := strings.Repeat("p", 2*readBufferSize)
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.Header.Get("X-Long"))
		mu.Unlock()
		w.Header().Set(cors.ACAO, r.Header.Get(cors.Origin))
		w.Header().Set("X-Pad", pad)
		if r.Method == http.MethodOptions {
			w.Header().Set(cors.ACAH, "x-long")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set(cors.ACEH, expose)
	}))
	defer srv.Close()
	u, _ := url.Parse("http://api.example.com/v1")
	f := Fetch{Request: cors.Request{Origin: "http://app.example.com", Method: "GET",
		Headers: []cors.Header{{Name: "X-Long", Value: long}}},
		URL: u, ConnectTo: srv.Listener.Addr().String(), Timeout: 5 * time.Second}
	res := f.Act(context.Background(), cors.Chromium)

	mu.Lock()
	defer mu.Unlock()
	if want := []string{"OPTIONS ", "GET " + long}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("the server received %d requests (%.40q), want the preflight and the GET with the %d-byte header whole", len(got), got, len(long))
	}
	if !res.Verdict.Allowed {
		t.Fatalf("verdict %+v, want allowed", res.Verdict)
	}
	if res.Actual == nil || res.Actual.Header.Get(cors.ACEH) != expose {
		t.Errorf("the recorded answer lost its %d-byte %s", len(expose), cors.ACEH)
	}
}

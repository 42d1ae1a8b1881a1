package audit_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/discovery"
)

// TestProtocolMismatchOnARealFront: a TLS front offering HTTP/2 that drops
// Access-Control-Allow-Credentials from its HTTP/2 answers only, as a rule
// in one protocol's code path does. Its samples over HTTP/2 and over
// HTTP/1.1 differ, and the comparison says so: protocol-mismatch, an error.
func TestProtocolMismatchOnARealFront(t *testing.T) {
	const app = "https://app.example.com"
	handler := func(h2only bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Vary", "Origin")
			if r.Header.Get("Origin") == app {
				w.Header().Set(cors.ACAO, app)
				if !h2only || r.ProtoMajor != 2 {
					w.Header().Set(cors.ACAC, "true")
				}
				w.Header().Set(cors.ACAM, "GET, PUT")
			}
			if r.Method == http.MethodOptions {
				w.WriteHeader(http.StatusNoContent)
			}
		}
	}
	inst := httptest.NewServer(handler(false))
	defer inst.Close()
	front := httptest.NewUnstartedServer(handler(true))
	front.EnableHTTP2 = true
	front.StartTLS()
	defer front.Close()
	pool := &tls.Config{RootCAs: front.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	u, _ := url.Parse(front.URL)
	spec := audit.TargetSpec{
		Target: discovery.Target{Name: "t", URL: "https://example.com:" + u.Port() + "/v1/cart",
			Instances: []discovery.Instance{{ID: "i1", Addr: inst.Listener.Addr().String(), Scheme: "http"}}},
		Probes: audit.Plan(audit.Policy{Origins: []string{app}, Methods: []string{"GET", "PUT"}, Credentials: true}),
		LB:     audit.LB{Samples: 4},
		Fronts: []audit.Front{{Name: "edge", Address: u.Host}},
	}
	res, err := audit.Run(context.Background(), []audit.TargetSpec{spec}, audit.Options{TLSConfig: pool, Concurrency: 8, PerInstance: 4, Timeout: 5 * time.Second, Browser: cors.Chromium})
	if err != nil {
		t.Fatal(err)
	}
	_, fs := diff.Compare(&res[0], diff.Options{Analyses: []string{diff.AnalysisLB}})
	var found bool
	for _, f := range fs {
		if f.Kind == diff.KindProtocolMismatch {
			found = true
			if f.Severity != diff.SeverityError || f.Front != "edge" || !strings.Contains(f.Message, "over HTTP/2, which browsers use, than over HTTP/1.1") {
				t.Errorf("%s front %q: %s", f.Severity, f.Front, f.Message)
			}
		}
	}
	if !found {
		t.Errorf("no protocol-mismatch in %+v", fs)
	}
}

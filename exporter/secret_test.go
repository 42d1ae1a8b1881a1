package exporter

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/internal/lab"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

const (
	secretEnv   = "CORSAUDIT_EXPORTER_TEST_TOKEN"
	secretValue = "Bearer tok-51d3e7-never-shown"
	secretPart  = "tok-51d3e7"
)

// echoing answers as a lab instance and, when the request carries the
// secret, echoes it in a header the audit records (a debugging header
// left on in production): what the audit records must not show it.
func echoing(id string, echo bool) http.Handler {
	b := lab.Fleet(1, nil)[0].Behavior
	b.ID = id
	in := labserver.New(b)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); echo && a != "" {
			leaky := b
			leaky.ExposeHeaders = append([]string{a}, b.ExposeHeaders...)
			labserver.New(leaky).ServeHTTP(w, r)
			return
		}
		in.ServeHTTP(w, r)
	})
}

// TestSecretsNeverServed: with auth configured, the secret reaches the
// instances (on credentialed requests), one of which echoes it back, but
// no endpoint and no log line holds it.
func TestSecretsNeverServed(t *testing.T) {
	t.Setenv(secretEnv, secretValue)
	var insts []lab.Instance
	var authorized atomic.Int64
	for i, id := range []string{"web-1", "web-2", "web-3"} {
		h := echoing(id, i == 2)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") == secretValue {
				authorized.Add(1)
			}
			h.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		insts = append(insts, lab.Instance{ID: id, Addr: srv.Listener.Addr().String(), Group: "blue"})
	}
	c := config.Default()
	tg := lab.Target("shop", "http://"+insts[0].Addr+lab.Path, insts)
	tg.LB.Disabled = true
	tg.Auth = config.Auth{Header: "Authorization", ValueFromEnv: secretEnv}
	c.Targets = []config.Target{tg}
	s := serve(t, &c, Options{Load: building(func() (*config.Config, error) { return &c, nil })})
	s.waitReady(t)
	if authorized.Load() == 0 {
		t.Fatal("the secret never reached the instances: the test shows nothing")
	}
	for _, path := range []string{"/", "/report.json", "/metrics", "/probe?target=shop", "/-/ready", "/-/healthy"} {
		code, hdr, body := s.get(t, path)
		if code != http.StatusOK {
			t.Errorf("%s: %d", path, code)
		}
		if strings.Contains(body, secretPart) || strings.Contains(strings.Join(headerLines(hdr), "\n"), secretPart) {
			t.Errorf("%s serves the secret", path)
		}
	}
	// web-3's echo is a finding, shown redacted.
	if _, _, rep := s.get(t, "/report.json"); !strings.Contains(strings.ToLower(rep), strings.ToLower(audit.Redacted)) {
		t.Errorf("the report shows no redacted echo: the test shows nothing\n%s", rep)
	}
	if code, _, body := s.do(t, http.MethodPost, "/-/reload"); code != http.StatusOK || strings.Contains(body, secretPart) {
		t.Errorf("/-/reload: %d, or it shows the secret", code)
	}
	if strings.Contains(s.log.String(), secretPart) {
		t.Errorf("the log holds the secret:\n%s", s.log.String())
	}
}

func headerLines(h http.Header) []string {
	var out []string
	for k, vs := range h {
		out = append(out, k+": "+strings.Join(vs, ", "))
	}
	return out
}

package diff

import (
	"net/http"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
)

// TestLBMismatchSaysHowOften: "intermittently" only when some requests
// through the load balancer differ, not when all of them do.
func TestLBMismatchSaysHowOften(t *testing.T) {
	probes := testProbes()
	for _, tc := range []struct {
		desc    string
		bad     int // samples of 4 that lose the ACAO
		want    string
		notWant string
	}{
		{"1 of 4 requests differ", 1, "1 of 4 requests through the load balancer block GET from https://app.example.com (credentials) where the instances' majority allow: users see it intermittently", "every request"},
		{"4 of 4 requests differ", 4, "4 of 4 requests through the load balancer block GET from https://app.example.com (credentials) where the instances' majority allow: users see it on every request", "intermittently"},
	} {
		res := withLB(fleetOf(probes, same(3, allowing)...), 4, allowing, func(p int, pr audit.Probe, s []audit.Observation) {
			if pr.Method == "GET" && pr.Origin == appOrigin {
				for k := range tc.bad {
					pre, act := allowing(pr)
					act.Del(cors.ACAO)
					s[k] = lbSample(pr, http.StatusNoContent, pre, act, "web-1", "web-2")
				}
			}
		})
		_, fs := Compare(res, lbOnly)
		found := false
		for _, f := range fs {
			if f.Kind != KindLBMismatch {
				continue
			}
			found = true
			if !strings.Contains(f.Message, tc.want) || strings.Contains(f.Message, tc.notWant) {
				t.Errorf("%s: message %q\nwant it to contain %q and not %q", tc.desc, f.Message, tc.want, tc.notWant)
			}
		}
		if !found {
			t.Errorf("%s: no lb-mismatch in %v", tc.desc, fs)
		}
	}
}

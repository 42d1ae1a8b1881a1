package diff

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/discovery"
)

// TestConfigFindings: what the provider read of the fronts' configuration
// is a finding naming the resource and its settings, linked to the probe
// findings of the run it explains, and saying so when no probe shows it.
func TestConfigFindings(t *testing.T) {
	probes := testProbes()
	listener := discovery.FrontFact{Kind: discovery.FactCORSHeaders, Resource: "ALB listener arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shop/1/2 (HTTPS:443)",
		Settings: []string{"routing.http.response.access_control_allow_origin.header_value=*"}}
	cdn := discovery.FrontFact{Kind: discovery.FactCacheKey, Resource: "backend service projects/p/global/backendServices/shop",
		Settings: []string{"enableCDN=true", "cdnPolicy.cacheMode=CACHE_ALL_STATIC", "cdnPolicy.cacheKeyPolicy.includeHttpHeaders=[]"}}
	iap := discovery.FrontFact{Kind: discovery.FactPreflightLogin, Resource: "backend service projects/p/global/backendServices/shop (IAP projects/p/iap_web/compute/services/shop)",
		Settings: []string{"iap.enabled=true", "accessSettings.corsSettings.allowHttpOptions=false"}}
	// The ALB's ACAO * reaches every answer: credentialed requests fail.
	star := withLB(fleetOf(probes, same(3, allowing)...), 4, policyAnswers(func(_ audit.Probe, pre, act http.Header) {
		pre.Set(cors.ACAO, "*")
		act.Set(cors.ACAO, "*")
	}), nil)
	star.Spec.Target.Facts = []discovery.FrontFact{listener}
	quiet := fleetOf(probes, same(3, allowing)...)
	quiet.Spec.Target.Facts = []discovery.FrontFact{listener, cdn, iap}
	redirected := withLB(fleetOf(probes, same(3, allowing)...), 4, allowing, func(p int, pr audit.Probe, s []audit.Observation) {
		for k := range s {
			if s[k].Preflight != nil {
				s[k] = lbSample(pr, http.StatusFound, http.Header{}, nil, "", "")
			}
		}
	})
	redirected.Spec.Target.Facts = []discovery.FrontFact{iap}
	cached := fleetOf(probes, same(2, allowing)...)
	cached.Cache = cacheSim{key: keyURL}.run(probes, allowing)
	cached.Spec.Target.Facts = []discovery.FrontFact{cdn}
	for _, tc := range []struct {
		desc         string
		res          *audit.TargetResult
		kind         Kind
		sev          Severity
		words        []string
		wantExplains []Kind
	}{
		{desc: "ALB listener attributes explain the mismatch", res: star, kind: KindConfigCORSHeaders, sev: SeverityWarning,
			words:        []string{listener.Resource, "access_control_allow_origin.header_value=*", "it explains this run's lb-mismatch finding"},
			wantExplains: []Kind{KindLBMismatch}},
		{desc: "the same settings, no probe shows them", res: quiet, kind: KindConfigCORSHeaders, sev: SeverityWarning,
			words: []string{"no probe of this run shows it (the values agree with the instances', or the load balancer was not sampled)"}},
		{desc: "Cloud CDN without the Origin in its key, nothing cached wrong", res: quiet, kind: KindConfigCacheKey, sev: SeverityWarning,
			words: []string{cdn.Resource, "includeHttpHeaders=[]", "no probe of this run shows it"}},
		{desc: "Cloud CDN explains the cache findings", res: cached, kind: KindConfigCacheKey, sev: SeverityWarning,
			words: []string{"it explains this run's cache-leak, cache-no-origin, cache-refusal findings"}, wantExplains: []Kind{KindCacheLeak, KindCacheNoOrigin, KindCacheRefusal}},
		{desc: "IAP without allowHttpOptions explains the redirect", res: redirected, kind: KindConfigPreflightLogin, sev: SeverityError,
			words: []string{"(IAP projects/p/iap_web/compute/services/shop)", "allowHttpOptions=false", "it explains this run's lb-redirect finding"}, wantExplains: []Kind{KindLBRedirect}},
		{desc: "IAP without allowHttpOptions, not sampled", res: quiet, kind: KindConfigPreflightLogin, sev: SeverityError,
			words: []string{"every non-simple request fails"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, got := Compare(tc.res, Options{})
			var fs []Finding
			for _, f := range got {
				if f.Kind == tc.kind {
					fs = append(fs, f)
				}
			}
			if len(fs) != 1 {
				t.Fatalf("%d %s findings, want 1: %+v", len(fs), tc.kind, got)
			}
			f := fs[0]
			if f.Severity != tc.sev || !slices.Equal(f.Explains, tc.wantExplains) || !strings.HasPrefix(f.Reproduce, "curl ") {
				t.Errorf("%s, explains %v, reproduce %q; want %s explaining %v with a curl line", f.Severity, f.Explains, f.Reproduce, tc.sev, tc.wantExplains)
			}
			for _, w := range tc.words {
				if !strings.Contains(f.Message, w) {
					t.Errorf("message %q lacks %q", f.Message, w)
				}
			}
		})
	}
	t.Run("analysis off", func(t *testing.T) {
		_, got := Compare(quiet, Options{Analyses: []string{AnalysisDrift}})
		for _, f := range got {
			if strings.HasPrefix(string(f.Kind), "config-") {
				t.Errorf("%s with the lb and cache analyses off", f.Kind)
			}
		}
	})
}

// TestConfigUnread: configuration a provider could not read (a permission
// not granted) is an info finding naming the resource and the reason: it
// fails a run only at --fail-on info, so an upgrade that reads more of the
// cloud config does not turn a clean cron job red.
func TestConfigUnread(t *testing.T) {
	res := fleetOf(testProbes(), same(3, allowing)...)
	unread := discovery.FrontFact{Kind: discovery.FactUnread, Resource: "the attributes of ALB listener arn:aws:elasticloadbalancing:us-east-1:1:listener/app/shop/1/2 (HTTPS:443)",
		Settings: []string{"aws: permission denied: may not call elasticloadbalancing:DescribeListenerAttributes"}}
	res.Spec.Target.Facts = []discovery.FrontFact{unread}
	_, got := Compare(res, Options{})
	if len(got) != 1 || got[0].Kind != KindConfigUnread || got[0].Severity != SeverityInfo {
		t.Fatalf("findings %+v, want one config-unread info", got)
	}
	for _, w := range []string{unread.Resource, "DescribeListenerAttributes", "the probes ran without it"} {
		if !strings.Contains(got[0].Message, w) {
			t.Errorf("message %q lacks %q", got[0].Message, w)
		}
	}
	for _, tc := range []struct {
		failOn FailOn
		fails  bool
	}{{FailOn(SeverityError), false}, {FailOn(SeverityWarning), false}, {FailOn(SeverityInfo), true}} {
		r := &Report{Findings: got, FailOn: tc.failOn}
		if r.Fails() != tc.fails {
			t.Errorf("fail-on %s: fails %v, want %v", tc.failOn, r.Fails(), tc.fails)
		}
	}
}

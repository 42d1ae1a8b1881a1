package diff

import (
	"fmt"
	"slices"
	"strings"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/internal/plural"
)

// configKinds is the finding kind of each kind of fact, the analysis it
// belongs to, and the kinds of probe findings it can explain.
var configKinds = map[string]struct {
	kind     Kind
	analysis string
	explains []Kind
}{
	discovery.FactCORSHeaders: {KindConfigCORSHeaders, AnalysisLB,
		[]Kind{KindLBAnswersOptions, KindLBMismatch, KindLBChangesHeaders, KindInvalidHeader, KindProtocolMismatch}},
	discovery.FactCacheKey: {KindConfigCacheKey, AnalysisCache,
		[]Kind{KindCacheLeak, KindCacheNoOrigin, KindCacheRefusal, KindCachePreflightKey, KindLBMismatch}},
	discovery.FactPreflightLogin: {KindConfigPreflightLogin, AnalysisLB,
		[]Kind{KindLBRedirect, KindLBAnswersOptions, KindLBMismatch}},
}

// configFindings turns what the provider read of the fronts'
// configuration (discovery.Target.Facts) into findings that name the
// resource and the setting, and the findings of this run about the
// fronts (found) that it explains. Providers only read the facts; the
// probes say what users see, so a fact no probe finding shows says so.
func (c *comparison) configFindings(found []Finding) []Finding {
	var out []Finding
	for _, fact := range c.spec().Target.Facts {
		if fact.Kind == discovery.FactUnread {
			out = append(out, Finding{Kind: KindConfigUnread, Instances: []string{"lb"},
				Observed: strings.Join(fact.Settings, "; "),
				Message: fmt.Sprintf("could not read %s: %s; the probes ran without it, but the config findings it could give are missing",
					fact.Resource, strings.Join(fact.Settings, "; "))})
			continue
		}
		ck, ok := configKinds[fact.Kind]
		if !ok || !c.opt.enabled(ck.analysis) {
			continue
		}
		f := Finding{Kind: ck.kind, Instances: []string{"lb"}, Expected: c.configExpected(fact.Kind),
			Observed: strings.Join(fact.Settings, ", ")}
		for _, g := range found {
			if slices.Contains(ck.explains, g.Kind) && slices.Contains(g.Instances, "lb") && !slices.Contains(f.Explains, g.Kind) {
				f.Explains = append(f.Explains, g.Kind)
			}
		}
		slices.Sort(f.Explains)
		f.Message = fmt.Sprintf("%s: %s; %s", fact.Resource, strings.Join(fact.Settings, ", "), configEffect(fact.Kind))
		if len(f.Explains) > 0 {
			var ks []string
			for _, k := range f.Explains {
				ks = append(ks, string(k))
			}
			f.Message += "; it explains this run's " + strings.Join(ks, ", ") + " " + plural.Noun(len(ks), "finding")
		} else {
			f.Message += "; no probe of this run shows it (" + configQuiet(fact.Kind) + ")"
		}
		if p, step := c.configProbe(fact.Kind); p >= 0 {
			sent := audit.StepRequest(c.spec().Probes[p], c.res.URL, step, c.browser())
			sent.Timeout = c.opt.Timeout
			f.Reproduce = CurlRequest(&sent)
			f.Probe = c.probeRef(p)
		}
		out = append(out, f)
	}
	return out
}

// browser is the run's browser (Chromium when unset).
func (c *comparison) browser() cors.Browser {
	if c.opt.Browser == "" {
		return cors.Chromium
	}
	return c.opt.Browser
}

// configExpected is what a front's configuration should say.
func (c *comparison) configExpected(kind string) string {
	switch kind {
	case discovery.FactCORSHeaders:
		return "CORS headers from the instances alone"
	case discovery.FactCacheKey:
		return "the Origin in the cache key"
	}
	return "preflights passed to the instances"
}

// configEffect says what the setting does to browsers.
func configEffect(kind string) string {
	switch kind {
	case discovery.FactCORSHeaders:
		return "the load balancer puts these CORS headers on its answers whatever the instances send (fixed responses and redirects included): the instances' CORS config is not what browsers see, and one fixed value cannot follow a policy of several origins or credentials"
	case discovery.FactCacheKey:
		return "Cloud CDN caches answers under a key without the Origin: only a Vary: Origin on every answer, refusals included, keeps one origin's answer from another (add Origin to cdnPolicy.cacheKeyPolicy.includeHttpHeaders)"
	}
	return "Identity-Aware Proxy sends every preflight (which never carries the login cookie) to its login page, and browsers reject a redirected preflight: every non-simple request fails (set accessSettings.corsSettings.allowHttpOptions to true)"
}

// configQuiet says why a setting can show no finding this run.
func configQuiet(kind string) string {
	switch kind {
	case discovery.FactCORSHeaders:
		return "the values agree with the instances', or the load balancer was not sampled"
	case discovery.FactCacheKey:
		return "every answer says Vary: Origin, the cache mode stores none of them, or no cache probe went through the CDN"
	}
	return "the load balancer was not sampled, or the service is not the one the URL reaches"
}

// configProbe is the probe and step whose request shows what a setting
// does: a preflight for CORS headers and preflights, a GET for the cache
// (-1 when the plan has none).
func (c *comparison) configProbe(kind string) (int, string) {
	want, step := true, audit.StepPreflight
	if kind == discovery.FactCacheKey {
		want, step = false, audit.StepActual
	}
	for p, pr := range c.spec().Probes {
		if pr.Class == audit.ClassPolicy && cors.PlanPreflightFor(c.browser(), pr.Request()).Needed == want &&
			(want || pr.SendsActual()) {
			return p, step
		}
	}
	return -1, ""
}

package diff

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/discovery"
)

// RouteFindings is what the load balancer's routes show without sending a
// request (audit.RouteProbes recorded them in spec's probes), one finding
// per rule, step and path, listing the probes it covers:
//
//   - a preflight redirected, or sent to an identity provider (a login
//     redirect), is lb-redirect: browsers reject every redirected
//     preflight;
//   - a preflight the load balancer answers with a fixed response is
//     lb-answers-options: the answer carries no CORS headers, so every
//     preflight fails;
//   - a step served by no instance corsaudit knows (a backend bucket,
//     another action of the load balancer's own, a pool whose instances
//     were not discovered) is unaudited-route: it is not audited.
//
// The probes whose requests the load balancer answers itself are never
// sent (audit.Probe.Sampled), so no observed finding repeats these.
// public is the target's public URL; b the browser whose requests the
// curl lines show; timeout the run's per-request timeout (their --max-time).
func RouteFindings(spec *audit.TargetSpec, public *url.URL, b cors.Browser, timeout time.Duration) []Finding {
	pools := map[string]bool{}
	for _, in := range spec.Target.Instances {
		pools[in.Pool] = true
	}
	var out []Finding
	at := map[string]int{}
	for p, pr := range spec.Probes {
		for _, r := range pr.Routes {
			path := audit.PathOf(pr, public)
			for _, f := range routeFindings(pr, r, pools, path) {
				key := strings.Join([]string{string(f.Kind), r.Step, r.Method(pr), path, r.Rule, r.Action, r.Detail, f.Observed}, "\x00")
				ref := probeRef(pr)
				if n, ok := at[key]; ok {
					if !slices.ContainsFunc(out[n].Probes, func(q ProbeRef) bool { return q.ID == ref.ID }) {
						out[n].Probes = append(out[n].Probes, ref)
					}
					continue
				}
				at[key] = len(out)
				f.Instances, f.Path, f.Probes = []string{"lb"}, path, []ProbeRef{ref}
				if f.Severity == "" {
					f.Severity = f.Kind.DefaultSeverity()
				}
				sent := audit.StepRequest(spec.Probes[p], public, r.Step, b)
				sent.Timeout = timeout
				f.Reproduce = CurlRequest(&sent)
				out = append(out, f)
			}
		}
	}
	for k := range out {
		out[k].Probe = &out[k].Probes[0]
		out[k].Target = spec.Target.Name
	}
	return out
}

// routeFindings is what one route of probe pr shows: nothing for a forward
// to discovered pools. pools holds the pools of the discovered instances
// ("" for instances of no pool, which serve every forwarded request).
func routeFindings(pr audit.Probe, r audit.StepRoute, pools map[string]bool, path string) []Finding {
	what := r.Method(pr) + " " + path
	rule := r.Rule
	if r.Note != "" {
		rule += " (" + r.Note + ")"
	}
	preflight := r.Step == audit.StepPreflight
	switch r.Action {
	case discovery.ActionForward:
		if pools[""] {
			return nil
		}
		var out []Finding
		for _, p := range r.Pools {
			if pools[p.Name] {
				continue
			}
			share := ""
			if p.Weight != 0 && len(r.Pools) > 1 {
				share = fmt.Sprintf(" (weight %d)", p.Weight)
			}
			out = append(out, Finding{Kind: KindUnauditedRoute, Expected: "instances of every pool the load balancer forwards to",
				Observed: "pool " + p.Name + " has no discovered instance",
				Message: fmt.Sprintf("the load balancer forwards %s to pool %s%s, but no instance of that pool was discovered: those answers are not audited (add the pool's source under discover:); rule: %s",
					what, p.Name, share, rule)})
		}
		return out
	case discovery.ActionRedirect, discovery.ActionAuthenticate:
		if preflight {
			how := "redirects"
			if r.Action == discovery.ActionAuthenticate {
				how = "sends to its identity provider (a preflight never carries the login cookie)"
			}
			return []Finding{{Kind: KindLBRedirect, Expected: "the preflight forwarded to the instances",
				Observed: routeAnswer(r),
				Message: fmt.Sprintf("the load balancer %s %s (%s): browsers reject every redirected preflight, so every request that needs one fails; rule: %s",
					how, what, routeAnswer(r), rule)}}
		}
	case discovery.ActionFixedResponse:
		if preflight {
			return []Finding{{Kind: KindLBAnswersOptions, Severity: SeverityError, Expected: "the preflight forwarded to the instances",
				Observed: routeAnswer(r),
				Message: fmt.Sprintf("the load balancer answers %s itself (%s), without CORS headers: every preflight fails, so every request that needs one fails; rule: %s",
					what, routeAnswer(r), rule)}}
		}
	}
	served := "the load balancer answers it itself"
	switch r.Action {
	case discovery.ActionBucket:
		served = "a backend bucket serves it"
	case discovery.ActionNone:
		served = "nothing the provider knows serves it"
	}
	msg := fmt.Sprintf("%s goes to %s: %s, not an instance, so it is not audited", what, routeAnswer(r), served)
	if r.Action != discovery.ActionBucket && r.Action != discovery.ActionNone {
		msg += "; a browser fails the request unless that answer carries CORS headers"
	}
	msg += "; rule: " + rule
	return []Finding{{Kind: KindUnauditedRoute, Expected: "the request forwarded to audited instances",
		Observed: routeAnswer(r), Message: msg}}
}

// routeAnswer is what a non-forward route answers, in a few words.
func routeAnswer(r audit.StepRoute) string {
	if r.Action == discovery.ActionForward {
		return r.Describe()
	}
	if r.Detail != "" {
		return r.Action + " (" + r.Detail + ")"
	}
	return r.Action
}

// probeRef is probe pr as reports show it.
func probeRef(pr audit.Probe) ProbeRef {
	return ProbeRef{ID: pr.ID, Origin: pr.Origin, Method: pr.Method, Headers: pr.HeaderStrings(),
		Credentials: pr.Credentials, Class: pr.Class, Expect: string(pr.Expect), Step: pr.Step, Routes: pr.Routes}
}

// RoutedBy says which rules of the load balancer route the probe's
// requests, step by step, steps routed alike together: "OPTIONS, PUT:
// rule X -> forward to api", "OPTIONS: rule X -> fixed-response: ...;
// GET: rule Y -> forward to web" ("" when the target has no router).
func (p ProbeRef) RoutedBy() string {
	var routes, methods []string
	for _, r := range p.Routes {
		method := p.Method
		if r.Step == audit.StepPreflight {
			method = http.MethodOptions
		}
		s := r.Rule + " -> " + r.Describe()
		if r.Note != "" {
			s += " (" + r.Note + ")"
		}
		k := slices.Index(routes, s)
		if k < 0 {
			routes, methods = append(routes, s), append(methods, method)
		} else if !strings.Contains(methods[k], method) {
			methods[k] += ", " + method
		}
	}
	parts := make([]string, len(routes))
	for k := range routes {
		parts[k] = methods[k] + ": " + routes[k]
	}
	return strings.Join(parts, "; ")
}

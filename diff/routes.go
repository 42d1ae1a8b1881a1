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
// per cause (kind, path, rule and what it does), listing the methods and
// the probes it covers:
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
// sent (audit.Probe.Sampled), so no observed finding repeats these. The
// curl line of a finding is its first request that corsaudit may send
// itself (audit.Probe.Sends): a preflight, a GET or a HEAD, never the PUT
// a browser sends after the preflight, which a pasted line would send to
// production; a finding about such requests alone has none. public is the
// target's public URL; b the browser whose requests the curl lines show;
// timeout the run's per-request timeout (their --max-time).
func RouteFindings(spec *audit.TargetSpec, public *url.URL, b cors.Browser, timeout time.Duration) []Finding {
	pools := map[string]bool{}
	for _, in := range spec.Target.Instances {
		pools[in.Pool] = true
	}
	type cause struct {
		routeIssue
		methods []string
	}
	var causes []cause
	at := map[string]int{}
	for _, pr := range spec.Probes {
		path := audit.PathOf(pr, public)
		for _, r := range pr.Routes {
			for _, is := range routeIssues(r, pools) {
				key := strings.Join([]string{string(is.f.Kind), path, r.Rule, r.Note, r.Action, r.Detail, is.f.Observed}, "\x00")
				n, ok := at[key]
				if !ok {
					n = len(causes)
					at[key] = n
					is.f.Instances, is.f.Path, is.f.Target = []string{"lb"}, path, spec.Target.Name
					if is.f.Severity == "" {
						is.f.Severity = is.f.Kind.DefaultSeverity()
					}
					causes = append(causes, cause{routeIssue: is})
				}
				c := &causes[n]
				if m := r.Method(pr); !slices.Contains(c.methods, m) {
					c.methods = append(c.methods, m)
				}
				ref := probeRef(pr, public)
				if !slices.ContainsFunc(c.f.Probes, func(q ProbeRef) bool { return q.ID == ref.ID }) {
					c.f.Probes = append(c.f.Probes, ref)
				}
				if c.f.Reproduce == "" && pr.Sends(r.Step) {
					sent := audit.StepRequest(pr, public, r.Step, b)
					sent.Timeout = timeout
					c.f.Reproduce = CurlRequest(&sent)
				}
			}
		}
	}
	out := make([]Finding, len(causes))
	for k, c := range causes {
		out[k] = c.f
		out[k].Message = c.message(listOf(c.methods) + " " + c.f.Path)
		out[k].Normalize()
	}
	return out
}

// routeIssue is a finding one route shows, before its message, which
// names every method of the requests it covers (what).
type routeIssue struct {
	f       Finding
	message func(what string) string
}

// routeIssues is what route r shows: nothing for a forward to discovered
// pools. pools holds the pools of the discovered instances ("" for
// instances of no pool, which serve every forwarded request).
func routeIssues(r audit.StepRoute, pools map[string]bool) []routeIssue {
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
		var out []routeIssue
		for _, p := range r.Pools {
			if pools[p.Name] {
				continue
			}
			share := ""
			if p.Weight != 0 && len(r.Pools) > 1 {
				share = fmt.Sprintf(" (weight %d)", p.Weight)
			}
			out = append(out, routeIssue{f: Finding{Kind: KindUnauditedRoute, Expected: "instances of every pool the load balancer forwards to",
				Observed: "pool " + p.Name + " has no discovered instance"},
				message: func(what string) string {
					return fmt.Sprintf("the load balancer forwards %s to pool %s%s, but no instance of that pool was discovered: those answers are not audited (add the pool's source under discover:); rule: %s",
						what, p.Name, share, rule)
				}})
		}
		return out
	case discovery.ActionRedirect, discovery.ActionAuthenticate:
		if preflight {
			how := "redirects"
			if r.Action == discovery.ActionAuthenticate {
				how = "sends to its identity provider (a preflight never carries the login cookie)"
			}
			return []routeIssue{{f: Finding{Kind: KindLBRedirect, Expected: "the preflight forwarded to the instances", Observed: r.Answer()},
				message: func(what string) string {
					return fmt.Sprintf("the load balancer %s %s (%s): browsers reject every redirected preflight, so every request that needs one fails; rule: %s",
						how, what, r.Answer(), rule)
				}}}
		}
	case discovery.ActionFixedResponse:
		if preflight {
			return []routeIssue{{f: Finding{Kind: KindLBAnswersOptions, Severity: SeverityError, Expected: "the preflight forwarded to the instances",
				Observed: r.Answer()},
				message: func(what string) string {
					return fmt.Sprintf("the load balancer answers %s itself (%s), without CORS headers: every preflight fails, so every request that needs one fails; rule: %s",
						what, r.Answer(), rule)
				}}}
		}
	}
	served := "the load balancer answers itself"
	switch r.Action {
	case discovery.ActionBucket:
		served = "a backend bucket answers"
	case discovery.ActionNone:
		served = "nothing the provider knows answers"
	}
	tail := ""
	if r.Action != discovery.ActionBucket && r.Action != discovery.ActionNone {
		tail = "; a browser fails the request unless that answer carries CORS headers"
	}
	return []routeIssue{{f: Finding{Kind: KindUnauditedRoute, Expected: "the request forwarded to audited instances", Observed: r.Answer()},
		message: func(what string) string {
			return fmt.Sprintf("the load balancer routes %s to %s: %s, not an instance, so nothing there is audited%s; rule: %s",
				what, r.Answer(), served, tail, rule)
		}}}
}

// listOf joins words as English does: "GET", "GET and PUT", "GET,
// OPTIONS and PUT".
func listOf(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// probeRef is probe pr of the target at public as reports show it.
func probeRef(pr audit.Probe, public *url.URL) ProbeRef {
	return ProbeRef{ID: pr.ID, Origin: pr.Origin, Method: pr.Method, Headers: pr.HeaderStrings(),
		Credentials: pr.Credentials, Class: pr.Class, Expect: string(pr.Expect), Step: pr.Step, Routes: pr.Routes,
		Path: audit.PathOf(pr, public)}
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

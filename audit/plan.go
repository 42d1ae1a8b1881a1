package audit

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/corsaudit/corsaudit/audit/cors"
)

// Analyses are the groups of comparisons a run does, which the config's
// checks: key and the --checks flag name. They decide the plan as well as
// the comparison (the misconfig analysis adds adversarial origins), so
// audit owns their names: config checks checks: against them and diff
// switches its comparisons on them. In code they are analyses, so that
// "check" stays the command and the Fetch standard's CORS check.
const (
	AnalysisDrift     = "drift"
	AnalysisLB        = "lb"
	AnalysisCache     = "cache"
	AnalysisMisconfig = "misconfig"
)

// Analyses lists every analysis, in the order written: a run's default.
var Analyses = []string{AnalysisDrift, AnalysisLB, AnalysisCache, AnalysisMisconfig}

// Expectation is what a policy says a browser should decide for a probe.
type Expectation string

// Expectations.
const (
	ExpectNone    Expectation = ""        // the policy says nothing (adversarial probes judge themselves)
	ExpectAllowed Expectation = "allowed" // the policy allows this request
	ExpectBlocked Expectation = "blocked" // the policy does not allow this request
)

// Probe classes.
const (
	ClassPolicy     = "policy"     // an origin x method x header set the policy allows
	ClassDisallowed = "disallowed" // an origin the policy does not allow
)

// Probe is one browser scenario: a page on Origin calls fetch() on the
// target's URL with Method, Headers and Credentials.
type Probe struct {
	ID          string        `json:"id"`
	Origin      string        `json:"origin"`
	Method      string        `json:"method"`
	Headers     []cors.Header `json:"headers,omitempty"`
	Credentials bool          `json:"credentials"`
	// Path is the path (and query) requested, one of the target's paths;
	// empty: the target URL's own.
	Path string `json:"path,omitempty"`
	// Class says why the probe is in the plan (ClassPolicy, ClassDisallowed,
	// or an adversarial pattern class).
	Class  string      `json:"class"`
	Expect Expectation `json:"expect,omitempty"`
	// Step, when set, is the one step of the fetch this probe sends and
	// judges, because the load balancer routes the preflight and the
	// actual request to different pools: StepPreflight sends the
	// preflight alone, StepActual the actual request alone, as a browser
	// sends it once the preflight passed. Empty: the whole fetch.
	Step string `json:"step,omitempty"`
	// Routes is what the target's load balancer does with each step a
	// browser takes (RouteProbes): the rule, its action, the pools it
	// forwards to. Nil when the target has no router: every instance
	// answers every probe.
	Routes []StepRoute `json:"routes,omitempty"`
	// Unserved: the load balancer forwards the probe's requests only to
	// pools none of whose instances was discovered (MarkUnserved, from
	// the whole target: RouteTarget, and every shard from the inventory,
	// which does not carry it). No instance answers it, and it is not
	// sampled through the load balancer: nothing would be compared with
	// the samples, and they would load a service the audit was not asked
	// about. The routes' findings report it (unaudited-route).
	Unserved bool `json:"-"`
}

// Request is the probe as the cors package sees it.
func (p Probe) Request() cors.Request {
	return cors.Request{Origin: p.Origin, Method: p.Method, Headers: p.Headers, Credentials: p.Credentials}
}

// Check says whether p is a probe corsaudit sends as a browser would: used
// on probes read from an inventory or a shard file (every probe a plan
// makes passes it). The error names the field.
func (p Probe) Check() error {
	switch {
	case p.ID == "":
		return errors.New("id: empty")
	case p.Class != ClassPolicy && p.Class != ClassDisallowed && !IsAdversarial(p.Class):
		return fmt.Errorf("class: %q is not a probe class", p.Class)
	case p.Expect != ExpectNone && p.Expect != ExpectAllowed && p.Expect != ExpectBlocked:
		return fmt.Errorf("expect: %q is not allowed or blocked", p.Expect)
	case !cors.IsToken(p.Method) || cors.IsForbiddenMethod(p.Method):
		return fmt.Errorf("method: %q is not a method fetch() sends", p.Method)
	case p.Origin == "":
		return errors.New("origin: empty")
	}
	if err := CheckHeader(cors.Header{Name: "Origin", Value: p.Origin}); err != nil {
		return fmt.Errorf("origin: %w", err)
	}
	if p.Class == ClassPolicy || p.Class == ClassDisallowed {
		if _, err := cors.ParseOrigin(p.Origin); err != nil {
			return fmt.Errorf("origin: %w", err)
		}
	}
	for i, h := range p.Headers {
		if err := CheckHeader(h); err != nil {
			return fmt.Errorf("headers[%d]: %w", i, err)
		}
		if cors.IsForbiddenRequestHeader(h.Name, h.Value) {
			return fmt.Errorf("headers[%d]: fetch() does not let a page set %s", i, h.Name)
		}
	}
	if p.Path != "" {
		if _, err := ParsePath(p.Path); err != nil {
			return err
		}
	}
	return nil
}

// SendsActual reports whether corsaudit sends the actual request: only for
// GET and HEAD, which cannot change server state, and not when the probe
// is the preflight alone. Everything else is only preflighted.
func (p Probe) SendsActual() bool {
	return (p.Method == http.MethodGet || p.Method == http.MethodHead) && p.Step != StepPreflight
}

// HeaderStrings renders the headers as "Name: value".
func (p Probe) HeaderStrings() []string {
	out := make([]string, 0, len(p.Headers))
	for _, h := range p.Headers {
		out = append(out, h.Name+": "+h.Value)
	}
	return out
}

// String is a short human description: "PUT from https://app.example.com with X-Request-Id (credentials)",
// with the path after the method when the probe has one ("GET /v1/items from ...").
func (p Probe) String() string {
	var b strings.Builder
	b.WriteString(p.Method)
	if p.Path != "" {
		b.WriteString(" " + p.Path)
	}
	b.WriteString(" from ")
	b.WriteString(p.Origin)
	if len(p.Headers) > 0 {
		names := make([]string, len(p.Headers))
		for i, h := range p.Headers {
			names[i] = h.Name
		}
		b.WriteString(" with ")
		b.WriteString(strings.Join(names, ", "))
	}
	if p.Credentials {
		b.WriteString(" (credentials)")
	}
	switch p.Step {
	case StepPreflight:
		b.WriteString(" [preflight only]")
	case StepActual:
		b.WriteString(" [actual request only]")
	}
	return b.String()
}

// Policy is what the service means to allow.
type Policy struct {
	Origins     []string `json:"origins"`
	Methods     []string `json:"methods"`
	Headers     []string `json:"headers"`
	Credentials bool     `json:"credentials"`
}

// disallowedOrigin is the origin probed to check that the service does not
// allow what its policy does not list. The .invalid TLD never resolves.
const disallowedOrigin = "https://corsaudit-not-allowed.invalid"

// headerValue picks a value for a request header such that the header is
// what the page would really send (and is CORS-unsafe where it can be, so a
// preflight lists it).
func headerValue(name string) string {
	switch strings.ToLower(name) {
	case "content-type":
		return "application/json"
	case "authorization":
		return "Bearer corsaudit"
	case "accept", "accept-language", "content-language":
		return "en"
	}
	return "corsaudit"
}

// Plan builds the probes for a policy: every policy origin x method x header
// set (no headers, and all policy headers together), then the disallowed
// origin for a simple GET and for the first non-simple method. Probe IDs are
// stable for a given policy ("p1", "p2", ...).
func Plan(pol Policy) []Probe {
	methods := pol.Methods
	if len(methods) == 0 {
		methods = []string{http.MethodGet}
	}
	var headerSets [][]cors.Header
	headerSets = append(headerSets, nil)
	if len(pol.Headers) > 0 {
		var all []cors.Header
		for _, h := range pol.Headers {
			all = append(all, cors.Header{Name: h, Value: headerValue(h)})
		}
		headerSets = append(headerSets, all)
	}
	var probes []Probe
	add := func(p Probe) {
		p.ID = fmt.Sprintf("p%d", len(probes)+1)
		probes = append(probes, p)
	}
	for _, o := range pol.Origins {
		for _, m := range methods {
			for _, hs := range headerSets {
				add(Probe{Origin: o, Method: m, Headers: hs, Credentials: pol.Credentials,
					Class: ClassPolicy, Expect: ExpectAllowed})
			}
		}
	}
	add(Probe{Origin: disallowedOrigin, Method: http.MethodGet, Credentials: pol.Credentials,
		Class: ClassDisallowed, Expect: ExpectBlocked})
	for _, m := range methods {
		if m != http.MethodGet && m != http.MethodHead && m != http.MethodPost {
			add(Probe{Origin: disallowedOrigin, Method: m, Credentials: pol.Credentials,
				Class: ClassDisallowed, Expect: ExpectBlocked})
			break
		}
	}
	return probes
}

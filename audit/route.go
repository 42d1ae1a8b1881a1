package audit

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/discovery"
)

// The steps of a browser's fetch (Probe.Step, StepRoute.Step).
const (
	// StepPreflight is the OPTIONS request a browser sends first for a
	// request that is not CORS-safelisted.
	StepPreflight = "preflight"
	// StepActual is the request the page asked for, sent directly or once
	// the preflight passed.
	StepActual = "actual"
)

// StepRoute is what the target's load balancer does with one step of a
// probe: the rule that matched and its action (discovery.Route).
type StepRoute struct {
	Step string `json:"step"`
	discovery.Route
}

// Method is the method of the step's request: OPTIONS for a preflight,
// the probe's own for the actual request.
func (r StepRoute) Method(p Probe) string {
	if r.Step == StepPreflight {
		return http.MethodOptions
	}
	return cors.NormalizeMethod(p.Method)
}

// Routed reports whether the target's router decided where the probe's
// requests go (Routes set): only instances of those pools answer it.
func (p Probe) Routed() bool { return p.Routes != nil }

// Sends reports whether corsaudit sends step of p: the preflight unless
// the probe is the actual request alone; the actual request for GET and
// HEAD unless the probe is the preflight alone.
func (p Probe) Sends(step string) bool {
	if step == StepPreflight {
		return p.Step != StepActual
	}
	return p.Step != StepPreflight && p.SendsActual()
}

// deciding is the routes that decide which instances answer p: those of
// the steps corsaudit sends, or every route when it sends none of them.
func (p Probe) deciding() []StepRoute {
	var out []StepRoute
	for _, r := range p.Routes {
		if p.Sends(r.Step) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return p.Routes
	}
	return out
}

// Forwarded reports whether the load balancer forwards p's requests to
// instances: always when p is not routed; else when a route that decides
// forwards (a redirect, a fixed response, a bucket reach no instance).
func (p Probe) Forwarded() bool {
	if !p.Routed() {
		return true
	}
	return slices.ContainsFunc(p.deciding(), func(r StepRoute) bool { return r.Action == discovery.ActionForward })
}

// Serves reports whether an instance of pool answers p: every instance
// when p is not routed; else the instances of the pools p's deciding
// routes forward to, and instances of no pool (a source without routing
// serves every request forwarded to the target).
func (p Probe) Serves(pool string) bool {
	if !p.Routed() {
		return true
	}
	for _, r := range p.deciding() {
		if r.Action != discovery.ActionForward {
			continue
		}
		if pool == "" || r.Forwards(pool) {
			return true
		}
	}
	return false
}

// RoutesOf is the routes of p's step (several when the outcome depends on
// what corsaudit cannot see).
func (p Probe) RoutesOf(step string) []StepRoute {
	var out []StepRoute
	for _, r := range p.Routes {
		if r.Step == step {
			out = append(out, r)
		}
	}
	return out
}

// BrowserSteps is the steps a browser takes for p: the preflight when
// browser b sends one (cors.PlanPreflightFor), then the actual request;
// none when fetch() rejects the method.
func BrowserSteps(p Probe, b cors.Browser) []string {
	if cors.IsForbiddenMethod(p.Method) || !cors.IsToken(p.Method) {
		return nil
	}
	if cors.PlanPreflightFor(b, p.Request()).Needed {
		return []string{StepPreflight, StepActual}
	}
	return []string{StepActual}
}

// StepRequest is the request a browser sends for step of p to the target
// whose public URL is public: the URL with p's path, the method, and the
// headers exactly as ActAsBrowser sends them (without a configured
// credential). It is what the load balancer routes, and what a curl line
// about the route reproduces.
func StepRequest(p Probe, public *url.URL, step string, b cors.Browser) SentRequest {
	req := p.Request()
	u := withPath(public, p.Path)
	var h http.Header
	method := cors.NormalizeMethod(req.Method)
	if step == StepPreflight {
		method = http.MethodOptions
		h = preflightHeader(req, cors.PlanPreflightFor(b, req))
	} else {
		h = actualHeader(req)
	}
	return SentRequest{Method: method, URL: u.String(), Header: h}
}

// RouteProbes asks router what the load balancer does with every step a
// browser takes for each probe (the request of StepRequest, through the
// public URL) and records it in the probe's Routes. When the steps
// corsaudit sends go to different pools, or a step may take several
// routes (a rule on what corsaudit cannot see, such as the caller's
// address), the probe becomes one probe per outcome (both steps, when
// their outcomes pair up: "p3.r1", "p3.r2"), or per step and outcome
// ("p3.preflight", "p3.actual", "p3.actual.r2"), so that one set of pools
// answers each probe. The steps corsaudit never sends (the actual PUT)
// keep their routes on every probe made of them. A nil router leaves the
// probes as they are.
func RouteProbes(probes []Probe, public *url.URL, router discovery.Router, b cors.Browser) []Probe {
	if router == nil {
		return probes
	}
	out := make([]Probe, 0, len(probes))
	for _, p := range probes {
		out = append(out, routeProbe(p, public, router, b)...)
	}
	return out
}

// routeProbe is RouteProbes for one probe.
func routeProbe(p Probe, public *url.URL, router discovery.Router, b cors.Browser) []Probe {
	steps := BrowserSteps(p, b)
	outcomes := map[string][]StepRoute{}
	var sent, unsent []string
	for _, step := range steps {
		sr := StepRequest(p, public, step, b)
		u, _ := url.Parse(sr.URL)
		routes := router.Route(discovery.Request{Method: sr.Method, URL: u, Header: sr.Header})
		if len(routes) == 0 {
			routes = []discovery.Route{{Rule: "no rule matched", Action: discovery.ActionNone}}
		}
		for _, r := range routes {
			r.Pools = slices.Clone(r.Pools)
			outcomes[step] = append(outcomes[step], StepRoute{Step: step, Route: r})
		}
		if p.Sends(step) {
			sent = append(sent, step)
		} else {
			unsent = append(unsent, step)
		}
	}
	var kept []StepRoute
	for _, step := range unsent {
		kept = append(kept, outcomes[step]...)
	}
	with := func(id, step string, routes ...StepRoute) Probe {
		q := p
		q.ID, q.Step = id, step
		q.Routes = append(append(make([]StepRoute, 0, len(routes)+len(kept)), routes...), kept...)
		slices.SortStableFunc(q.Routes, func(a, b StepRoute) int { return stepOrder(a.Step) - stepOrder(b.Step) })
		return q
	}
	if paired(outcomes, sent) {
		n := 1
		if len(sent) > 0 {
			n = len(outcomes[sent[0]])
		}
		var out []Probe
		for k := range n {
			var rs []StepRoute
			for _, step := range sent {
				rs = append(rs, outcomes[step][k])
			}
			id := p.ID
			if n > 1 {
				id = fmt.Sprintf("%s.r%d", p.ID, k+1)
			}
			if len(sent) == 0 {
				// Nothing is sent: every outcome is shown on one probe.
				return []Probe{with(id, p.Step)}
			}
			out = append(out, with(id, p.Step, rs...))
		}
		return out
	}
	var out []Probe
	for _, step := range sent {
		rs := outcomes[step]
		for k, r := range rs {
			id := p.ID + "." + step
			if len(rs) > 1 {
				id += fmt.Sprintf(".r%d", k+1)
			}
			out = append(out, with(id, step, r))
		}
	}
	return out
}

// paired reports whether the sent steps' outcomes pair up: each step has
// as many outcomes, and the k-th outcome of every step reaches the same
// pools (a browser behind one source address takes the k-th outcome on
// both steps).
func paired(outcomes map[string][]StepRoute, sent []string) bool {
	for _, step := range sent[min(1, len(sent)):] {
		a, b := outcomes[sent[0]], outcomes[step]
		if len(a) != len(b) {
			return false
		}
		for k := range a {
			if !slices.Equal(poolNames(a[k].Route), poolNames(b[k].Route)) {
				return false
			}
		}
	}
	return true
}

// poolNames is the sorted names of the pools a route forwards to (none
// for other actions).
func poolNames(r discovery.Route) []string {
	if r.Action != discovery.ActionForward {
		return nil
	}
	names := make([]string, len(r.Pools))
	for i, p := range r.Pools {
		names[i] = p.Name
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func stepOrder(step string) int {
	if step == StepPreflight {
		return 0
	}
	return 1
}

// Describe says what a route does in a few words: "forward to api (80),
// web (20)", "fixed-response: fixed response 204", "redirect: 301 to
// https://...".
func (r StepRoute) Describe() string {
	switch {
	case r.Action == discovery.ActionForward:
		parts := make([]string, len(r.Pools))
		for i, p := range r.Pools {
			parts[i] = p.Name
			if p.Weight != 0 {
				parts[i] += fmt.Sprintf(" (weight %d)", p.Weight)
			}
		}
		if len(parts) == 0 {
			return "forward to no pool"
		}
		return "forward to " + strings.Join(parts, ", ")
	case r.Detail != "":
		return r.Action + ": " + r.Detail
	}
	return r.Action
}

// Answer is what the route answers in a few words, as a finding's
// observed value says it: Describe for a forward route, "redirect (301 to
// https://...)" for one the load balancer answers itself.
func (r StepRoute) Answer() string {
	if r.Action == discovery.ActionForward || r.Detail == "" {
		return r.Describe()
	}
	return r.Action + " (" + r.Detail + ")"
}

// NotRunNotRouted is why an instance was not sent a probe: the load
// balancer sends the probe's requests to other pools. Such a cell is no
// observation: it is neither an answer nor a failure, and no majority
// counts it.
const NotRunNotRouted = "not routed: the load balancer sends these requests to other pools"

// routeTable is which probes the instances of each pool answer. Without
// routed probes it numbers no pool: every instance answers every probe.
type routeTable struct {
	// pools numbers the pools of the target's instances.
	pools map[string]int
	// served[k] is the probes pool k answers, in plan order; probed[k]
	// counts its probeable instances.
	served [][]int
	probed []int
	// all is every probe, in plan order.
	all []int
}

// routesOf is the route table of probes over the pools of insts: one pass
// over the instances, then work per pool and probe.
func routesOf(probes []Probe, insts []discovery.Instance) routeTable {
	t := routeTable{all: make([]int, len(probes))}
	for p := range t.all {
		t.all[p] = p
	}
	if !slices.ContainsFunc(probes, Probe.Routed) {
		return t
	}
	t.pools = map[string]int{}
	for _, in := range insts {
		k, ok := t.pools[in.Pool]
		if !ok {
			k = len(t.served)
			t.pools[in.Pool] = k
			served := []int{}
			for p, pr := range probes {
				if pr.Serves(in.Pool) {
					served = append(served, p)
				}
			}
			t.served = append(t.served, served)
			t.probed = append(t.probed, 0)
		}
		if in.Probeable() {
			t.probed[k]++
		}
	}
	return t
}

// pool is the number of pool, false when the probes are not routed.
func (t routeTable) pool(name string) (int, bool) {
	k, ok := t.pools[name]
	return k, ok
}

// probesOf is the probes the instances of pool answer.
func (t routeTable) probesOf(pool string) []int {
	if k, ok := t.pool(pool); ok {
		return t.served[k]
	}
	return t.all
}

// fetches is how many fetches the probeable instances are sent: per
// instance, every probe its pool answers.
func (t routeTable) fetches(probeable int) int {
	if t.pools == nil {
		return probeable * len(t.all)
	}
	n := 0
	for k, served := range t.served {
		n += t.probed[k] * len(served)
	}
	return n
}

// requests is an upper bound on the requests the probeable instances are
// sent: per instance and probe its pool answers, the probe's
// (maxRequests).
func (t routeTable) requests(probes []Probe, probeable int) int {
	per := make([]int, len(probes))
	all := 0
	for p, pr := range probes {
		per[p] = pr.maxRequests()
		all += per[p]
	}
	if t.pools == nil {
		return probeable * all
	}
	n := 0
	for k, served := range t.served {
		for _, p := range served {
			n += t.probed[k] * per[p]
		}
	}
	return n
}

// maxRequests is how many requests a fetch of p sends at most: one for a
// probe of one step, else a preflight and an actual request.
func (p Probe) maxRequests() int {
	if p.Step != "" {
		return 1
	}
	return 2
}

// Sampled reports whether probe p is sent through the load balancer: not
// an adversarial probe (misconfig checks judge instances; the LB adds
// nothing), not a probe the load balancer answers itself (a redirect, a
// fixed response, a bucket: findings from the routes alone), and not one
// it forwards only to pools with no discovered instance (Unserved). It
// depends on the probe alone, so that every shard decides alike.
func (p Probe) Sampled() bool {
	return !IsAdversarial(p.Class) && p.Forwarded() && !p.Unserved
}

// PoolCount is a pool and how many of its instances were discovered.
type PoolCount struct {
	Pool      string `json:"pool"`
	Instances int    `json:"instances"`
}

// RouteTarget routes spec's probes with its target's router
// (RouteProbes) and leaves out of the audit the instances of the pools
// that no probe reaches (the load balancer sends none of the probed
// requests there): spec.LeftOut counts them, and marks Unserved the
// probes that reach no discovered instance (MarkUnserved). Without a router it changes
// nothing. It fails when no probe reaches any discovered instance, naming
// what serves each path and step.
func RouteTarget(spec *TargetSpec, b cors.Browser) error {
	if spec.Target.Router == nil {
		return nil
	}
	u, err := url.Parse(spec.Target.URL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("route: %q is not an absolute URL", spec.Target.URL)
	}
	spec.Probes = RouteProbes(spec.Probes, u, spec.Target.Router, b)
	t := routesOf(spec.Probes, spec.Target.Instances)
	if t.pools == nil {
		return nil
	}
	reached := make([]bool, len(t.served))
	anyReached := false
	for k, ps := range t.served {
		reached[k] = len(ps) > 0
		anyReached = anyReached || reached[k]
	}
	if !anyReached {
		return notReached(spec, u, t)
	}
	t.markUnserved(spec.Probes)
	var keep []discovery.Instance
	left := map[string]int{}
	var order []string
	for _, in := range spec.Target.Instances {
		if k, _ := t.pool(in.Pool); reached[k] {
			keep = append(keep, in)
			continue
		}
		if left[in.Pool] == 0 {
			order = append(order, in.Pool)
		}
		left[in.Pool]++
	}
	if len(order) == 0 {
		return nil
	}
	spec.Target.Instances = slices.Clip(keep)
	spec.LeftOut = nil
	for _, pool := range order {
		spec.LeftOut = append(spec.LeftOut, PoolCount{Pool: pool, Instances: left[pool]})
	}
	return nil
}

// MarkUnserved sets Unserved on the routed probes that no instance of
// insts (the whole target's, before any shard takes its share) answers.
func MarkUnserved(probes []Probe, insts []discovery.Instance) {
	routesOf(probes, insts).markUnserved(probes)
}

// markUnserved sets Unserved on the routed probes of no pool of t.
func (t routeTable) markUnserved(probes []Probe) {
	served := make([]bool, len(probes))
	for _, ps := range t.served {
		for _, p := range ps {
			served[p] = true
		}
	}
	for p := range probes {
		probes[p].Unserved = t.pools != nil && probes[p].Routed() && !served[p]
	}
}

// notReached is the error of a target none of whose probes reaches a
// discovered instance: what serves each path and step instead.
func notReached(spec *TargetSpec, u *url.URL, t routeTable) error {
	var pools []string
	for name := range t.pools {
		if name == "" {
			name = "no pool"
		}
		pools = append(pools, name)
	}
	slices.Sort(pools)
	var lines []string
	for _, p := range spec.Probes {
		for _, r := range p.Routes {
			line := fmt.Sprintf("%s %s: %s -> %s", r.Method(p), PathOf(p, u), r.Rule, r.Describe())
			if !slices.Contains(lines, line) {
				lines = append(lines, line)
			}
		}
	}
	have := "none was discovered"
	if len(pools) > 0 {
		have = "instances discovered in " + strings.Join(pools, ", ")
	}
	return fmt.Errorf("route: the load balancer sends none of the probed requests to a discovered instance (%s); what serves them: %s",
		have, strings.Join(lines, "; "))
}

package diff

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/internal/plural"
)

// varyMissing reports instances whose answer depends on the Origin
// (another origin gets another Access-Control-Allow-Origin), on the actual
// GET or on the preflight, but that do not say Vary: Origin, so shared
// caches may hand one origin's answer to another.
func (c *comparison) varyMissing() checked {
	var out checked
	var idx []int
	var at audit.Observation
	atProbe := 0
	steps := map[bool]bool{}
	for i := range c.res.Direct.Instances() {
		found := false
		for p, o := range c.res.Direct.Each(i) {
			for _, preflight := range []bool{false, true} {
				if !c.originDependentWithoutVary(i, p, preflight) {
					continue
				}
				steps[preflight] = true
				if len(idx) == 0 {
					at, atProbe = o, p
				}
				found = true
			}
			if found {
				break
			}
		}
		if found {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return out
	}
	what, observed := "GET", "no Vary: Origin on an origin-dependent "+cors.ACAO
	switch {
	case steps[true] && steps[false]:
		what = "GET and preflights"
	case steps[true]:
		what, observed = "preflights", observed+" (preflight)"
	}
	out.add(Finding{Kind: KindVaryMissing, Instances: c.ids(idx), Groups: c.groups(idx), Probe: c.probeRef(atProbe),
		Expected: "Vary: Origin", Observed: observed,
		Message:   fmt.Sprintf("%s %s %s with an %s that depends on the Origin but without Vary: Origin: a shared cache can serve one origin's answer to another", plural.Count(len(idx), "instance"), plural.Verb(len(idx), "answer"), what, cors.ACAO),
		Reproduce: varyReproduce(at, steps[false])})
	return out
}

// varyReproduce reproduces the step of o that lacks Vary: the actual
// request when actual, else the preflight.
func varyReproduce(o audit.Observation, actual bool) string {
	e := o.Preflight
	if actual {
		e = o.Actual
	}
	if r := o.Sent(e); r != nil {
		return CurlRequest(r)
	}
	return Reproduce(o)
}

// originDependentWithoutVary reports whether the instance's answer to
// policy probe p (its preflight when preflight, else its actual answer)
// names an origin without Vary: Origin while another probe with the same
// method but another origin got another ACAO in the same step.
func (c *comparison) originDependentWithoutVary(i, p int, preflight bool) bool {
	probes := c.spec().Probes
	d := c.res.Direct
	step := func(o audit.Observation) *audit.Exchange {
		if preflight {
			return o.Preflight
		}
		return o.Actual
	}
	o := d.At(i, p)
	e := step(o)
	if !answered(o) || e == nil || probes[p].Class != audit.ClassPolicy {
		return false
	}
	acao := e.Header.Get(cors.ACAO)
	if acao == "" || acao == "*" || varyHasOrigin(e.Header) {
		return false
	}
	for q, pr := range probes {
		if q == p || pr.Origin == probes[p].Origin || pr.Method != probes[p].Method {
			continue
		}
		if other := d.At(i, q); answered(other) && step(other) != nil && step(other).Header.Get(cors.ACAO) != acao {
			return true
		}
	}
	return false
}

// cacheKinds is the finding kind of each order of the cache probe matrix.
var cacheKinds = map[string]Kind{
	"":                      KindCacheLeak, // reports written before orders existed
	audit.CacheOtherOrigin:  KindCacheLeak,
	audit.CacheNoOrigin:     KindCacheNoOrigin,
	audit.CacheRefusal:      KindCacheRefusal,
	audit.CachePreflightKey: KindCachePreflightKey,
	audit.CacheRevalidation: KindCacheRevalidation,
}

// cacheDefect is what one order of the matrix showed through one layer.
type cacheDefect struct {
	pair  audit.CachePair
	layer int
	kind  Kind
	sev   Severity
	// what says it in a clause: "served the GET answer made for A to B".
	what string
}

// key identifies the order whatever the layer.
func (d cacheDefect) key() string {
	return fmt.Sprintf("%s\x00%t\x00%s\x00%s\x00%d\x00%d", d.pair.Order, d.pair.Preflight, d.pair.First, d.pair.Second, d.pair.Probe, d.pair.SecondProbe)
}

// cacheMatrix reports what the cache probe matrix showed, naming the
// first layer whose answers differ from the layer behind it: a defect
// every layer shows is the innermost one's (a cache behind the others).
// Defects of one kind through one layer are one finding.
func (c *comparison) cacheMatrix() checked {
	var out checked
	layers := c.layers()
	defects := c.cacheDefects()
	probed := map[string]map[int]bool{} // order key -> layers it was sent through
	for _, pair := range c.res.Cache {
		k := cacheDefect{pair: pair}.key()
		if probed[k] == nil {
			probed[k] = map[int]bool{}
		}
		probed[k][c.layerOf(pair.Front)] = true
	}
	shown := func(key string, l int) bool {
		return slices.ContainsFunc(defects, func(d cacheDefect) bool { return d.layer == l && d.key() == key })
	}
	type group struct {
		ds   []cacheDefect
		note string
	}
	var groups []*group
	at := map[string]*group{}
	for _, d := range defects {
		note := ""
		if d.layer+1 < len(layers) {
			if shown(d.key(), d.layer+1) {
				continue // the layer behind does it
			}
			if probed[d.key()][d.layer+1] {
				note = "; " + layers[d.layer+1].who() + " behind it does not"
			}
		}
		k := fmt.Sprintf("%s\x00%d\x00%s", d.kind, d.layer, note)
		g, ok := at[k]
		if !ok {
			g = &group{note: note}
			at[k] = g
			groups = append(groups, g)
		}
		g.ds = append(g.ds, d)
	}
	for _, g := range groups {
		out.add(c.cacheFinding(layers[g.ds[0].layer], g.ds, g.note))
	}
	return out
}

// cacheFinding is the finding of defects of one kind through layer l.
func (c *comparison) cacheFinding(l layer, ds []cacheDefect, note string) Finding {
	first := ds[0]
	sev := SeverityWarning
	var whats, evidence []string
	var probes []ProbeRef
	var answers []*audit.Exchange
	for _, d := range ds {
		if d.sev.Rank() > sev.Rank() {
			sev = d.sev
		}
		whats = append(whats, d.what)
		if e := cacheEvidence(d.pair.SecondAnswer.Header); e != "" && !slices.Contains(evidence, e) {
			evidence = append(evidence, e)
		}
		ref := *c.probeRef(d.pair.Probe)
		if !slices.ContainsFunc(probes, func(q ProbeRef) bool { return q.ID == ref.ID }) {
			probes = append(probes, ref)
		}
		answers = append(answers, d.pair.FirstAnswer, d.pair.SecondAnswer)
	}
	ev := ""
	if len(evidence) > 0 {
		ev = " (a cache answered: " + strings.Join(evidence, "; ") + ")"
	}
	msg := fmt.Sprintf("%s %s%s%s", l.who(), strings.Join(whats, "; and "), ev, note)
	if n, total := c.cachedSamples(l); n > 0 && sev == SeverityError {
		msg += fmt.Sprintf("; %d of %s through it at the public URL got a cached answer that changes the verdict", n, plural.Count(total, "request"))
	}
	f := Finding{Kind: first.kind, Severity: sev, Instances: []string{"lb"}, Front: l.front(),
		Addresses: exchangeAddresses(answers), Probes: probes, Probe: &probes[0],
		Reproduce: joinRequests(first.pair.FirstAnswer, first.pair.SecondAnswer), Message: msg + c.cacheConsequence(first.kind, sev)}
	f.Expected, f.Observed = cacheExpectation(first)
	return f
}

// cacheExpectation is what the second request should have got, and what
// it got.
func cacheExpectation(d cacheDefect) (expected, observed string) {
	second := d.pair.SecondAnswer
	if d.kind == KindCacheRevalidation {
		return "the CORS headers of the 200 on the 304", fmt.Sprintf("%d without %s", second.Status, cors.ACAO)
	}
	if d.pair.Fresh == nil {
		return "no " + cors.ACAO + " for " + d.pair.Second, cors.ACAO + ": " + second.Header.Get(cors.ACAO)
	}
	return "the answer of a request nothing cached: " + canonical(d.pair.Fresh, d.pair.Preflight),
		canonical(second, d.pair.Preflight)
}

// cacheConsequence says what users see.
func (c *comparison) cacheConsequence(k Kind, sev Severity) string {
	switch {
	case k == KindCacheRevalidation:
		return ": browsers merge a 304 into the copy they revalidated and keep its headers, but a page that revalidates itself, or a cache in front that passes the 304 on, gets an answer browsers block"
	case sev == SeverityError:
		return ": users whose request comes second get a CORS error until the entry expires"
	}
	return ": browsers decide the same this time, but the cache ignores the Origin (add it to the cache key, or honour Vary: Origin)"
}

// cacheDefects evaluates every order of the matrix (once per comparison).
func (c *comparison) cacheDefects() []cacheDefect {
	if c.cacheFound != nil {
		return *c.cacheFound
	}
	var out []cacheDefect
	for _, pair := range c.res.Cache {
		if d, ok := c.cacheDefect(pair); ok {
			out = append(out, d)
		}
	}
	c.cacheFound = &out
	return out
}

// cacheDefect says whether one order shows a cache serving one request's
// answer to another: the second request got the first one's CORS answer
// where the same request alone gets another, or (revalidation) a 304
// without the CORS headers of the 200. When the instances disagree among
// themselves, the second answer must also carry evidence that a cache
// answered (Age, X-Cache...), so that drift behind the layer does not
// pass for a cache.
func (c *comparison) cacheDefect(pair audit.CachePair) (cacheDefect, bool) {
	d := cacheDefect{pair: pair, layer: c.layerOf(pair.Front), kind: cacheKinds[pair.Order]}
	first, second := pair.FirstAnswer, pair.SecondAnswer
	probes := c.spec().Probes
	if d.kind == "" || first == nil || second == nil || first.Failed() || second.Failed() ||
		pair.Probe < 0 || pair.Probe >= len(probes) {
		return d, false
	}
	what := "GET"
	if pair.Preflight {
		what = "preflight"
	}
	if d.kind == KindCacheRevalidation {
		acao := first.Header.Get(cors.ACAO)
		if first.Status != http.StatusOK || acao == "" || second.Status != http.StatusNotModified || second.Header.Get(cors.ACAO) != "" {
			return d, false
		}
		d.sev = SeverityWarning
		d.what = fmt.Sprintf("answers the revalidation of a %s from %s (%s) with a 304 without the %s: %s its 200 had",
			what, pair.Second, conditional(second), cors.ACAO, acao)
		return d, true
	}
	fresh := pair.Fresh
	if pair.Order == "" && fresh == nil {
		// A report written before the matrix: the answer made for First,
		// named in the second answer's ACAO.
		got := second.Header.Get(cors.ACAO)
		if got == "" || got != pair.First || got == pair.Second {
			return d, false
		}
		d.sev = SeverityError
		d.what = fmt.Sprintf("served the %s answer made for %s to %s", what, pair.First, pair.Second)
		return d, true
	}
	sp := pair.Probe
	if pair.Order == audit.CachePreflightKey {
		sp = pair.SecondProbe
	}
	if fresh == nil || fresh.Failed() || sp < 0 || sp >= len(probes) {
		return d, false
	}
	got, alone, firstGot := cacheCanonical(second, pair.Preflight), cacheCanonical(fresh, pair.Preflight), cacheCanonical(first, pair.Preflight)
	if got == alone || got != firstGot {
		return d, false
	}
	// A round-robin layer with no cache gives the same pattern by chance
	// (first and second from instances that agree, the fresh copy from
	// one that does not). The instance header, where the target has one,
	// settles it: a cache replays the first answer's, so a second answer
	// naming another instance came from that instance. Otherwise, when the
	// instances or the layer's own samples disagree, a cache must say it
	// answered.
	if h := c.spec().LB.InstanceHeader; h != "" {
		if a, b := first.Header.Get(h), second.Header.Get(h); a != "" && b != "" && a != b {
			return d, false
		}
	}
	if (!c.instancesAgree() || c.layerVaries(pair)) && cacheEvidence(second.Header) == "" {
		return d, false
	}
	req := probes[sp].Request()
	req.Origin = pair.Second
	b := c.opt.Browser
	if b == "" {
		b = cors.Chromium
	}
	judge := func(e *audit.Exchange) cors.Verdict {
		if pair.Preflight {
			return cors.Evaluate(b, req, e.Response(), nil)
		}
		return cors.EvaluateActual(b, req, e.Response())
	}
	v, want := judge(second), judge(fresh)
	d.sev = SeverityWarning
	outcome := ""
	if v.Allowed != want.Allowed {
		d.sev = SeverityError
		outcome = fmt.Sprintf(" (browsers %s it, where the same request with nothing cached is %s: %s)", verb(outcomeWord(v)), outcomeWord(want), v.Message)
	}
	from := func(o string) string {
		if o == "" {
			return "a request without Origin"
		}
		return o
	}
	switch pair.Order {
	case audit.CachePreflightKey:
		plan := cors.PlanPreflightFor(b, probes[pair.Probe].Request())
		plan2 := cors.PlanPreflightFor(b, req)
		d.what = fmt.Sprintf("served the preflight answer made for %s %s to a preflight for %s %s%s",
			plan.Method, orNone(plan.Headers), plan2.Method, orNone(plan2.Headers), outcome)
	default:
		d.what = fmt.Sprintf("served the %s answer made for %s to %s%s", what, from(pair.First), pair.Second, outcome)
	}
	return d, true
}

// cacheCanonical is canonical(e, preflight) with the cache-busting
// parameter left out of a Location (a redirect names the URL requested,
// and the fresh request's parameter differs).
func cacheCanonical(e *audit.Exchange, preflight bool) string {
	if e.Location == "" {
		return canonical(e, preflight)
	}
	c := *e
	if u, err := url.Parse(e.Location); err == nil {
		q := u.Query()
		q.Del(audit.CacheParam)
		u.RawQuery = q.Encode()
		c.Location = u.String()
	}
	return canonical(&c, preflight)
}

// conditional names the validator a revalidation sent.
func conditional(e *audit.Exchange) string {
	if r := e.Sent(); r != nil && r.Header.Get("If-Modified-Since") != "" {
		return "If-Modified-Since"
	}
	return "If-None-Match"
}

func outcomeWord(v cors.Verdict) string {
	if v.Allowed {
		return OutcomeAllowed
	}
	return OutcomeBlocked
}

// instancesAgree reports whether every instance answered every probe
// alike (no drift a layer's samples could show).
func (c *comparison) instancesAgree() bool {
	for p := range c.spec().Probes {
		idx := c.answering(p, "")
		for _, i := range idx {
			if c.sig(i, p).Key() != c.sig(idx[0], p).Key() {
				return false
			}
		}
	}
	return true
}

// layerVaries reports whether the samples through the layer of pair gave
// its probes more than one answer: something behind the layer (an
// instance nobody discovered, a second pool) answers otherwise, and an
// answer that differs from a fresh one may be its, not a cache's.
func (c *comparison) layerVaries(pair audit.CachePair) bool {
	layers := c.res.Layers()
	l := c.layerOf(pair.Front)
	if l >= len(layers) {
		return false
	}
	for _, p := range []int{pair.Probe, pair.SecondProbe} {
		if p < 0 || p >= len(layers[l].Samples) {
			continue
		}
		seen := map[string]bool{}
		for _, o := range layers[l].Samples[p] {
			if !answered(o) {
				continue
			}
			var key strings.Builder
			for _, e := range []*audit.Exchange{o.Preflight, o.Actual} {
				if e != nil {
					key.WriteString(canonical(e, e == o.Preflight))
				}
				key.WriteString("\x00")
			}
			seen[key.String()] = true
		}
		if len(seen) > 1 {
			return true
		}
	}
	return false
}

// cacheHarm is the kind of an error a cache probe found through layer l or
// a layer in front of it ("" when none did).
func (c *comparison) cacheHarm(l layer) string {
	for _, d := range c.cacheDefects() {
		if d.layer <= l.index && d.sev == SeverityError {
			return string(d.kind)
		}
	}
	return ""
}

// layerOf is the index of the layer named front ("" or unknown: the
// first).
func (c *comparison) layerOf(front string) int {
	for k, l := range c.res.Layers() {
		if l.Name == front {
			return k
		}
	}
	return 0
}

// cacheEvidence is what in an answer says a cache served it: its Age, the
// cache's own hit header, the layers it passed ("" when nothing does).
func cacheEvidence(h http.Header) string {
	var out []string
	for _, name := range []string{"Age", "X-Cache", "X-Cache-Status", "Cf-Cache-Status", "X-Varnish", "X-Served-By", "Via"} {
		if v := h.Get(name); v != "" {
			out = append(out, http.CanonicalHeaderKey(name)+": "+v)
		}
	}
	return strings.Join(out, ", ")
}

// cacheHit reports whether an answer says a cache served it from what it
// stored: a HIT in X-Cache, X-Cache-Status or CF-Cache-Status, varnish's
// two transaction ids in X-Varnish, or an Age above 0.
func cacheHit(h http.Header) bool {
	for _, name := range []string{"X-Cache", "X-Cache-Status", "Cf-Cache-Status"} {
		if strings.Contains(strings.ToUpper(h.Get(name)), "HIT") {
			return true
		}
	}
	if len(strings.Fields(h.Get("X-Varnish"))) == 2 {
		return true
	}
	age, err := strconv.Atoi(strings.TrimSpace(h.Get("Age")))
	return err == nil && age > 0
}

// cachedMismatch reports whether sample o through layer l, whose verdict
// differs from the instances' majority, got its deciding answer from a
// cache that the cache probe matrix shows at fault through l or a layer
// in front of it: the cache finding reports it (cachedSamples), not
// lb-mismatch. Nothing is left out when the cache analysis is off.
func (c *comparison) cachedMismatch(l layer, o audit.Observation) bool {
	e := decidingExchange(o)
	return e != nil && c.opt.enabled(AnalysisCache) && cacheHit(e.Header) && c.cacheHarm(l) != ""
}

// cachedSamples counts the samples through layer l whose verdict a cached
// answer changed (cachedMismatch), and the samples answered.
func (c *comparison) cachedSamples(l layer) (n, total int) {
	for p, row := range l.samples {
		_, outcome := c.directMajority(p)
		for _, o := range row {
			if !answered(o) {
				continue
			}
			total++
			if outcome != "" && outcomeOf(o) != outcome && c.cachedMismatch(l, o) {
				n++
			}
		}
	}
	return n, total
}

// exchangeAddresses is the distinct --connect-to addresses of the
// exchanges, sorted (nil when they went to the URL's host).
func exchangeAddresses(es []*audit.Exchange) []string {
	var out []string
	for _, e := range es {
		if r := e.Sent(); r != nil && r.ConnectTo != "" && !slices.Contains(out, r.ConnectTo) {
			out = append(out, r.ConnectTo)
		}
	}
	slices.Sort(out)
	return out
}

// joinRequests is the curl commands of the recorded requests, joined with
// " && " ("" when one was not recorded).
func joinRequests(es ...*audit.Exchange) string {
	var s string
	for k, e := range es {
		r := e.Sent()
		if r == nil {
			return ""
		}
		if k > 0 {
			s += " && "
		}
		s += CurlRequest(r)
	}
	return s
}

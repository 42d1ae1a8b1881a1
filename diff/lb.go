package diff

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/internal/plural"
)

// outcomeOf is a verdict's outcome: OutcomeAllowed or OutcomeBlocked.
func outcomeOf(o audit.Observation) string {
	if o.Verdict().Allowed {
		return OutcomeAllowed
	}
	return OutcomeBlocked
}

// directMajority is the verdict ("allowed" or "blocked (reason)") and the
// outcome held by a strict majority of the instances that answered probe
// p ("" when none has one).
func (c *comparison) directMajority(p int) (verdict, outcome string) {
	idx := c.answering(p, "")
	if m := majority(largestFirst(groupBy(idx, func(i int) string { return c.sig(i, p).Outcome() })), len(idx)); m != nil {
		outcome = m.key
	}
	if m := majority(largestFirst(groupBy(idx, func(i int) string { return c.sig(i, p).Verdict })), len(idx)); m != nil {
		verdict = m.key
	}
	return verdict, outcome
}

// referenceOutcome is what browsers get for probe p without the load
// balancer in the way: the instances' majority outcome, else the policy's
// expectation ("" when neither says).
func (c *comparison) referenceOutcome(p int) string {
	if _, o := c.directMajority(p); o != "" {
		return o
	}
	return string(c.spec().Probes[p].Expect)
}

// lbSeverity is the severity of an LB finding about samples of probe p:
// an error when a sample's verdict differs from the reference (the load
// balancer blocks what the instances allow, or allows what they block), a
// warning when every verdict is the same, dflt when there is no reference.
func (c *comparison) lbSeverity(p int, samples []audit.Observation, dflt Severity) Severity {
	ref := c.referenceOutcome(p)
	if ref == "" {
		return dflt
	}
	for _, o := range samples {
		if outcomeOf(o) != ref {
			return SeverityError
		}
	}
	return SeverityWarning
}

// servedBy is the distinct instances that served the samples, sorted.
func servedBy(samples []audit.Observation) []string {
	var out []string
	for _, o := range samples {
		if s := o.ServedBy(); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// layer is one front as the lb checks read it: its samples, and how
// findings name it.
type layer struct {
	name    string
	samples [][]audit.Observation
	// index is the layer's place, 0 the outermost (TargetResult.LB).
	index int
	// named: the target lists its fronts, so findings name each layer;
	// otherwise the one layer is "the load balancer".
	named bool
}

// who names the layer in a message: "the load balancer", or "the cdn
// front".
func (l layer) who() string {
	if !l.named {
		return "the load balancer"
	}
	return "the " + l.name + " front"
}

// front is the layer's name for Finding.Front ("" without fronts).
func (l layer) front() string {
	if !l.named {
		return ""
	}
	return l.name
}

// layers are the target's fronts, outermost first (audit.Layers).
func (c *comparison) layers() []layer {
	var out []layer
	for k, l := range c.res.Layers() {
		out = append(out, layer{name: l.Name, samples: l.Samples, index: k, named: len(c.spec().Fronts) > 0})
	}
	return out
}

// lbProbe is what the samples of one probe through one layer showed.
type lbProbe struct {
	p                      int
	n                      int // samples answered
	redirects, answers     []audit.Observation
	evidence               []string // why answers are the layer's own
	mismatches             []audit.Observation
	changes                []audit.Observation // same verdict, other CORS headers
	redirectLoc            string
	majVerdict, majOutcome string
}

// lb compares the samples taken through each layer in front of the
// instances with the instances' answers, and names the first layer whose
// answers differ from the layer behind it: a finding every layer shows
// is the innermost one's, passed on by the layers in front of it.
func (c *comparison) lb() checked {
	var out checked
	if len(c.res.LB) == 0 && len(c.res.Fronts) == 0 {
		return out
	}
	layers := c.layers()
	per := make([][]Finding, len(layers))
	for k, l := range layers {
		var marks *checked
		if k == 0 {
			marks = &out // the report's LB row is the outermost layer's
		}
		per[k] = c.lbLayer(l, marks)
	}
	for k := range layers {
		for _, f := range per[k] {
			if k+1 < len(layers) {
				if slices.ContainsFunc(per[k+1], func(g Finding) bool { return sameLayerCause(f, g) }) {
					continue // the layer behind does it; this one passes it on
				}
				f.Message += "; " + layers[k+1].who() + " behind it does not"
			}
			if k > 0 && slices.ContainsFunc(per[0], func(g Finding) bool { return sameLayerCause(f, g) }) {
				f.Message += " (" + layers[0].who() + " passes it on to browsers)"
			}
			out.add(f)
		}
	}
	return out
}

// sameLayerCause reports whether findings of two layers show one cause:
// the same kind, probes and header differences.
func sameLayerCause(a, b Finding) bool {
	if a.Kind != b.Kind || differenceKey(a.Difference) != differenceKey(b.Difference) || a.Severity != b.Severity {
		return false
	}
	ids := func(f Finding) string {
		var s []string
		for _, p := range f.Probes {
			s = append(s, p.ID)
		}
		if len(s) == 0 && f.Probe != nil {
			s = append(s, f.Probe.ID)
		}
		return strings.Join(s, ",")
	}
	return ids(a) == ids(b)
}

// lbLayer is what the samples through one layer show; marks, when set,
// receives the report's drifting LB cells.
func (c *comparison) lbLayer(l layer, marks *checked) []Finding {
	var out checked
	var probes []lbProbe
	anyAnswered := false
	for p := range l.samples {
		lp := c.lbProbe(l, p)
		anyAnswered = anyAnswered || lp.n > 0
		probes = append(probes, lp)
		if len(lp.mismatches) > 0 {
			out.mark(p, lbRow)
			out.add(c.lbMismatches(l, lp)...)
		}
	}
	if !anyAnswered {
		out.add(c.lbUnreachable(l)...)
		return out.findings
	}
	for _, kind := range []Kind{KindLBRedirect, KindLBAnswersOptions} {
		if f, ps := c.lbAggregate(l, kind, probes); len(ps) > 0 {
			for _, p := range ps {
				out.mark(p, lbRow)
			}
			out.add(f)
		}
	}
	out.add(c.lbChanges(l, probes)...)
	out.add(c.protocolMismatch(l)...)
	if marks != nil {
		marks.drift = append(marks.drift, out.drift...)
	}
	return out.findings
}

// lbProbe sorts the answered samples of probe p through layer l into
// redirects, answers the layer made itself, verdicts that differ from the
// instances', and answers it changed without changing the verdict.
func (c *comparison) lbProbe(l layer, p int) lbProbe {
	lp := lbProbe{p: p}
	lp.majVerdict, lp.majOutcome = c.directMajority(p)
	direct := c.directPreflights(p)
	for _, o := range l.samples[p] {
		if !answered(o) {
			continue
		}
		lp.n++
		switch ev := c.answeredItself(o, direct); {
		case o.Preflight != nil && o.Preflight.Status >= 300 && o.Preflight.Status < 400:
			lp.redirects = append(lp.redirects, o)
			lp.redirectLoc = o.Preflight.Location
		case ev != "":
			lp.answers = append(lp.answers, o)
			if !slices.Contains(lp.evidence, ev) {
				lp.evidence = append(lp.evidence, ev)
			}
		case invalidDetail(o) != "" || c.leftToMisconfig(p):
			// reported as invalid-header, or judged by the misconfig check
		case (lp.majOutcome != "" && outcomeOf(o) != lp.majOutcome || lp.majVerdict != "" && verdictString(o.Verdict()) != lp.majVerdict) &&
			c.cachedMismatch(l, o):
			// a cached answer: the cache finding reports it
		case lp.majOutcome != "" && outcomeOf(o) != lp.majOutcome,
			lp.majVerdict != "" && verdictString(o.Verdict()) != lp.majVerdict:
			lp.mismatches = append(lp.mismatches, o)
		case lp.majVerdict != "" && c.changedByLayer(p, o):
			lp.changes = append(lp.changes, o)
		}
	}
	return lp
}

// lbMismatches reports the LB samples of lp whose verdict differs from the
// instances' majority. Samples that carry the answer of the instance that
// served them, passed through, are that instance's doing: one finding per
// such answer, which group folds into the instances' own finding (its
// share of load balancer requests). The rest is the load balancer's doing
// (it changes the answers, or sends requests to instances nobody audits):
// one finding, whose difference is with the answer of the instance that
// served the deciding step (with the majority's when it is not known).
func (c *comparison) lbMismatches(l layer, lp lbProbe) []Finding {
	passed := map[string][]audit.Observation{}
	var answers []string
	var own []audit.Observation
	for _, o := range lp.mismatches {
		sig, ok := c.passedThrough(lp.p, o)
		if !ok {
			own = append(own, o)
			continue
		}
		if _, seen := passed[sig]; !seen {
			answers = append(answers, sig)
		}
		passed[sig] = append(passed[sig], o)
	}
	var out []Finding
	for _, sig := range answers {
		f := c.lbMismatch(l, lp, passed[sig], false)
		f.cause.passed = &passedSamples{p: lp.p, sig: sig}
		out = append(out, f)
	}
	if len(own) > 0 {
		out = append(out, c.lbMismatch(l, lp, own, true))
	}
	return out
}

// passedThrough reports whether an LB sample of probe p carries an
// instance's own answer, and which (its Signature.Key): the instance that
// served the deciding step answered that step alike when asked directly;
// when the load balancer does not say which instance served it, the
// sample's answer is the key (group folds it into the instances that
// answer so, if any do).
func (c *comparison) passedThrough(p int, o audit.Observation) (string, bool) {
	e := decidingExchange(o)
	if e == nil {
		return "", false
	}
	if e.ServedBy == "" {
		return signatureOf(o).Key(), true
	}
	i, ok := c.row(e.ServedBy)
	if !ok {
		return "", false
	}
	d := c.res.Direct.At(i, p)
	if !answered(d) {
		return "", false
	}
	step := d.Actual
	if e == o.Preflight {
		step = d.Preflight
	}
	if step == nil || step.Failed() || canonical(step, e == o.Preflight) != canonical(e, e == o.Preflight) {
		return "", false
	}
	return c.sig(i, p).Key(), true
}

// row is the row of the instance with this id (false for an instance the
// target does not list). Only the few ids LB samples name are looked up,
// each once.
func (c *comparison) row(id string) (int, bool) {
	if i, ok := c.rows[id]; ok {
		return i, i >= 0
	}
	if c.rows == nil {
		c.rows = map[string]int{}
	}
	c.rows[id] = -1
	for i, in := range c.spec().Target.Instances {
		if in.ID == id {
			c.rows[id] = i
			break
		}
	}
	return c.rows[id], c.rows[id] >= 0
}

// lbMismatch is the finding for samples of lp (all of them, or those an
// instance's answer explains), naming the instance that served the step
// that decided. own: the samples are the load balancer's doing, and the
// difference is with the answer of the instance that served them.
func (c *comparison) lbMismatch(l layer, lp lbProbe, samples []audit.Observation, own bool) Finding {
	var names, served []string
	sev := SeverityWarning
	for _, o := range samples {
		if outcomeOf(o) != lp.majOutcome {
			sev = SeverityError
		}
		e := decidingExchange(o)
		if e == nil || e.ServedBy == "" {
			continue
		}
		step := "actual request"
		if e == o.Preflight {
			step = "preflight"
		}
		if s := e.ServedBy + " (" + step + ")"; !slices.Contains(served, s) {
			served = append(served, s)
		}
		if !slices.Contains(names, e.ServedBy) {
			names = append(names, e.ServedBy)
		}
	}
	sort.Strings(names)
	sort.Strings(served)
	by := l.who() + " does not say which instance served them (set " + c.opt.setting("lb.instance_header", "--instance-header") + ")"
	if len(served) > 0 {
		by = "the deciding step was served by " + strings.Join(served, ", ")
	}
	first := samples[0]
	sig := signatureOf(first)
	what := fmt.Sprintf("%s %s where the instances' majority %s", verb(sig.Outcome()), c.spec().Probes[lp.p], verb(lp.majOutcome))
	if sev == SeverityWarning {
		what = fmt.Sprintf("block %s for another reason than the instances' majority (%s instead of %s)",
			c.spec().Probes[lp.p], sig.Verdict, lp.majVerdict)
	}
	// The difference is with the instance that served the deciding step,
	// for the load balancer's own doing; else with an instance answering
	// as the majority does.
	var ds []HeaderDifference
	if e := decidingExchange(first); own && e != nil && e.ServedBy != "" {
		if i, ok := c.row(e.ServedBy); ok && answered(c.res.Direct.At(i, lp.p)) {
			ds = differences(c.res.Direct.At(i, lp.p), first)
		}
	}
	if ds == nil {
		ds = c.differenceFromMajority(lp.p, lp.majVerdict, first)
	}
	share := float64(len(samples)) / float64(lp.n)
	n := len(samples)
	through := "through " + l.who()
	return Finding{Kind: KindLBMismatch, Severity: sev, Instances: append([]string{"lb"}, names...),
		Front: l.front(), Addresses: addressesOf(samples),
		Probe: c.probeRef(lp.p), Expected: lp.majVerdict + " (direct majority)", Observed: sig.Describe(),
		Difference: ds, Share: share,
		Message: fmt.Sprintf("%d of %s %s %s: %s%s%s; %s",
			n, plural.Count(lp.n, "request"), through, what, howOften(n, lp.n), because(ds, ""), atAddresses(samples), by),
		Reproduce: reproduceDifference(first, ds),
		// One cause whichever step shows it and whichever instance served
		// it: a load balancer that strips a header does so on the
		// preflight of one request and on the actual answer of a simple
		// one, on every instance's answers. One layer's, not another's.
		cause: &cause{key: l.name + "\x00" + sig.Outcome() + "\x00" + headerChangeKey(ds, sig.Verdict), unite: true,
			message: func(ps []ProbeRef, instances []string) string {
				by := by
				if len(instances) > 1 {
					by = "the deciding steps were served by " + strings.Join(instances[1:], ", ")
				}
				return fmt.Sprintf("requests %s for %s are %s on some samples where the instances' majority %s them (%s)%s%s; %s",
					through, requestsPhrase(ps), sig.Outcome(), verb(lp.majOutcome)+"s", howOften(n, lp.n), because(ds, first.Verdict().Message), atAddresses(samples), by)
			}}}
}

// differenceFromMajority is how o differs from an instance that answered
// probe p with the majority's verdict (nil when none did).
func (c *comparison) differenceFromMajority(p int, majVerdict string, o audit.Observation) []HeaderDifference {
	for _, i := range c.answering(p, "") {
		if c.sig(i, p).Verdict == majVerdict {
			return differences(c.res.Direct.At(i, p), o)
		}
	}
	return nil
}

// howOften says how often users see a difference that n of total
// requests through the load balancer show.
func howOften(n, total int) string {
	if n == total {
		return "users see it on every request"
	}
	return "users see it intermittently"
}

// addressesOf is the distinct addresses the samples were sent to (their
// deciding step's --connect-to), sorted; nil when they went to the URL's
// host.
func addressesOf(samples []audit.Observation) []string {
	var out []string
	for _, o := range samples {
		if r := o.Sent(decidingExchange(o)); r != nil && r.ConnectTo != "" && !slices.Contains(out, r.ConnectTo) {
			out = append(out, r.ConnectTo)
		}
	}
	sort.Strings(out)
	return out
}

// atAddresses names, in a message, the addresses the samples were sent to
// when the layer's name resolved to several: " (at 10.0.0.1:443)".
func atAddresses(samples []audit.Observation) string {
	as := addressesOf(samples)
	if len(as) == 0 {
		return ""
	}
	return " (at " + strings.Join(as, ", ") + ")"
}

// lbAggregate is the one finding of kind (lb-redirect or
// lb-answers-options) for the layer, and the probes it covers.
func (c *comparison) lbAggregate(l layer, kind Kind, probes []lbProbe) (Finding, []int) {
	var ps []int
	var first audit.Observation
	var all []audit.Observation
	var evidence []string
	share := 0.0
	sev := SeverityWarning
	if kind == KindLBRedirect {
		sev = ""
	}
	loc := ""
	for _, lp := range probes {
		samples := lp.answers
		if kind == KindLBRedirect {
			samples = lp.redirects
		}
		if len(samples) == 0 {
			continue
		}
		if len(ps) == 0 {
			first = samples[0]
			loc = lp.redirectLoc
		}
		all = append(all, samples...)
		for _, e := range lp.evidence {
			if kind == KindLBAnswersOptions && !slices.Contains(evidence, e) {
				evidence = append(evidence, e)
			}
		}
		ps = append(ps, lp.p)
		share = max(share, float64(len(samples))/float64(lp.n))
		if s := c.lbSeverity(lp.p, samples, kind.DefaultSeverity()); s.Rank() > sev.Rank() {
			sev = s
		}
	}
	if len(ps) == 0 {
		return Finding{}, nil
	}
	f := Finding{Kind: kind, Severity: sev, Instances: []string{"lb"}, Front: l.front(), Addresses: addressesOf(all),
		Share: share, Reproduce: Reproduce(first)}
	for _, p := range ps {
		f.Probes = append(f.Probes, *c.probeRef(p))
	}
	f.Probe = &f.Probes[0]
	if kind == KindLBRedirect {
		f.Expected, f.Observed = "a 2xx answer to the preflight", "3xx redirect to "+loc
		f.Message = fmt.Sprintf("%s redirects OPTIONS preflights (%d of %d preflighted probes, Location: %s)%s: browsers reject every redirected preflight",
			l.who(), len(ps), c.preflighted(l), loc, atAddresses(all))
		return f, ps
	}
	sort.Strings(evidence)
	f.Expected, f.Observed = "preflights passed to the instances", signatureOf(first).Describe()
	f.Message = fmt.Sprintf("%s answers OPTIONS preflights itself (%d of %d preflighted probes)%s: %s",
		l.who(), len(ps), c.preflighted(l), atAddresses(all), strings.Join(evidence, "; "))
	if sev == SeverityError {
		f.Message += "; its answer changes what browsers decide"
		if ref := c.referenceOutcome(ps[0]); ref != "" && ref != outcomeOf(first) {
			f.Message += fmt.Sprintf(" (%s %s, which the instances %s: %s)", verb(outcomeOf(first))+"s",
				c.spec().Probes[ps[0]], verb(ref), first.Verdict().Message)
		}
	} else {
		f.Message += " (browsers decide the same as with the instances' answers)"
	}
	return f, ps
}

// lbChanges reports the answers of layer l that reach the same verdicts as
// the instances' but with other CORS headers: what the layer changes, one
// finding per change (a Vary: Origin dropped is a cache hazard, an error
// once a cache probe through this layer or one in front of it shows the
// harm).
func (c *comparison) lbChanges(l layer, probes []lbProbe) []Finding {
	type change struct {
		key     string
		ds      []HeaderDifference
		samples []audit.Observation
		probes  []int
		n       int
	}
	var changes []*change
	for _, lp := range probes {
		for _, o := range lp.changes {
			ds := c.differenceFromMajority(lp.p, lp.majVerdict, o)
			if len(ds) == 0 {
				continue
			}
			key := headerChangeKey(ds, "")
			k := slices.IndexFunc(changes, func(ch *change) bool { return ch.key == key })
			if k < 0 {
				changes = append(changes, &change{key: key, ds: ds})
				k = len(changes) - 1
			}
			ch := changes[k]
			ch.samples = append(ch.samples, o)
			if !slices.Contains(ch.probes, lp.p) {
				ch.probes = append(ch.probes, lp.p)
				ch.n += lp.n
			}
		}
	}
	var out []Finding
	for _, ch := range changes {
		f := Finding{Kind: KindLBChangesHeaders, Severity: SeverityWarning, Instances: []string{"lb"}, Front: l.front(),
			Addresses: addressesOf(ch.samples), Difference: ch.ds, Expected: "the instances' CORS headers",
			Observed: differenceSentence(ch.ds, 1), Share: float64(len(ch.samples)) / float64(ch.n),
			Reproduce: reproduceDifference(ch.samples[0], ch.ds)}
		for _, p := range ch.probes {
			f.Probes = append(f.Probes, *c.probeRef(p))
		}
		f.Probe = &f.Probes[0]
		f.Message = fmt.Sprintf("%s changes the instances' CORS headers on %d of %s through it: it %s%s; browsers decide the same as with the instances' answers",
			l.who(), len(ch.samples), plural.Count(ch.n, "request"), differenceSentence(ch.ds, 1), atAddresses(ch.samples))
		if dropsVary(ch.ds) {
			f.Message += "; without Vary: Origin a cache (this layer's, one in front of it, the browser's) can serve one origin's answer to another"
			if k := c.cacheHarm(l); k != "" {
				f.Severity = SeverityError
				f.Message += ": the cache probe shows it (" + k + ")"
			}
		}
		out = append(out, f)
	}
	return out
}

// dropsVary reports whether the differences remove Vary: Origin.
func dropsVary(ds []HeaderDifference) bool {
	return slices.ContainsFunc(ds, func(d HeaderDifference) bool {
		return d.Header == "Vary" && d.Expected != "" && d.Observed == ""
	})
}

// changedByLayer reports whether sample o of probe p carries CORS headers
// that no instance answered p with: a layer that changed the headers,
// since the verdict is the instances' majority's.
func (c *comparison) changedByLayer(p int, o audit.Observation) bool {
	got := signatureOf(o).Key()
	for _, i := range c.answering(p, "") {
		if c.sig(i, p).Key() == got {
			return false
		}
	}
	return len(c.answering(p, "")) > 0
}

// lbUnreachable reports a layer that answered none of the requests sent
// through it.
func (c *comparison) lbUnreachable(l layer) []Finding {
	total := 0
	var first *audit.Observation
	for _, samples := range l.samples {
		for k, o := range samples {
			if sent(o) {
				total++
				if first == nil && failed(o) {
					first = &samples[k]
				}
			}
		}
	}
	if total == 0 || first == nil {
		return nil
	}
	e := decidingExchange(*first)
	at := c.res.URL.Host
	if r := first.Sent(e); r != nil {
		if u, err := url.Parse(r.URL); err == nil {
			at = u.Host
		}
		if r.ConnectTo != "" {
			at = r.ConnectTo
		}
	}
	return []Finding{{Kind: KindUnreachable, Instances: []string{"lb"}, Front: l.front(), Expected: "an HTTP response",
		Observed:  string(e.Err) + ": " + e.ErrMsg,
		Message:   fmt.Sprintf("%s at %s answered none of %s", l.who(), at, plural.Count(total, "request")),
		Reproduce: Reproduce(*first)}}
}

// preflighted counts the probes whose samples through l sent a preflight.
func (c *comparison) preflighted(l layer) int {
	n := 0
	for _, row := range l.samples {
		if slices.ContainsFunc(row, func(o audit.Observation) bool { return o.Preflight != nil }) {
			n++
		}
	}
	return n
}

// directPreflights is what the instances answered the preflights of one
// probe, and every CORS header they send on any preflight: what an
// answer through a layer is compared with to tell one the layer made
// itself.
type directPreflights struct {
	// statuses are the statuses the instances gave the probe's preflight.
	statuses map[int]bool
	// names are the Access-Control-* headers the instances send on any
	// preflight (of any probe).
	names map[string]bool
	// servedBy: the instances name themselves in the configured instance
	// header on preflight answers.
	servedBy bool
}

// directPreflights is what the instances answered probe p's preflight.
func (c *comparison) directPreflights(p int) directPreflights {
	d := directPreflights{statuses: map[int]bool{}, names: c.preflightHeaderNames(), servedBy: c.instancesSendHeader()}
	for _, i := range c.answering(p, "") {
		if pre := c.res.Direct.At(i, p).Preflight; pre != nil {
			d.statuses[pre.Status] = true
		}
	}
	return d
}

// preflightHeaderNames are the Access-Control-* headers the instances
// send on any preflight answer, in canonical form.
func (c *comparison) preflightHeaderNames() map[string]bool {
	if c.preNames != nil {
		return c.preNames
	}
	names := map[string]bool{}
	d := c.res.Direct
	for i := range d.Instances() {
		if !d.Probed(i) {
			continue
		}
		for _, o := range d.Each(i) {
			if !answered(o) || o.Preflight == nil {
				continue
			}
			for k := range o.Preflight.Header {
				if isACHeader(k) {
					names[http.CanonicalHeaderKey(k)] = true
				}
			}
		}
	}
	c.preNames = names
	return names
}

// isACHeader reports whether name is an Access-Control-* header.
func isACHeader(name string) bool {
	const prefix = "access-control-"
	return len(name) > len(prefix) && strings.EqualFold(name[:len(prefix)], prefix)
}

// answeredItself is the evidence that a sample's preflight answer was made
// by the layer, not by an instance ("" when there is none): the
// configured instance header absent where the instances send it, a
// status the instances never give that preflight, or a CORS header no
// instance sends on any preflight. An answer that only differs from the
// instances' (a header dropped, a value changed) is not evidence: a layer
// that passes preflights on and rewrites their headers does that too.
func (c *comparison) answeredItself(o audit.Observation, d directPreflights) string {
	pre := o.Preflight
	if pre == nil || len(d.statuses) == 0 || (pre.Status >= 300 && pre.Status < 400) {
		return ""
	}
	if h := c.spec().LB.InstanceHeader; h != "" && d.servedBy {
		if pre.ServedBy == "" {
			return "its answers lack " + h + ", which every instance sends"
		}
		return ""
	}
	if !d.statuses[pre.Status] {
		var st []string
		for s := range d.statuses {
			st = append(st, fmt.Sprint(s))
		}
		sort.Strings(st)
		return fmt.Sprintf("its answers have status %d, which the instances never give (%s)", pre.Status, strings.Join(st, ", "))
	}
	var extra []string
	for k := range pre.Header {
		if isACHeader(k) && !d.names[http.CanonicalHeaderKey(k)] {
			extra = append(extra, http.CanonicalHeaderKey(k))
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return "its answers carry " + strings.Join(extra, ", ") + ", which no instance sends"
	}
	return ""
}

// instancesSendHeader reports whether the instances name themselves in the
// configured instance header on preflight answers.
func (c *comparison) instancesSendHeader() bool {
	for i := range c.res.Direct.Instances() {
		for _, o := range c.res.Direct.Each(i) {
			if answered(o) && o.Preflight != nil {
				return o.Preflight.ServedBy != ""
			}
		}
	}
	return false
}

// headerChangeKey is what the differences change, whatever the step that
// shows them (the verdict when nothing differs in the headers).
func headerChangeKey(ds []HeaderDifference, verdict string) string {
	if len(ds) == 0 {
		return "verdict\x00" + verdict
	}
	var keys []string
	for _, d := range ds {
		if k := d.String(); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return strings.Join(keys, "\x00")
}

package diff

import (
	"fmt"
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

// lbProbe is what the LB samples of one probe showed.
type lbProbe struct {
	p                      int
	n                      int // samples answered
	redirects, answers     []audit.Observation
	mismatches             []audit.Observation
	redirectLoc            string
	majVerdict, majOutcome string
}

// lb compares the samples taken through the load balancer with the
// instances' answers.
func (c *comparison) lb() checked {
	var out checked
	if len(c.res.LB) == 0 {
		return out
	}
	var probes []lbProbe
	anyAnswered := false
	for p := range c.res.LB {
		lp := c.lbProbe(p)
		anyAnswered = anyAnswered || lp.n > 0
		probes = append(probes, lp)
		if len(lp.mismatches) > 0 {
			out.mark(p, lbRow)
			out.add(c.lbMismatches(lp)...)
		}
	}
	if !anyAnswered {
		out.add(c.lbUnreachable()...)
		return out
	}
	for _, kind := range []Kind{KindLBRedirect, KindLBAnswersOptions} {
		if f, ps := c.lbAggregate(kind, probes); len(ps) > 0 {
			for _, p := range ps {
				out.mark(p, lbRow)
			}
			out.add(f)
		}
	}
	return out
}

// lbProbe sorts the answered LB samples of probe p into redirects,
// answers the LB made itself, and verdicts that differ from the instances'.
func (c *comparison) lbProbe(p int) lbProbe {
	lp := lbProbe{p: p}
	lp.majVerdict, lp.majOutcome = c.directMajority(p)
	directPre := c.directPreflightAnswers(p)
	for _, o := range c.res.LB[p] {
		if !answered(o) {
			continue
		}
		lp.n++
		switch {
		case o.Preflight != nil && o.Preflight.Status >= 300 && o.Preflight.Status < 400:
			lp.redirects = append(lp.redirects, o)
			lp.redirectLoc = o.Preflight.Location
		case o.Preflight != nil && c.lbAnswered(o, directPre):
			lp.answers = append(lp.answers, o)
		case invalidDetail(o) != "" || c.leftToMisconfig(p):
			// reported as invalid-header, or judged by the misconfig check
		case lp.majOutcome != "" && outcomeOf(o) != lp.majOutcome,
			lp.majVerdict != "" && VerdictString(o.Verdict()) != lp.majVerdict:
			lp.mismatches = append(lp.mismatches, o)
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
func (c *comparison) lbMismatches(lp lbProbe) []Finding {
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
		f := c.lbMismatch(lp, passed[sig], false)
		f.cause.passed = &passedSamples{p: lp.p, sig: sig}
		out = append(out, f)
	}
	if len(own) > 0 {
		out = append(out, c.lbMismatch(lp, own, true))
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
	e := DecidingExchange(o)
	if e == nil {
		return "", false
	}
	if e.ServedBy == "" {
		return SignatureOf(o).Key(), true
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
func (c *comparison) lbMismatch(lp lbProbe, samples []audit.Observation, own bool) Finding {
	var names, served []string
	sev := SeverityWarning
	for _, o := range samples {
		if outcomeOf(o) != lp.majOutcome {
			sev = SeverityError
		}
		e := DecidingExchange(o)
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
	by := "the load balancer does not say which instance served them (set " + c.opt.setting("lb.instance_header", "--instance-header") + ")"
	if len(served) > 0 {
		by = "the deciding step was served by " + strings.Join(served, ", ")
	}
	first := samples[0]
	sig := SignatureOf(first)
	what := fmt.Sprintf("%s %s where the instances' majority %s", verb(sig.Outcome()), c.spec().Probes[lp.p], verb(lp.majOutcome))
	if sev == SeverityWarning {
		what = fmt.Sprintf("block %s for another reason than the instances' majority (%s instead of %s)",
			c.spec().Probes[lp.p], sig.Verdict, lp.majVerdict)
	}
	// The difference is with the instance that served the deciding step,
	// for the load balancer's own doing; else with an instance answering
	// as the majority does.
	var ds []HeaderDifference
	if e := DecidingExchange(first); own && e != nil && e.ServedBy != "" {
		if i, ok := c.row(e.ServedBy); ok && answered(c.res.Direct.At(i, lp.p)) {
			ds = Differences(c.res.Direct.At(i, lp.p), first)
		}
	}
	if ds == nil {
		for _, i := range c.answering(lp.p, "") {
			if c.sig(i, lp.p).Verdict == lp.majVerdict {
				ds = Differences(c.res.Direct.At(i, lp.p), first)
				break
			}
		}
	}
	share := float64(len(samples)) / float64(lp.n)
	n := len(samples)
	return Finding{Kind: KindLBMismatch, Severity: sev, Instances: append([]string{"lb"}, names...),
		Probe: c.probeRef(lp.p), Expected: lp.majVerdict + " (direct majority)", Observed: sig.Describe(),
		Difference: ds, Share: share,
		Message: fmt.Sprintf("%d of %s through the load balancer %s: %s%s; %s",
			n, plural.Count(lp.n, "request"), what, howOften(n, lp.n), because(ds, ""), by),
		Reproduce: ReproduceDifference(first, ds),
		// One cause whichever step shows it and whichever instance served
		// it: a load balancer that strips a header does so on the
		// preflight of one request and on the actual answer of a simple
		// one, on every instance's answers.
		cause: &cause{key: sig.Outcome() + "\x00" + headerChangeKey(ds, sig.Verdict), unite: true,
			message: func(ps []ProbeRef, instances []string) string {
				by := by
				if len(instances) > 1 {
					by = "the deciding steps were served by " + strings.Join(instances[1:], ", ")
				}
				return fmt.Sprintf("requests through the load balancer for %s are %s on some samples where the instances' majority %s them (%s)%s; %s",
					requestsPhrase(ps), sig.Outcome(), verb(lp.majOutcome)+"s", howOften(n, lp.n), because(ds, first.Verdict().Message), by)
			}}}
}

// howOften says how often users see a difference that n of total
// requests through the load balancer show.
func howOften(n, total int) string {
	if n == total {
		return "users see it on every request"
	}
	return "users see it intermittently"
}

// lbAggregate is the one finding of kind (lb-redirect or
// lb-answers-options) for the target, and the probes it covers.
func (c *comparison) lbAggregate(kind Kind, probes []lbProbe) (Finding, []int) {
	var ps []int
	var first audit.Observation
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
		ps = append(ps, lp.p)
		share = max(share, float64(len(samples))/float64(lp.n))
		if s := c.lbSeverity(lp.p, samples, kind.DefaultSeverity()); s.Rank() > sev.Rank() {
			sev = s
		}
	}
	if len(ps) == 0 {
		return Finding{}, nil
	}
	f := Finding{Kind: kind, Severity: sev, Instances: []string{"lb"}, Share: share, Reproduce: Reproduce(first)}
	for _, p := range ps {
		f.Probes = append(f.Probes, *c.probeRef(p))
	}
	f.Probe = &f.Probes[0]
	if kind == KindLBRedirect {
		f.Expected, f.Observed = "a 2xx answer to the preflight", "3xx redirect to "+loc
		f.Message = fmt.Sprintf("the load balancer redirects OPTIONS preflights (%d of %d preflighted probes, Location: %s): browsers reject every redirected preflight",
			len(ps), c.preflighted(), loc)
		return f, ps
	}
	f.Expected, f.Observed = "preflights passed to the instances", SignatureOf(first).Describe()
	f.Message = fmt.Sprintf("the load balancer answers OPTIONS preflights itself (%d of %d preflighted probes) with CORS headers no instance sends",
		len(ps), c.preflighted())
	if sev == SeverityError {
		f.Message += ": its answer changes what browsers decide"
		if ref := c.referenceOutcome(ps[0]); ref != "" && ref != outcomeOf(first) {
			f.Message += fmt.Sprintf(" (%s %s, which the instances %s: %s)", verb(outcomeOf(first))+"s",
				c.spec().Probes[ps[0]], verb(ref), first.Verdict().Message)
		}
	} else {
		f.Message += " (browsers decide the same as with the instances' answers)"
	}
	return f, ps
}

// lbUnreachable reports a load balancer that answered none of the
// requests sent through it.
func (c *comparison) lbUnreachable() []Finding {
	total := 0
	var first *audit.Observation
	for _, samples := range c.res.LB {
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
	e := DecidingExchange(*first)
	return []Finding{{Kind: KindUnreachable, Instances: []string{"lb"}, Expected: "an HTTP response",
		Observed:  string(e.Err) + ": " + e.ErrMsg,
		Message:   fmt.Sprintf("the load balancer at %s answered none of %s", c.res.URL.Host, plural.Count(total, "request")),
		Reproduce: Reproduce(*first)}}
}

// preflighted counts the probes whose LB samples sent a preflight.
func (c *comparison) preflighted() int {
	n := 0
	for _, row := range c.res.LB {
		if slices.ContainsFunc(row, func(o audit.Observation) bool { return o.Preflight != nil }) {
			n++
		}
	}
	return n
}

// directPreflightAnswers is the set of canonical preflight answers the
// instances gave for probe p.
func (c *comparison) directPreflightAnswers(p int) map[string]bool {
	out := map[string]bool{}
	for _, i := range c.answering(p, "") {
		if pre := c.res.Direct.At(i, p).Preflight; pre != nil {
			out[canonical(pre, true)] = true
		}
	}
	return out
}

// lbAnswered reports whether an LB sample's preflight answer came from the
// LB itself: with an instance header configured, the header is missing;
// without one, the answer matches no instance's.
func (c *comparison) lbAnswered(o audit.Observation, direct map[string]bool) bool {
	if len(direct) == 0 {
		return false
	}
	if c.spec().LB.InstanceHeader != "" && c.instancesSendHeader() {
		return o.Preflight.ServedBy == ""
	}
	return !direct[canonical(o.Preflight, true)]
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

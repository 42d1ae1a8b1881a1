package diff

import (
	"fmt"
	"slices"
	"strings"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/internal/plural"
)

// leftToMisconfig reports whether probe p is judged by the misconfig check,
// which also reports its drift across instances, so that the generic
// comparisons skip it and one mistake is not reported once per probe: an
// adversarial probe, or the disallowed-origin probe when the plan has
// adversarial probes (their arbitrary origin covers it).
func (c *comparison) leftToMisconfig(p int) bool {
	if !c.opt.enabled(AnalysisMisconfig) {
		return false
	}
	switch class := c.spec().Probes[p].Class; {
	case audit.IsAdversarial(class):
		return true
	case class == audit.ClassDisallowed:
		// Access-Control-Allow-Origin: * is no misconfiguration the misconfig
		// check reports, but it still breaks a policy that lists origins.
		if c.answersWildcard(p) {
			return false
		}
		for _, pr := range c.spec().Probes {
			if audit.IsAdversarial(pr.Class) {
				return true
			}
		}
	}
	return false
}

// answersWildcard reports whether an instance answered probe p with
// Access-Control-Allow-Origin: *.
func (c *comparison) answersWildcard(p int) bool {
	for _, i := range c.answering(p, "") {
		o := c.res.Direct.At(i, p)
		for _, e := range []*audit.Exchange{o.Preflight, o.Actual} {
			if e != nil && e.Header.Get(cors.ACAO) == "*" {
				return true
			}
		}
	}
	return false
}

// drift compares every instance's answer for probe p with the reference:
// the majority of all instances (or of the baseline group), or, with
// Options.Policy, the probe's expectation. Verdict drift is an instance
// allowing what the majority blocks or the reverse; header drift is the
// same verdict with other headers or for another reason. Each is a
// symptom of its instances' answer (answerCause): group makes one finding
// of every symptom of the same instances.
func (c *comparison) drift(p int) checked {
	cmp := c.answering(p, c.opt.Candidate)
	if c.opt.Policy {
		return c.policyOnly(p, cmp)
	}
	var out checked
	ref := c.answering(p, c.opt.Baseline)
	if len(ref) == 0 {
		return out
	}
	pr := c.spec().Probes[p]
	sig := func(i int) signature { return c.sig(i, p) }
	byOutcome := largestFirst(groupBy(ref, func(i int) string { return sig(i).Outcome() }))
	maj := majority(byOutcome, len(ref))
	if maj == nil {
		if len(byOutcome) > 1 {
			out.merge(c.verdictSplit(p, byOutcome, cmp))
		}
		return out
	}
	var other []int
	for _, i := range cmp {
		if sig(i).Outcome() != maj.key {
			other = append(other, i)
		}
	}
	majSig := sig(maj.items[0])
	majObs := c.res.Direct.At(maj.items[0], p)
	for _, g := range groupBy(other, func(i int) string { return sig(i).Key() }) {
		idx := g.items
		obs := c.res.Direct.At(idx[0], p)
		got := sig(idx[0])
		gotN := plural.Verb(len(idx), verb(got.Outcome())) // "1 of 11 instances blocks"
		msg := fmt.Sprintf("%s %s %s where %s %s", c.ofCompared(len(idx), len(cmp)), gotN, pr, c.reference(), verb(maj.key))
		if obs.Verdict().Message != "" {
			msg += ": " + obs.Verdict().Message
		}
		ds := differences(majObs, obs)
		out.mark(p, idx...)
		out.add(Finding{Kind: KindVerdictDrift, Instances: c.ids(idx), Groups: c.groups(idx), Probe: c.probeRef(p),
			Expected: majSig.Describe(), Observed: got.Describe(), Difference: ds, Message: msg,
			Reproduce: reproduceDifference(obs, ds), Compared: len(cmp),
			cause: &cause{answer: &answerCause{idx: idx, p: p, sig: g.key, outcome: got.Outcome(), refOutcome: maj.key,
				verdict: got.Verdict, refVerdict: majSig.Verdict, reference: c.reference(), message: obs.Verdict().Message}}})
	}
	out.merge(c.headerDrift(p, maj.items, cmp))
	// The fleet agrees, but not with the declared policy.
	if pr.Expect != audit.ExpectNone && maj.key != string(pr.Expect) {
		var idx []int
		for _, i := range maj.items {
			if (c.opt.Candidate == "" || c.inst(i).Group == c.opt.Candidate) && !c.errorWithoutCORS(i, p) {
				idx = append(idx, i)
			}
		}
		if len(idx) > 0 {
			out.add(c.policyViolation(p, idx, len(cmp)))
		}
	}
	return out
}

// headerDrift compares, among the instances sharing the majority verdict
// (same), the full answers: instances of cmp that differ from the majority
// answer are header drift; no majority answer is a split warning.
func (c *comparison) headerDrift(p int, same, cmp []int) checked {
	var out checked
	pr := c.spec().Probes[p]
	sig := func(i int) signature { return c.sig(i, p) }
	full := largestFirst(groupBy(same, func(i int) string { return sig(i).Key() }))
	hmaj := majority(full, len(same))
	if hmaj == nil {
		hmaj = c.consensus(p, full, len(same))
	}
	if hmaj == nil {
		if len(full) > 1 {
			out.add(c.split(p, full, true, SeverityWarning))
		}
		return out
	}
	want := sig(hmaj.items[0])
	wantObs := c.res.Direct.At(hmaj.items[0], p)
	var differ []int
	for _, i := range cmp {
		if sig(i).Outcome() == want.Outcome() && sig(i).Key() != hmaj.key {
			differ = append(differ, i)
		}
	}
	for _, g := range groupBy(differ, func(i int) string { return sig(i).Key() }) {
		idx := g.items
		got := sig(idx[0])
		obs := c.res.Direct.At(idx[0], p)
		msg := fmt.Sprintf("%s %s %s with different CORS headers (same verdict: %s)",
			c.ofCompared(len(idx), len(cmp)), plural.Verb(len(idx), "answer"), pr, got.Verdict)
		if got.Verdict != want.Verdict {
			msg = fmt.Sprintf("%s %s %s for another reason: %s instead of %s",
				c.ofCompared(len(idx), len(cmp)), plural.Verb(len(idx), "block"), pr, obs.Verdict().Reason, wantObs.Verdict().Reason)
		}
		ds := differences(wantObs, obs)
		out.mark(p, idx...)
		out.add(Finding{Kind: KindHeaderDrift, Instances: c.ids(idx), Groups: c.groups(idx), Probe: c.probeRef(p),
			Expected: want.Describe(), Observed: got.Describe(), Difference: ds, Message: msg, Reproduce: reproduceDifference(obs, ds),
			Compared: len(cmp),
			cause: &cause{answer: &answerCause{idx: idx, p: p, sig: g.key, outcome: got.Outcome(), refOutcome: want.Outcome(),
				verdict: got.Verdict, refVerdict: want.Verdict, reference: c.reference(), message: obs.Verdict().Message}}})
	}
	return out
}

// consensus is, among the answers to probe p of n instances agreeing on
// the verdict (groups, by answer), the one that holds a strict majority
// header by header: every header value, and every token of a list header,
// in which another answer differs from it is the answer of more than half
// the instances. Two instances each lacking another method (2 + 1 + 1) is
// no split: the answer of the two is what most instances say on every
// point. Nil when no answer does (2 + 2): no majority answer.
func (c *comparison) consensus(p int, groups []group[int], n int) *group[int] {
	obs := func(g group[int]) audit.Observation { return c.res.Direct.At(g.items[0], p) }
	for gi, g := range groups {
		diffs := make([][]HeaderDifference, len(groups))
		ok := true
		for k, h := range groups {
			if k != gi {
				diffs[k] = differences(obs(g), obs(h))
				ok = ok && len(diffs[k]) > 0 // a difference nothing shows decides nothing
			}
		}
		// agrees counts the instances whose answer is g's on one point.
		agrees := func(step, header, token string, missing bool) bool {
			count := len(g.items)
			for k, h := range groups {
				if k != gi && !slices.ContainsFunc(diffs[k], func(d HeaderDifference) bool {
					return d.Step == step && d.Header == header &&
						(token == "" || missing && slices.Contains(d.Missing, token) || !missing && slices.Contains(d.Extra, token))
				}) {
					count += len(h.items)
				}
			}
			return 2*count > n
		}
		for _, ds := range diffs {
			for _, d := range ds {
				for _, t := range d.Missing {
					ok = ok && agrees(d.Step, d.Header, t, true)
				}
				for _, t := range d.Extra {
					ok = ok && agrees(d.Step, d.Header, t, false)
				}
				if len(d.Missing)+len(d.Extra) == 0 {
					ok = ok && agrees(d.Step, d.Header, "", false)
				}
			}
		}
		if ok {
			return &groups[gi]
		}
	}
	return nil
}

// verdictSplit reports probe p with no majority verdict among the
// reference instances. With a policy expectation the policy decides: the
// compared instances that contradict it are policy violations and the
// split is a warning; without one, the split is an error nobody can
// resolve.
func (c *comparison) verdictSplit(p int, sides []group[int], cmp []int) checked {
	var out checked
	pr := c.spec().Probes[p]
	if pr.Expect == audit.ExpectNone {
		for _, g := range sides {
			out.mark(p, g.items...)
		}
		out.add(c.split(p, sides, false, SeverityError))
		return out
	}
	out.add(c.split(p, sides, false, SeverityWarning))
	out.merge(c.policyOnly(p, cmp))
	return out
}

// split is the finding for probe p when no side holds a strict majority:
// of the verdicts, or, with sameVerdict, of the answers of instances that
// agree on the verdict. Sides are the instances answering alike, largest
// first; the one builder of split findings, one wording.
func (c *comparison) split(p int, sides []group[int], sameVerdict bool, sev Severity) Finding {
	pr := c.spec().Probes[p]
	var words []string
	var all []int
	for _, g := range sides {
		what := g.key
		if sameVerdict {
			what = c.sig(g.items[0], p).Describe()
		}
		words = append(words, fmt.Sprintf("%d %s (%s)", len(g.items), what, c.idList(g.items)))
		all = append(all, g.items...)
	}
	expected, scope := "a strict majority verdict", ""
	if sameVerdict {
		expected, scope = "a strict majority of identical answers", fmt.Sprintf(" (every instance: %s)", c.sig(sides[0].items[0], p).Verdict)
	}
	tail := ""
	if pr.Expect != audit.ExpectNone && !sameVerdict {
		tail = fmt.Sprintf("; the policy expects %s", pr.Expect)
	}
	sides2 := strings.Join(words, " vs ")
	return Finding{Kind: KindSplit, Severity: sev, Instances: c.ids(all), Groups: c.groups(all), Probe: c.probeRef(p),
		Expected: expected, Observed: sides2,
		Message:   fmt.Sprintf("no majority for %s%s: %s%s", pr, scope, sides2, tail),
		Reproduce: Reproduce(c.res.Direct.At(sides[1].items[0], p)),
		cause: &cause{key: scope + sides2 + tail, message: func(ps []ProbeRef, _ []string) string {
			return fmt.Sprintf("no majority for %s%s: %s%s", requestsPhrase(ps), scope, sides2, tail)
		}}}
}

// policyOnly compares each instance of cmp with the probe's expectation.
func (c *comparison) policyOnly(p int, cmp []int) checked {
	var out checked
	pr := c.spec().Probes[p]
	if pr.Expect == audit.ExpectNone {
		return out
	}
	var bad []int
	for _, i := range cmp {
		if c.sig(i, p).Outcome() != string(pr.Expect) && !c.errorWithoutCORS(i, p) {
			bad = append(bad, i)
		}
	}
	for _, g := range groupBy(bad, func(i int) string { return c.sig(i, p).Key() }) {
		out.mark(p, g.items...)
		out.add(c.policyViolation(p, g.items, len(cmp)))
	}
	return out
}

// policyViolation is the finding for the instances idx (of compared),
// which answer probe p alike and contradict its expectation.
func (c *comparison) policyViolation(p int, idx []int, compared int) Finding {
	pr := c.spec().Probes[p]
	obs := c.res.Direct.At(idx[0], p)
	sig := c.sig(idx[0], p)
	which := "instance " + c.inst(idx[0]).ID
	if len(idx) > 1 {
		which = fmt.Sprintf("%d instances (%s)", len(idx), c.idList(idx))
	}
	policy := map[audit.Expectation]string{audit.ExpectAllowed: "allows", audit.ExpectBlocked: "does not allow"}[pr.Expect]
	msg := fmt.Sprintf("%s %s %s, which the policy %s", which, plural.Verb(len(idx), verb(sig.Outcome())), pr, policy)
	if obs.Verdict().Message != "" {
		msg += ": " + obs.Verdict().Message
	}
	// The difference is with an instance that answers as the policy says,
	// when one does.
	var ds []HeaderDifference
	for _, i := range c.answering(p, "") {
		if c.sig(i, p).Outcome() == string(pr.Expect) {
			ds = differences(c.res.Direct.At(i, p), obs)
			break
		}
	}
	return Finding{Kind: KindPolicyViolation, Instances: c.ids(idx), Groups: c.groups(idx), Probe: c.probeRef(p),
		Expected: string(pr.Expect) + " (policy)", Observed: sig.Describe(), Difference: ds, Message: msg,
		Reproduce: reproduceDifference(obs, ds), Compared: compared,
		cause: &cause{answer: &answerCause{idx: idx, p: p, sig: sig.Key(), outcome: sig.Outcome(), refOutcome: string(pr.Expect),
			verdict: sig.Verdict, refVerdict: sig.Verdict, reference: "the policy", message: obs.Verdict().Message}}}
}

// ofCompared is "n of m instances", naming the candidate group when one is
// compared.
func (c *comparison) ofCompared(n, m int) string {
	if c.opt.Candidate != "" {
		return fmt.Sprintf("%d of %d %s %s", n, m, c.opt.Candidate, plural.Noun(m, "instance"))
	}
	return fmt.Sprintf("%d of %s", n, plural.Count(m, "instance"))
}

// reference names what instances are compared with.
func (c *comparison) reference() string {
	if c.opt.Baseline != "" {
		return fmt.Sprintf("the baseline group %s's majority", c.opt.Baseline)
	}
	return "the majority"
}

// verb is the verb for an outcome: "allow" or "block".
func verb(outcome string) string {
	if outcome == OutcomeAllowed {
		return "allow"
	}
	return "block"
}

package diff

import (
	"fmt"
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
// same verdict with other headers or for another reason.
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
	sig := func(i int) Signature { return c.sig(i, p) }
	byOutcome := largestFirst(groupBy(ref, func(i int) string { return sig(i).Outcome() }))
	maj := majority(byOutcome, len(ref))
	if maj == nil {
		if len(byOutcome) > 1 {
			out.merge(c.split(p, byOutcome, cmp))
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
		who, got, ref := c.ofCompared(len(idx), len(cmp)), verb(sig(idx[0]).Outcome()), verb(maj.key)
		gotN := plural.Verb(len(idx), got) // "1 of 11 instances blocks"
		msg := fmt.Sprintf("%s %s %s where %s %s", who, gotN, pr, c.reference(), ref)
		if obs.Verdict().Message != "" {
			msg += ": " + obs.Verdict().Message
		}
		ds := Differences(majObs, obs)
		out.mark(p, idx...)
		out.add(Finding{Kind: KindVerdictDrift, Instances: c.ids(idx), Groups: c.groups(idx), Probe: c.probeRef(p),
			Expected: majSig.Describe(), Observed: sig(idx[0]).Describe(), Difference: ds, Message: msg,
			Reproduce: ReproduceDifference(obs, ds), Compared: len(cmp),
			cause: &cause{key: causeKey(got, ds, sig(idx[0]).Verdict), message: func(ps []ProbeRef) string {
				return fmt.Sprintf("%s %s %s where %s %ss them%s", who, gotN, requestsPhrase(ps), c.reference(), ref,
					because(ds, obs.Verdict().Message))
			}}})
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
			out.add(c.policyViolation(p, idx))
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
	sig := func(i int) Signature { return c.sig(i, p) }
	full := largestFirst(groupBy(same, func(i int) string { return sig(i).Key() }))
	hmaj := majority(full, len(same))
	if hmaj == nil {
		if len(full) > 1 {
			var sides []string
			var all []int
			for _, g := range full {
				sides = append(sides, fmt.Sprintf("%d × %s", len(g.items), sig(g.items[0]).Describe()))
				all = append(all, g.items...)
			}
			out.add(Finding{Kind: KindSplit, Severity: SeverityWarning, Instances: c.ids(all), Groups: c.groups(all),
				Probe: c.probeRef(p), Expected: "a strict majority of identical answers", Observed: strings.Join(sides, " vs "),
				Message:   fmt.Sprintf("instances agree on the verdict for %s but no answer has a majority", pr),
				Reproduce: Reproduce(c.res.Direct.At(full[1].items[0], p))})
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
				c.ofCompared(len(idx), len(cmp)), plural.Verb(len(idx), "block"), pr, obs.Verdict().Reason, c.res.Direct.At(hmaj.items[0], p).Verdict().Reason)
		}
		ds := Differences(wantObs, obs)
		who := c.ofCompared(len(idx), len(cmp))
		out.mark(p, idx...)
		out.add(Finding{Kind: KindHeaderDrift, Instances: c.ids(idx), Groups: c.groups(idx), Probe: c.probeRef(p),
			Expected: want.Describe(), Observed: got.Describe(), Difference: ds, Message: msg, Reproduce: ReproduceDifference(obs, ds),
			Compared: len(cmp),
			cause: &cause{key: causeKey("same", ds, got.Verdict), message: func(ps []ProbeRef) string {
				return fmt.Sprintf("%s %s %s with other CORS headers than the majority, browsers deciding the same%s",
					who, plural.Verb(len(idx), "answer"), requestsPhrase(ps), because(ds, ""))
			}}})
	}
	return out
}

// split reports probe p with no majority verdict among the reference
// instances. With a policy expectation the policy decides: the compared
// instances that contradict it are policy violations and the split is a
// warning; without one, the split is an error nobody can resolve.
func (c *comparison) split(p int, sides []group[int], cmp []int) checked {
	var out checked
	pr := c.spec().Probes[p]
	var words []string
	var all []int
	for _, g := range sides {
		words = append(words, fmt.Sprintf("%d %s (%s)", len(g.items), g.key, c.idList(g.items)))
		all = append(all, g.items...)
	}
	f := Finding{Kind: KindSplit, Instances: c.ids(all), Groups: c.groups(all), Probe: c.probeRef(p),
		Expected: "a strict majority verdict", Observed: strings.Join(words, " vs "),
		Message:   fmt.Sprintf("no majority for %s: %s", pr, strings.Join(words, " vs ")),
		Reproduce: Reproduce(c.res.Direct.At(sides[1].items[0], p)),
		cause: &cause{key: strings.Join(words, " vs "), message: func(ps []ProbeRef) string {
			return fmt.Sprintf("no majority for %s: %s", requestsPhrase(ps), strings.Join(words, " vs "))
		}}}
	if pr.Expect == audit.ExpectNone {
		out.mark(p, all...)
		out.add(f)
		return out
	}
	f.Severity = SeverityWarning
	f.Message += fmt.Sprintf("; the policy expects %s", pr.Expect)
	out.add(f)
	out.merge(c.policyOnly(p, cmp))
	return out
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
		out.add(c.policyViolation(p, g.items))
	}
	return out
}

// policyViolation is the finding for the instances idx, which answer probe
// p alike and contradict its expectation.
func (c *comparison) policyViolation(p int, idx []int) Finding {
	pr := c.spec().Probes[p]
	obs := c.res.Direct.At(idx[0], p)
	sig := c.sig(idx[0], p)
	which := "instance " + c.inst(idx[0]).ID
	if len(idx) > 1 {
		which = fmt.Sprintf("%d instances (%s)", len(idx), c.idList(idx))
	}
	policy := map[audit.Expectation]string{audit.ExpectAllowed: "allows", audit.ExpectBlocked: "does not allow"}[pr.Expect]
	v := verb(sig.Outcome())
	if len(idx) == 1 {
		v += "s"
	}
	msg := fmt.Sprintf("%s %s %s, which the policy %s", which, v, pr, policy)
	if obs.Verdict().Message != "" {
		msg += ": " + obs.Verdict().Message
	}
	// The difference is with an instance that answers as the policy says,
	// when one does.
	var ds []HeaderDifference
	for _, i := range c.answering(p, "") {
		if c.sig(i, p).Outcome() == string(pr.Expect) {
			ds = Differences(c.res.Direct.At(i, p), obs)
			break
		}
	}
	return Finding{Kind: KindPolicyViolation, Instances: c.ids(idx), Groups: c.groups(idx), Probe: c.probeRef(p),
		Expected: string(pr.Expect) + " (policy)", Observed: sig.Describe(), Difference: ds, Message: msg,
		Reproduce: ReproduceDifference(obs, ds),
		cause: &cause{key: causeKey(sig.Outcome(), ds, sig.Verdict), message: func(ps []ProbeRef) string {
			return fmt.Sprintf("%s %s %s, which the policy %s%s", which, v, requestsPhrase(ps), policy,
				because(ds, obs.Verdict().Message))
		}}}
}

// causeKey is what findings of one kind on the same instances must share
// to be one finding: the outcome and the header difference, or, when no
// answer was compared, the verdict with its reason.
func causeKey(outcome string, ds []HeaderDifference, verdict string) string {
	if len(ds) == 0 {
		return outcome + "\x00verdict\x00" + verdict
	}
	return outcome + "\x00" + differenceKey(ds)
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

package diff

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
)

// misconfig reports classic origin-validation mistakes on every instance of
// a target: origin-reflection, null-origin, insecure-origin, bypass-origin
// and wildcard-credentials, and, when the instances do not all make the
// same mistake, a verdict-drift finding per kind (a fix rolled out to part
// of the fleet is a drift too).
func misconfig(res *audit.TargetResult) []Finding {
	if res == nil || res.URL == nil {
		return nil
	}
	c := newComparison(res, Options{})
	return c.finish(c.misconfig().findings)
}

// misconfigKinds are the kinds the misconfig check reports, in report order.
var misconfigKinds = []Kind{KindOriginReflection, KindNullOrigin, KindInsecureOrigin, KindBypassOrigin, KindWildcardCredentials}

// misconfigKind maps an adversarial class to its finding kind ("" for none:
// a scheme downgrade only matters to an https service).
func misconfigKind(class string, https bool) Kind {
	switch class {
	case audit.ClassArbitrary:
		return KindOriginReflection
	case audit.ClassNull:
		return KindNullOrigin
	case audit.ClassSchemeDowngrade:
		if !https {
			return ""
		}
		return KindInsecureOrigin
	}
	return KindBypassOrigin
}

// instanceMistakes is what one instance trusts, per kind.
type instanceMistakes struct {
	hits map[Kind][]trustHit
	// alsoTrusted lists, for a reflecting instance, the classes of the
	// other adversarial origins it trusted (explained by the reflection).
	alsoTrusted []string
	// wildcard is the probes whose answers carry * with credentials, as
	// "3,4,7" (hits keeps the first): instances answering alike share
	// the string.
	wildcard string
}

// shows is the probes on which the instance shows mistake k, in probe
// order, and the same as a key.
func (m instanceMistakes) shows(k Kind) ([]int, string) {
	if k == KindWildcardCredentials {
		var ps []int
		for _, s := range strings.Split(m.wildcard, ",") {
			if p, err := strconv.Atoi(s); err == nil {
				ps = append(ps, p)
			}
		}
		return ps, m.wildcard
	}
	var ps []int
	var key []string
	for _, h := range m.hits[k] {
		ps = append(ps, h.p)
		key = append(key, strconv.Itoa(h.p))
	}
	return ps, strings.Join(key, ",")
}

// key identifies an instance's behaviour for one kind: the trusted classes
// and whether credentials came with them ("" when it makes no such
// mistake).
func (m instanceMistakes) key(k Kind) string {
	hs := m.hits[k]
	if len(hs) == 0 {
		return ""
	}
	creds := false
	for _, h := range hs {
		creds = creds || h.creds
	}
	return strings.Join(hitClasses(hs), ",") + fmt.Sprintf("|credentials=%t", creds)
}

// hitClasses are the distinct classes of hits, in first-seen order.
func hitClasses(hs []trustHit) []string {
	var out []string
	for _, h := range hs {
		if !slices.Contains(out, h.class) {
			out = append(out, h.class)
		}
	}
	return out
}

// misconfig is the misconfig findings of c.res.
func (c *comparison) misconfig() checked {
	probes := c.spec().Probes
	https := c.res.URL != nil && c.res.URL.Scheme == "https"
	mistakes := make([]instanceMistakes, c.res.Direct.Instances())
	shared := map[string]string{} // one copy of each distinct wildcard list
	var wildcard []byte
	// canShow[k] are the instances that answered a probe able to show
	// mistake k: an adversarial probe, or any probe for wildcard-credentials.
	canShow := map[Kind][]int{}
	for i := range c.res.Direct.Instances() {
		if !c.res.Direct.Probed(i) {
			continue
		}
		m := instanceMistakes{hits: map[Kind][]trustHit{}}
		anyReachable, anyAdversarial := false, false
		wildcard = wildcard[:0]
		for p, o := range c.res.Direct.Each(i) {
			if !answered(o) {
				continue
			}
			anyReachable = true
			pr := probes[p]
			if h, ok := wildcardWithCredentials(o); ok {
				if len(m.hits[KindWildcardCredentials]) == 0 {
					h.p, h.class = p, pr.Class
					m.hits[KindWildcardCredentials] = append(m.hits[KindWildcardCredentials], h)
				}
				wildcard = strconv.AppendInt(append(wildcard, ','), int64(p), 10)
			}
			if !audit.IsAdversarial(pr.Class) {
				continue
			}
			anyAdversarial = true
			h, ok := trusts(o, pr)
			if !ok {
				continue
			}
			if k := misconfigKind(pr.Class, https); k != "" {
				h.p = p
				m.hits[k] = append(m.hits[k], h)
			}
		}
		if len(m.hits[KindOriginReflection]) > 0 {
			// Reflection explains every other trusted origin: one finding.
			for _, k := range []Kind{KindNullOrigin, KindInsecureOrigin, KindBypassOrigin} {
				for _, cl := range hitClasses(m.hits[k]) {
					m.alsoTrusted = append(m.alsoTrusted, cl)
				}
				delete(m.hits, k)
			}
		}
		if len(wildcard) > 0 {
			w, ok := shared[string(wildcard[1:])]
			if !ok {
				w = string(wildcard[1:])
				shared[w] = w
			}
			m.wildcard = w
		}
		mistakes[i] = m
		if anyReachable {
			canShow[KindWildcardCredentials] = append(canShow[KindWildcardCredentials], i)
		}
		if anyAdversarial {
			for _, k := range misconfigKinds[:4] {
				canShow[k] = append(canShow[k], i)
			}
		}
	}
	var out checked
	for _, k := range misconfigKinds {
		// Instances that answer other routes are not compared: a pool
		// that serves another path is no drift.
		for _, g := range groupBy(canShow[k], c.routeClass) {
			out.merge(c.misconfigKind(k, mistakes, g.items))
		}
	}
	return out
}

// misconfigKind reports mistake k: one finding per distinct behaviour, then
// the drift when the instances that answered do not all behave the same.
func (c *comparison) misconfigKind(k Kind, mistakes []instanceMistakes, answered []int) checked {
	var out checked
	byKey := map[string][]int{}
	var keys []string
	for _, g := range groupBy(answered, func(i int) string { return mistakes[i].key(k) }) {
		keys = append(keys, g.key)
		byKey[g.key] = g.items
	}
	worst := Severity("")
	var firstHit *trustHit
	var vulnerable []int
	for _, key := range keys {
		if key == "" {
			continue
		}
		idx := byKey[key]
		vulnerable = append(vulnerable, idx...)
		f := c.misconfigFinding(k, mistakes, idx, answered)
		if len(idx) < len(answered) {
			for _, i := range idx {
				for _, x := range mistakes[i].hits[k] {
					out.mark(x.p, i)
				}
			}
		}
		if f.Severity.Rank() > worst.Rank() {
			worst = f.Severity
		}
		if firstHit == nil {
			h := mistakes[idx[0]].hits[k][0]
			firstHit = &h
		}
		out.add(f)
	}
	if len(keys) < 2 || firstHit == nil {
		return out
	}
	out.merge(c.misconfigDrift(k, mistakes, byKey, keys, answered, worst, vulnerable, *firstHit))
	return out
}

// misconfigFinding is the finding for the instances idx, which make the
// same mistake k.
func (c *comparison) misconfigFinding(k Kind, mistakes []instanceMistakes, idx, answered []int) Finding {
	m := mistakes[idx[0]]
	hs := m.hits[k]
	h := hs[0]
	creds := false
	for _, x := range hs {
		creds = creds || x.creds
	}
	sev := SeverityWarning
	if creds && k != KindWildcardCredentials {
		sev = SeverityError
	}
	which, plural := c.share(idx, answered)
	verb := func(pl, sg string) string {
		if plural {
			return pl
		}
		return sg
	}
	var msg, expected string
	switch k {
	case KindOriginReflection:
		expected = cors.ACAO + " only for the policy's origins"
		msg = fmt.Sprintf("%s %s any origin in Access-Control-Allow-Origin (%s was trusted)", which, verb("reflect", "reflects"), h.origin)
		if len(m.alsoTrusted) > 0 {
			msg += fmt.Sprintf("; the reflection also covers the %s probes", strings.Join(m.alsoTrusted, ", "))
		}
		msg += ": any website can read the responses"
	case KindNullOrigin:
		expected = "no Access-Control-Allow-Origin for the origin null"
		msg = which + " " + verb("trust", "trusts") + " the origin null: any page can send requests from a sandboxed iframe (origin null) and read the responses"
	case KindInsecureOrigin:
		expected = "no Access-Control-Allow-Origin for http:// origins"
		msg = fmt.Sprintf("%s %s %s on an https service: a network attacker who injects script into that http page can read the responses", which, verb("trust", "trusts"), h.origin)
	case KindBypassOrigin:
		expected = "no Access-Control-Allow-Origin for origins outside the policy"
		var parts []string
		for _, cl := range hitClasses(hs) {
			var origins []string
			for _, x := range hs {
				if x.class == cl {
					origins = append(origins, x.origin)
				}
			}
			part := fmt.Sprintf("%s (%s", cl, origins[0])
			if len(origins) > 1 {
				part += fmt.Sprintf(" and %d more", len(origins)-1)
			}
			parts = append(parts, part+"; "+classMistake[cl]+")")
		}
		msg = fmt.Sprintf("%s %s origins outside the policy that an attacker can obtain: %s", which, verb("trust", "trusts"), strings.Join(parts, ", "))
	case KindWildcardCredentials:
		expected = "credentials only with an explicit origin"
		msg = which + " " + verb("answer", "answers") + " Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true: browsers refuse credentialed reads with *, but the intent is to let every origin read with the user's credentials, one change away from reflecting the origin"
	}
	if creds && k != KindWildcardCredentials {
		msg += ", with the user's credentials (Access-Control-Allow-Credentials: true)"
	}
	observed := cors.ACAO + ": " + h.origin
	if h.creds {
		observed += ", " + cors.ACAC + ": true"
	}
	if h.preflight {
		observed += " (preflight)"
	}
	ev, probes := c.misconfigEvidence(k, mistakes, idx, nil)
	return Finding{Kind: k, Severity: sev, Instances: c.ids(idx), Groups: c.groups(idx), Probes: probes,
		Expected: expected, Observed: observed, Message: msg, Reproduce: ev[0].Reproduce, Evidence: ev}
}

// misconfigEvidence is, per set of instances of idx that show mistake k on
// the same probes, those probes and the curl command of the first, with a
// request that shows it on one of them; and every probe of idx's evidence.
// An instance without mistake k shows its answer to hit, when given: the
// answer that differs.
func (c *comparison) misconfigEvidence(k Kind, mistakes []instanceMistakes, idx []int, hit *trustHit) ([]Evidence, []ProbeRef) {
	var ev []Evidence
	var all []int
	for _, g := range groupBy(idx, func(i int) string { _, key := mistakes[i].shows(k); return key }) {
		i := g.items[0]
		ps, _ := mistakes[i].shows(k)
		h := hit
		if len(mistakes[i].hits[k]) > 0 {
			h = &mistakes[i].hits[k][0]
		}
		if len(ps) == 0 && h != nil {
			ps = []int{h.p}
		}
		e := Evidence{Instances: c.ids(g.items), Probes: c.probeIDs(ps)}
		if h != nil {
			e.Reproduce = c.reproduceHit(i, *h)
		}
		ev = append(ev, e)
		all = append(all, ps...)
	}
	var refs []ProbeRef
	for _, p := range sortedSet(all) {
		refs = append(refs, *c.probeRef(p))
	}
	return ev, refs
}

// misconfigDrift reports that the instances do not all make mistake k the
// same way: a half-rolled-out fix, or a regression on part of the fleet.
// The instances listed are those outside the largest behaviour (all of them
// when no behaviour has a strict majority); severity is the mistake's.
func (c *comparison) misconfigDrift(k Kind, mistakes []instanceMistakes, byKey map[string][]int, keys []string,
	answered []int, sev Severity, vulnerable []int, hit trustHit) checked {
	var out checked
	sorted := append([]string(nil), keys...)
	sort.SliceStable(sorted, func(a, b int) bool { return len(byKey[sorted[a]]) > len(byKey[sorted[b]]) })
	describe := func(key string) string {
		if key == "" {
			return "not affected"
		}
		classes, creds, _ := strings.Cut(key, "|")
		d := string(k) + " (" + classes + ")"
		if creds == "credentials=true" {
			d += " with credentials"
		}
		return d
	}
	var sides []string
	for _, key := range sorted {
		idx := byKey[key]
		sides = append(sides, fmt.Sprintf("%s on %d (%s)", describe(key), len(idx), c.idList(idx)))
	}
	var listed []int
	majorityKey := sorted[0]
	hasMajority := 2*len(byKey[majorityKey]) > len(answered)
	for _, i := range answered {
		if !hasMajority || mistakes[i].key(k) != majorityKey {
			listed = append(listed, i)
		}
	}
	sort.Ints(listed)
	for _, i := range listed {
		for _, x := range mistakes[i].hits[k] {
			out.mark(x.p, i)
		}
		if mistakes[i].key(k) == "" {
			out.mark(hit.p, i)
		}
	}
	expected := "every instance answers alike"
	observed := strings.Join(sides, "; ")
	if hasMajority {
		expected = describe(majorityKey) + " (majority)"
		var minority []string
		for _, key := range sorted[1:] {
			minority = append(minority, describe(key))
		}
		observed = strings.Join(minority, "; ")
	}
	reproduce := c.reproduceHit(vulnerable[0], hit)
	for _, i := range answered {
		if mistakes[i].key(k) == "" {
			reproduce += " && " + c.reproduceHit(i, hit)
			break
		}
	}
	ev, probes := c.misconfigEvidence(k, mistakes, listed, &hit)
	out.add(Finding{Kind: KindVerdictDrift, Severity: sev, Instances: c.ids(listed), Groups: c.groups(listed),
		Probes: probes, Evidence: ev, Expected: expected, Observed: observed,
		Message: fmt.Sprintf("%s differs across the %d instances: %s; a fix rolled out to part of the fleet, or a regression on part of it (browsers on an attacker's origin get the answer from some instances only)",
			k, len(answered), strings.Join(sides, "; ")),
		Reproduce: reproduce})
	return out
}

// share names the instances idx out of those that answered: "2 of 3
// instances (web-1, web-2)", "all 3 instances (...)", "instance web-1 (1 of
// 3)"; plural says which verb form follows.
func (c *comparison) share(idx, answered []int) (subject string, plural bool) {
	ids := c.idList(idx)
	switch {
	case len(idx) == 1 && len(answered) == 1:
		return "instance " + ids, false
	case len(idx) == 1:
		return fmt.Sprintf("instance %s (1 of %d)", ids, len(answered)), false
	case len(idx) == len(answered):
		return fmt.Sprintf("all %d instances (%s)", len(idx), ids), true
	}
	return fmt.Sprintf("%d of %d instances (%s)", len(idx), len(answered), ids), true
}

// reproduceHit is the curl command of the request that shows instance i
// trusting the hit's origin: the recorded preflight when that is where it
// showed, else the recorded actual request.
func (c *comparison) reproduceHit(i int, h trustHit) string {
	o := c.res.Direct.At(i, h.p)
	e := o.Actual
	if h.preflight || e == nil {
		e = o.Preflight
	}
	if r := o.Sent(e); r != nil {
		return CurlRequest(r)
	}
	return Reproduce(o)
}

package diff

import (
	"fmt"
	"sort"
	"strings"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/discovery"
)

// Check groups that can be switched on and off.
const (
	CheckDrift     = "drift"
	CheckLB        = "lb"
	CheckCache     = "cache"
	CheckMisconfig = "misconfig"
)

// AllChecks is the default set.
var AllChecks = []string{CheckDrift, CheckLB, CheckCache, CheckMisconfig}

// Options choose what the differ compares against.
type Options struct {
	// Baseline, when set, makes the majority of this group's instances the
	// reference instead of the majority of all instances.
	Baseline string
	// Candidate, when set, restricts drift findings to this group.
	Candidate string
	// Policy makes each probe's expectation (from the declared policy) the
	// reference: every instance that decides otherwise is a
	// policy-violation, and no majority is computed.
	Policy bool
	// Checks enabled (nil: AllChecks).
	Checks []string
}

func (o Options) enabled(check string) bool {
	if o.Checks == nil {
		return true
	}
	for _, c := range o.Checks {
		if c == check {
			return true
		}
	}
	return false
}

// comparison holds the state of comparing one target.
type comparison struct {
	res      *audit.TargetResult
	opt      Options
	findings []Finding
	// drift[instanceIndex][probe] marks cells that drift.
	drift map[[2]int]bool
	// lbDrift[probe] marks probes whose LB samples mismatch.
	lbDrift map[int]bool
}

// Compare turns a target's observations into its report section and its
// findings.
func Compare(res *audit.TargetResult, opt Options) (TargetReport, []Finding) {
	c := &comparison{res: res, opt: opt, drift: map[[2]int]bool{}, lbDrift: map[int]bool{}}
	c.skipped()
	c.unreachable()
	if opt.enabled(CheckDrift) {
		for p := range res.Spec.Probes {
			if !c.leftToMisconfig(p) {
				c.probe(p)
			}
		}
	}
	c.invalidHeaders()
	if opt.enabled(CheckCache) {
		c.varyMissing()
		c.cacheLeak()
	}
	if opt.enabled(CheckLB) {
		c.lb()
	}
	if opt.enabled(CheckMisconfig) {
		c.misconfig()
	}
	sortFindings(c.findings)
	return c.targetReport(), c.findings
}

func (c *comparison) spec() *audit.TargetSpec { return &c.res.Spec }

// leftToMisconfig reports whether probe p is judged by the misconfig check,
// which also reports its drift across instances, so that the generic
// comparisons skip it and one mistake is not reported once per probe: an
// adversarial probe, or the disallowed-origin probe when the plan has
// adversarial probes (their arbitrary origin covers it).
func (c *comparison) leftToMisconfig(p int) bool {
	if !c.opt.enabled(CheckMisconfig) {
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
	for _, row := range c.res.Direct {
		if row == nil || !reachable(row[p]) {
			continue
		}
		for _, e := range []*audit.Exchange{row[p].Preflight, row[p].Actual} {
			if e != nil && e.Header.Get("Access-Control-Allow-Origin") == "*" {
				return true
			}
		}
	}
	return false
}

func (c *comparison) inst(i int) discovery.Instance { return c.res.Spec.Target.Instances[i] }

// reachable reports whether the observation completed with answers.
func reachable(o audit.Observation) bool { return o.Done && o.Err() == audit.ErrNone }

func (c *comparison) probeRef(p int) *ProbeRef {
	pr := c.spec().Probes[p]
	return &ProbeRef{ID: pr.ID, Origin: pr.Origin, Method: pr.Method, Headers: pr.HeaderStrings(),
		Credentials: pr.Credentials, Class: pr.Class}
}

func (c *comparison) add(f Finding) {
	f.Target = c.spec().Target.Name
	if f.Severity == "" {
		f.Severity = DefaultSeverity[f.Kind]
	}
	c.findings = append(c.findings, f)
}

// reproduceDirect is the curl command for instance i and probe p.
func (c *comparison) reproduceDirect(i, p int) string {
	in := c.inst(i)
	scheme := in.Scheme
	if scheme == "" {
		scheme = c.spec().Direct.Scheme
	}
	return Curl(c.res.URL, in.Addr, scheme, c.spec().Probes[p], true)
}

// reproduceLB is the curl command for probe p through the load balancer.
func (c *comparison) reproduceLB(p int, preflight bool) string {
	return Curl(c.res.URL, "", "", c.spec().Probes[p], preflight)
}

func (c *comparison) ids(idx []int) []string {
	out := make([]string, len(idx))
	for k, i := range idx {
		out[k] = c.inst(i).ID
	}
	return out
}

func (c *comparison) groups(idx []int) []string {
	seen := map[string]bool{}
	var out []string
	for _, i := range idx {
		if g := c.inst(i).Group; g != "" && !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	sort.Strings(out)
	return out
}

func (c *comparison) skipped() {
	for i, in := range c.spec().Target.Instances {
		if in.Probeable() {
			continue
		}
		why := in.Skip
		if why == "" {
			why = "no address to dial"
		}
		c.add(Finding{Kind: KindSkipped, Instances: []string{in.ID}, Groups: c.groups([]int{i}),
			Message: fmt.Sprintf("instance %s is not probed: %s", in.ID, why)})
	}
}

// unreachable reports instances that answered no request (error) or only
// some (warning).
func (c *comparison) unreachable() {
	for i, row := range c.res.Direct {
		if row == nil {
			continue
		}
		failed, done := 0, 0
		var class audit.ErrorClass
		var msg string
		for _, o := range row {
			if !o.Done {
				continue
			}
			done++
			if o.Err() != audit.ErrNone {
				failed++
				if class == "" {
					class = o.Err()
					if o.Preflight.Failed() {
						msg = o.Preflight.ErrMsg
					} else {
						msg = o.Actual.ErrMsg
					}
				}
			}
		}
		if failed == 0 {
			continue
		}
		in := c.inst(i)
		f := Finding{Kind: KindUnreachable, Instances: []string{in.ID}, Groups: c.groups([]int{i}),
			Expected: "an HTTP response", Observed: fmt.Sprintf("%s: %s", class, msg),
			Reproduce: c.reproduceDirect(i, 0)}
		if failed == done {
			f.Message = fmt.Sprintf("instance %s (%s) answered none of %d probes (%s); it is left out of every majority", in.ID, in.Addr, done, class)
		} else {
			f.Severity = SeverityWarning
			f.Message = fmt.Sprintf("instance %s (%s) failed %d of %d probes (%s); those are left out of the majority", in.ID, in.Addr, failed, done, class)
		}
		c.add(f)
	}
}

// group of instance indexes sharing a signature.
type bucket struct {
	sig  Signature
	idx  []int
	keys string
}

// buckets groups instances idx by key(observation).
func (c *comparison) buckets(p int, idx []int, key func(Signature) string) []*bucket {
	m := map[string]*bucket{}
	var order []*bucket
	for _, i := range idx {
		sig := SignatureOf(c.res.Direct[i][p])
		k := key(sig)
		b, ok := m[k]
		if !ok {
			b = &bucket{sig: sig, keys: k}
			m[k] = b
			order = append(order, b)
		}
		b.idx = append(b.idx, i)
	}
	sort.SliceStable(order, func(a, b int) bool { return len(order[a].idx) > len(order[b].idx) })
	return order
}

// majority returns the bucket holding a strict majority of n, or nil.
func majority(bs []*bucket, n int) *bucket {
	if len(bs) > 0 && 2*len(bs[0].idx) > n {
		return bs[0]
	}
	return nil
}

// probe compares every instance's answer for probe p.
func (c *comparison) probe(p int) {
	var ref, cmp []int
	for i, row := range c.res.Direct {
		if row == nil || !reachable(row[p]) {
			continue
		}
		g := c.inst(i).Group
		if c.opt.Baseline == "" || g == c.opt.Baseline {
			ref = append(ref, i)
		}
		if c.opt.Candidate == "" || g == c.opt.Candidate {
			cmp = append(cmp, i)
		}
	}
	pr := c.spec().Probes[p]
	if c.opt.Policy {
		c.policyOnly(p, cmp)
		return
	}
	if len(ref) == 0 {
		return
	}
	verdictKey := func(s Signature) string { return s.Verdict }
	byVerdict := c.buckets(p, ref, verdictKey)
	maj := majority(byVerdict, len(ref))
	if maj == nil {
		if len(byVerdict) > 1 {
			var sides []string
			var all []int
			for _, b := range byVerdict {
				sides = append(sides, fmt.Sprintf("%d %s (%s)", len(b.idx), b.sig.Verdict, strings.Join(c.ids(b.idx), ", ")))
				all = append(all, b.idx...)
				for _, i := range b.idx {
					c.drift[[2]int{i, p}] = true
				}
			}
			c.add(Finding{Kind: KindSplit, Instances: c.ids(all), Groups: c.groups(all), Probe: c.probeRef(p),
				Expected: "a strict majority verdict", Observed: strings.Join(sides, " vs "),
				Message:   fmt.Sprintf("no majority for %s: %s", pr, strings.Join(sides, " vs ")),
				Reproduce: c.reproduceDirect(byVerdict[1].idx[0], p)})
		}
		return
	}
	// Verdict drift: compared instances whose verdict differs.
	minority := map[string][]int{}
	var minorityOrder []string
	for _, i := range cmp {
		s := SignatureOf(c.res.Direct[i][p])
		if s.Verdict == maj.sig.Verdict {
			continue
		}
		if _, ok := minority[s.Key()]; !ok {
			minorityOrder = append(minorityOrder, s.Key())
		}
		minority[s.Key()] = append(minority[s.Key()], i)
	}
	for _, k := range minorityOrder {
		idx := minority[k]
		obs := c.res.Direct[idx[0]][p]
		sig := SignatureOf(obs)
		msg := fmt.Sprintf("%d of %d instances %s %s where the majority %s",
			len(idx), len(ref), verb(sig.Verdict), pr, verb(maj.sig.Verdict))
		if obs.Verdict.Message != "" {
			msg += ": " + obs.Verdict.Message
		}
		for _, i := range idx {
			c.drift[[2]int{i, p}] = true
		}
		c.add(Finding{Kind: KindVerdictDrift, Instances: c.ids(idx), Groups: c.groups(idx), Probe: c.probeRef(p),
			Expected: maj.sig.Describe(), Observed: sig.Describe(), Message: msg,
			Reproduce: c.reproduceDirect(idx[0], p)})
	}
	// Header drift among instances sharing the majority verdict.
	full := c.buckets(p, maj.idx, Signature.Key)
	hmaj := majority(full, len(maj.idx))
	if hmaj == nil && len(full) > 1 {
		var sides []string
		var all []int
		for _, b := range full {
			sides = append(sides, fmt.Sprintf("%d × %s", len(b.idx), b.sig.Describe()))
			all = append(all, b.idx...)
		}
		c.add(Finding{Kind: KindSplit, Severity: SeverityWarning, Instances: c.ids(all), Groups: c.groups(all),
			Probe: c.probeRef(p), Expected: "a strict majority of identical answers", Observed: strings.Join(sides, " vs "),
			Message:   fmt.Sprintf("instances agree on the verdict for %s but no answer has a majority", pr),
			Reproduce: c.reproduceDirect(full[1].idx[0], p)})
	} else if hmaj != nil {
		hd := map[string][]int{}
		var order []string
		for _, i := range cmp {
			s := SignatureOf(c.res.Direct[i][p])
			if s.Verdict != maj.sig.Verdict || s.Key() == hmaj.sig.Key() {
				continue
			}
			if _, ok := hd[s.Key()]; !ok {
				order = append(order, s.Key())
			}
			hd[s.Key()] = append(hd[s.Key()], i)
		}
		for _, k := range order {
			idx := hd[k]
			sig := SignatureOf(c.res.Direct[idx[0]][p])
			for _, i := range idx {
				c.drift[[2]int{i, p}] = true
			}
			c.add(Finding{Kind: KindHeaderDrift, Instances: c.ids(idx), Groups: c.groups(idx), Probe: c.probeRef(p),
				Expected: hmaj.sig.Describe(), Observed: sig.Describe(),
				Message: fmt.Sprintf("%d of %d instances answer %s with different CORS headers (same verdict: %s)",
					len(idx), len(ref), pr, sig.Verdict),
				Reproduce: c.reproduceDirect(idx[0], p)})
		}
	}
	// The fleet agrees, but not with the declared policy.
	if pr.Expect != audit.ExpectNone && !strings.HasPrefix(maj.sig.Verdict, string(pr.Expect)) {
		var idx []int
		for _, i := range maj.idx {
			if c.opt.Candidate == "" || c.inst(i).Group == c.opt.Candidate {
				idx = append(idx, i)
			}
		}
		if len(idx) > 0 {
			c.policyViolation(p, idx, maj.sig)
		}
	}
}

// policyOnly compares each instance with the probe's expectation.
func (c *comparison) policyOnly(p int, cmp []int) {
	pr := c.spec().Probes[p]
	if pr.Expect == audit.ExpectNone {
		return
	}
	groups := map[string][]int{}
	var order []string
	for _, i := range cmp {
		s := SignatureOf(c.res.Direct[i][p])
		if strings.HasPrefix(s.Verdict, string(pr.Expect)) {
			continue
		}
		if _, ok := groups[s.Key()]; !ok {
			order = append(order, s.Key())
		}
		groups[s.Key()] = append(groups[s.Key()], i)
	}
	for _, k := range order {
		idx := groups[k]
		for _, i := range idx {
			c.drift[[2]int{i, p}] = true
		}
		c.policyViolation(p, idx, SignatureOf(c.res.Direct[idx[0]][p]))
	}
}

func (c *comparison) policyViolation(p int, idx []int, sig Signature) {
	pr := c.spec().Probes[p]
	obs := c.res.Direct[idx[0]][p]
	msg := fmt.Sprintf("%d instance(s) %s %s, which the policy %s", len(idx), verb(sig.Verdict), pr,
		map[audit.Expectation]string{audit.ExpectAllowed: "allows", audit.ExpectBlocked: "does not allow"}[pr.Expect])
	if obs.Verdict.Message != "" {
		msg += ": " + obs.Verdict.Message
	}
	c.add(Finding{Kind: KindPolicyViolation, Instances: c.ids(idx), Groups: c.groups(idx), Probe: c.probeRef(p),
		Expected: string(pr.Expect) + " (policy)", Observed: sig.Describe(), Message: msg,
		Reproduce: c.reproduceDirect(idx[0], p)})
}

func verb(verdict string) string {
	if verdict == OutcomeAllowed {
		return "allow"
	}
	return "block"
}

// invalidHeaders reports answers whose CORS headers a browser cannot parse:
// several Access-Control-Allow-Origin values, unparsable lists.
func (c *comparison) invalidHeaders() {
	direct := map[string][]int{}
	directProbe := map[string]int{}
	var order []string
	for i, row := range c.res.Direct {
		for p, o := range row {
			if !reachable(o) || c.leftToMisconfig(p) {
				continue
			}
			if d := invalidDetail(o); d != "" {
				if _, ok := direct[d]; !ok {
					order = append(order, d)
					directProbe[d] = p
				}
				if l := direct[d]; len(l) == 0 || l[len(l)-1] != i {
					direct[d] = append(direct[d], i)
				}
			}
		}
	}
	for _, d := range order {
		idx := direct[d]
		p := directProbe[d]
		c.add(Finding{Kind: KindInvalidHeader, Instances: c.ids(idx), Groups: c.groups(idx), Probe: c.probeRef(p),
			Expected: "one valid value per CORS header", Observed: d,
			Message:   fmt.Sprintf("%d instance(s) send CORS headers browsers reject: %s", len(idx), d),
			Reproduce: c.reproduceDirect(idx[0], p)})
	}
	// Through the LB: only what the instances do not already explain.
	for p, samples := range c.res.LB {
		if c.leftToMisconfig(p) {
			continue
		}
		n, bad := 0, 0
		var detail string
		var served []string
		for _, o := range samples {
			if !reachable(o) {
				continue
			}
			n++
			if d := invalidDetail(o); d != "" {
				if _, known := direct[d]; known {
					continue
				}
				bad++
				detail = d
				if s := o.ServedBy(); s != "" && !contains(served, s) {
					served = append(served, s)
				}
			}
		}
		if bad == 0 {
			continue
		}
		c.lbDrift[p] = true
		c.add(Finding{Kind: KindInvalidHeader, Instances: append([]string{"lb"}, served...), Probe: c.probeRef(p),
			Expected: "one valid value per CORS header", Observed: detail, Share: float64(bad) / float64(n),
			Message: fmt.Sprintf("%d of %d answers through the load balancer carry CORS headers browsers reject (%s); the instances do not send them, so the LB adds or duplicates them",
				bad, n, detail),
			Reproduce: c.reproduceLB(p, true)})
		return // one LB finding per target: the cause is the LB's config
	}
}

// invalidDetail describes what is malformed in an observation ("" if nothing).
func invalidDetail(o audit.Observation) string {
	for _, e := range []*audit.Exchange{o.Preflight, o.Actual} {
		if e == nil {
			continue
		}
		acao := e.Header.Values("Access-Control-Allow-Origin")
		if len(acao) > 1 {
			return fmt.Sprintf("%d Access-Control-Allow-Origin headers: %s", len(acao), strings.Join(acao, " | "))
		}
		if len(acao) == 1 && strings.Contains(acao[0], ",") {
			return "Access-Control-Allow-Origin with several values: " + acao[0]
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// varyMissing reports instances whose GET answer depends on the Origin
// (another origin gets another Access-Control-Allow-Origin) but that do not
// say Vary: Origin, so shared caches may hand one origin's answer to another.
func (c *comparison) varyMissing() {
	probes := c.spec().Probes
	var idx []int
	var atProbe int
	for i, row := range c.res.Direct {
		if row == nil {
			continue
		}
		for p, pr := range probes {
			o := row[p]
			if !reachable(o) || o.Actual == nil || pr.Class != audit.ClassPolicy {
				continue
			}
			acao := o.Actual.Header.Get("Access-Control-Allow-Origin")
			if acao == "" || acao == "*" || VaryHasOrigin(o.Actual.Header) {
				continue
			}
			if c.dependsOnOrigin(row, p) {
				idx = append(idx, i)
				atProbe = p
				break
			}
		}
	}
	if len(idx) == 0 {
		return
	}
	c.add(Finding{Kind: KindVaryMissing, Instances: c.ids(idx), Groups: c.groups(idx), Probe: c.probeRef(atProbe),
		Expected: "Vary: Origin", Observed: "no Vary: Origin on an origin-dependent Access-Control-Allow-Origin",
		Message:   fmt.Sprintf("%d instance(s) answer GET with an Access-Control-Allow-Origin that depends on the Origin but without Vary: Origin: a shared cache can serve one origin's answer to another", len(idx)),
		Reproduce: Curl(c.res.URL, c.inst(idx[0]).Addr, c.directScheme(idx[0]), probes[atProbe], false)})
}

func (c *comparison) directScheme(i int) string {
	if s := c.inst(i).Scheme; s != "" {
		return s
	}
	return c.spec().Direct.Scheme
}

// dependsOnOrigin reports whether another probe with the same method but
// another origin got another ACAO from the same instance.
func (c *comparison) dependsOnOrigin(row []audit.Observation, p int) bool {
	probes := c.spec().Probes
	acao := row[p].Actual.Header.Get("Access-Control-Allow-Origin")
	for q, pr := range probes {
		if q == p || pr.Origin == probes[p].Origin || pr.Method != probes[p].Method || !reachable(row[q]) || row[q].Actual == nil {
			continue
		}
		if row[q].Actual.Header.Get("Access-Control-Allow-Origin") != acao {
			return true
		}
	}
	return false
}

// cacheLeak reports an LB path where the answer for one origin is served to
// another.
func (c *comparison) cacheLeak() {
	reported := map[bool]bool{}
	for _, pair := range c.res.Cache {
		if reported[pair.Preflight] || pair.SecondAnswer == nil || pair.SecondAnswer.Failed() {
			continue
		}
		got := pair.SecondAnswer.Header.Get("Access-Control-Allow-Origin")
		if got == "" || got != pair.First || got == pair.Second {
			continue
		}
		reported[pair.Preflight] = true
		what := "GET answer"
		if pair.Preflight {
			what = "preflight answer"
		}
		pr := c.spec().Probes[pair.Probe]
		second := pr
		second.Origin = pair.Second
		c.add(Finding{Kind: KindCacheLeak, Instances: []string{"lb"}, Probe: c.probeRef(pair.Probe),
			Expected: "no Access-Control-Allow-Origin for " + pair.Second,
			Observed: "Access-Control-Allow-Origin: " + got,
			Message: fmt.Sprintf("a cache in front of the instances served the %s made for %s to %s: it ignores the Origin (Vary: Origin or cache key)",
				what, pair.First, pair.Second),
			Reproduce: c.reproduceLB(pair.Probe, pair.Preflight) + " && " + Curl(c.res.URL, "", "", second, pair.Preflight)})
	}
}

// lb compares the samples taken through the load balancer with the
// instances' majority.
func (c *comparison) lb() {
	if len(c.res.LB) == 0 {
		return
	}
	var redirects, answers []int
	var redirectLoc string
	redirectShare, answerShare := 0.0, 0.0
	allFailed := true
	for p, samples := range c.res.LB {
		n := 0
		nRedirect, nAnswer := 0, 0
		var mism []audit.Observation
		_, majVerdict := c.directMajority(p)
		directPre := c.directPreflightAnswers(p)
		for _, o := range samples {
			if !reachable(o) {
				continue
			}
			allFailed = false
			n++
			switch {
			case o.Preflight != nil && o.Preflight.Status >= 300 && o.Preflight.Status < 400:
				nRedirect++
				redirectLoc = o.Preflight.Location
			case o.Preflight != nil && c.lbAnswered(o, directPre):
				nAnswer++
			case invalidDetail(o) != "":
				// reported as invalid-header
			case majVerdict != "" && VerdictString(o.Verdict) != majVerdict && !c.leftToMisconfig(p):
				mism = append(mism, o)
			}
		}
		if nRedirect > 0 {
			redirects = append(redirects, p)
			redirectShare = max(redirectShare, float64(nRedirect)/float64(n))
		}
		if nAnswer > 0 {
			answers = append(answers, p)
			answerShare = max(answerShare, float64(nAnswer)/float64(n))
		}
		if len(mism) > 0 {
			c.lbDrift[p] = true
			var served []string
			for _, o := range mism {
				if s := o.ServedBy(); s != "" && !contains(served, s) {
					served = append(served, s)
				}
			}
			sort.Strings(served)
			by := "the load balancer does not say which instance served them (set lb.instance_header)"
			if len(served) > 0 {
				by = "served by " + strings.Join(served, ", ")
			}
			sig := SignatureOf(mism[0])
			c.add(Finding{Kind: KindLBMismatch, Instances: append([]string{"lb"}, served...), Probe: c.probeRef(p),
				Expected: majVerdict + " (direct majority)", Observed: sig.Describe(),
				Share: float64(len(mism)) / float64(n),
				Message: fmt.Sprintf("%d of %d requests through the load balancer %s %s where the instances' majority %s: users see it intermittently; %s",
					len(mism), n, verb(sig.Verdict), c.spec().Probes[p], verb(majVerdict), by),
				Reproduce: c.reproduceLB(p, true)})
		}
	}
	if allFailed {
		total := 0
		var msg string
		for _, samples := range c.res.LB {
			for _, o := range samples {
				if o.Done {
					total++
					if msg == "" && o.Preflight.Failed() {
						msg = string(o.Preflight.Err) + ": " + o.Preflight.ErrMsg
					} else if msg == "" && o.Actual.Failed() {
						msg = string(o.Actual.Err) + ": " + o.Actual.ErrMsg
					}
				}
			}
		}
		if total > 0 {
			c.add(Finding{Kind: KindUnreachable, Instances: []string{"lb"}, Expected: "an HTTP response", Observed: msg,
				Message:   fmt.Sprintf("the load balancer at %s answered none of %d requests", c.res.URL.Host, total),
				Reproduce: c.reproduceLB(0, true)})
		}
		return
	}
	if len(redirects) > 0 {
		p := redirects[0]
		c.add(Finding{Kind: KindLBRedirect, Instances: []string{"lb"}, Probe: c.probeRef(p), Share: redirectShare,
			Expected: "a 2xx answer to the preflight", Observed: "3xx redirect to " + redirectLoc,
			Message: fmt.Sprintf("the load balancer redirects OPTIONS preflights (%d of %d preflighted probes, Location: %s): browsers reject every redirected preflight",
				len(redirects), c.preflighted(), redirectLoc),
			Reproduce: c.reproduceLB(p, true)})
		for _, q := range redirects {
			c.lbDrift[q] = true
		}
	}
	if len(answers) > 0 {
		p := answers[0]
		c.add(Finding{Kind: KindLBAnswersOptions, Instances: []string{"lb"}, Probe: c.probeRef(p), Share: answerShare,
			Expected: "preflights passed to the instances", Observed: SignatureOf(c.firstAnswered(p)).Describe(),
			Message: fmt.Sprintf("the load balancer answers OPTIONS preflights itself (%d of %d preflighted probes) with CORS headers no instance sends",
				len(answers), c.preflighted()),
			Reproduce: c.reproduceLB(p, true)})
		for _, q := range answers {
			c.lbDrift[q] = true
		}
	}
}

func (c *comparison) preflighted() int {
	n := 0
	for _, row := range c.res.LB {
		for _, o := range row {
			if o.Preflight != nil {
				n++
				break
			}
		}
	}
	return n
}

func (c *comparison) firstAnswered(p int) audit.Observation {
	directPre := c.directPreflightAnswers(p)
	for _, o := range c.res.LB[p] {
		if reachable(o) && o.Preflight != nil && c.lbAnswered(o, directPre) {
			return o
		}
	}
	return audit.Observation{}
}

// directMajority is the key and verdict of the direct majority for probe p
// ("" when there is none).
func (c *comparison) directMajority(p int) (string, string) {
	var idx []int
	for i, row := range c.res.Direct {
		if row != nil && reachable(row[p]) {
			idx = append(idx, i)
		}
	}
	bs := c.buckets(p, idx, func(s Signature) string { return s.Verdict })
	if m := majority(bs, len(idx)); m != nil {
		return m.keys, m.sig.Verdict
	}
	return "", ""
}

// directPreflightAnswers is the set of canonical preflight answers the
// instances gave for probe p.
func (c *comparison) directPreflightAnswers(p int) map[string]bool {
	out := map[string]bool{}
	for _, row := range c.res.Direct {
		if row != nil && reachable(row[p]) && row[p].Preflight != nil {
			out[canonical(row[p].Preflight, true)] = true
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
	for _, row := range c.res.Direct {
		for _, o := range row {
			if reachable(o) && o.Preflight != nil {
				return o.Preflight.ServedBy != ""
			}
		}
	}
	return false
}

// targetReport builds the report section: instances, probes, cells.
func (c *comparison) targetReport() TargetReport {
	t := c.spec().Target
	tr := TargetReport{Name: t.Name, URL: t.URL}
	for i, in := range t.Instances {
		info := InstanceInfo{ID: in.ID, Addr: in.Addr, Group: in.Group, Zone: in.Zone, Weight: in.Weight,
			Health: in.Health, Skip: in.Skip}
		if row := c.res.Direct[i]; row != nil {
			for _, o := range row {
				if reachable(o) {
					info.Reachable = true
					break
				}
			}
		}
		tr.Instances = append(tr.Instances, info)
	}
	for p := range c.spec().Probes {
		tr.Probes = append(tr.Probes, *c.probeRef(p))
	}
	for i, row := range c.res.Direct {
		for p, o := range row {
			if !o.Done {
				continue
			}
			tr.Cells = append(tr.Cells, cellOf(t.Instances[i].ID, c.spec().Probes[p].ID, o, c.drift[[2]int{i, p}]))
		}
	}
	for p, samples := range c.res.LB {
		// One LB cell per probe: the most common outcome of its samples.
		counts := map[string]int{}
		var best audit.Observation
		bestN := 0
		for _, o := range samples {
			if !o.Done {
				continue
			}
			k := cellOf("", "", o, false).Outcome + VerdictString(o.Verdict)
			counts[k]++
			if counts[k] > bestN {
				bestN, best = counts[k], o
			}
		}
		if bestN > 0 {
			tr.Cells = append(tr.Cells, cellOf("lb", c.spec().Probes[p].ID, best, c.lbDrift[p]))
		}
	}
	return tr
}

func cellOf(inst, probe string, o audit.Observation, drift bool) Cell {
	cell := Cell{Instance: inst, Probe: probe, Drift: drift}
	switch {
	case o.Err() != audit.ErrNone:
		cell.Outcome = OutcomeError
		cell.Reason = string(o.Err())
	case o.Verdict.Allowed:
		cell.Outcome = OutcomeAllowed
	default:
		cell.Outcome = OutcomeBlocked
		cell.Reason = string(o.Verdict.Reason)
	}
	if o.Preflight != nil {
		cell.Status = o.Preflight.Status
	} else if o.Actual != nil {
		cell.Status = o.Actual.Status
	}
	return cell
}

// sortFindings orders findings by severity (highest first), then kind, then
// probe, keeping the differ's order otherwise.
func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(a, b int) bool {
		if ra, rb := fs[a].Severity.Rank(), fs[b].Severity.Rank(); ra != rb {
			return ra > rb
		}
		return fs[a].Kind < fs[b].Kind
	})
}

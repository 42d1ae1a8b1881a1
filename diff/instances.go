package diff

import (
	"fmt"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/internal/plural"
)

// skipped reports the instances the provider listed but corsaudit cannot
// probe.
func (c *comparison) skipped() checked {
	var out checked
	for i, in := range c.spec().Target.Instances {
		if in.Probeable() {
			continue
		}
		why := in.Skip
		if why == "" {
			why = "no address to dial"
		}
		out.add(Finding{Kind: KindSkipped, Instances: []string{in.ID}, Groups: c.groups([]int{i}),
			Message: fmt.Sprintf("instance %s is not probed: %s", in.ID, why)})
	}
	return out
}

// sent reports whether the observation sent at least one request and
// completed (with an answer or a failure).
func sent(o audit.Observation) bool { return o.Done && (o.Preflight != nil || o.Actual != nil) }

// rowCounts counts, for one instance, the probes that sent requests and
// those among them that got no HTTP answer, and returns the first failed
// observation.
func rowCounts(d *audit.DirectMatrix, i int) (nSent, nFailed int, first audit.Observation) {
	for _, o := range d.Each(i) {
		if !sent(o) {
			continue
		}
		nSent++
		if failed(o) {
			if nFailed == 0 {
				first = o
			}
			nFailed++
		}
	}
	return nSent, nFailed, first
}

// unreachable reports instances that answered none of the requests they
// were sent (error) or only some (warning). Probes not run count for
// neither.
func (c *comparison) unreachable() checked {
	var out checked
	for i := range c.res.Direct.Instances() {
		nSent, nFailed, o := rowCounts(c.res.Direct, i)
		if nFailed == 0 {
			continue
		}
		class := o.Err()
		e := decidingExchange(o)
		in := c.inst(i)
		f := Finding{Kind: KindUnreachable, Instances: []string{in.ID}, Groups: c.groups([]int{i}),
			Expected: "an HTTP response", Observed: fmt.Sprintf("%s: %s", class, e.ErrMsg), Reproduce: Reproduce(o)}
		if nFailed == nSent {
			f.Severity = SeverityError
			f.Message = fmt.Sprintf("instance %s (%s) answered none of the %s it was sent (%s); it is left out of every majority", in.ID, in.Addr, plural.Count(nSent, "probe"), class)
			f.Message += SchemeHint(e, c.opt.setting("direct.scheme: ", "--direct-scheme "))
		} else {
			f.Severity = SeverityWarning
			f.Message = fmt.Sprintf("instance %s (%s) failed %d of %s (%s); those are left out of the majority", in.ID, in.Addr, nFailed, plural.Count(nSent, "probe"), class)
		}
		out.add(f)
	}
	return out
}

// instanceInfo is instance i as the report shows it: reachable when it
// answered a request, and the probes not run on it by reason.
func (c *comparison) instanceInfo(i int) InstanceInfo {
	in := c.inst(i)
	info := InstanceInfo{ID: in.ID, Addr: in.Addr, Group: in.Group, Zone: in.Zone, Weight: in.Weight,
		Health: in.Health, Skip: in.Skip}
	d := c.res.Direct
	if !d.Probed(i) {
		return info
	}
	nSent, nFailed, _ := rowCounts(d, i)
	info.Reachable = nSent > nFailed
	info.Failed = nFailed
	var notRun []int
	for p, o := range d.Each(i) {
		if !sent(o) && o.NotRun != audit.NotRunNotRouted {
			notRun = append(notRun, p)
		}
		if o.Unanswered() {
			info.Unanswered++
		}
	}
	info.NothingSent = nSent == 0 && info.Unanswered == 0
	for _, g := range groupBy(notRun, func(p int) string { return notRunReason(d.At(i, p)) }) {
		nr := NotRun{Reason: g.key}
		for _, p := range g.items {
			nr.Probes = append(nr.Probes, c.spec().Probes[p].ID)
		}
		info.NotRun = append(info.NotRun, nr)
	}
	return info
}

// notRunReason is why an observation sent nothing, in plain words.
func notRunReason(o audit.Observation) string {
	if o.NotRun != "" {
		return o.NotRun
	}
	if o.Done {
		return "no request is sent for this probe"
	}
	return "not run"
}

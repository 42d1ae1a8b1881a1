package diff

import (
	"fmt"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/internal/plural"
)

// varyMissing reports instances whose GET answer depends on the Origin
// (another origin gets another Access-Control-Allow-Origin) but that do not
// say Vary: Origin, so shared caches may hand one origin's answer to another.
func (c *comparison) varyMissing() checked {
	var out checked
	var idx []int
	var at audit.Observation
	atProbe := 0
	for i := range c.res.Direct.Instances() {
		for p, o := range c.res.Direct.Each(i) {
			if !c.originDependentWithoutVary(i, p) {
				continue
			}
			if len(idx) == 0 {
				at, atProbe = o, p
			}
			idx = append(idx, i)
			break
		}
	}
	if len(idx) == 0 {
		return out
	}
	out.add(Finding{Kind: KindVaryMissing, Instances: c.ids(idx), Groups: c.groups(idx), Probe: c.probeRef(atProbe),
		Expected: "Vary: Origin", Observed: "no Vary: Origin on an origin-dependent " + cors.ACAO,
		Message:   fmt.Sprintf("%s %s GET with an %s that depends on the Origin but without Vary: Origin: a shared cache can serve one origin's answer to another", plural.Count(len(idx), "instance"), plural.Verb(len(idx), "answer"), cors.ACAO),
		Reproduce: Reproduce(at)})
	return out
}

// originDependentWithoutVary reports whether the instance's actual answer
// to policy probe p names an origin without Vary: Origin while another
// probe with the same method but another origin got another ACAO.
func (c *comparison) originDependentWithoutVary(i, p int) bool {
	probes := c.spec().Probes
	d := c.res.Direct
	o := d.At(i, p)
	if !answered(o) || o.Actual == nil || probes[p].Class != audit.ClassPolicy {
		return false
	}
	acao := o.Actual.Header.Get(cors.ACAO)
	if acao == "" || acao == "*" || VaryHasOrigin(o.Actual.Header) {
		return false
	}
	for q, pr := range probes {
		if q == p || pr.Origin == probes[p].Origin || pr.Method != probes[p].Method {
			continue
		}
		if other := d.At(i, q); answered(other) && other.Actual != nil && other.Actual.Header.Get(cors.ACAO) != acao {
			return true
		}
	}
	return false
}

// cacheLeak reports an LB path where the answer for one origin is served to
// another.
func (c *comparison) cacheLeak() checked {
	var out checked
	reported := map[bool]bool{}
	for _, pair := range c.res.Cache {
		if reported[pair.Preflight] || pair.SecondAnswer == nil || pair.SecondAnswer.Failed() {
			continue
		}
		got := pair.SecondAnswer.Header.Get(cors.ACAO)
		if got == "" || got != pair.First || got == pair.Second {
			continue
		}
		reported[pair.Preflight] = true
		what := "GET answer"
		if pair.Preflight {
			what = "preflight answer"
		}
		out.add(Finding{Kind: KindCacheLeak, Instances: []string{"lb"}, Probe: c.probeRef(pair.Probe),
			Expected: "no " + cors.ACAO + " for " + pair.Second,
			Observed: cors.ACAO + ": " + got,
			Message: fmt.Sprintf("a cache in front of the instances served the %s made for %s to %s: it ignores the Origin (Vary: Origin or cache key)",
				what, pair.First, pair.Second),
			Reproduce: joinRequests(pair.FirstAnswer, pair.SecondAnswer)})
	}
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

package diff

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
)

// errorWithoutCORS reports whether instance i answered the actual request
// of probe p, which the policy allows, with an error status and no
// Access-Control-Allow-Origin: the browser hides the error from the page.
// The preflight, when one was sent, passed. Such an answer is reported as
// error-without-cors, not as a policy violation.
func (c *comparison) errorWithoutCORS(i, p int) bool {
	o := c.res.Direct.At(i, p)
	return c.spec().Probes[p].Expect == audit.ExpectAllowed && answered(o) && o.Actual != nil &&
		o.Actual.Status >= 400 && len(o.Actual.Header.Values(cors.ACAO)) == 0 && o.Verdict().Stage != cors.StagePreflight
}

// errorsWithoutCORS is one error-without-cors finding per path and error
// status, naming the instances and the first probe that got it.
func (c *comparison) errorsWithoutCORS() checked {
	var out checked
	type hit struct{ i, p int }
	var hits []hit
	for p := range c.spec().Probes {
		for _, i := range c.answering(p, c.opt.Candidate) {
			if c.errorWithoutCORS(i, p) {
				hits = append(hits, hit{i, p})
			}
		}
	}
	for _, g := range groupBy(hits, func(h hit) string {
		return fmt.Sprintf("%s\x00%d", c.pathOf(c.spec().Probes[h.p].ID), c.res.Direct.At(h.i, h.p).Actual.Status)
	}) {
		first := g.items[0]
		var idx []int
		probes := map[int]bool{}
		for _, h := range g.items {
			probes[h.p] = true
			if !slices.Contains(idx, h.i) {
				idx = append(idx, h.i)
			}
		}
		obs := c.res.Direct.At(first.i, first.p)
		status := obs.Actual.Status
		which := "instance " + c.inst(idx[0]).ID + " answers"
		if len(idx) > 1 {
			which = fmt.Sprintf("%d instances (%s) answer", len(idx), c.idList(idx))
		}
		scope := c.spec().Probes[first.p].String()
		if n := len(probes); n > 1 {
			scope += fmt.Sprintf(" and %d other allowed requests", n-1)
		}
		out.add(Finding{Kind: KindErrorWithoutCORS, Instances: c.ids(idx), Groups: c.groups(idx), Probe: c.probeRef(first.p),
			Expected: "Access-Control-Allow-Origin on error responses too",
			Observed: fmt.Sprintf("%d %s without Access-Control-Allow-Origin", status, http.StatusText(status)),
			Message: fmt.Sprintf("%s %s with %d and no CORS headers: the page sees a network error, not the %d; "+
				"send the CORS headers on error responses too (nginx: add_header ... always)", which, scope, status, status),
			Reproduce: Reproduce(obs)})
	}
	return out
}

// pathOf is the path of the probe with this id.
func (c *comparison) pathOf(id string) string {
	for _, p := range c.spec().Probes {
		if p.ID == id {
			return audit.PathOf(p, c.res.URL)
		}
	}
	return ""
}

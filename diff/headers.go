package diff

import (
	"fmt"
	"slices"
	"strings"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/internal/plural"
)

// invalidHeaders reports answers whose CORS headers a browser cannot parse:
// several Access-Control-Allow-Origin values, unparsable lists, header
// lines outside HTTP's syntax (a NUL byte, which browsers reject as a
// network error, or a control byte in a CORS header). Through the
// load balancer, only what the instances do not already explain.
func (c *comparison) invalidHeaders() checked {
	var out checked
	type hit struct{ i, p int }
	var hits []hit
	// Once per probe: whether the misconfig check judges it looks at
	// every instance's answer.
	left := make([]bool, len(c.spec().Probes))
	for p := range left {
		left[p] = c.leftToMisconfig(p)
	}
	for i := range c.res.Direct.Instances() {
		for p, o := range c.res.Direct.Each(i) {
			if answered(o) && !left[p] && invalidDetail(o) != "" {
				hits = append(hits, hit{i, p})
			}
		}
	}
	known := map[string]bool{}
	for _, g := range groupBy(hits, func(h hit) string { return invalidDetail(c.res.Direct.At(h.i, h.p)) }) {
		known[g.key] = true
		var idx []int
		for _, h := range g.items {
			if !slices.Contains(idx, h.i) {
				idx = append(idx, h.i)
			}
		}
		first := g.items[0]
		out.add(Finding{Kind: KindInvalidHeader, Instances: c.ids(idx), Groups: c.groups(idx), Probe: c.probeRef(first.p),
			Expected: "one valid value per CORS header", Observed: g.key,
			Message:   fmt.Sprintf("%s %s CORS headers browsers reject: %s", plural.Count(len(idx), "instance"), plural.Verb(len(idx), "send"), g.key),
			Reproduce: Reproduce(c.res.Direct.At(first.i, first.p))})
	}
	for p, samples := range c.res.LB {
		if c.leftToMisconfig(p) {
			continue
		}
		n := 0
		var bad []audit.Observation
		var detail string
		for _, o := range samples {
			if !answered(o) {
				continue
			}
			n++
			if d := invalidDetail(o); d != "" && !known[d] {
				bad = append(bad, o)
				detail = d
			}
		}
		if len(bad) == 0 {
			continue
		}
		served := servedBy(bad)
		out.mark(p, lbRow)
		out.add(Finding{Kind: KindInvalidHeader, Severity: c.lbSeverity(p, bad, SeverityError),
			Instances: append([]string{"lb"}, served...), Probe: c.probeRef(p),
			Expected: "one valid value per CORS header", Observed: detail, Share: float64(len(bad)) / float64(n),
			Message: fmt.Sprintf("%d of %d answers through the load balancer carry CORS headers browsers reject (%s); the instances do not send them, so the LB adds or duplicates them",
				len(bad), n, detail),
			Reproduce: Reproduce(bad[0])})
		return out // one LB finding per target: the cause is the LB's config
	}
	return out
}

// invalidDetail describes what is malformed in an observation ("" if nothing).
func invalidDetail(o audit.Observation) string {
	for _, e := range []*audit.Exchange{o.Preflight, o.Actual} {
		if e == nil {
			continue
		}
		if e.Malformed != "" {
			return "a malformed header line " + e.Malformed
		}
		acao := e.Header.Values(cors.ACAO)
		if len(acao) > 1 {
			return fmt.Sprintf("%d %s headers: %s", len(acao), cors.ACAO, strings.Join(acao, " | "))
		}
		if len(acao) == 1 && strings.Contains(acao[0], ",") {
			return cors.ACAO + " with several values: " + acao[0]
		}
	}
	return ""
}

package report

import (
	"fmt"
	"net/url"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/diff"
)

// htmlMatrix is one table of instances x probes: the policy probes, or the
// adversarial ones (drawn collapsed).
type htmlMatrix struct {
	Adversarial bool
	Probes      []htmlProbe
	Rows        []htmlRow
	// Unexpected counts the cells not as expected.
	Unexpected int
}

type htmlProbe struct {
	ID, Method, Origin, Host, Title string
}

type htmlRow struct {
	ID, Addr, Group, Detail string
	LB, Unreachable         bool
	// Drifting: a cell of the row drifts, is not as expected or got no
	// answer; the drift-only view shows only such rows.
	Drifting bool
	Cells    []htmlCell
}

type htmlCell struct {
	Class, Symbol, Status, Title string
}

// Cell classes: the colour says whether the answer is as expected.
const (
	cellAllowedOK  = "ok-allowed" // allowed, as expected
	cellBlockedOK  = "ok-blocked" // blocked, as expected (neutral)
	cellUnexpected = "unexpected" // not what the policy or the majority says
	cellNoAnswer   = "error"      // no HTTP answer
	cellNone       = "none"       // not probed
)

// htmlMatrices builds the target's matrices, noting the groups seen.
func htmlMatrices(t *diff.TargetReport, groups map[string]bool) []htmlMatrix {
	cells := map[[2]string]diff.Cell{}
	for _, c := range t.Cells {
		cells[[2]string{c.Instance, c.Probe}] = c
	}
	var main, adv []diff.ProbeRef
	for _, pr := range t.Probes {
		if audit.IsAdversarial(pr.Class) {
			adv = append(adv, pr)
		} else {
			main = append(main, pr)
		}
	}
	lb := false
	for _, c := range t.Cells {
		lb = lb || c.Instance == "lb"
	}
	var out []htmlMatrix
	for _, ps := range [][]diff.ProbeRef{main, adv} {
		if len(ps) == 0 {
			continue
		}
		m := htmlMatrix{Adversarial: audit.IsAdversarial(ps[0].Class)}
		expected := make([]string, len(ps))
		for k, pr := range ps {
			expected[k] = expectedOutcome(pr, t.Cells)
			m.Probes = append(m.Probes, htmlProbe{ID: pr.ID, Method: pr.Method, Origin: pr.Origin,
				Host: originHost(pr.Origin), Title: probeString(pr)})
		}
		row := func(id string) ([]htmlCell, bool) {
			var hcs []htmlCell
			drifting := false
			for k, pr := range ps {
				c, ok := cells[[2]string{id, pr.ID}]
				hc := htmlCellOf(c, ok, expected[k])
				if ok && (c.Drift || hc.Class != cellAllowedOK && hc.Class != cellBlockedOK) {
					drifting = true
				}
				if ok && hc.Class == cellUnexpected {
					m.Unexpected++
				}
				hcs = append(hcs, hc)
			}
			return hcs, drifting
		}
		for _, in := range t.Instances {
			if in.Group != "" {
				groups[in.Group] = true
			}
			hcs, drifting := row(in.ID)
			m.Rows = append(m.Rows, htmlRow{ID: in.ID, Addr: in.Addr, Group: in.Group, Detail: instanceDetail(in),
				Unreachable: in.Unreachable(), Drifting: drifting || in.Unreachable(), Cells: hcs})
		}
		if lb {
			hcs, drifting := row("lb")
			m.Rows = append(m.Rows, htmlRow{ID: "load balancer", LB: true, Drifting: drifting, Cells: hcs})
		}
		out = append(out, m)
	}
	return out
}

// instanceDetail is the small print under an instance id.
func instanceDetail(in diff.InstanceInfo) string {
	s := ""
	add := func(v string) {
		if v == "" {
			return
		}
		if s != "" {
			s += ", "
		}
		s += v
	}
	add(in.Zone)
	if in.Health != "" {
		add("health " + in.Health)
	}
	if in.Skip != "" {
		add("not probed: " + in.Skip)
	}
	for _, nr := range in.NotRun {
		ps := ""
		for k, p := range nr.Probes {
			if k > 0 {
				ps += " "
			}
			ps += p
		}
		add("not run: " + ps + " (" + nr.Reason + ")")
	}
	return s
}

// originHost is an origin's host, for a column header ("null" as is).
func originHost(origin string) string {
	if u, err := url.Parse(origin); err == nil && u.Host != "" {
		return u.Host
	}
	return origin
}

// expectedOutcome is what a browser should decide for a probe: the
// policy's expectation; for an adversarial origin, blocked; otherwise the
// strict majority of the instances' answers ("" when there is none).
func expectedOutcome(pr diff.ProbeRef, cells []diff.Cell) string {
	if pr.Expect != "" {
		return pr.Expect
	}
	if audit.IsAdversarial(pr.Class) {
		return diff.OutcomeBlocked
	}
	n := map[string]int{}
	total := 0
	for _, c := range cells {
		if c.Probe == pr.ID && c.Instance != "lb" && c.Outcome != diff.OutcomeError {
			n[c.Outcome]++
			total++
		}
	}
	for o, k := range n {
		if 2*k > total {
			return o
		}
	}
	return ""
}

// htmlCellOf draws one cell: its symbol says what the browser decides, its
// colour whether that is as expected.
func htmlCellOf(c diff.Cell, ok bool, expected string) htmlCell {
	if !ok {
		return htmlCell{Class: cellNone, Symbol: "·", Title: "not probed (not run, or nothing a browser would send)"}
	}
	hc := htmlCell{Title: c.Outcome}
	switch c.Outcome {
	case diff.OutcomeAllowed:
		hc.Symbol = "✓"
	case diff.OutcomeBlocked:
		hc.Symbol = "✗"
	default:
		hc.Symbol = "!"
	}
	switch {
	case c.Outcome == diff.OutcomeError:
		hc.Class = cellNoAnswer
		hc.Status = c.Reason
	case expected == "" && !c.Drift, c.Outcome == expected:
		hc.Class = cellBlockedOK
		if c.Outcome == diff.OutcomeAllowed {
			hc.Class = cellAllowedOK
		}
	default:
		hc.Class = cellUnexpected
	}
	if c.Status != 0 {
		hc.Status = fmt.Sprint(c.Status)
		hc.Title += fmt.Sprintf(", HTTP %d", c.Status)
	}
	if c.Reason != "" {
		hc.Title += ": " + c.Reason
	}
	switch hc.Class {
	case cellAllowedOK, cellBlockedOK:
		hc.Title += " (as expected)"
	case cellUnexpected:
		hc.Title += " (not as expected: " + orDefault(expected, "no majority") + ")"
	}
	if c.Drift {
		hc.Class += " drift"
		hc.Title += " (differs from the majority)"
	}
	return hc
}

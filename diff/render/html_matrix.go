package render

import (
	"encoding/binary"
	"fmt"
	"net/url"
	"slices"
	"strings"

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

// namedInRow is how many instances a row standing for several names.
const namedInRow = 3

// htmlMatrices builds the target's matrices, noting the groups seen. With
// collapse (a large fleet), instances whose rows are identical (every
// cell, group, small print, reachability) are one row saying how many they
// are: the page has a row per distinct answer, not per instance. It works
// on the cells' value numbers: no map of every cell, no row per instance
// but the one being looked at.
func htmlMatrices(t *diff.TargetReport, groups map[string]bool, collapse bool) []htmlMatrix {
	main, adv, column := probeColumns(t)
	mv := matrixValues{cells: t.Cells, column: column, expected: expectedOutcomes(t, column)}
	rows := rowsOf(t)
	draw := mv.drawnRows(t, rows, groups, collapse)
	var lb []uint32
	if len(rows.lb) > 0 {
		lb = mv.values(rows.lb, nil)
	}
	var out []htmlMatrix
	for _, ps := range [][]int{main, adv} {
		if len(ps) == 0 {
			continue
		}
		out = append(out, mv.matrix(t, ps, draw, lb, collapse))
	}
	return out
}

// probeColumns splits t.Probes into the policy probes and the adversarial
// ones (indexes in t.Probes), and gives column[k], the cells' column of
// t.Probes[k] (-1: no cells).
func probeColumns(t *diff.TargetReport) (main, adv, column []int) {
	for k, pr := range t.Probes {
		if audit.IsAdversarial(pr.Class) {
			adv = append(adv, k)
		} else {
			main = append(main, k)
		}
	}
	column = make([]int, len(t.Probes))
	for k, pr := range t.Probes {
		column[k] = slices.Index(t.Cells.Columns(), pr.ID)
	}
	return main, adv, column
}

// matrixValues reads a target's cells by probe of t.Probes.
type matrixValues struct {
	cells *diff.Cells
	// column[k] is the cells' column of t.Probes[k] (-1: no cells).
	column []int
	// expected[k] is the outcome expected of t.Probes[k] (expectedOutcomes).
	expected []string
}

// values is an instance's (or the LB's) value number per probe of
// t.Probes: of its last row that has a cell for the probe.
func (mv matrixValues) values(rs []int, dst []uint32) []uint32 {
	dst = dst[:0]
	for _, col := range mv.column {
		id := uint32(0)
		for _, r := range rs {
			if col >= 0 {
				if v := mv.cells.ValueID(r, col); v != 0 {
					id = v
				}
			}
		}
		dst = append(dst, id)
	}
	return dst
}

// drawnRow is a row drawn: an instance, or a set of instances alike.
type drawnRow struct {
	in     diff.InstanceInfo
	detail string
	values []uint32
	names  []string
	n      int
}

// drawnRows lists the rows drawn, noting the groups seen: each instance,
// or with collapse each set of instances alike (same reachability, group,
// small print and values), in the order of their first instance.
func (mv matrixValues) drawnRows(t *diff.TargetReport, rows cellRows, groups map[string]bool, collapse bool) []*drawnRow {
	var draw []*drawnRow
	alike := map[string]*drawnRow{}
	var key []byte
	var vals []uint32
	var buf []int
	for k, in := range t.Instances {
		if in.Group != "" {
			groups[in.Group] = true
		}
		vals = mv.values(rows.instance(k, buf), vals)
		detail := instanceDetail(in)
		if collapse {
			key = key[:0]
			key = fmt.Appendf(key, "%t\x00%s\x00%s\x00", in.Unreachable(), in.Group, detail)
			for _, v := range vals {
				key = binary.LittleEndian.AppendUint32(key, v)
			}
			if d, ok := alike[string(key)]; ok {
				d.n++
				if len(d.names) < namedInRow {
					d.names = append(d.names, in.ID)
				}
				continue
			}
		}
		d := &drawnRow{in: in, detail: detail, values: slices.Clone(vals), names: []string{in.ID}, n: 1}
		if collapse {
			alike[string(key)] = d
		}
		draw = append(draw, d)
	}
	return draw
}

// matrix draws the matrix of the probes ps (indexes in t.Probes): a row
// per drawn row (those that drift first with collapse), then the load
// balancer's when lb is not nil.
func (mv matrixValues) matrix(t *diff.TargetReport, ps []int, draw []*drawnRow, lb []uint32, collapse bool) htmlMatrix {
	m := htmlMatrix{Adversarial: audit.IsAdversarial(t.Probes[ps[0]].Class)}
	for _, k := range ps {
		pr := t.Probes[k]
		m.Probes = append(m.Probes, htmlProbe{ID: pr.ID, Method: pr.Method, Origin: pr.Origin,
			Host: originHost(pr.Origin), Title: probeString(pr)})
	}
	for _, d := range draw {
		hcs, drifting := mv.row(&m, ps, d.values, d.n)
		r := htmlRow{ID: d.in.ID, Addr: d.in.Addr, Group: d.in.Group, Detail: d.detail,
			Unreachable: d.in.Unreachable(), Drifting: drifting || d.in.Unreachable(), Cells: hcs}
		if d.n > 1 {
			// Several instances alike: the first few named, how
			// many in all where the address was.
			r.ID = strings.Join(d.names, ", ")
			if more := d.n - len(d.names); more > 0 {
				r.ID += " and " + thousands(more) + " more"
			}
			r.Addr = thousands(d.n) + " instances answering alike"
		}
		m.Rows = append(m.Rows, r)
	}
	if collapse {
		// A large fleet opens on what drifts: those rows first.
		slices.SortStableFunc(m.Rows, func(a, b htmlRow) int {
			switch {
			case a.Drifting == b.Drifting:
				return 0
			case a.Drifting:
				return -1
			}
			return 1
		})
	}
	if lb != nil {
		hcs, drifting := mv.row(&m, ps, lb, 1)
		m.Rows = append(m.Rows, htmlRow{ID: "load balancer", LB: true, Drifting: drifting, Cells: hcs})
	}
	return m
}

// row draws the cells of a row of values (per probe of t.Probes) for the
// probes ps, and says whether one drifts or is not as expected. The row
// stands for n instances: its unexpected cells count n times in m.
func (mv matrixValues) row(m *htmlMatrix, ps []int, values []uint32, n int) ([]htmlCell, bool) {
	var hcs []htmlCell
	drifting := false
	for _, k := range ps {
		id := values[k]
		var c diff.Cell
		if id != 0 {
			v := mv.cells.Value(id)
			c = diff.Cell{Outcome: v.Outcome, Reason: v.Reason, Status: v.Status, Drift: v.Drift}
		}
		hc := htmlCellOf(c, id != 0, mv.expected[k])
		if id != 0 && (c.Drift || hc.Class != cellAllowedOK && hc.Class != cellBlockedOK) {
			drifting = true
		}
		if id != 0 && hc.Class == cellUnexpected {
			m.Unexpected += n
		}
		hcs = append(hcs, hc)
	}
	return hcs, drifting
}

// cellRows says which rows of a target's cells are an instance's, and the
// load balancer's.
type cellRows struct {
	// byID, when the rows are not simply the instances in order (a merged
	// report), lists each instance's rows.
	byID      map[string][]int
	instances []diff.InstanceInfo
	n         int
	lb        []int
}

// rowsOf finds the rows of the target's instances and load balancer. A
// report from one run has one row per instance, in order, then the load
// balancer's: it needs no index.
func rowsOf(t *diff.TargetReport) cellRows {
	cr := cellRows{instances: t.Instances, n: t.Cells.Rows()}
	inOrder := true
	for r := range cr.n {
		name := t.Cells.RowName(r)
		switch {
		case name == "lb":
			cr.lb = append(cr.lb, r)
		case len(cr.lb) > 0 || r >= len(t.Instances) || t.Instances[r].ID != name:
			inOrder = false
		}
	}
	if !inOrder {
		cr.byID = map[string][]int{}
		for r := range cr.n {
			if name := t.Cells.RowName(r); name != "lb" {
				cr.byID[name] = append(cr.byID[name], r)
			}
		}
	}
	return cr
}

// instance is the rows of instance k (in buf when it is one).
func (cr cellRows) instance(k int, buf []int) []int {
	if cr.byID != nil {
		return cr.byID[cr.instances[k].ID]
	}
	end := cr.n
	if len(cr.lb) > 0 {
		end = cr.lb[0]
	}
	if k < end {
		return append(buf[:0], k)
	}
	return nil
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

// expectedOutcomes is what a browser should decide for each probe: the
// policy's expectation; for an adversarial origin, blocked; otherwise the
// strict majority of the instances' answers ("" when there is none).
// column[k] is the cells' column of probe k.
func expectedOutcomes(t *diff.TargetReport, column []int) []string {
	out := make([]string, len(t.Probes))
	cells := t.Cells
	for k, pr := range t.Probes {
		if pr.Expect != "" {
			out[k] = pr.Expect
			continue
		}
		if audit.IsAdversarial(pr.Class) {
			out[k] = diff.OutcomeBlocked
			continue
		}
		if column[k] < 0 {
			continue
		}
		n := map[string]int{}
		total := 0
		for r := range cells.Rows() {
			id := cells.ValueID(r, column[k])
			if id == 0 || cells.RowName(r) == "lb" {
				continue
			}
			if o := cells.Value(id).Outcome; o != diff.OutcomeError {
				n[o]++
				total++
			}
		}
		for o, c := range n {
			if 2*c > total {
				out[k] = o
			}
		}
	}
	return out
}

// htmlCellOf draws one cell: its symbol says what the browser decides, its
// colour whether that is as expected.
func htmlCellOf(c diff.Cell, ok bool, expected string) htmlCell {
	if !ok {
		return htmlCell{Class: cellNone, Symbol: "·", Title: "not probed (not run, not routed to this instance, or nothing a browser would send)"}
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

package diff

import "github.com/corsaudit/corsaudit/audit"

// targetReport builds the report section: instances, probes, and the
// matrix of cells, drift marked on the cells the checks returned.
func (c *comparison) targetReport(drift []cell) TargetReport {
	marked := map[cell]bool{}
	for _, d := range drift {
		marked[d] = true
	}
	t := c.spec().Target
	tr := TargetReport{Name: t.Name, URL: t.URL}
	for i := range t.Instances {
		tr.Instances = append(tr.Instances, c.instanceInfo(i))
	}
	for p := range c.spec().Probes {
		tr.Probes = append(tr.Probes, *c.probeRef(p))
	}
	n := len(c.res.LB) // at most one LB cell per probe
	for i := range c.res.Direct.Instances() {
		for _, o := range c.res.Direct.Each(i) {
			if sent(o) {
				n++
			}
		}
	}
	tr.Cells = make([]Cell, 0, n) // sized once: no copies of a growing matrix
	for i := range c.res.Direct.Instances() {
		for p, o := range c.res.Direct.Each(i) {
			if sent(o) {
				tr.Cells = append(tr.Cells, cellOf(t.Instances[i].ID, c.spec().Probes[p].ID, o, marked[cell{i, p}]))
			}
		}
	}
	for p, samples := range c.res.LB {
		// One LB cell per probe: the most common outcome of its samples.
		counts := map[string]int{}
		var best audit.Observation
		bestN := 0
		for _, o := range samples {
			if !sent(o) {
				continue
			}
			k := cellOf("", "", o, false).Outcome + VerdictString(o.Verdict())
			counts[k]++
			if counts[k] > bestN {
				bestN, best = counts[k], o
			}
		}
		if bestN > 0 {
			tr.Cells = append(tr.Cells, cellOf("lb", c.spec().Probes[p].ID, best, marked[cell{lbRow, p}]))
		}
	}
	return tr
}

// cellOf is what one observation shows in the matrix.
func cellOf(inst, probe string, o audit.Observation, drift bool) Cell {
	cell := Cell{Instance: inst, Probe: probe, Drift: drift}
	switch {
	case o.Err() != audit.ErrNone:
		cell.Outcome = OutcomeError
		cell.Reason = string(o.Err())
	case o.Verdict().Allowed:
		cell.Outcome = OutcomeAllowed
	default:
		cell.Outcome = OutcomeBlocked
		cell.Reason = string(o.Verdict().Reason)
	}
	if o.Preflight != nil {
		cell.Status = o.Preflight.Status
	} else if o.Actual != nil {
		cell.Status = o.Actual.Status
	}
	return cell
}

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
	ids := make([]string, len(t.Instances))
	for i, in := range t.Instances {
		ids[i] = in.ID
	}
	probes := make([]string, len(tr.Probes))
	for p, pr := range tr.Probes {
		probes[p] = pr.ID
	}
	// One small number per instance and probe, the distinct values once.
	cells := newCellsFor(ids, probes)
	for i := range c.res.Direct.Instances() {
		for p, o := range c.res.Direct.Each(i) {
			if sent(o) {
				cells.set(i, p, valueOf(o, marked[cell{i, p}]))
			}
		}
	}
	lb := -1
	for p, samples := range c.res.LB {
		// One LB cell per probe: the most common outcome of its samples.
		counts := map[string]int{}
		var best audit.Observation
		bestN := 0
		for _, o := range samples {
			if !sent(o) {
				continue
			}
			k := valueOf(o, false).Outcome + verdictString(o.Verdict())
			counts[k]++
			if counts[k] > bestN {
				bestN, best = counts[k], o
			}
		}
		if bestN > 0 {
			if lb < 0 {
				lb = cells.addRow("lb")
			}
			cells.set(lb, p, valueOf(best, marked[cell{lbRow, p}]))
		}
	}
	if cells.Len() > 0 {
		tr.Cells = cells
	}
	return tr
}

// valueOf is what one observation shows in the matrix.
func valueOf(o audit.Observation, drift bool) CellValue {
	cell := CellValue{Drift: drift}
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

package diff

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/corsaudit/corsaudit/diff/severity"
)

// MergeReports combines reports from several runs (shards, accounts,
// regions) into one:
//
//   - targets are concatenated in input order. A target name may appear in
//     several inputs only when it has the same URL and disjoint instance
//     ids (one target sharded across jobs); its instances, probes (by id,
//     which must then describe the same scenario) and cells are combined.
//     Majorities are not recomputed: drift is what each shard found among
//     its own instances. The same instance in two inputs is an error, since
//     no one can tell which answer is current;
//   - findings are concatenated;
//   - StartedAt is the earliest start, EndedAt the latest end; Duration
//     is the longest input's:
//     runs merged together usually run side by side (one job per account,
//     region or shard), so the merged run took as long as its slowest
//     part, and the idle time between runs started apart is no part of
//     it (a sum would count parallel runs twice);
//   - FailOn is the strictest of the inputs' thresholds (severity.Strictest), so
//     the merged report fails when one of its runs would have;
//   - Browser and Version list the distinct values;
//   - Incomplete joins the inputs' reasons, so one partial shard makes the
//     merged report partial;
//   - the summary is recomputed, requests summed.
func MergeReports(reports ...*Report) (*Report, error) {
	if len(reports) == 0 {
		return nil, errors.New("merge: no reports")
	}
	out := &Report{Tool: "corsaudit", Targets: []TargetReport{}, Findings: []Finding{}}
	var versions, browsers, incomplete []string
	var failOn []FailOn
	where := map[string]int{}    // target name -> index in out.Targets
	owner := map[[2]string]int{} // (target, instance id) -> input index
	requests := 0
	for n, r := range reports {
		if r == nil {
			return nil, fmt.Errorf("merge: report %d is nil", n+1)
		}
		if r.Tool != "" && r.Tool != "corsaudit" {
			return nil, fmt.Errorf("merge: report %d was written by %q, not corsaudit", n+1, r.Tool)
		}
		versions = appendNew(versions, r.Version)
		browsers = appendNew(browsers, r.Browser)
		if r.Incomplete != "" {
			incomplete = append(incomplete, r.Incomplete)
		}
		if !r.StartedAt.IsZero() && (out.StartedAt.IsZero() || r.StartedAt.Before(out.StartedAt)) {
			out.StartedAt = r.StartedAt
		}
		if e := r.End(); e.After(out.EndedAt) {
			out.EndedAt = e
		}
		out.Duration = max(out.Duration, r.Duration)
		failOn = append(failOn, r.Threshold())
		requests += r.Summary.Requests
		for _, t := range r.Targets {
			i, seen := where[t.Name]
			if !seen {
				where[t.Name] = len(out.Targets)
				t.Instances = slices.Clone(t.Instances)
				t.Probes = slices.Clone(t.Probes)
				t.Cells = t.Cells.Clone()
				for _, in := range t.Instances {
					owner[[2]string{t.Name, in.ID}] = n
				}
				out.Targets = append(out.Targets, t)
				continue
			}
			m := &out.Targets[i]
			if m.URL != t.URL {
				return nil, fmt.Errorf("merge: target %q has URL %s in report %d and %s in an earlier one", t.Name, t.URL, n+1, m.URL)
			}
			for _, in := range t.Instances {
				if prev, dup := owner[[2]string{t.Name, in.ID}]; dup {
					return nil, fmt.Errorf("merge: target %q: instance %q is in report %d and report %d", t.Name, in.ID, prev+1, n+1)
				}
				owner[[2]string{t.Name, in.ID}] = n
				m.Instances = append(m.Instances, in)
			}
			for _, p := range t.Probes {
				k := slices.IndexFunc(m.Probes, func(q ProbeRef) bool { return q.ID == p.ID })
				if k < 0 {
					m.Probes = append(m.Probes, p)
					continue
				}
				if !sameScenario(m.Probes[k], p) {
					return nil, fmt.Errorf("merge: target %q: probe %s differs between report %d and an earlier one (different policies?)", t.Name, p.ID, n+1)
				}
			}
			if t.Cells.Len() > 0 && m.Cells == nil {
				m.Cells = &Cells{}
			}
			for cell := range t.Cells.All() {
				m.Cells.Add(cell)
			}
		}
		out.Findings = append(out.Findings, r.Findings...)
	}
	out.Version = strings.Join(versions, ", ")
	out.Browser = strings.Join(browsers, ", ")
	out.Incomplete = strings.Join(incomplete, "; ")
	out.FailOn = severity.Strictest(failOn...)
	out.Summary.Requests = requests
	out.Summarize()
	return out, nil
}

func sameScenario(a, b ProbeRef) bool {
	return a.Origin == b.Origin && a.Method == b.Method && a.Credentials == b.Credentials &&
		slices.Equal(a.Headers, b.Headers)
}

func appendNew(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

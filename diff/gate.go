package diff

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/corsaudit/corsaudit/internal/plural"

	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/internal/escape"
)

// Gate is a pre-deploy gate: the Candidate group's instances compared with
// the majority of the Baseline group, or with the declared policy.
type Gate struct {
	Baseline  string // empty when Policy
	Candidate string
	Policy    bool
	// MinInstances is the fewest reachable candidate instances per target.
	MinInstances int
}

// Options are the comparison options of the gate.
func (g Gate) Options(checks []string) Options {
	if g.Policy {
		return Options{Candidate: g.Candidate, Policy: true, Analyses: checks}
	}
	return Options{Baseline: g.Baseline, Candidate: g.Candidate, Analyses: checks}
}

// Select chooses, before probing, the discovered targets the gate
// compares. names (--target) selects targets by name; each must exist and
// have the gate's groups. Without names, a target with neither group is
// skipped (a note says so), one with only one of them is an error, and so
// is having no target left. Errors list the groups that exist.
func (g Gate) Select(targets []discovery.Target, names []string) (keep []int, notes []string, err error) {
	needs := []string{g.Candidate}
	if !g.Policy {
		needs = append(needs, g.Baseline)
	}
	for _, n := range names {
		if !slices.ContainsFunc(targets, func(t discovery.Target) bool { return t.Name == n }) {
			var have []string
			for _, t := range targets {
				have = append(have, t.Name)
			}
			return nil, nil, fmt.Errorf("gate: no target named %q (targets: %s)", n, strings.Join(have, ", "))
		}
	}
	for i, t := range targets {
		if len(names) > 0 && !slices.Contains(names, t.Name) {
			continue
		}
		groups := groups(t)
		var missing []string
		for _, g := range needs {
			if !slices.Contains(groups, g) {
				missing = append(missing, g)
			}
		}
		switch {
		case len(missing) == 0:
			keep = append(keep, i)
		case len(names) == 0 && len(missing) == len(needs):
			notes = append(notes, fmt.Sprintf("gate: skipping target %s: it has no %s group (groups: %s)",
				t.Name, strings.Join(escape.Quote(needs), " or "), listOrNone(groups)))
		default:
			return nil, nil, fmt.Errorf("gate: target %s has no %s group (groups: %s)",
				t.Name, strings.Join(escape.Quote(missing), " or "), listOrNone(groups))
		}
	}
	if len(keep) == 0 {
		var all []string
		for _, t := range targets {
			all = append(all, t.Name+": "+listOrNone(groups(t)))
		}
		return nil, notes, fmt.Errorf("gate: no target has the %s group (groups: %s)",
			strings.Join(escape.Quote(needs), " and "), listOrNone(all))
	}
	return keep, notes, nil
}

// groups lists the groups of a target's instances, sorted.
func groups(t discovery.Target) []string {
	var gs []string
	for _, in := range t.Instances {
		if in.Group != "" && !slices.Contains(gs, in.Group) {
			gs = append(gs, in.Group)
		}
	}
	sort.Strings(gs)
	return gs
}

func listOrNone(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, ", ")
}

// gateKinds are the findings that say a candidate decides differently.
var gateKinds = map[Kind]bool{
	KindVerdictDrift: true, KindSplit: true, KindPolicyViolation: true, KindUnreachable: true,
}

// Failures lists why the gate fails on r: a target with fewer reachable
// candidate instances than MinInstances, a baseline group with no
// reachable instance or no majority, and every finding about a candidate
// instance that decides differently or is unreachable, one per cause (its
// sentence, then every request it covers on every path). None: it passes.
func (g Gate) Failures(r *Report) []string {
	var out []string
	candidates := map[string]map[string]bool{} // target -> candidate instance ids
	for _, t := range r.Targets {
		ids := map[string]bool{}
		cand, base := 0, 0
		for _, in := range t.Instances {
			if in.Group == g.Candidate {
				ids[in.ID] = true
				if in.Reachable {
					cand++
				}
			}
			if !g.Policy && in.Group == g.Baseline && in.Reachable {
				base++
			}
		}
		candidates[t.Name] = ids
		if cand < g.MinInstances {
			out = append(out, fmt.Sprintf("%s: candidate group %q has %d reachable instances, fewer than --min-instances %d", t.Name, g.Candidate, cand, g.MinInstances))
		}
		if !g.Policy && base == 0 {
			out = append(out, fmt.Sprintf("%s: baseline group %q has no reachable instance: nothing to compare with", t.Name, g.Baseline))
		} else if !g.Policy {
			out = append(out, g.unmatchedRoutes(&t)...)
		}
	}
	for _, f := range r.Findings {
		if !gateKinds[f.Kind] {
			continue
		}
		var hit []string
		for _, id := range f.Instances {
			if candidates[f.Target][id] {
				hit = append(hit, id)
			}
		}
		baselineSplit := f.Kind == KindSplit && len(hit) == 0 && !g.Policy
		if len(hit) == 0 && !baselineSplit {
			continue
		}
		// A finding stands for one cause over every probe and path it
		// lists; the reference and candidate answers shown are its first
		// probe's.
		var requests []string
		for _, p := range f.AllProbes() {
			// Per path: the same probe on another path is another check.
			path := p.Path
			if path == "" {
				path = f.Path // a report written before probes named their path
			}
			r := strings.TrimSpace(p.Method+" "+path) + " from " + p.Origin
			if len(p.Headers) > 0 {
				r += " with " + strings.Join(p.Headers, ", ")
			}
			requests = append(requests, r)
		}
		if baselineSplit {
			out = append(out, fmt.Sprintf("%s: %s: the baseline group has no majority (%s): nothing to compare with",
				f.Target, strings.Join(requests, "; "), f.Observed))
			continue
		}
		sort.Strings(hit)
		var b strings.Builder
		if len(requests) == 0 {
			// Not about a request: an unreachable or skipped instance.
			fmt.Fprintf(&b, "%s: %s: %s", f.Target, strings.Join(hit, ", "), f.Message)
			if f.Reproduce != "" {
				fmt.Fprintf(&b, "\n      %s", f.Reproduce)
			}
			out = append(out, b.String())
			continue
		}
		fmt.Fprintf(&b, "%s: %s %s %s differently:", f.Target, strings.Join(hit, ", "), plural.Verb(len(hit), "decide"), plural.Count(len(requests), "request"))
		if len(f.Explains) > 0 {
			// One cause, with everything it explains.
			fmt.Fprintf(&b, "\n      cause: %s", f.Message)
		}
		for _, r := range requests {
			fmt.Fprintf(&b, "\n      %s", r)
		}
		first := ""
		if len(requests) > 1 {
			first = " (first request)"
		}
		fmt.Fprintf(&b, "\n      reference%s: %s\n      candidate%s: %s\n      %s", first, f.Expected, first, f.Observed, f.Reproduce)
		out = append(out, b.String())
	}
	return out
}

// unmatchedRoutes lists the routed probes of t that candidate instances
// answered and no baseline instance did: the load balancer sends them
// where the baseline group is not, so nothing compares the candidate's
// answers.
func (g Gate) unmatchedRoutes(t *TargetReport) []string {
	if !slices.ContainsFunc(t.Probes, func(p ProbeRef) bool { return len(p.Routes) > 0 }) {
		return nil
	}
	group := map[string]string{}
	for _, in := range t.Instances {
		group[in.ID] = in.Group
	}
	cand, base := map[string]bool{}, map[string]bool{}
	for c := range t.Cells.All() {
		if c.Outcome == OutcomeError {
			continue
		}
		switch group[c.Instance] {
		case g.Candidate:
			cand[c.Probe] = true
		case g.Baseline:
			base[c.Probe] = true
		}
	}
	var out []string
	for _, p := range t.Probes {
		if len(p.Routes) > 0 && cand[p.ID] && !base[p.ID] {
			out = append(out, fmt.Sprintf("%s: %s: candidate group %q answers it, no instance of the baseline group %q does (routed: %s): nothing to compare with",
				t.Name, p.ID+" "+p.Method+" from "+p.Origin, g.Candidate, g.Baseline, p.RoutedBy()))
		}
	}
	return out
}

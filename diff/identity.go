package diff

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// A finding knows its own identity: which probes it covers, what
// identifies it from run to run, where it comes in a report. Renderers
// call these; none computes them.

// AllProbes is every probe the finding covers: Probes, or Probe alone in a
// report written before findings listed several.
func (f Finding) AllProbes() []ProbeRef {
	if len(f.Probes) == 0 && f.Probe != nil {
		return []ProbeRef{*f.Probe}
	}
	return f.Probes
}

// Normalize fills what follows from the finding's probes: Probe is the
// first of them (Probes is Probe alone in a report written before findings
// listed several), Paths their paths, Path the first of those; and a
// finding about instances and probes without evidence gets its one
// evidence: all its instances show it on all its probes. Checks call it on
// what they report; the JSON report on what it writes.
func (f *Finding) Normalize() {
	f.Probes = f.AllProbes()
	f.Probe = nil
	if len(f.Probes) > 0 {
		f.Probe = &f.Probes[0]
	}
	if paths := pathsOf(f.Probes); len(paths) > 0 {
		f.Paths = paths
		f.Path = paths[0]
	}
	if len(f.Evidence) == 0 && len(f.Probes) > 0 && len(f.Instances) > 0 {
		ids := make([]string, len(f.Probes))
		for k, p := range f.Probes {
			ids[k] = p.ID
		}
		f.Evidence = []Evidence{{Instances: f.Instances, Probes: ids, Reproduce: f.Reproduce}}
	}
}

// Fingerprint identifies the finding from run to run, whatever its wording,
// its share or the order of its probes. A finding about instances that
// answer otherwise than the rest (Explains) is its cause: the target, the
// instances and the header difference, so that it keeps its fingerprint
// when the requests it reaches change (another path, a probe more, the
// load balancer sampled or not). Any other finding is its kind, target,
// instances and probes (as scenarios, with their paths).
func (f Finding) Fingerprint() string {
	h := sha256.New()
	ids := slices.Clone(f.Instances)
	sort.Strings(ids)
	if len(f.Explains) > 0 && len(f.Difference) > 0 {
		var ds []string
		for _, d := range f.Difference {
			ds = append(ds, d.Step+"\x00"+d.String())
		}
		sort.Strings(ds)
		fmt.Fprintf(h, "cause\x00%s\x00%s\x00%s", f.Target, strings.Join(ids, "\x01"), strings.Join(ds, "\x01"))
		return hex.EncodeToString(h.Sum(nil))[:32]
	}
	var scenarios []string
	for _, p := range f.AllProbes() {
		scenarios = append(scenarios, fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%t", p.Path, p.Origin, p.Method, strings.Join(p.Headers, "\x01"), p.Credentials))
	}
	sort.Strings(scenarios)
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s", f.Kind, f.Target, strings.Join(scenarios, "\x02"), strings.Join(ids, "\x01"))
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Compare orders findings as reports list them: by severity (highest
// first), then by how many users they affect (the share of requests
// through the load balancer, then the number of instances, the load
// balancer aside), then by kind; 0 for findings that tie.
func (f Finding) Compare(g Finding) int {
	if c := cmp.Compare(g.Severity.Rank(), f.Severity.Rank()); c != 0 {
		return c
	}
	if c := cmp.Compare(g.Share, f.Share); c != 0 {
		return c
	}
	if c := cmp.Compare(nonLBInstances(g), nonLBInstances(f)); c != 0 {
		return c
	}
	return cmp.Compare(f.Kind, g.Kind)
}

// sortFindings orders findings by Finding.Compare, keeping the differ's
// order among findings that tie.
func sortFindings(fs []Finding) { slices.SortStableFunc(fs, Finding.Compare) }

// nonLBInstances counts the instances a finding names, the load balancer
// aside.
func nonLBInstances(f Finding) int {
	n := 0
	for _, id := range f.Instances {
		if id != "lb" {
			n++
		}
	}
	return n
}

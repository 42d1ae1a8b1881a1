package render

import (
	"fmt"
	"io"

	"github.com/corsaudit/corsaudit/diff"
)

// JSON writes the report as indented JSON (the diff.Report field tags),
// with every list present ([] rather than null) so scripts can iterate
// without checks. Every finding has "probes" (the probes it covers, each
// with its path, [] for a finding about no probe, such as an unreachable
// instance) and, when it has one, "probe" (the first of them, for readers
// of older reports). It is
// the format `corsaudit merge` reads back. The document is written as it is
// encoded, never whole in memory.
func JSON(w io.Writer, r *diff.Report) error {
	// Streamed, list element by list element, with the bytes
	// json.Encoder with SetIndent("", "  ") writes.
	if err := streamJSON(w, normalize(r)); err != nil {
		return fmt.Errorf("report: json: %w", err)
	}
	return nil
}

// normalize returns a copy of r whose lists and maps are non-nil.
func normalize(r *diff.Report) *diff.Report {
	out := *r
	out.Targets = make([]diff.TargetReport, len(r.Targets))
	for i, t := range r.Targets {
		t.Instances = nonNil(t.Instances)
		t.Probes = make([]diff.ProbeRef, len(t.Probes))
		for j, p := range r.Targets[i].Probes {
			p.Headers = nonNil(p.Headers)
			t.Probes[j] = p
		}
		out.Targets[i] = t
	}
	out.Findings = make([]diff.Finding, len(r.Findings))
	for i, f := range r.Findings {
		f.Instances = nonNil(f.Instances)
		probes := make([]diff.ProbeRef, len(f.AllProbes()))
		for j, p := range f.AllProbes() {
			p.Headers = nonNil(p.Headers)
			probes[j] = p
		}
		f.Probes = probes
		f.Normalize()
		out.Findings[i] = f
	}
	if out.Summary.BySeverity == nil {
		out.Summary.BySeverity = map[diff.Severity]int{}
	}
	if out.Summary.ByKind == nil {
		out.Summary.ByKind = map[diff.Kind]int{}
	}
	return &out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

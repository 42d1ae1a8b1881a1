package render

import (
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/corsaudit/corsaudit/diff"
)

// informationURI is where the SARIF tool component points users.
const informationURI = "https://github.com/corsaudit/corsaudit"

// SARIF writes the report as a SARIF 2.1.0 log for code-scanning UIs: one
// rule per finding kind (with its explanation as help), one result per
// finding with its level from the severity. One result per finding means
// one per cause: a finding covering several probes and paths is one
// result listing them. A finding has no source file: it has a location
// per path, whose physical location is the target's public URL on that
// path and whose logical locations are the target and the instances. The
// probes (and "probe", the first), the paths, the kinds the cause
// explains, the evidence per instance, the expected and observed answers,
// the header difference and the curl reproduction are result properties,
// and a partial fingerprint (Finding.Fingerprint: over the cause, not the
// probes) lets a UI follow a finding from run to run.
func SARIF(w io.Writer, r *diff.Report) error {
	log := sarif.NewReport()
	run := sarif.NewRunWithInformationURI(orDefault(r.Tool, "corsaudit"), informationURI)
	if r.Version != "" {
		run.Tool.Driver.WithVersion(r.Version)
	}
	addSARIFRules(run, r.Findings)
	run.AddInvocation(sarifInvocation(r))
	urls := map[string]string{}
	for _, t := range r.Targets {
		urls[t.Name] = t.URL
	}
	for _, f := range r.Findings {
		run.CreateResultForRule(string(f.Kind)).
			WithLevel(sarifLevel(f.Severity)).
			WithMessage(sarif.NewTextMessage(f.Message)).
			WithPartialFingerprints(map[string]string{"corsauditFinding/v2": f.Fingerprint()}).
			WithLocations(sarifLocations(f, urls[f.Target])).
			WithProperties(sarifProperties(f))
	}
	log.AddRun(run)
	if err := log.PrettyWrite(w); err != nil {
		return fmt.Errorf("report: sarif: %w", err)
	}
	return nil
}

// addSARIFRules adds a rule per finding kind, known or found, in kind
// order, with its explanation as help and its severity as default level.
func addSARIFRules(run *sarif.Run, findings []diff.Finding) {
	kinds := make([]diff.Kind, 0, len(diff.Kinds))
	for _, ki := range diff.Kinds {
		kinds = append(kinds, ki.Kind)
	}
	for _, k := range sortedKinds(findings) {
		if _, ok := k.Info(); !ok {
			kinds = append(kinds, k)
		}
	}
	sort.Slice(kinds, func(a, b int) bool { return kinds[a] < kinds[b] })
	for _, k := range kinds {
		ki, _ := k.Info()
		help := ki.Help
		if help == "" {
			help = "Finding kind " + string(k) + "."
		}
		run.AddRule(string(k)).
			WithName(ruleName(k)).
			WithDescription(k.Title()).
			WithFullDescription(sarif.NewMultiformatMessageString().WithText(help)).
			WithHelp(sarif.NewMultiformatMessageString().WithText(help).
				WithMarkdown(help + "\n\nSee the finding's `reproduce` property for a curl command that shows it.")).
			WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel(ki.Severity)))
	}
}

// sarifInvocation says when the run started and ended, and whether it
// completed (an incomplete run is an error notification).
func sarifInvocation(r *diff.Report) *sarif.Invocation {
	inv := sarif.NewInvocation().WithExecutionSuccessful(r.Incomplete == "")
	if !r.StartedAt.IsZero() {
		inv.WithStartTimeUtc(r.StartedAt.UTC().Format(time.RFC3339Nano))
		inv.WithEndTimeUtc(r.StartedAt.Add(time.Duration(r.Duration * float64(time.Second))).UTC().Format(time.RFC3339Nano))
	}
	if r.Incomplete != "" {
		inv.AddToolExecutionNotification(sarif.NewNotification().
			WithLevel("error").WithMessage(sarif.NewTextMessage("incomplete run: " + r.Incomplete)))
	}
	return inv
}

// sarifLocations gives a finding a location per path (one without a path
// when it has none): the target's public URL (targetURL) on the path, and
// the target and its instances as logical locations.
func sarifLocations(f diff.Finding, targetURL string) []*sarif.Location {
	paths := f.Paths
	if len(paths) == 0 {
		paths = []string{""}
	}
	var locs []*sarif.Location
	for _, path := range paths {
		loc := sarif.NewLocation()
		if u := urlOnPath(targetURL, path); u != "" {
			loc.WithPhysicalLocation(sarif.NewPhysicalLocation().
				WithArtifactLocation(sarif.NewSimpleArtifactLocation(u)))
		}
		loc.AddLogicalLocation(sarif.NewLogicalLocation().WithName(f.Target).
			WithFullyQualifiedName(f.Target).WithKind("resource"))
		for _, id := range f.Instances {
			loc.AddLogicalLocation(sarif.NewLogicalLocation().WithName(id).
				WithFullyQualifiedName(f.Target + "/" + id).WithKind("resource"))
		}
		locs = append(locs, loc)
	}
	return locs
}

// sarifProperties are a finding's result properties: what it is about
// (kind, severity, target, instances, groups, probes, paths), why
// (explains, evidence, difference, expected and observed answers, share)
// and how to see it (reproduce).
func sarifProperties(f diff.Finding) *sarif.PropertyBag {
	props := sarif.NewPropertyBag().
		Add("kind", string(f.Kind)).
		Add("severity", string(f.Severity)).
		Add("target", f.Target).
		Add("instances", nonNil(f.Instances))
	if len(f.Groups) > 0 {
		props.Add("groups", f.Groups)
	}
	if ps := f.AllProbes(); len(ps) > 0 {
		var all []map[string]any
		for _, p := range ps {
			m := map[string]any{"id": p.ID, "origin": p.Origin, "method": p.Method,
				"headers": nonNil(p.Headers), "credentials": p.Credentials}
			if p.Path != "" {
				m["path"] = p.Path
			}
			all = append(all, m)
		}
		props.Add("probe", all[0])
		props.Add("probes", all)
	}
	if len(f.Paths) > 0 {
		props.Add("paths", f.Paths)
	}
	if len(f.Explains) > 0 {
		props.Add("explains", f.Explains)
	}
	if len(f.Evidence) > 0 {
		props.Add("evidence", f.Evidence)
	}
	if len(f.Difference) > 0 {
		props.Add("difference", f.Difference)
	}
	if f.Expected != "" {
		props.Add("expected", f.Expected)
	}
	if f.Observed != "" {
		props.Add("observed", f.Observed)
	}
	if f.Share > 0 {
		props.Add("share", f.Share)
	}
	if f.Reproduce != "" {
		props.Add("reproduce", f.Reproduce)
	}
	return props
}

// sarifLevel maps a severity to a SARIF result level.
func sarifLevel(s diff.Severity) string {
	switch s {
	case diff.SeverityError:
		return "error"
	case diff.SeverityWarning:
		return "warning"
	}
	return "note"
}

// ruleName is a kind in the PascalCase SARIF suggests for rule names.
func ruleName(k diff.Kind) string {
	var b strings.Builder
	for _, part := range strings.Split(string(k), "-") {
		if part == "" {
			continue
		}
		if part == "lb" {
			b.WriteString("LB")
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// urlOnPath is the target's public URL u on path (and its query), u
// itself when path is empty or u does not parse.
func urlOnPath(u, path string) string {
	if path == "" || u == "" {
		return u
	}
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	ref, err := url.Parse(path)
	if err != nil {
		return u
	}
	pu.Path, pu.RawPath, pu.RawQuery = ref.Path, ref.RawPath, ref.RawQuery
	return pu.String()
}

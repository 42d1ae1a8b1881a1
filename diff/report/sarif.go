package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
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
// finding with its level from the severity. A finding has no source file:
// its physical location is the target's public URL and its logical
// locations are the target and the instances. One result per finding means
// one per cause: a finding covering several probes is one result listing
// them. The probes (and "probe", the first), the expected and observed
// answers, the header difference and the curl reproduction are result
// properties, and a partial fingerprint lets a UI follow a finding from
// run to run.
func SARIF(w io.Writer, r *diff.Report) error {
	log := sarif.NewReport()
	run := sarif.NewRunWithInformationURI(orDefault(r.Tool, "corsaudit"), informationURI)
	if r.Version != "" {
		run.Tool.Driver.WithVersion(r.Version)
	}
	kinds := make([]diff.Kind, 0, len(diff.Kinds))
	for _, ki := range diff.Kinds {
		kinds = append(kinds, ki.Kind)
	}
	for _, k := range sortedKinds(r.Findings) {
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

	inv := sarif.NewInvocation().WithExecutionSuccessful(r.Incomplete == "")
	if !r.StartedAt.IsZero() {
		inv.WithStartTimeUtc(r.StartedAt.UTC().Format(time.RFC3339Nano))
		inv.WithEndTimeUtc(r.StartedAt.Add(time.Duration(r.Duration * float64(time.Second))).UTC().Format(time.RFC3339Nano))
	}
	if r.Incomplete != "" {
		inv.AddToolExecutionNotification(sarif.NewNotification().
			WithLevel("error").WithMessage(sarif.NewTextMessage("incomplete run: " + r.Incomplete)))
	}
	run.AddInvocation(inv)

	urls := map[string]string{}
	for _, t := range r.Targets {
		urls[t.Name] = t.URL
	}
	for _, f := range r.Findings {
		res := run.CreateResultForRule(string(f.Kind)).
			WithLevel(sarifLevel(f.Severity)).
			WithMessage(sarif.NewTextMessage(f.Message)).
			WithPartialFingerprints(map[string]string{"corsauditFinding/v1": fingerprint(f)})
		loc := sarif.NewLocation()
		if u := urls[f.Target]; u != "" {
			loc.WithPhysicalLocation(sarif.NewPhysicalLocation().
				WithArtifactLocation(sarif.NewSimpleArtifactLocation(u)))
		}
		loc.AddLogicalLocation(sarif.NewLogicalLocation().WithName(f.Target).
			WithFullyQualifiedName(f.Target).WithKind("resource"))
		for _, id := range f.Instances {
			loc.AddLogicalLocation(sarif.NewLogicalLocation().WithName(id).
				WithFullyQualifiedName(f.Target + "/" + id).WithKind("resource"))
		}
		res.AddLocation(loc)
		props := sarif.NewPropertyBag().
			Add("kind", string(f.Kind)).
			Add("severity", string(f.Severity)).
			Add("target", f.Target).
			Add("instances", nonNil(f.Instances))
		if len(f.Groups) > 0 {
			props.Add("groups", f.Groups)
		}
		if ps := findingProbes(f); len(ps) > 0 {
			var all []map[string]any
			for _, p := range ps {
				all = append(all, map[string]any{"id": p.ID, "origin": p.Origin, "method": p.Method,
					"headers": nonNil(p.Headers), "credentials": p.Credentials})
			}
			props.Add("probe", all[0])
			props.Add("probes", all)
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
		res.WithProperties(props)
	}
	log.AddRun(run)
	if err := log.PrettyWrite(w); err != nil {
		return fmt.Errorf("report: sarif: %w", err)
	}
	return nil
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

// fingerprint identifies a finding across runs: its kind, target, probes
// (as scenarios, in a fixed order, so the same grouped finding keeps its
// fingerprint whatever order the probes came in) and instances, not its
// wording or its share.
func fingerprint(f diff.Finding) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", f.Kind, f.Target)
	var scenarios []string
	for _, p := range findingProbes(f) {
		scenarios = append(scenarios, fmt.Sprintf("%s\x00%s\x00%s\x00%t\x00", p.Origin, p.Method, strings.Join(p.Headers, "\x01"), p.Credentials))
	}
	sort.Strings(scenarios)
	for _, s := range scenarios {
		fmt.Fprint(h, s)
	}
	ids := append([]string(nil), f.Instances...)
	sort.Strings(ids)
	fmt.Fprintf(h, "%s", strings.Join(ids, "\x01"))
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// findingProbes is the probes a finding covers (its Probe alone in a report
// written before findings listed several).
func findingProbes(f diff.Finding) []diff.ProbeRef {
	if len(f.Probes) == 0 && f.Probe != nil {
		return []diff.ProbeRef{*f.Probe}
	}
	return f.Probes
}

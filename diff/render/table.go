package render

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/escape"
	"github.com/corsaudit/corsaudit/internal/plural"
)

// Table writes the report for a terminal, without colour (see
// tableRenderer): the verdict sentence first, a header line, then per
// target one block per finding, that is per cause: a line (severity, kind,
// instances, message), then indented below the kinds the cause explains,
// the probes it covers with their paths, how the observed answer differs
// from the expected one (only the headers that differ, missing tokens as
// -PUT, extra as +PATCH) and its curl reproduction (per set of instances
// showing it on other probes, and through the load balancer, each with
// its probes and its own curl line); then the summary counts. Control characters in server-supplied values are escaped so a
// hostile header cannot drive the terminal.
func Table(w io.Writer, r *diff.Report) error { return table(w, r, painter(false)) }

func table(w io.Writer, r *diff.Report, p painter) error {
	tw := &errWriter{w: w}
	word, sentence := headline(r)
	switch word {
	case "FAIL":
		word = p.paint(sgrBold, word)
	case "WARN", "INCOMPLETE":
		word = p.paint(sgrYellow, word)
	default:
		word = p.paint(sgrGreen, word)
	}
	tw.printf("%s: %s\n", word, escape.Text(sentence))
	when := ""
	if !r.StartedAt.IsZero() {
		when = " at " + r.StartedAt.UTC().Format(time.RFC3339)
	}
	tw.printf("%s %s, %s rules, started%s, took %s\n", orDefault(r.Tool, "corsaudit"), r.Version,
		orDefault(r.Browser, "browser"), orDefault(when, " (unknown)"), time.Duration(r.Duration*float64(time.Second)).Round(time.Millisecond))
	if r.Incomplete != "" {
		tw.printf("INCOMPLETE: %s\n", escape.Text(r.Incomplete))
	}
	legend := false
	byTarget, order := findingsByTarget(r)
	for _, name := range order {
		tw.printf("\n")
		if t := targetByName(r, name); t != nil {
			targetHeader(tw, t)
		} else {
			tw.printf("%s\n", escape.Text(name))
		}
		fs := byTarget[name]
		if len(fs) == 0 {
			tw.printf("  %s\n", noneFound(r))
			continue
		}
		var kw, iw int
		rows := make([][2]string, len(fs))
		for i, f := range fs {
			rows[i] = [2]string{string(f.Kind), instanceList(f, 4)}
			kw = max(kw, utf8.RuneCountInString(rows[i][0]))
			// Long ids (ARNs) overflow rather than push every message right.
			iw = min(max(iw, utf8.RuneCountInString(rows[i][1])), 30)
		}
		for i, f := range fs {
			msg := escape.Text(f.Message)
			if f.Share > 0 && len(f.Explains) == 0 {
				msg += fmt.Sprintf(" [%.0f%% of load balancer requests]", f.Share*100)
			}
			tw.printf("  %s  %s  %s  %s\n", p.severity(f.Severity, 7), pad(rows[i][0], kw), pad(rows[i][1], iw), msg)
			legend = findingDetail(tw, f, p) || legend
		}
	}
	if legend {
		tw.printf("\n%s\n", shortNamesLegend)
	}
	tw.printf("\n%s\n", summaryLine(r))
	return tw.err
}

// targetHeader is a target's heading: URL, instances, probes of each kind,
// unreachable instances and probes not run.
func targetHeader(tw *errWriter, t *diff.TargetReport) {
	reach, probed := 0, 0
	for _, in := range t.Instances {
		if in.Skip == "" {
			probed++
			if in.Reachable {
				reach++
			}
		}
	}
	probes := plural.Count(len(t.Probes), "probe")
	if k := probeKinds(t.Probes); k != "" {
		probes += ": " + k
	}
	tw.printf("%s  %s  (%s, %d of %d probed reachable; %s)\n",
		escape.Text(t.Name), escape.Text(t.URL), plural.Count(len(t.Instances), "instance"), reach, probed, probes)
	if dead := unreachableIDs(t); len(dead) > 0 {
		tw.printf("  unreachable (answered none of the requests sent): %s\n", escape.Text(namedIDs(dead)))
	}
	for _, line := range notRunLines(t) {
		tw.printf("  not run: %s\n", escape.Text(line))
	}
}

// shortNamesLegend explains the short header names of expected and
// observed answers.
const shortNamesLegend = "legend: ACAO Access-Control-Allow-Origin, ACAC -Allow-Credentials, ACAM -Allow-Methods, " +
	"ACAH -Allow-Headers, ACMA -Max-Age, ACEH -Expose-Headers"

// findingDetail writes the lines under a finding: its probes, the
// difference (or expected and observed when no answer was compared), the
// reproduction. It reports whether it printed short header names.
func findingDetail(tw *errWriter, f diff.Finding, p painter) (short bool) {
	const indent = "           "
	if len(f.Explains) > 1 {
		tw.printf("%sexplains: %s\n", indent, kindWords(f.Explains))
	}
	probes := f.AllProbes()
	var routed []string
	for k, pr := range probes {
		label := "probes:  "
		if len(probes) == 1 {
			label = "probe:   "
		}
		if k > 0 {
			label = "         "
		}
		if k == shownProbes && len(probes) > shownProbes+1 {
			var rest []string
			for _, q := range probes[k:] {
				rest = append(rest, q.ID)
			}
			tw.printf("%s%s and %d more: %s\n", indent, label, len(rest), escape.Text(strings.Join(rest, ", ")))
			break
		}
		tw.printf("%s%s %s\n", indent, label, escape.Text(probeString(pr)))
	}
	for _, pr := range probes {
		if r := pr.RoutedBy(); r != "" && !slices.Contains(routed, r) {
			routed = append(routed, r)
		}
	}
	for k, r := range routed {
		label := "routed:  "
		if k > 0 {
			label = "         "
		}
		tw.printf("%s%s %s\n", indent, label, escape.Text(r))
	}
	if len(f.Difference) > 0 {
		for k, d := range f.Difference {
			label := "differs: "
			if k > 0 {
				label = "         "
			}
			tw.printf("%s%s %s\n", indent, label, differenceString(d, p))
		}
	} else {
		if f.Expected != "" {
			tw.printf("%sexpected: %s\n", indent, escape.Text(f.Expected))
		}
		if f.Observed != "" {
			tw.printf("%sobserved: %s\n", indent, escape.Text(f.Observed))
		}
		short = hasShortNames(f.Expected) || hasShortNames(f.Observed)
	}
	if len(f.Evidence) > 1 {
		// Each set of instances with its own probes and curl line.
		for _, e := range f.Evidence {
			tw.printf("%s%s: %s\n", indent, escape.Text(evidenceWho(e)), escape.Text(probeIDList(e.Probes)))
			if e.Reproduce != "" {
				tw.printf("%s  $ %s\n", indent, escape.Text(e.Reproduce))
			}
		}
		return short
	}
	if f.Reproduce != "" {
		tw.printf("%s$ %s\n", indent, escape.Text(f.Reproduce))
	}
	return short
}

// shownProbes is how many probes a finding's block lists one per line;
// the rest are named on one line.
const shownProbes = 8

// probeIDList is probe ids for one line: all of them, or the first ten
// and how many in all ("p1, p2, ... p10 ... (47 probes)").
func probeIDList(ids []string) string {
	if len(ids) <= namedInLine {
		return strings.Join(ids, ", ")
	}
	return strings.Join(ids[:namedInLine], ", ") + " ... (" + plural.Count(len(ids), "probe") + ")"
}

// kindWords is kinds as a list: "verdict-drift, header-drift, lb-mismatch".
func kindWords(ks []diff.Kind) string {
	words := make([]string, len(ks))
	for k, kind := range ks {
		words[k] = string(kind)
	}
	return strings.Join(words, ", ")
}

// evidenceWho names who shows a finding's evidence: "on web-1, web-2",
// "through the load balancer".
func evidenceWho(e diff.Evidence) string {
	if len(e.Instances) == 1 && e.Instances[0] == "lb" {
		return "through the load balancer"
	}
	return "on " + namedIDs(e.Instances)
}

// hasShortNames reports whether a described answer uses the short header
// names (ACAO=...).
func hasShortNames(s string) bool {
	for _, n := range []string{"ACAO=", "ACAC=", "ACAM=", "ACAH=", "ACMA=", "ACEH="} {
		if strings.Contains(s, n) {
			return true
		}
	}
	return false
}

// differenceString is one header difference in one line: "preflight
// Access-Control-Allow-Methods: -DELETE -PUT", missing tokens red and extra
// green on a terminal.
func differenceString(d diff.HeaderDifference, p painter) string {
	var parts []string
	for _, t := range d.Missing {
		parts = append(parts, p.paint(sgrRed, "-"+escape.Text(t)))
	}
	for _, t := range d.Extra {
		parts = append(parts, p.paint(sgrGreen, "+"+escape.Text(t)))
	}
	if len(parts) == 0 {
		parts = append(parts, p.paint(sgrRed, "-"+orDash(escape.Text(d.Expected))), p.paint(sgrGreen, "+"+orDash(escape.Text(d.Observed))))
	}
	return fmt.Sprintf("%s %s: %s", escape.Text(d.Step), escape.Text(d.Header), strings.Join(parts, " "))
}

func orDash(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// unreachableIDs is the target's instances that were sent requests and
// answered none.
func unreachableIDs(t *diff.TargetReport) []string {
	var out []string
	for _, in := range t.Instances {
		if in.Unreachable() {
			out = append(out, in.ID)
		}
	}
	return out
}

// notRunLines says which probes were not run where and why, one line per
// (reason, probes) with the instances it applies to: "p5 on web-1, web-2:
// no request is sent for this probe".
func notRunLines(t *diff.TargetReport) []string {
	var keys []string
	on := map[string][]string{}
	for _, in := range t.Instances {
		for _, nr := range in.NotRun {
			k := strings.Join(nr.Probes, ", ") + "\x00" + nr.Reason
			if _, ok := on[k]; !ok {
				keys = append(keys, k)
			}
			on[k] = append(on[k], in.ID)
		}
	}
	lines := make([]string, 0, len(keys))
	for _, k := range keys {
		probes, reason, _ := strings.Cut(k, "\x00")
		ids := strings.Split(probes, ", ")
		list := plural.Count(len(ids), "probe") + " (" + probes + ")"
		if len(ids) > 6 {
			list = fmt.Sprintf("%d probes (%s, %s, ... %s)", len(ids), ids[0], ids[1], ids[len(ids)-1])
		}
		lines = append(lines, fmt.Sprintf("%s on %s: %s", list, namedIDs(on[k]), strings.TrimPrefix(reason, "not run: ")))
	}
	return lines
}

// SummaryLine is the one-line summary of a report ("summary: 1 target,
// ..."): the table ends with it, and commands print it on stderr when the
// report goes to a file.
func SummaryLine(r *diff.Report) string { return summaryLine(r) }

// summaryLine is the one-line summary of a report.
func summaryLine(r *diff.Report) string {
	s := r.Summary
	unanswered := ""
	if s.Unanswered > 0 {
		unanswered = fmt.Sprintf(", %d not answered before the run stopped", s.Unanswered)
	}
	line := fmt.Sprintf("summary: %s, %s (%d probed, %d unreachable%s), %s, %s; ",
		plural.Count(s.Targets, "target"), plural.Count(s.Instances, "instance"), s.Probed, s.Unreachable, unanswered,
		plural.Count(s.Probes, "probe"), plural.Count(s.Requests, "request"))
	if s.Findings == 0 {
		return line + noneFound(r)
	}
	var parts []string
	for _, sev := range []diff.Severity{diff.SeverityError, diff.SeverityWarning, diff.SeverityInfo} {
		if n := s.BySeverity[sev]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, sev))
		}
	}
	return line + fmt.Sprintf("%s (%s)", plural.Count(s.Findings, "finding"), strings.Join(parts, ", "))
}

// findingsByTarget groups the findings by target, in the order of the
// report's targets, then targets only findings name (a discovery failure).
func findingsByTarget(r *diff.Report) (map[string][]diff.Finding, []string) {
	by := map[string][]diff.Finding{}
	var order []string
	seen := map[string]bool{}
	for _, t := range r.Targets {
		if !seen[t.Name] {
			seen[t.Name] = true
			order = append(order, t.Name)
		}
	}
	for _, f := range r.Findings {
		if !seen[f.Target] {
			seen[f.Target] = true
			order = append(order, f.Target)
		}
		by[f.Target] = append(by[f.Target], f)
	}
	return by, order
}

func targetByName(r *diff.Report, name string) *diff.TargetReport {
	for i := range r.Targets {
		if r.Targets[i].Name == name {
			return &r.Targets[i]
		}
	}
	return nil
}

// namedInLine is how many instance ids a line of the table names.
const namedInLine = 10

// namedIDs is a list of instance ids for one line: all of them, or the
// first ten and how many in all ("web-000010, web-000020, ... web-000100
// ... (10,000 instances)").
func namedIDs(ids []string) string {
	if len(ids) <= namedInLine {
		return strings.Join(ids, ", ")
	}
	return strings.Join(ids[:namedInLine], ", ") + " ... (" + thousands(len(ids)) + " instances)"
}

// instanceList is the finding's instances, at most n named, with its groups.
func instanceList(f diff.Finding, n int) string {
	ids := f.Instances
	s := ""
	if len(ids) > n {
		s = strings.Join(ids[:n], ",") + fmt.Sprintf(" +%d", len(ids)-n)
	} else {
		s = strings.Join(ids, ",")
	}
	if s == "" {
		s = "-"
	}
	if len(f.Groups) > 0 {
		s += " (" + strings.Join(f.Groups, ",") + ")"
	}
	return escape.Text(s)
}

// probeString describes a probe in one line: "PUT /v1/cart from
// https://a.example with Content-Type: application/json, credentials".
func probeString(p diff.ProbeRef) string {
	s := p.Method
	if p.Path != "" {
		s += " " + p.Path
	}
	s += " from " + p.Origin
	if len(p.Headers) > 0 {
		s += " with " + strings.Join(p.Headers, ", ")
	}
	if p.Credentials {
		s += ", credentials"
	}
	switch p.Step {
	case "preflight":
		s += " [preflight only]"
	case "actual":
		s += " [actual request only]"
	}
	if p.ID != "" {
		s = p.ID + ": " + s
	}
	return s
}

func pad(s string, w int) string {
	return s + strings.Repeat(" ", max(0, w-utf8.RuneCountInString(s)))
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// sortedKinds is every kind in the findings, sorted.
func sortedKinds(fs []diff.Finding) []diff.Kind {
	seen := map[diff.Kind]bool{}
	var out []diff.Kind
	for _, f := range fs {
		if !seen[f.Kind] {
			seen[f.Kind] = true
			out = append(out, f.Kind)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	return out
}

// errWriter remembers the first write error so renderers can print freely
// and check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err != nil {
		return
	}
	_, e.err = fmt.Fprintf(e.w, format, args...)
}

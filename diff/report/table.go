package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/plural"
)

// Table writes the report for a terminal: a header line, then per target
// one line per finding (severity, kind, instances, message) with its
// expected and observed answers and its curl reproduction indented below,
// then a summary line. Control characters in server-supplied values are
// escaped so a hostile header cannot drive the terminal.
func Table(w io.Writer, r *diff.Report) error {
	tw := &errWriter{w: w}
	when := ""
	if !r.StartedAt.IsZero() {
		when = " at " + r.StartedAt.UTC().Format(time.RFC3339)
	}
	tw.printf("%s %s, %s rules, started%s, took %s\n", orDefault(r.Tool, "corsaudit"), r.Version,
		orDefault(r.Browser, "browser"), orDefault(when, " (unknown)"), time.Duration(r.Duration*float64(time.Second)).Round(time.Millisecond))
	if r.Incomplete != "" {
		tw.printf("INCOMPLETE: %s\n", clean(r.Incomplete))
	}
	byTarget, order := findingsByTarget(r)
	for _, name := range order {
		tw.printf("\n")
		t := targetByName(r, name)
		if t != nil {
			reach, probed := 0, 0
			for _, in := range t.Instances {
				if in.Skip == "" {
					probed++
					if in.Reachable {
						reach++
					}
				}
			}
			tw.printf("%s  %s  (%s, %d of %d probed reachable, %s)\n", clean(name), clean(t.URL),
				plural.Count(len(t.Instances), "instance"), reach, probed, plural.Count(len(t.Probes), "probe"))
			if dead := unreachableIDs(t); len(dead) > 0 {
				tw.printf("  unreachable (answered none of the requests sent): %s\n", clean(strings.Join(dead, ", ")))
			}
			for _, line := range notRunLines(t) {
				tw.printf("  not run: %s\n", clean(line))
			}
		} else {
			tw.printf("%s\n", clean(name))
		}
		fs := byTarget[name]
		if len(fs) == 0 {
			tw.printf("  no findings\n")
			continue
		}
		var kw, iw int
		rows := make([][3]string, len(fs))
		for i, f := range fs {
			rows[i] = [3]string{string(f.Severity), string(f.Kind), instanceList(f, 4)}
			kw = max(kw, utf8.RuneCountInString(rows[i][1]))
			// Long ids (ARNs) overflow rather than push every message right.
			iw = min(max(iw, utf8.RuneCountInString(rows[i][2])), 30)
		}
		for i, f := range fs {
			msg := clean(f.Message)
			if f.Share > 0 {
				msg += fmt.Sprintf(" [%.0f%% of load balancer requests]", f.Share*100)
			}
			tw.printf("  %-7s  %s  %s  %s\n", rows[i][0], pad(rows[i][1], kw), pad(rows[i][2], iw), msg)
			if f.Probe != nil {
				tw.printf("           probe:    %s\n", clean(probeString(*f.Probe)))
			}
			if f.Expected != "" {
				tw.printf("           expected: %s\n", clean(f.Expected))
			}
			if f.Observed != "" {
				tw.printf("           observed: %s\n", clean(f.Observed))
			}
			if f.Reproduce != "" {
				tw.printf("           $ %s\n", clean(f.Reproduce))
			}
		}
	}
	tw.printf("\n%s\n", summaryLine(r))
	return tw.err
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
		lines = append(lines, fmt.Sprintf("%s on %s: %s", probes, strings.Join(on[k], ", "), reason))
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
	line := fmt.Sprintf("summary: %s, %s (%d probed, %d unreachable), %s, %s; ",
		plural.Count(s.Targets, "target"), plural.Count(s.Instances, "instance"), s.Probed, s.Unreachable,
		plural.Count(s.Probes, "probe"), plural.Count(s.Requests, "request"))
	if s.Findings == 0 {
		return line + "no findings"
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
	return clean(s)
}

// probeString describes a probe in one line: "PUT from https://a.example
// with Content-Type: application/json, credentials".
func probeString(p diff.ProbeRef) string {
	s := p.Method + " from " + p.Origin
	if len(p.Headers) > 0 {
		s += " with " + strings.Join(p.Headers, ", ")
	}
	if p.Credentials {
		s += ", credentials"
	}
	if p.ID != "" {
		s = p.ID + ": " + s
	}
	return s
}

// clean escapes control characters (ANSI escapes, newlines, C1 controls)
// so a value fits on one line and cannot drive the terminal.
func clean(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsControl(r):
			if r < 0x100 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
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

package render

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/corsaudit/corsaudit/diff"
)

// JUnit XML, as read by CI test reports (GitLab, Jenkins, GitHub actions
// that publish test results): one testsuite per target, one testcase per
// target x path x probe (probes are numbered across the target's paths,
// and the name says the path) that fails when a finding at or above the
// run's fail-on (Report.Fails, the rule of the exit code) concerns that
// probe with its cause's message (a finding covering several probes and
// paths, one cause, fails the testcase of each probe it lists, so test
// names stay stable whatever the grouping), and one
// testcase per kind of target-level finding (unreachable instances,
// vary-missing...). Each failing testcase carries a single failure element
// (strict consumers accept only one) whose text lists every finding with
// its curl reproduction. Findings below the fail-on are reported as
// system-out (and a testcase with only info findings as skipped), never as
// failures: CI goes red exactly when the run exits 1.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr,omitempty"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",cdata"`
}

// junitText is element text kept readable (CDATA, newlines as is).
type junitText struct {
	Text string `xml:",cdata"`
}

// JUnit writes the report as JUnit XML.
func JUnit(w io.Writer, r *diff.Report) error {
	out := junitSuites{Name: orDefault(r.Tool, "corsaudit")}
	if r.Duration > 0 {
		out.Time = fmt.Sprintf("%.3f", r.Duration)
	}
	stamp := ""
	if !r.StartedAt.IsZero() {
		stamp = r.StartedAt.UTC().Format("2006-01-02T15:04:05")
	}
	byTarget, order := findingsByTarget(r)
	for _, name := range order {
		suite := junitSuite{Name: name, Timestamp: stamp}
		class := "corsaudit." + name
		fs := byTarget[name]
		used := make([]bool, len(fs))
		if t := targetByName(r, name); t != nil {
			suite.Properties = []junitProperty{{"url", t.URL}, {"instances", fmt.Sprint(len(t.Instances))}}
			for _, p := range t.Probes {
				var mine []diff.Finding
				for i, f := range fs {
					if slices.ContainsFunc(f.AllProbes(), func(q diff.ProbeRef) bool { return sameProbe(q, p) }) {
						used[i] = true
						mine = append(mine, f)
					}
				}
				suite.Cases = append(suite.Cases, junitCaseOf(probeString(p), class, mine, r.Threshold()))
			}
		}
		// Target-level findings (and findings on a probe the target does
		// not list): one testcase per kind, in order of appearance.
		var kinds []diff.Kind
		rest := map[diff.Kind][]diff.Finding{}
		for i, f := range fs {
			if used[i] {
				continue
			}
			if _, ok := rest[f.Kind]; !ok {
				kinds = append(kinds, f.Kind)
			}
			rest[f.Kind] = append(rest[f.Kind], f)
		}
		for _, k := range kinds {
			suite.Cases = append(suite.Cases, junitCaseOf(string(k)+": "+k.Title(), class, rest[k], r.Threshold()))
		}
		out.Suites = append(out.Suites, suite)
	}
	if r.Incomplete != "" {
		out.Suites = append(out.Suites, junitSuite{Name: "corsaudit", Timestamp: stamp, Cases: []junitCase{{
			Name: "run completed", Classname: "corsaudit",
			Error: &junitMessage{Message: r.Incomplete, Type: "incomplete", Text: xmlText("the report is partial: " + r.Incomplete)},
		}}})
	}
	for i := range out.Suites {
		s := &out.Suites[i]
		for _, c := range s.Cases {
			s.Tests++
			switch {
			case c.Failure != nil:
				s.Failures++
			case c.Error != nil:
				s.Errors++
			case c.Skipped != nil:
				s.Skipped++
			}
		}
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Skipped += s.Skipped
	}
	ew := &errWriter{w: w}
	ew.printf("%s", xml.Header)
	if ew.err != nil {
		return fmt.Errorf("report: junit: %w", ew.err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("report: junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("report: junit: %w", err)
	}
	return nil
}

// junitCaseOf is one testcase: failed when a finding is at or above
// failOn, skipped when only info findings (skipped instances) are about
// it; the findings below failOn are its system-out.
func junitCaseOf(name, class string, fs []diff.Finding, failOn diff.FailOn) junitCase {
	c := junitCase{Name: name, Classname: class}
	var failing, below []diff.Finding
	for _, f := range fs {
		if failOn.Counts(f.Severity) {
			failing = append(failing, f)
		} else {
			below = append(below, f)
		}
	}
	if len(failing) > 0 {
		worst := failing[0]
		for _, f := range failing {
			if f.Severity.Rank() > worst.Severity.Rank() {
				worst = f
			}
		}
		msg := worst.Message
		if len(failing) > 1 {
			msg = fmt.Sprintf("%d findings: %s", len(failing), kindList(failing))
		}
		c.Failure = &junitMessage{Message: msg, Type: string(worst.Kind), Text: xmlText(findingText(failing))}
	}
	if len(below) > 0 {
		if len(failing) == 0 && !slices.ContainsFunc(below, func(f diff.Finding) bool { return f.Severity != diff.SeverityInfo }) {
			c.Skipped = &junitMessage{Message: below[0].Message}
		}
		c.SystemOut = &junitText{xmlText(findingText(below))}
	}
	return c
}

func kindList(fs []diff.Finding) string {
	var ks []string
	seen := map[diff.Kind]bool{}
	for _, f := range fs {
		if !seen[f.Kind] {
			seen[f.Kind] = true
			ks = append(ks, string(f.Kind))
		}
	}
	return strings.Join(ks, ", ")
}

// findingText lists findings in plain text, as a failure's body.
func findingText(fs []diff.Finding) string {
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "[%s] %s on %s: %s\n", f.Severity, f.Kind, strings.Join(f.Instances, ", "), f.Message)
		if f.Share > 0 {
			fmt.Fprintf(&b, "  share of load balancer requests: %.0f%%\n", f.Share*100)
		}
		if len(f.Explains) > 0 {
			fmt.Fprintf(&b, "  explains: %s\n", kindWords(f.Explains))
		}
		if f.Expected != "" {
			fmt.Fprintf(&b, "  expected: %s\n", f.Expected)
		}
		if f.Observed != "" {
			fmt.Fprintf(&b, "  observed: %s\n", f.Observed)
		}
		if len(f.Evidence) > 1 {
			for _, e := range f.Evidence {
				fmt.Fprintf(&b, "  %s: %s\n", evidenceWho(e), strings.Join(e.Probes, ", "))
				if e.Reproduce != "" {
					fmt.Fprintf(&b, "    reproduce: %s\n", e.Reproduce)
				}
			}
		} else if f.Reproduce != "" {
			fmt.Fprintf(&b, "  reproduce: %s\n", f.Reproduce)
		}
	}
	return b.String()
}

// sameProbe reports whether a finding's probe is the target's probe p: the
// same id, or without ids the same scenario.
func sameProbe(a, p diff.ProbeRef) bool {
	if a.ID != "" && p.ID != "" {
		return a.ID == p.ID
	}
	return a.Origin == p.Origin && a.Method == p.Method && a.Credentials == p.Credentials && a.Path == p.Path &&
		strings.Join(a.Headers, "\n") == strings.Join(p.Headers, "\n")
}

// xmlText replaces the characters XML 1.0 cannot carry (most control
// characters) with U+FFFD: encoding/xml does so for attributes and
// character data but not inside CDATA sections.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r != 0xFFFE && r != 0xFFFF && r != utf8.RuneError {
			return r
		}
		return utf8.RuneError
	}, s)
}

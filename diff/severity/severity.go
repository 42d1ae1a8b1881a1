package severity

import "fmt"

// Severity of a finding.
type Severity string

// Severities, in increasing order.
const (
	Info    Severity = "info"
	Warning Severity = "warning"
	Error   Severity = "error"
)

// Rank orders severities: info 1, warning 2, error 3, unknown 0.
func (s Severity) Rank() int {
	switch s {
	case Info:
		return 1
	case Warning:
		return 2
	case Error:
		return 3
	}
	return 0
}

// FailOn is the --fail-on threshold: a Severity, or Never.
type FailOn string

// Never never fails on findings.
const Never FailOn = "never"

// DefaultFailOn is the threshold of a run that names none: the config's
// default, and that of reports written before they recorded theirs.
const DefaultFailOn = FailOn(Error)

// FailOnLevels lists the valid thresholds, most severe first.
var FailOnLevels = []FailOn{FailOn(Error), FailOn(Warning), FailOn(Info), Never}

// ParseFailOn checks a --fail-on value.
func ParseFailOn(s string) (FailOn, error) {
	for _, l := range FailOnLevels {
		if string(l) == s {
			return l, nil
		}
	}
	return "", fmt.Errorf("fail-on: %q is not error, warning, info or never", s)
}

// Counts reports whether a finding of severity s is at or above the
// threshold: one that makes the run fail.
func (f FailOn) Counts(s Severity) bool {
	return f != Never && s.Rank() > 0 && s.Rank() >= Severity(f).Rank()
}

// Strictest is the threshold that fails on the most findings: info before
// warning before error before never ("" reads as DefaultFailOn).
func Strictest(fs ...FailOn) FailOn {
	out := Never
	for _, f := range fs {
		if f == "" {
			f = DefaultFailOn
		}
		if f != Never && (out == Never || Severity(f).Rank() < Severity(out).Rank()) {
			out = f
		}
	}
	return out
}

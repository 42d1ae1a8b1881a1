package diff

import "fmt"

// FailOn is the --fail-on threshold: a Severity, or FailNever.
type FailOn string

// FailNever never fails on findings.
const FailNever FailOn = "never"

// FailOnLevels lists the valid thresholds, most severe first.
var FailOnLevels = []FailOn{FailOn(SeverityError), FailOn(SeverityWarning), FailOn(SeverityInfo), FailNever}

// ParseFailOn checks a --fail-on value.
func ParseFailOn(s string) (FailOn, error) {
	for _, l := range FailOnLevels {
		if string(l) == s {
			return l, nil
		}
	}
	return "", fmt.Errorf("fail-on: %q is not error, warning, info or never", s)
}

// Fails reports whether r holds a finding at or above the threshold.
func (f FailOn) Fails(r *Report) bool {
	if f == FailNever || r == nil {
		return false
	}
	max := r.MaxSeverity()
	return max != "" && max.Rank() >= Severity(f).Rank()
}

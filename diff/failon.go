package diff

import "fmt"

// FailOn is the --fail-on threshold: a Severity, or FailNever.
type FailOn string

// FailNever never fails on findings.
const FailNever FailOn = "never"

// DefaultFailOn is the threshold of a run that names none: the config's
// default, and that of reports written before they recorded theirs.
const DefaultFailOn = FailOn(SeverityError)

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

// Counts reports whether a finding of severity s is at or above the
// threshold: one that makes the run fail.
func (f FailOn) Counts(s Severity) bool {
	return f != FailNever && s.Rank() > 0 && s.Rank() >= Severity(f).Rank()
}

// Fails reports whether r holds a finding at or above the threshold.
func (f FailOn) Fails(r *Report) bool {
	return r != nil && f.Counts(r.MaxSeverity())
}

// Strictest is the threshold that fails on the most findings: info before
// warning before error before never ("" reads as DefaultFailOn).
func Strictest(fs ...FailOn) FailOn {
	out := FailNever
	for _, f := range fs {
		if f == "" {
			f = DefaultFailOn
		}
		if f != FailNever && (out == FailNever || Severity(f).Rank() < Severity(out).Rank()) {
			out = f
		}
	}
	return out
}

// Threshold is the fail-on r is judged by: its FailOn, DefaultFailOn when
// it names none.
func (r *Report) Threshold() FailOn {
	if r.FailOn == "" {
		return DefaultFailOn
	}
	return r.FailOn
}

// Fails reports whether the run r reports exits 1: it holds a finding at
// or above its Threshold. The one rule for every path that ends a run —
// audit, merged shards, merged reports — and for the JUnit report.
func (r *Report) Fails() bool { return r.Threshold().Fails(r) }

package diff

import "github.com/corsaudit/corsaudit/diff/severity"

// FailOn is the --fail-on threshold: a Severity, or severity.Never (package
// severity owns the scale, so that config checks fail_on without diff).
type FailOn = severity.FailOn

// defaultFailOn is the threshold of a run that names none: the config's
// default, and that of reports written before they recorded theirs.
const defaultFailOn = severity.DefaultFailOn

// Threshold is the fail-on r is judged by: its FailOn, defaultFailOn when
// it names none.
func (r *Report) Threshold() FailOn {
	if r.FailOn == "" {
		return defaultFailOn
	}
	return r.FailOn
}

// FailsAt reports whether r holds a finding at or above threshold f.
func (r *Report) FailsAt(f FailOn) bool {
	return r != nil && f.Counts(r.MaxSeverity())
}

// Fails reports whether the run r reports exits 1: it holds a finding at
// or above its Threshold. The one rule for every path that ends a run —
// audit, merged shards, merged reports — and for the JUnit report.
func (r *Report) Fails() bool { return r.FailsAt(r.Threshold()) }

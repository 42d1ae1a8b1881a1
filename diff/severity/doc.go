// Package severity is the scale of a finding's severity and the fail-on
// threshold over it (fail_on:, --fail-on). It is a leaf: config checks
// fail_on with it without importing diff, whose findings carry a Severity
// (diff.Severity and diff.FailOn are these types).
package severity

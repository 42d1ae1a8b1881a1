package cors

import (
	"fmt"
	"strings"

	"github.com/corsaudit/corsaudit/internal/escape"
)

// PlanPreflight says whether Chromium (the default browser) sends a
// preflight for r and exactly what it sends. It is PlanPreflightFor(Chromium, r).
func PlanPreflight(r Request) PreflightPlan { return PlanPreflightFor(Chromium, r) }

// PlanPreflightFor says whether browser b sends a CORS-preflight request
// for r, a cross-origin fetch() in "cors" mode, and exactly what it sends.
//
// A preflight is needed
// (https://fetch.spec.whatwg.org/#main-fetch step 12, "use-CORS-preflight
// flag" and https://fetch.spec.whatwg.org/#http-fetch step 4.1) when the
// normalized method is not a CORS-safelisted method, or when the request's
// header list has CORS-unsafe request-header names
// (https://fetch.spec.whatwg.org/#cors-unsafe-request-header-names).
//
// The preflight (https://fetch.spec.whatwg.org/#cors-preflight-fetch steps
// 1-5) is an OPTIONS request without credentials carrying
// Access-Control-Request-Method (the normalized method) and, when there are
// CORS-unsafe names, Access-Control-Request-Headers: those names sorted,
// lower-cased, de-duplicated and joined by "," without spaces.
//
// A forbidden or malformed method makes fetch() throw before anything is
// sent: Needed is false and Why says so.
func PlanPreflightFor(b Browser, r Request) PreflightPlan {
	b = b.known()
	if IsForbiddenMethod(r.Method) || !isMethodToken(r.Method) {
		return PreflightPlan{Why: fmt.Sprintf("fetch() rejects method %q: nothing is sent", r.Method)}
	}
	method := NormalizeMethod(r.Method)
	names := unsafeNames(b, authorHeaders(b, r.Headers))
	p := PreflightPlan{Method: method, Headers: strings.Join(names, ",")}
	switch {
	case !isSafelistedMethod(method) && len(names) > 0:
		p.Needed = true
		p.Why = fmt.Sprintf("method %q is not CORS-safelisted and %s", method, headersWhy(names))
	case !isSafelistedMethod(method):
		p.Needed = true
		p.Why = fmt.Sprintf("method %q is not CORS-safelisted", method)
	case len(names) > 0:
		p.Needed = true
		p.Why = headersWhy(names)
	default:
		p.Method = ""
		p.Why = "CORS-safelisted method and headers"
	}
	return p
}

// headersWhy explains CORS-unsafe header names in one phrase.
func headersWhy(names []string) string {
	if len(names) == 1 {
		return fmt.Sprintf("header %q is not CORS-safelisted", names[0])
	}
	return fmt.Sprintf("headers %s are not CORS-safelisted", strings.Join(escape.Quote(names), ", "))
}

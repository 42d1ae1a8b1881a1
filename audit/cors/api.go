package cors

import (
	"net/http"
	"time"
)

// Browser selects whose behaviour Evaluate models where browsers and the
// Fetch standard differ.
type Browser string

// Supported browsers. Webkit is WebKit's WebCore, which Safari and
// WebKitGTK share; "safari" is accepted as its alias.
const (
	Chromium Browser = "chromium"
	Firefox  Browser = "firefox"
	Webkit   Browser = "webkit"
	Spec     Browser = "spec"
	// Safari is WebKit: Safari's CORS code is WebCore's (the conformance
	// suite checks it in WebKitGTK).
	Safari = Webkit
)

// Header is one author request header as the page sets it.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Request is what a page asks fetch() to do, cross-origin, in "cors" mode.
type Request struct {
	// Origin is the page's serialized origin ("https://app.example.com",
	// or "null").
	Origin string
	// Method as passed to fetch(); normalized as the Fetch standard does.
	Method string
	// Headers are the author request headers.
	Headers []Header
	// Credentials is true for credentials mode "include".
	Credentials bool
}

// PreflightPlan says whether a browser sends a preflight for a Request and,
// if so, exactly what it sends.
type PreflightPlan struct {
	// Needed reports whether the browser sends a preflight.
	Needed bool
	// Why explains Needed in one phrase (e.g. `method "PUT" is not CORS-safelisted`).
	Why string
	// Method is the Access-Control-Request-Method value.
	Method string
	// Headers is the Access-Control-Request-Headers value: sorted,
	// lower-cased, de-duplicated CORS-unsafe header names joined by ",".
	// Empty means the header is not sent.
	Headers string
}

// Response is a response as received: status and headers, repeated headers
// kept as separate values.
type Response struct {
	Status int
	Header http.Header
	// Invalid, when set, says what in the response's header bytes the
	// browser rejects (ReadResponseHead): it treats the response as a
	// network error, and the verdict is blocked (ReasonInvalidResponse).
	Invalid string
}

// Reason is a stable code for why a browser blocks a request.
type Reason string

// Verdict is what a browser decides for one Request given the preflight and
// actual responses.
type Verdict struct {
	Allowed bool `json:"allowed"`
	// Preflight reports whether the browser sends a preflight.
	Preflight bool `json:"preflight"`
	// Stage is "preflight" or "actual" (StagePreflight, StageActual): where
	// a block happened; empty when allowed.
	Stage string `json:"stage,omitempty"`
	// Reason is a stable code for a blocked verdict (the Reason* constants).
	Reason Reason `json:"reason,omitempty"`
	// Message is the selected browser's wording of Reason: what Chromium
	// (and the Spec model) prints after "has been blocked by CORS policy: ",
	// what Firefox prints in "(Reason: ...)", WebKit's whole line (see
	// ConsoleMessage).
	Message string `json:"message,omitempty"`
	// Status is the status of the response that blocked (0: allowed, or
	// no response): Firefox and WebKit print it.
	Status int `json:"status,omitempty"`
	// SpecNote is non-empty when the selected browser's outcome differs from
	// the Fetch standard's; it says how.
	SpecNote string `json:"spec_note,omitempty"`
	// CacheLifetime is how long the selected browser caches a successful
	// preflight (0: not cached).
	CacheLifetime time.Duration `json:"cache_lifetime,omitempty"`
	// Exposed lists the response header names (lower-case, sorted) present
	// in the actual response that the page can read.
	Exposed []string `json:"exposed,omitempty"`
	// Note says what the verdict could not cover (the actual request was
	// not sent, or it was answered with a redirect whose target corsaudit
	// did not check).
	Note string `json:"note,omitempty"`
}

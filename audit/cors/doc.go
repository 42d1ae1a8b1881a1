// Package cors is a pure model (no I/O) of the CORS protocol of the Fetch
// standard (https://fetch.spec.whatwg.org/#http-cors-protocol) as browsers
// apply it to a cross-origin fetch() in "cors" mode.
//
// It answers four questions:
//
//   - Does the browser send a preflight, and what exactly does it send?
//     PlanPreflight / PlanPreflightFor: CORS-safelisted methods
//     (isSafelistedMethod), CORS-safelisted request headers with their value
//     rules (isSafelistedRequestHeader: Content-Type essence, CORS-unsafe
//     request-header bytes, the 128-byte value limit, the Accept-Language and
//     Content-Language character sets, simple Range values, the 1024-byte
//     total), and the Access-Control-Request-Method and sorted, lower-cased,
//     de-duplicated Access-Control-Request-Headers values
//     (unsafeRequestHeaderNames).
//   - Does the preflight pass, and does the actual response pass the CORS
//     check? Evaluate returns a Verdict with a stable Reason code and the
//     message the selected browser prints (ConsoleMessage builds its whole
//     console line: Chromium's, Firefox's or WebKit's).
//   - How long is a passing preflight cached? MaxAge, per browser.
//   - Which response headers can the page read? Verdict.Exposed,
//     isCORSSafelistedResponseHeader, exposedHeaderNames.
//
// ParseList is the list parser for ACAM, ACAH and ACEH; callers comparing
// headers as sets use it too. The header names have short constants in the
// spec's vocabulary: ACAO, ACAC, ACAM, ACAH, ACEH, ACMA, ACRM, ACRH.
//
// Each function's comment names the Fetch standard step it implements. The
// Chromium behaviour modelled is Chromium 156's
// (services/network/public/cpp/cors/cors.cc, services/network/cors/
// preflight_result.cc and preflight_controller.cc,
// third_party/blink/renderer/platform/loader/cors/cors_error_string.cc),
// Firefox's is Firefox ESR 153's (netwerk/protocol/http/nsCORSListenerProxy.cpp,
// dom/fetch/InternalHeaders.cpp) and WebKit's is WebKitGTK 2.50's (WebCore's
// CrossOriginAccessControl.cpp and CrossOriginPreflightResultCache.cpp,
// which Safari shares; "safari" is an alias of Webkit). The conformance
// suite in ./conformance checks every model against its real engine, each
// difference below included.
//
// # Where browsers differ from the spec
//
// Evaluate models the selected Browser; when its verdict differs from the
// standard's, Verdict.SpecNote says how, and ends with the spec's verdict
// ("spec verdict: blocked at preflight, header-not-allowed (preflight)").
//
//   - Authorization under `Access-Control-Allow-Headers: *` (every engine).
//     The standard never lets `*` cover Authorization
//     (https://fetch.spec.whatwg.org/#cors-non-wildcard-request-header-name).
//     Chromium 156 lets it through (the check in
//     PreflightResult::EnsureAllowedCrossOriginHeaders sits behind the
//     feature CorsNonWildcardRequestHeadersSupport, disabled by default), and
//     so do Firefox ESR 153 and WebKitGTK 2.50. SpecNote: "Firefox lets the
//     Authorization header through under `Access-Control-Allow-Headers: *`;
//     the Fetch standard requires `authorization` to be listed explicitly".
//   - Access-Control-Max-Age (MaxAge). The standard treats a value that is
//     not delta-seconds as absent: 5 seconds. Chromium and WebKit do not
//     cache a negative value; Firefox does not cache any value with a
//     non-digit. Caps (Chromium 2h, Firefox 24h, WebKit 10min) are allowed by
//     the standard and get no SpecNote.
//   - The preflight cache and fetch()'s cache mode (PreflightsSent).
//     Chromium bypasses the preflight cache for "no-store", "reload" and
//     "no-cache", Firefox for "no-store" and "reload"; WebKit, like the
//     standard, always uses it.
//   - Extra safelisted request headers (Chromium only). Intervention,
//     Device-Memory, DPR, Downlink, Width, Viewport-Width, RTT, ECT and
//     Save-Data with valid values send no preflight.
//   - Repeated request headers (Chromium, WebKit). The page's headers of
//     one name are combined into one "a, b" value before the safelist
//     check; the standard and Firefox check each value on its own. Firefox
//     also has no 1024-byte total and lists a repeated unsafe name twice in
//     Access-Control-Request-Headers.
//   - A Range unit in upper case ("BYTES=0-1") is safelisted by WebKit only.
package cors

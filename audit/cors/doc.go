// Package cors is a pure model (no I/O) of the CORS protocol of the Fetch
// standard (https://fetch.spec.whatwg.org/#http-cors-protocol) as browsers
// apply it to a cross-origin fetch() in "cors" mode.
//
// It answers four questions:
//
//   - Does the browser send a preflight, and what exactly does it send?
//     PlanPreflight / PlanPreflightFor: CORS-safelisted methods
//     (IsSafelistedMethod), CORS-safelisted request headers with their value
//     rules (IsSafelistedRequestHeader: Content-Type essence, CORS-unsafe
//     request-header bytes, the 128-byte value limit, the Accept-Language and
//     Content-Language character sets, simple Range values, the 1024-byte
//     total), and the Access-Control-Request-Method and sorted, lower-cased,
//     de-duplicated Access-Control-Request-Headers values
//     (UnsafeRequestHeaderNames).
//   - Does the preflight pass, and does the actual response pass the CORS
//     check? Evaluate returns a Verdict with a stable Reason code and the
//     message Chromium prints (ConsoleMessage builds the whole console line).
//   - How long is a passing preflight cached? MaxAge, per browser.
//   - Which response headers can the page read? Verdict.Exposed,
//     IsCORSSafelistedResponseHeader, ExposedHeaderNames.
//
// ParseList is the list parser for ACAM, ACAH and ACEH; callers comparing
// headers as sets use it too. The header names have short constants in the
// spec's vocabulary: ACAO, ACAC, ACAM, ACAH, ACEH, ACMA, ACRM, ACRH.
//
// Each function's comment names the Fetch standard step it implements. The
// Chromium behaviour modelled is Chromium 156's
// (services/network/public/cpp/cors/cors.cc, services/network/cors/
// preflight_result.cc and preflight_controller.cc,
// third_party/blink/renderer/platform/loader/cors/cors_error_string.cc);
// the conformance suite in ./conformance checks it against a real headless
// Chromium.
//
// # Where browsers differ from the spec
//
// Evaluate models the selected Browser; when its verdict differs from the
// standard's, Verdict.SpecNote says how, and ends with the spec's verdict
// ("spec verdict: blocked at preflight, header-not-allowed (preflight)").
//
//   - Authorization under `Access-Control-Allow-Headers: *` (Chromium). The
//     standard never lets `*` cover Authorization
//     (https://fetch.spec.whatwg.org/#cors-non-wildcard-request-header-name).
//     Chromium 156 still lets it through: the check exists in
//     PreflightResult::EnsureAllowedCrossOriginHeaders but sits behind the
//     feature CorsNonWildcardRequestHeadersSupport, disabled by default
//     (confirmed against /usr/bin/chromium 156.0.8078.108: the request is
//     sent with its Authorization header). SpecNote: "Chromium lets the
//     Authorization header through under `Access-Control-Allow-Headers: *`;
//     the Fetch standard requires `authorization` to be listed
//     explicitly". Firefox and Safari are modelled as the standard (not checked against those browsers).
//   - Negative Access-Control-Max-Age (Chromium, Firefox). The standard
//     treats a value that is not delta-seconds as absent: 5 seconds.
//     Chromium treats a negative number as "do not cache" (0); Firefox does
//     not cache when the value has any non-digit. SpecNote: "...is negative:
//     Chromium does not cache the preflight; the Fetch standard caches it for
//     5s". Caps (Chromium 2h, Firefox 24h, Safari 10min) are allowed by the
//     standard and get no SpecNote; MaxAge's note mentions them.
//   - Extra safelisted request headers (Chromium). Chromium also safelists
//     Intervention, Device-Memory, DPR, Downlink, Width, Viewport-Width, RTT,
//     ECT and Save-Data with valid values (confirmed on Chromium 156: no
//     preflight for DPR, Width, Save-Data, Intervention). SpecNote: "Chromium
//     treats "dpr" as a CORS-safelisted request header; the Fetch standard
//     does not".
//   - Repeated request headers (every browser but Spec). The page's headers
//     of one name are combined into one "a, b" value before the safelist
//     check, so two Accept values of 100 bytes make one 202-byte, unsafe
//     value; the standard checks each value on its own. SpecNote: "Chromium
//     checks the "accept" headers combined into one value; ...".
//   - A Range unit in upper case ("BYTES=0-1") is safelisted by Chromium,
//     which lower-cases the value first; not by the standard.
//
// Firefox and Safari are modelled from their source as far as the cache
// lifetime goes; for everything else they follow the standard here, which
// has not been checked against those browsers.
package cors

package cors

import (
	"fmt"
	"strings"
)

// Header names of the CORS protocol, in the short spec vocabulary
// (https://fetch.spec.whatwg.org/#http-cors-protocol).
const (
	// ACAO is the response header naming the origin allowed to read the
	// response (https://fetch.spec.whatwg.org/#http-access-control-allow-origin).
	ACAO = "Access-Control-Allow-Origin"
	// ACAC is the response header allowing credentialed requests
	// (https://fetch.spec.whatwg.org/#http-access-control-allow-credentials).
	ACAC = "Access-Control-Allow-Credentials"
	// ACAM lists the methods a preflight allows
	// (https://fetch.spec.whatwg.org/#http-access-control-allow-methods).
	ACAM = "Access-Control-Allow-Methods"
	// ACAH lists the request headers a preflight allows
	// (https://fetch.spec.whatwg.org/#http-access-control-allow-headers).
	ACAH = "Access-Control-Allow-Headers"
	// ACEH lists the response headers the page may read
	// (https://fetch.spec.whatwg.org/#http-access-control-expose-headers).
	ACEH = "Access-Control-Expose-Headers"
	// ACMA is how long a preflight result may be cached
	// (https://fetch.spec.whatwg.org/#http-access-control-max-age).
	ACMA = "Access-Control-Max-Age"
	// ACRM is the preflight request header carrying the method
	// (https://fetch.spec.whatwg.org/#http-access-control-request-method).
	ACRM = "Access-Control-Request-Method"
	// ACRH is the preflight request header carrying the CORS-unsafe header
	// names (https://fetch.spec.whatwg.org/#http-access-control-request-headers).
	ACRH = "Access-Control-Request-Headers"
	// Origin is the request header carrying the request's origin
	// (https://fetch.spec.whatwg.org/#http-origin).
	Origin = "Origin"
)

// Stages of a Verdict: where a request was blocked.
const (
	StagePreflight = "preflight"
	StageActual    = "actual"
)

// Stable reason codes for blocked verdicts. The Stage of the Verdict says
// whether the preflight or the actual response failed the check.
const (
	// ReasonACAOMissing: no ACAO header.
	ReasonACAOMissing Reason = "acao-missing"
	// ReasonACAOMismatch: ACAO is one valid value that is not the origin.
	ReasonACAOMismatch Reason = "acao-mismatch"
	// ReasonACAOMultiple: ACAO holds several values (a list, or the header
	// sent more than once).
	ReasonACAOMultiple Reason = "acao-multiple"
	// ReasonACAOInvalid: ACAO is not a URL-like origin (empty, "**", ...).
	ReasonACAOInvalid Reason = "acao-invalid"
	// ReasonWildcardWithCredentials: ACAO is "*" on a credentialed request.
	ReasonWildcardWithCredentials Reason = "wildcard-credentials"
	// ReasonACACMissing: credentialed request and ACAC is not exactly "true".
	ReasonACACMissing Reason = "acac-missing"
	// ReasonPreflightStatus: the preflight status is not 200-299.
	ReasonPreflightStatus Reason = "preflight-status"
	// ReasonPreflightRedirect: the preflight was answered with a redirect.
	ReasonPreflightRedirect Reason = "preflight-redirect"
	// ReasonACAMInvalid: ACAM does not parse as a list of tokens.
	ReasonACAMInvalid Reason = "acam-invalid"
	// ReasonACAHInvalid: ACAH does not parse as a list of tokens.
	ReasonACAHInvalid Reason = "acah-invalid"
	// ReasonMethodNotAllowed: the method is not in ACAM.
	ReasonMethodNotAllowed Reason = "method-not-allowed"
	// ReasonHeaderNotAllowed: a CORS-unsafe request header is not in ACAH.
	ReasonHeaderNotAllowed Reason = "header-not-allowed"
	// ReasonNoResponse: a needed preflight got no response (network error).
	ReasonNoResponse Reason = "no-response"
	// ReasonForbiddenMethod: fetch() rejects the method (CONNECT, TRACE,
	// TRACK) before sending anything.
	ReasonForbiddenMethod Reason = "forbidden-method"
	// ReasonInvalidResponse: the response's header bytes are ones the
	// browser's HTTP parser rejects (a NUL byte, Response.Invalid): it
	// reports a network error, whatever the headers say.
	ReasonInvalidResponse Reason = "invalid-response"
)

// Browsers lists the supported browsers in a stable order.
var Browsers = []Browser{Chromium, Firefox, Webkit, Spec}

// Engines lists the browser engines the conformance suite checks the model
// against, in a stable order: every Browser but Spec. A caller showing
// "each engine's verdict" iterates over it.
func Engines() []Browser { return []Browser{Chromium, Firefox, Webkit} }

// browserAliases maps other accepted --browser names to a Browser.
var browserAliases = map[string]Browser{"safari": Webkit}

// ParseBrowser maps a --browser value to a Browser; "" means Chromium.
// Matching ignores case and surrounding spaces; "safari" means Webkit.
func ParseBrowser(s string) (Browser, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if name == "" {
		return Chromium, nil
	}
	if b, ok := browserAliases[name]; ok {
		return b, nil
	}
	for _, b := range Browsers {
		if string(b) == name {
			return b, nil
		}
	}
	valid := make([]string, len(Browsers))
	for i, b := range Browsers {
		valid[i] = string(b)
	}
	valid = append(valid, "safari (webkit)")
	return "", fmt.Errorf("browser: unknown browser %q (valid: %s)", s, strings.Join(valid, ", "))
}

// String returns the browser's name.
func (b Browser) String() string { return string(b) }

// known maps an unset or unknown Browser to Chromium, the default.
func (b Browser) known() Browser {
	switch b {
	case Chromium, Firefox, Webkit, Spec:
		return b
	}
	return Chromium
}

package cors

import (
	"fmt"
	"net/url"
	"strings"
)

// Chromium's console wording, from
// third_party/blink/renderer/platform/loader/cors/cors_error_string.cc
// (GetErrorString), for a request made with fetch(), as Chromium 156
// prints it (checked against /usr/bin/chromium 156.0.8078.108: older
// versions added "If an opaque response serves your needs, set the
// request's mode to 'no-cors'..." hints, which 156 no longer prints).
const (
	// preflightPrefix starts every message about a preflight response's
	// CORS check, status or redirect (IsPreflightError there).
	preflightPrefix = "Response to preflight request doesn't pass access control check: "
	// valueHint follows the messages about an ACAO value.
	valueHint = " Have the server send the header with a valid value."
)

// isPreflightCORSError reports whether Chromium prefixes the message with
// preflightPrefix when reason happens on a preflight: the CORS check
// failures, the status and the redirect (not ACAM/ACAH problems).
func isPreflightCORSError(reason Reason) bool {
	switch reason {
	case ReasonACAOMissing, ReasonACAOMismatch, ReasonACAOMultiple, ReasonACAOInvalid,
		ReasonWildcardWithCredentials, ReasonACACMissing, ReasonPreflightStatus, ReasonPreflightRedirect:
		return true
	}
	return false
}

// message returns Chromium's wording for reason, param being the header
// value, method or header name it quotes. Reasons Chromium does not report
// as a CORS error get a plain description.
func message(reason Reason, param string) string {
	switch reason {
	case ReasonWildcardWithCredentials:
		return "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' " +
			"when the request's credentials mode is 'include'."
	case ReasonACAOMissing:
		return "No 'Access-Control-Allow-Origin' header is present on the requested resource."
	case ReasonACAOMultiple:
		return "The 'Access-Control-Allow-Origin' header contains multiple values '" + param +
			"', but only one is allowed." + valueHint
	case ReasonACAOInvalid:
		return "The 'Access-Control-Allow-Origin' header contains the invalid value '" + param + "'." + valueHint
	case ReasonACAOMismatch:
		return "The 'Access-Control-Allow-Origin' header has a value '" + param +
			"' that is not equal to the supplied origin." + valueHint
	case ReasonACACMissing:
		return "The value of the 'Access-Control-Allow-Credentials' header in the response is '" + param +
			"' which must be 'true' when the request's credentials mode is 'include'."
	case ReasonPreflightStatus:
		return "It does not have HTTP ok status."
	case ReasonPreflightRedirect:
		return "Redirect is not allowed for a preflight request."
	case ReasonACAMInvalid:
		return "Cannot parse Access-Control-Allow-Methods response header field in preflight response."
	case ReasonACAHInvalid:
		return "Cannot parse Access-Control-Allow-Headers response header field in preflight response."
	case ReasonMethodNotAllowed:
		return "Method " + param + " is not allowed by Access-Control-Allow-Methods in preflight response."
	case ReasonHeaderNotAllowed:
		return "Request header field " + param + " is not allowed by Access-Control-Allow-Headers in preflight response."
	case ReasonNoResponse:
		return "The preflight request got no response: the browser reports a network error (net::ERR_FAILED)."
	case ReasonForbiddenMethod:
		return fmt.Sprintf("fetch() rejects the method %q before sending anything (TypeError).", param)
	case ReasonInvalidResponse:
		return "The response header line " + param + ": the browser's HTTP parser rejects the response and reports a network error (Chromium: net::ERR_INVALID_HTTP_RESPONSE)."
	}
	return ""
}

// ConsoleMessage returns the whole line Chromium prints in the console for
// a blocked verdict:
//
//	Access to fetch at '<url>' from origin '<origin>' has been blocked by CORS policy: <Message>
//
// with url in its canonical form (lower-case scheme and host, default port
// dropped, "/" for an empty path), as Chromium prints it. It returns ""
// when v is allowed or its reason is not a CORS error (no response, an
// invalid response, forbidden method): Chromium prints no such line then. For mixed content
// it returns v.Message, which is already Chromium's whole line.
func ConsoleMessage(rawURL, origin string, v Verdict) string {
	if v.Reason == ReasonMixedContent {
		return v.Message
	}
	if v.Allowed || v.Message == "" || v.Reason == ReasonNoResponse || v.Reason == ReasonForbiddenMethod || v.Reason == ReasonInvalidResponse {
		return ""
	}
	return "Access to fetch at '" + canonicalURL(rawURL) + "' from origin '" + origin +
		"' has been blocked by CORS policy: " + latin1(v.Message)
}

// latin1 decodes s as Chromium decodes header bytes for its console: each
// byte is one ISO-8859-1 character. The message's own words are ASCII, so
// only bytes copied from header values change.
func latin1(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// canonicalURL approximates the URL standard's serialization of an http(s)
// URL (https://url.spec.whatwg.org/#concept-url-serializer); other input
// is returned unchanged.
func canonicalURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return raw
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "80" && u.Scheme == "http" || port == "443" && u.Scheme == "https" {
		port = ""
	}
	u.Host = host
	if port != "" {
		u.Host += ":" + port
	}
	if u.Path == "" && u.RawPath == "" {
		u.Path = "/"
	}
	return u.String()
}

// FirefoxConsoleReasons returns the keys of the reasons Firefox's console
// may give for a request blocked with reason r ("Cross-Origin Request
// Blocked: ... (Reason: CORS header ‘Access-Control-Allow-Origin’
// missing)" is CORSMissingAllowOrigin2; the keys and texts are those of
// dom/locales/en-US/chrome/security/security.properties). Checked against
// Firefox ESR 153 by the conformance suite. Where Firefox's classes are
// finer than Reason's, several keys are returned: an Access-Control-Allow-Origin
// list in one header does not match, the header sent twice is "Multiple".
func FirefoxConsoleReasons(r Reason) []string {
	switch r {
	case ReasonACAOMissing:
		return []string{"CORSMissingAllowOrigin2"}
	case ReasonACAOMismatch, ReasonACAOInvalid:
		return []string{"CORSAllowOriginNotMatchingOrigin"}
	case ReasonACAOMultiple:
		return []string{"CORSMultipleAllowOriginNotAllowed", "CORSAllowOriginNotMatchingOrigin"}
	case ReasonWildcardWithCredentials:
		return []string{"CORSNotSupportingCredentials"}
	case ReasonACACMissing:
		return []string{"CORSMissingAllowCredentials"}
	case ReasonPreflightStatus:
		return []string{"CORSPreflightDidNotSucceed3"}
	case ReasonPreflightRedirect:
		return []string{"CORSExternalRedirectNotAllowed", "CORSPreflightDidNotSucceed3"}
	case ReasonACAMInvalid:
		return []string{"CORSInvalidAllowMethod"}
	case ReasonACAHInvalid:
		return []string{"CORSInvalidAllowHeader"}
	case ReasonMethodNotAllowed:
		return []string{"CORSMethodNotFound"}
	case ReasonHeaderNotAllowed:
		return []string{"CORSMissingAllowHeaderFromPreflight2"}
	case ReasonNoResponse, ReasonInvalidResponse:
		return []string{"CORSDidNotSucceed2"}
	}
	return nil
}

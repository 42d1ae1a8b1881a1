package cors

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
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

// message returns browser b's wording of failure f of request r at stage,
// as Verdict.Message holds it: Chromium's (the Spec model's too), what
// Firefox prints inside "(Reason: ...)" (firefoxReason) or WebKit's console
// line (webkitMessage).
func message(b Browser, r Request, stage string, f *failure) string {
	switch b {
	case Firefox:
		if msg := firefoxReason(f); msg != "" {
			return msg
		}
	case Webkit:
		if msg := webkitMessage(r, stage, f); msg != "" {
			return msg
		}
	}
	msg := chromiumMessage(f.reason, f.param)
	if b != Firefox && b != Webkit && stage == StagePreflight && isPreflightCORSError(f.reason) {
		msg = preflightPrefix + msg
	}
	return msg
}

// chromiumMessage returns Chromium's wording for reason, param being the
// header value, method or header name it quotes. Reasons Chromium does not
// report as a CORS error get a plain description.
func chromiumMessage(reason Reason, param string) string {
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

// ConsoleMessage returns the line browser b prints in its console for a
// blocked verdict v of a fetch() of rawURL from origin. v must be b's
// verdict (Evaluate(b, ...)): its Message is b's wording.
//
// Chromium (and the Spec model):
//
//	Access to fetch at '<url>' from origin '<origin>' has been blocked by CORS policy: <Message>
//
// with url in its canonical form (lower-case scheme and host, default port
// dropped, "/" for an empty path), header bytes read as ISO-8859-1.
//
// Firefox (dom/locales/en-US/chrome/security/security.properties, the
// CORS* strings, filled in by netwerk/protocol/http/nsCORSListenerProxy.cpp):
//
//	Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at <url>. (Reason: <Message>).
//
// followed by " Status code: <status>." for a missing
// Access-Control-Allow-Origin, a failed preflight and a request that did
// not succeed ("(null)" without a response); the URL is quoted ‘’ when the
// wildcard meets credentials.
//
// WebKit prints Message itself, as an error of the Security source
// (WebCore/loader/CrossOriginAccessControl.cpp); the line that follows it,
// "Fetch API cannot load <url> due to access control checks.", names no
// reason.
//
// It returns "" when v is allowed or is not a CORS error in b's console
// (a forbidden method; no response or an invalid one, but in Firefox and
// for WebKitGTK's preflight): the browser prints no such line. For mixed content it returns v.Message,
// Chromium's whole line.
func ConsoleMessage(b Browser, rawURL, origin string, v Verdict) string {
	if v.Reason == ReasonMixedContent {
		return v.Message
	}
	if v.Allowed || v.Message == "" || v.Reason == ReasonForbiddenMethod {
		return ""
	}
	switch b.known() {
	case Firefox:
		at := canonicalURL(rawURL)
		if v.Reason == ReasonWildcardWithCredentials {
			at = "‘" + at + "’"
		}
		line := "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at " + at +
			". (Reason: " + v.Message + ")."
		if firefoxStatus(v.Reason) {
			status := "(null)"
			if v.Status != 0 {
				status = strconv.Itoa(v.Status)
			}
			line += " Status code: " + status + "."
		}
		return line
	case Webkit:
		if v.Reason == ReasonNoResponse || v.Reason == ReasonInvalidResponse && v.Message != webkitUnparsable {
			return ""
		}
		return v.Message
	}
	if v.Reason == ReasonNoResponse || v.Reason == ReasonInvalidResponse {
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

// firefoxReason is the reason Firefox gives in its console line
// ("(Reason: ...)", see ConsoleMessage) for f, from the CORS* strings of
// dom/locales/en-US/chrome/security/security.properties, as Firefox ESR
// 153 fills them in (checked word for word by the conformance suite); ""
// for a failure Firefox's console does not report. Firefox checks in
// Chromium's order, but tells an Access-Control-Allow-Origin header sent
// twice (CORSMultipleAllowOriginNotAllowed) from a list in one header,
// which does not match the origin (CORSAllowOriginNotMatchingOrigin).
func firefoxReason(f *failure) string {
	const acao = "CORS header ‘Access-Control-Allow-Origin’"
	switch f.reason {
	case ReasonACAOMissing: // CORSMissingAllowOrigin2
		return acao + " missing"
	case ReasonACAOMultiple:
		if f.repeated { // CORSMultipleAllowOriginNotAllowed
			return "Multiple " + acao + " not allowed"
		}
		return acao + " does not match ‘" + utf8Text(f.param) + "’"
	case ReasonACAOMismatch, ReasonACAOInvalid: // CORSAllowOriginNotMatchingOrigin
		return acao + " does not match ‘" + utf8Text(f.param) + "’"
	case ReasonWildcardWithCredentials: // CORSNotSupportingCredentials
		return "Credential is not supported if the " + acao + " is ‘*’"
	case ReasonACACMissing: // CORSMissingAllowCredentials
		return "expected ‘true’ in CORS header ‘Access-Control-Allow-Credentials’"
	case ReasonPreflightStatus: // CORSPreflightDidNotSucceed3
		return "CORS preflight response did not succeed"
	case ReasonPreflightRedirect: // CORSExternalRedirectNotAllowed
		return "CORS request external redirect not allowed"
	case ReasonACAMInvalid: // CORSInvalidAllowMethod
		return "invalid token ‘" + utf8Text(f.param) + "’ in CORS header ‘Access-Control-Allow-Methods’"
	case ReasonACAHInvalid: // CORSInvalidAllowHeader
		return "invalid token ‘" + utf8Text(f.param) + "’ in CORS header ‘Access-Control-Allow-Headers’"
	case ReasonMethodNotAllowed: // CORSMethodNotFound
		return "Did not find method in CORS header ‘Access-Control-Allow-Methods’"
	case ReasonHeaderNotAllowed: // CORSMissingAllowHeaderFromPreflight2
		return "header ‘" + f.param + "’ is not allowed according to header ‘Access-Control-Allow-Headers’ from CORS preflight response"
	case ReasonNoResponse, ReasonInvalidResponse: // CORSDidNotSucceed2
		return "CORS request did not succeed"
	}
	return ""
}

// utf8Text decodes header bytes as Firefox does for its console: as UTF-8,
// each byte that is not part of a valid sequence shown as U+FFFD.
func utf8Text(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r) // utf8.RuneError for an invalid byte
	}
	return b.String()
}

// firefoxStatus reports whether Firefox's line for reason ends with the
// response's status code (the strings CORSMissingAllowOrigin2,
// CORSPreflightDidNotSucceed3 and CORSDidNotSucceed2).
func firefoxStatus(reason Reason) bool {
	switch reason {
	case ReasonACAOMissing, ReasonPreflightStatus, ReasonNoResponse, ReasonInvalidResponse:
		return true
	}
	return false
}

// webkitMessage is the line WebKit prints for f, a failure of request r at
// stage, from WebCore/loader/CrossOriginAccessControl.cpp
// (passesAccessControlCheck, validatePreflightResponse) and
// CrossOriginPreflightResultCache.cpp (the method and header checks), as
// WebKitGTK 2.50 prints them (checked word for word by the conformance
// suite); "" for a failure WebKit's console does not report as such.
// WebKit checks a preflight's status before its CORS headers (a redirect
// too: it is not followed, and its status is not ok), reads
// Access-Control-Allow-Origin as one value (a comma in it is "more than
// one origin", anything else but the origin is not allowed), and names a
// request header as the page set it.
func webkitMessage(r Request, stage string, f *failure) string {
	notOK := "Preflight response is not successful. Status code: " + strconv.Itoa(f.status)
	switch f.reason {
	case ReasonACAOMissing, ReasonACAOMismatch, ReasonACAOInvalid, ReasonACAOMultiple, ReasonWildcardWithCredentials, ReasonACACMissing:
		if stage == StagePreflight && !isOKStatus(f.status) {
			return notOK
		}
	}
	switch f.reason {
	case ReasonACAOMultiple:
		if strings.Contains(f.param, ",") {
			return "Access-Control-Allow-Origin cannot contain more than one origin."
		}
		return "Origin " + r.Origin + " is not allowed by Access-Control-Allow-Origin. Status code: " + strconv.Itoa(f.status)
	case ReasonACAOMissing, ReasonACAOMismatch, ReasonACAOInvalid:
		return "Origin " + r.Origin + " is not allowed by Access-Control-Allow-Origin. Status code: " + strconv.Itoa(f.status)
	case ReasonWildcardWithCredentials:
		return "Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true."
	case ReasonACACMissing:
		return `Credentials flag is true, but Access-Control-Allow-Credentials is not "true".`
	case ReasonPreflightStatus, ReasonPreflightRedirect:
		// A redirect is not followed, and fails as a status that is
		// not ok.
		return notOK
	case ReasonACAMInvalid:
		return "Header Access-Control-Allow-Methods has an invalid value: " + f.value
	case ReasonACAHInvalid:
		return "Header Access-Control-Allow-Headers has an invalid value: " + f.value
	case ReasonMethodNotAllowed:
		return "Method " + f.param + " is not allowed by Access-Control-Allow-Methods."
	case ReasonHeaderNotAllowed:
		return "Request header field " + f.value + " is not allowed by Access-Control-Allow-Headers."
	case ReasonNoResponse:
		return "The preflight request got no response: the browser reports a network error."
	case ReasonInvalidResponse:
		if stage == StagePreflight {
			// WebKitGTK logs the preflight's network error, libsoup's
			// words (Safari's CFNetwork has its own).
			return webkitUnparsable
		}
	}
	return ""
}

// webkitUnparsable is what WebKitGTK logs for a preflight whose response
// its HTTP parser (libsoup) rejects.
const webkitUnparsable = "Could not parse HTTP response"

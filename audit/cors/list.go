package cors

import "strings"

// ParseList implements "extract header list values"
// (https://fetch.spec.whatwg.org/#extract-header-list-values) for the
// list-valued CORS headers ACAM, ACAH and ACEH, as Chromium parses them
// (services/network/cors/preflight_result.cc, ParseAccessControlAllowList):
// the values of every occurrence of the header are combined with ", "
// (https://fetch.spec.whatwg.org/#concept-header-list-combine), split on
// ",", each element trimmed of optional whitespace (space, tab), empty
// elements skipped (RFC 9110 section 5.6.1 lets recipients ignore them), and
// every remaining element must be a token
// (https://fetch.spec.whatwg.org/#http-new-header-syntax); "*" is a token.
// Items keep their case. ok is false (and items nil) when an element is not
// a token; nil values give an empty list and ok.
func ParseList(values []string) ([]string, bool) {
	var items []string
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			part = trimOWS(part)
			if part == "" {
				continue
			}
			if !IsToken(part) {
				return nil, false
			}
			items = append(items, part)
		}
	}
	return items, true
}

// trimOWS removes leading and trailing optional whitespace (space, tab),
// https://httpwg.org/specs/rfc9110.html#whitespace.
func trimOWS(s string) string { return strings.Trim(s, " \t") }

// trimHTTPWhitespace removes leading and trailing HTTP whitespace (tab, LF,
// CR, space), as the Fetch standard's "normalize" does for header values
// (https://fetch.spec.whatwg.org/#concept-header-value-normalize).
func trimHTTPWhitespace(s string) string { return strings.Trim(s, " \t\r\n") }

// isToken reports whether s is a non-empty RFC 9110 token
// (https://httpwg.org/specs/rfc9110.html#tokens).
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) {
			return false
		}
	}
	return true
}

// isTokenByte reports whether c is a tchar.
func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// combined returns the values of one response header as a browser reads
// them: every occurrence trimmed and joined with ", "
// (https://fetch.spec.whatwg.org/#concept-header-list-get; Chromium's
// HttpResponseHeaders::GetNormalizedHeader). ok is false when the header is
// absent.
func combined(values []string) (string, bool) {
	if len(values) == 0 {
		return "", false
	}
	trimmed := make([]string, len(values))
	for i, v := range values {
		trimmed[i] = trimHTTPWhitespace(v)
	}
	return strings.Join(trimmed, ", "), true
}

// NormalizeHeaderValue is v as fetch() normalizes a header value before
// it checks and sends it: leading and trailing HTTP whitespace removed.
func NormalizeHeaderValue(v string) string { return trimHTTPWhitespace(v) }

// IsHeaderValue reports whether v, once normalized (trimHTTPWhitespace),
// is a header value fetch() accepts: no NUL, CR or LF
// (https://fetch.spec.whatwg.org/#header-value; Headers.append() and
// fetch() throw a TypeError otherwise, so a browser never sends one).
// Other control bytes are header values: a browser sends them.
func IsHeaderValue(v string) bool {
	return !strings.ContainsAny(trimHTTPWhitespace(v), "\x00\r\n")
}

package cors

import "strings"

// NormalizeMethod normalizes a method as fetch() does
// (https://fetch.spec.whatwg.org/#concept-method-normalize): DELETE, GET,
// HEAD, OPTIONS, POST and PUT are matched case-insensitively and upper-cased;
// every other method is kept byte for byte ("patch" stays "patch").
func NormalizeMethod(m string) string {
	switch u := strings.ToUpper(m); u {
	case "DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT":
		return u
	}
	return m
}

// isSafelistedMethod reports whether m is a CORS-safelisted method: `GET`,
// `HEAD` or `POST`, byte for byte
// (https://fetch.spec.whatwg.org/#cors-safelisted-method). Pass a
// normalized method (NormalizeMethod).
func isSafelistedMethod(m string) bool {
	return m == "GET" || m == "HEAD" || m == "POST"
}

// IsForbiddenMethod reports whether fetch() refuses m outright: CONNECT,
// TRACE and TRACK, case-insensitively
// (https://fetch.spec.whatwg.org/#forbidden-method).
func IsForbiddenMethod(m string) bool {
	switch strings.ToUpper(m) {
	case "CONNECT", "TRACE", "TRACK":
		return true
	}
	return false
}

// isMethodToken reports whether m is a valid method (a token,
// https://fetch.spec.whatwg.org/#concept-method); fetch() throws otherwise.
func isMethodToken(m string) bool { return IsToken(m) }

// NormalizeMethods applies NormalizeMethod to each method of ms.
func NormalizeMethods(ms []string) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = NormalizeMethod(m)
	}
	return out
}

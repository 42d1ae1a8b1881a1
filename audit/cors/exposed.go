package cors

import (
	"net/http"
	"slices"
	"sort"
	"strings"
)

// isCORSSafelistedResponseHeader reports whether a page can always read
// response header name: Cache-Control, Content-Language, Content-Length,
// Content-Type, Expires, Last-Modified, Pragma, case-insensitively
// (https://fetch.spec.whatwg.org/#cors-safelisted-response-header-name).
func isCORSSafelistedResponseHeader(name string) bool {
	switch strings.ToLower(name) {
	case "cache-control", "content-language", "content-length", "content-type", "expires", "last-modified", "pragma":
		return true
	}
	return false
}

// isForbiddenResponseHeader reports whether name is never exposed to a
// page: Set-Cookie and Set-Cookie2
// (https://fetch.spec.whatwg.org/#forbidden-response-header-name).
func isForbiddenResponseHeader(name string) bool {
	n := strings.ToLower(name)
	return n == "set-cookie" || n == "set-cookie2"
}

// exposedHeaderNames returns the names a page may read besides the
// safelisted ones, from the ACEH values of a response
// (https://fetch.spec.whatwg.org/#main-fetch step 14.1, "CORS-exposed
// header-name list"): the parsed list (ParseList), nil when it does not
// parse. all is true when the list contains `*` and the request is not
// credentialed: then every header is exposed; with credentials `*` is a
// literal header name.
func exposedHeaderNames(aceh []string, credentials bool) (names []string, all bool) {
	items, ok := ParseList(aceh)
	if !ok {
		return nil, false
	}
	return items, !credentials && slices.Contains(items, "*")
}

// exposedHeaders returns the lower-cased, sorted names of the headers in h
// that a page can read through the CORS-filtered response
// (https://fetch.spec.whatwg.org/#concept-filtered-response-cors).
func exposedHeaders(h http.Header, credentials bool) []string {
	names, all := exposedHeaderNames(headerValues(h, ACEH), credentials)
	var out []string
	for k := range h {
		switch {
		case isForbiddenResponseHeader(k):
		case all, isCORSSafelistedResponseHeader(k), containsFold(names, k):
			out = append(out, strings.ToLower(k))
		}
	}
	sort.Strings(out)
	return out
}

package cors

import "strings"

// ResponseHeaderName is how browser b reads the name of a response header
// line as Go's HTTP parser hands it over: ok is false when b drops the
// line.
//
// RFC 9112 section 5.1 allows no whitespace between a field name and its
// colon. Go keeps "Access-Control-Allow-Origin : *" as a header named
// "Access-Control-Allow-Origin " (trailing space). Chromium's parser
// (net/http/http_util.cc, HttpUtil::HeadersIterator) trims the name, so the
// line still names the header; Firefox (netwerk/protocol/http/
// nsHttpHeaderArray.cpp, ParseHeaderLine rejects the name as not a token)
// and WebKitGTK (libsoup's soup_headers_parse) drop the line. Conformance
// scenario "ACAO line with a space before the colon" shows all three. The
// spec model follows Chromium.
func ResponseHeaderName(b Browser, raw string) (name string, ok bool) {
	name = strings.TrimRight(raw, " \t")
	if name != raw && (b == Firefox || b == Webkit) {
		return "", false
	}
	return name, true
}

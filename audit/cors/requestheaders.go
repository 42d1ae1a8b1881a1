package cors

import (
	"sort"
	"strings"
)

// maxSafelistedValueLen is the longest value a CORS-safelisted request
// header may have (https://fetch.spec.whatwg.org/#cors-safelisted-request-header
// step 1: "If value's length is greater than 128, then return false").
const maxSafelistedValueLen = 128

// maxSafelistedTotal is the most bytes all safelisted request header values
// may add up to before they all become CORS-unsafe
// (https://fetch.spec.whatwg.org/#cors-unsafe-request-header-names step 4).
const maxSafelistedTotal = 1024

// isCORSUnsafeRequestHeaderByte implements
// https://fetch.spec.whatwg.org/#cors-unsafe-request-header-byte: a byte
// less than 0x20 other than tab, or one of `"():<>?@[\]{}` and DEL.
func isCORSUnsafeRequestHeaderByte(c byte) bool {
	return c < 0x20 && c != '\t' || strings.IndexByte("\"():<>?@[\\]{}\x7f", c) >= 0
}

// hasUnsafeByte reports whether v contains a CORS-unsafe request-header byte.
func hasUnsafeByte(v string) bool {
	for i := 0; i < len(v); i++ {
		if isCORSUnsafeRequestHeaderByte(v[i]) {
			return true
		}
	}
	return false
}

// isLanguageValue reports whether every byte of v is allowed in a
// safelisted Accept-Language or Content-Language value: 0-9, A-Z, a-z,
// space, "*", ",", "-", ".", ";", "="
// (https://fetch.spec.whatwg.org/#cors-safelisted-request-header).
func isLanguageValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		ok := '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' ||
			strings.IndexByte(" *,-.;=", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// isSafelistedContentType implements the `content-type` case of
// https://fetch.spec.whatwg.org/#cors-safelisted-request-header: no
// CORS-unsafe request-header byte, and the parsed MIME type's essence is
// application/x-www-form-urlencoded, multipart/form-data or text/plain.
func isSafelistedContentType(v string) bool {
	if hasUnsafeByte(v) {
		return false
	}
	essence, ok := mimeEssence(v)
	if !ok {
		return false
	}
	switch essence {
	case "application/x-www-form-urlencoded", "multipart/form-data", "text/plain":
		return true
	}
	return false
}

// isSimpleRange implements the `range` case of
// https://fetch.spec.whatwg.org/#cors-safelisted-request-header with
// https://fetch.spec.whatwg.org/#simple-range-header-value: "bytes=" then
// a start, "-", and an optional end, digits only, no whitespace, one range,
// start <= end when both are given. The unit is case-sensitive in the
// standard and in Chromium 156 and Firefox ESR 153 ("BYTES=0-1" is
// preflighted); caseFoldUnit accepts "BYTES=" as WebKit does (WebCore's
// isSimpleRangeHeaderValue compares the unit ignoring ASCII case;
// confirmed on WebKitGTK 2.50: no preflight).
func isSimpleRange(v string, caseFoldUnit bool) bool {
	unit := v
	if len(unit) >= 6 {
		unit = v[:6]
	}
	if caseFoldUnit {
		unit = strings.ToLower(unit)
	}
	if unit != "bytes=" {
		return false
	}
	start, end, found := strings.Cut(v[6:], "-")
	if !found || start == "" || !allDigits(start) || end != "" && !allDigits(end) {
		return false
	}
	return end == "" || compareDecimal(start, end) <= 0
}

// allDigits reports whether s is non-empty and only ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// compareDecimal compares two strings of ASCII digits as numbers of any size.
func compareDecimal(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// isSafelistedRequestHeader reports whether (name, value) is a
// CORS-safelisted request-header as the Fetch standard defines it
// (https://fetch.spec.whatwg.org/#cors-safelisted-request-header): one of
// Accept, Accept-Language, Content-Language, Content-Type, Range, with a
// value of at most 128 bytes that follows that header's rules. The name is
// matched case-insensitively; value should be normalized (trimmed).
func isSafelistedRequestHeader(name, value string) bool {
	return isSafelistedFor(Spec, name, value)
}

// isSafelistedFor is isSafelistedRequestHeader for browser b. Chromium
// (services/network/public/cpp/cors/cors.cc, IsCorsSafelistedHeader) also
// safelists headers it sets itself for interventions and client hints that
// pages may set too: Intervention, Device-Memory, DPR, Downlink (numbers),
// Width, Viewport-Width, RTT (integers), ECT (an effective connection type)
// and Save-Data ("on"); Firefox ESR 153 and WebKitGTK 2.50 do not (they
// preflight every one of them). WebKit accepts a Range unit in any case.
func isSafelistedFor(b Browser, name, value string) bool {
	if len(value) > maxSafelistedValueLen {
		return false
	}
	switch strings.ToLower(name) {
	case "accept":
		return !hasUnsafeByte(value)
	case "accept-language", "content-language":
		return isLanguageValue(value)
	case "content-type":
		return isSafelistedContentType(value)
	case "range":
		return isSimpleRange(value, b == Webkit)
	}
	if b != Chromium {
		return false
	}
	switch strings.ToLower(name) {
	case "intervention":
		return true
	case "device-memory", "dpr", "downlink":
		return isDoubleLike(value)
	case "width", "viewport-width", "rtt":
		return allDigits(value)
	case "ect":
		switch value {
		case "slow-2g", "2g", "3g", "4g":
			return true
		}
		return false
	case "save-data":
		return strings.ToLower(value) == "on"
	}
	return false
}

// isDoubleLike reports whether s is 1*DIGIT [ "." 1*DIGIT ] (Chromium's
// IsSimilarToDoubleABNF).
func isDoubleLike(s string) bool {
	i, f, found := strings.Cut(s, ".")
	return allDigits(i) && (!found || allDigits(f))
}

// chromiumOnlySafelisted reports whether name is safelisted by Chromium
// but not by the Fetch standard.
func chromiumOnlySafelisted(name string) bool {
	switch strings.ToLower(name) {
	case "intervention", "device-memory", "dpr", "downlink", "width", "viewport-width", "rtt", "ect", "save-data":
		return true
	}
	return false
}

// IsForbiddenRequestHeader reports whether a page cannot set header name:
// fetch() silently drops it from the request
// (https://fetch.spec.whatwg.org/#forbidden-request-header). The
// X-HTTP-Method(-Override) and X-Method-Override headers are forbidden only
// when their value names a forbidden method.
func IsForbiddenRequestHeader(name, value string) bool {
	n := strings.ToLower(name)
	if strings.HasPrefix(n, "proxy-") || strings.HasPrefix(n, "sec-") {
		return true
	}
	switch n {
	case "accept-charset", "accept-encoding", "access-control-request-headers",
		"access-control-request-method", "connection", "content-length", "cookie",
		"cookie2", "date", "dnt", "expect", "host", "keep-alive", "origin", "referer",
		"set-cookie", "te", "trailer", "transfer-encoding", "upgrade", "via":
		return true
	case "x-http-method", "x-http-method-override", "x-method-override":
		for _, m := range strings.Split(value, ",") {
			if IsForbiddenMethod(trimHTTPWhitespace(m)) {
				return true
			}
		}
	}
	return false
}

// authorHeaders returns the request's header list as browser b builds it
// from the page's headers: values normalized (leading and trailing HTTP
// whitespace removed, https://fetch.spec.whatwg.org/#concept-header-value-normalize),
// forbidden request-headers dropped, and, for Chromium and WebKit, headers
// of the same name combined into one "a, b" value in first-seen order, as
// Chromium's HttpRequestHeaders and WebCore's HTTPHeaderMap hold them. The
// standard keeps separate entries
// (https://fetch.spec.whatwg.org/#concept-header-list-append) and checks
// each one; so does Firefox (InternalHeaders keeps one entry per append).
func authorHeaders(b Browser, hs []Header) []Header {
	var out []Header
	index := map[string]int{}
	for _, h := range hs {
		v := trimHTTPWhitespace(h.Value)
		if h.Name == "" || IsForbiddenRequestHeader(h.Name, v) {
			continue
		}
		key := strings.ToLower(h.Name)
		if i, seen := index[key]; seen && combinesRepeated(b) {
			out[i].Value += ", " + v
			continue
		}
		index[key] = len(out)
		out = append(out, Header{Name: h.Name, Value: v})
	}
	return out
}

// combinesRepeated reports whether browser b combines the page's headers
// of one name into one value before its CORS checks (see authorHeaders).
func combinesRepeated(b Browser) bool { return b == Chromium || b == Webkit }

// unsafeNames implements https://fetch.spec.whatwg.org/#cors-unsafe-request-header-names
// for browser b over an already built header list: the lower-cased names
// of headers that are not safelisted, plus every safelisted name when the
// safelisted values add up to more than 1024 bytes; sorted and
// de-duplicated ("convert header names to a sorted-lowercase set").
//
// Firefox (InternalHeaders::GetUnsafeHeaders, checked on Firefox ESR 153)
// departs twice: it has no 1024-byte total (nine 120-byte Accept values
// send no preflight), and it does not de-duplicate, so a header appended
// twice is listed twice ("x-custom,x-custom").
func unsafeNames(b Browser, list []Header) []string {
	set := map[string]bool{}
	var names, safe []string
	total := 0
	for _, h := range list {
		n := strings.ToLower(h.Name)
		if isSafelistedFor(b, h.Name, h.Value) {
			safe = append(safe, n)
			total += len(h.Value)
			continue
		}
		names = append(names, n)
	}
	if total > maxSafelistedTotal && b != Firefox {
		names = append(names, safe...)
	}
	sort.Strings(names)
	if b == Firefox {
		return names
	}
	out := names[:0]
	for _, n := range names {
		if !set[n] {
			set[n] = true
			out = append(out, n)
		}
	}
	return out
}

// unsafeRequestHeaderNames returns the CORS-unsafe request-header names of
// the page's headers as Chromium computes them (the names a preflight's
// Access-Control-Request-Headers carries): sorted, lower-cased,
// de-duplicated; forbidden headers, which fetch() drops, are left out.
func unsafeRequestHeaderNames(hs []Header) []string {
	return unsafeNames(Chromium, authorHeaders(Chromium, hs))
}

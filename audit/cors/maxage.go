package cors

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// defaultMaxAge is the preflight cache lifetime when ACMA is absent
// (https://fetch.spec.whatwg.org/#cors-preflight-fetch step 7.6: "If
// max-age is failure or null, then set max-age to 5").
const defaultMaxAge = 5 * time.Second

// maxAgeCap returns the longest preflight cache lifetime browser b allows
// (0: no cap). The standard lets each user agent impose a limit
// (https://fetch.spec.whatwg.org/#cors-preflight-fetch step 7.7):
// Chromium caps at 2 hours (services/network/cors/preflight_result.cc,
// kMaxTimeout), Firefox at 24 hours (nsCORSListenerProxy.cpp), WebKit at
// 10 minutes (WebCore CrossOriginPreflightResultCache).
func maxAgeCap(b Browser) time.Duration {
	switch b.known() {
	case Chromium:
		return 2 * time.Hour
	case Firefox:
		return 24 * time.Hour
	case Webkit:
		return 10 * time.Minute
	}
	return 0
}

// maxAge returns how long browser b caches a successful preflight whose
// response carried the ACMA values (every occurrence of the header, as
// received; nil when absent), and a note saying why when the value was not
// used as is (default, invalid, negative, capped). A zero duration means
// the preflight result is not cached.
//
// Parsing, per browser:
//   - Spec: the combined value must be delta-seconds, 1*DIGIT
//     (https://fetch.spec.whatwg.org/#http-access-control-max-age); absent,
//     invalid or negative gives the default 5s; no cap.
//   - Chromium: base::StringToInt64 on the combined value (an optional
//     sign, then digits; overflow is invalid); absent or invalid gives 5s,
//     negative gives 0 ("cannot be cached"), more than 7200s gives 7200s.
//   - Firefox: absent (or empty) gives 5s; any non-digit makes the result
//     uncacheable (0); capped at 86400s.
//   - WebKit: unsigned digits (optional "+"); absent or invalid gives 5s;
//     negative ("-" then digits) gives 0: WebKitGTK 2.50 sends a preflight
//     for every request (checked by the conformance suite); capped at 600s.
func maxAge(b Browser, values []string) (time.Duration, string) {
	b = b.known()
	v, present := combined(values)
	if !present {
		return defaultMaxAge, "no " + ACMA + ": default 5s"
	}
	invalid := fmt.Sprintf("%s %q is not a number of seconds: default 5s", ACMA, v)
	var secs int64
	switch b {
	case Spec:
		if !allDigits(v) {
			return defaultMaxAge, invalid
		}
		secs = saturatingDecimal(v)
	case Chromium:
		n, ok := chromiumStringToInt64(v)
		if !ok {
			return defaultMaxAge, invalid
		}
		if n < 0 {
			return 0, fmt.Sprintf("%s %q is negative: Chromium does not cache the preflight", ACMA, v)
		}
		secs = n
	case Firefox:
		if v == "" {
			return defaultMaxAge, "empty " + ACMA + ": default 5s"
		}
		if !allDigits(v) {
			return 0, fmt.Sprintf("%s %q is not a number of seconds: Firefox does not cache the preflight", ACMA, v)
		}
		secs = saturatingDecimal(v)
	case Webkit:
		if strings.HasPrefix(v, "-") && allDigits(v[1:]) {
			return 0, fmt.Sprintf("%s %q is negative: WebKit does not cache the preflight", ACMA, v)
		}
		d := strings.TrimPrefix(v, "+")
		if !allDigits(d) || compareDecimal(d, "4294967295") > 0 {
			return defaultMaxAge, invalid
		}
		secs = saturatingDecimal(d)
	}
	if c := maxAgeCap(b); c > 0 && secs >= int64(c/time.Second) {
		if secs == int64(c/time.Second) {
			return c, ""
		}
		return c, fmt.Sprintf("%s %s capped at %s by %s", ACMA, v, c, b)
	}
	if secs > int64(math.MaxInt64/int64(time.Second)) {
		return time.Duration(math.MaxInt64), ""
	}
	return time.Duration(secs) * time.Second, ""
}

// chromiumStringToInt64 mirrors base::StringToInt64: an optional "-" or
// "+", then one or more ASCII digits and nothing else (no whitespace);
// false on overflow.
func chromiumStringToInt64(s string) (int64, bool) {
	digits := s
	if strings.HasPrefix(s, "+") {
		digits = s[1:]
	} else if strings.HasPrefix(s, "-") {
		digits = s[1:]
	}
	if !allDigits(digits) {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// saturatingDecimal parses a string of ASCII digits, saturating at
// math.MaxInt64.
func saturatingDecimal(d string) int64 {
	n, err := strconv.ParseInt(d, 10, 64)
	if err != nil {
		return math.MaxInt64
	}
	return n
}

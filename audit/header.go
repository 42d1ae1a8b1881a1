package audit

import (
	"fmt"

	"github.com/corsaudit/corsaudit/audit/cors"
)

// CheckHeader says whether h is a request header corsaudit can send as a
// page's fetch() sends it: a token name, and a value fetch() accepts
// (cors.IsHeaderValue) without the other control bytes (0x01-0x1f but tab,
// and 0x7f) that a browser sends, after a preflight since they are not
// safelisted, but Go's HTTP client refuses to. Such a header is refused up
// front, with the reason, rather than reported as a server that could not
// be reached. The value is checked as fetch() normalizes it (leading and
// trailing spaces, tabs, CR and LF trimmed).
func CheckHeader(h cors.Header) error {
	if !cors.IsToken(h.Name) {
		return fmt.Errorf("%q is not a valid header name", h.Name)
	}
	if !cors.IsHeaderValue(h.Value) {
		return fmt.Errorf("value of %s: fetch() rejects a value with NUL, CR or LF (a TypeError): a browser never sends it", h.Name)
	}
	v := cors.NormalizeHeaderValue(h.Value)
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return fmt.Errorf("value of %s holds the control byte 0x%02x: a browser sends it (after a preflight), but corsaudit's HTTP client cannot", h.Name, c)
		}
	}
	return nil
}

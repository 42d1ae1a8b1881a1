package audit

import (
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/audit/cors"
)

// TestCheckHeader: every byte from 0x00 to 0xff in a value is either sent
// (fetch() sends it and so can Go's client) or refused with the reason.
func TestCheckHeader(t *testing.T) {
	for c := 0; c < 256; c++ {
		v := "a" + string([]byte{byte(c)}) + "b"
		err := CheckHeader(cors.Header{Name: "X-Test", Value: v})
		var want string
		switch {
		case c == 0 || c == '\r' || c == '\n':
			want = "fetch() rejects a value with NUL, CR or LF"
		case c < ' ' && c != '\t' || c == 0x7f:
			want = "holds the control byte"
		}
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("byte 0x%02x: %v, want %q", c, err, want)
		}
	}
	for _, tc := range []struct {
		desc string
		h    cors.Header
		want string
	}{
		{"trailing CR LF is trimmed as fetch() normalizes", cors.Header{Name: "Accept", Value: "text/plain\r\n"}, ""},
		{"leading tab is trimmed", cors.Header{Name: "Accept", Value: "\ttext/plain"}, ""},
		{"name with a space", cors.Header{Name: "X A", Value: "1"}, "is not a valid header name"},
		{"empty name", cors.Header{Name: "", Value: "1"}, "is not a valid header name"},
	} {
		err := CheckHeader(tc.h)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.desc, err, tc.want)
		}
	}
}

package cors

import (
	"bufio"
	"bytes"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestReadResponseHead(t *testing.T) {
	const origin = "https://app.example.com"
	for _, tc := range []struct {
		desc     string
		b        Browser
		head     string
		header   http.Header // nil: don't check
		invalid  string      // Response.Invalid contains it ("" none)
		problems []string    // each MalformedLine.Problem, in order
	}{
		{desc: "well-formed", b: Chromium, head: "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: " + origin + "\r\nVary: Origin\r\n\r\n",
			header: http.Header{ACAO: {origin}, "Vary": {"Origin"}}},
		{desc: "LF line ends, no reason phrase", b: Chromium, head: "HTTP/1.1 204\nAccess-Control-Allow-Origin:  *  \n\n",
			header: http.Header{ACAO: {"*"}}},
		{desc: "NUL in another header's value: a network error", b: Chromium, head: "HTTP/1.1 200 OK\r\nX-Junk: a\x00b\r\nAccess-Control-Allow-Origin: *\r\n\r\n",
			invalid: `"X-Junk: a\x00b" holds a NUL byte`, problems: []string{`"X-Junk: a\x00b" holds a NUL byte`}},
		{desc: "NUL at the end of ACAO, Firefox too", b: Firefox, head: "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: *\x00\r\n\r\n",
			invalid: "holds a NUL byte"},
		{desc: "NUL in a name: WebKit rejects the response", b: Webkit, head: "HTTP/1.1 200 OK\r\nX\x00Y: 1\r\nAccess-Control-Allow-Origin: *\r\n\r\n",
			invalid: "holds a NUL byte"},
		{desc: "NUL in a name: Firefox drops the line", b: Firefox, head: "HTTP/1.1 200 OK\r\nX\x00Y: 1\r\nAccess-Control-Allow-Origin: *\r\n\r\n",
			header: http.Header{ACAO: {"*"}}, problems: []string{`"X\x00Y: 1" holds a NUL byte`}},
		{desc: "SOH kept in the value", b: Chromium, head: "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: " + origin + "\x01\r\n\r\n",
			header: http.Header{ACAO: {origin + "\x01"}}, problems: []string{`"Access-Control-Allow-Origin: https://app.example.com\x01" holds the control byte 0x01`}},
		{desc: "DEL and a bare CR kept", b: Webkit, head: "HTTP/1.1 200 OK\r\nX-A: a\x7fb\r\nX-B: a\rb\r\n\r\n",
			header: http.Header{"X-A": {"a\x7fb"}, "X-B": {"a\rb"}}},
		{desc: "a line without a colon is dropped", b: Firefox, head: "HTTP/1.1 200 OK\r\nNoColon\r\nAccess-Control-Allow-Origin: *\r\n\r\n",
			header: http.Header{ACAO: {"*"}}, problems: []string{`"NoColon" has no colon`}},
		{desc: "space before the colon: Chromium reads the header", b: Chromium, head: "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin : *\r\nX: \x01\r\n\r\n",
			header: http.Header{ACAO: {"*"}, "X": {"\x01"}}},
		{desc: "space before the colon: Firefox drops it", b: Firefox, head: "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin : *\r\nX: \x01\r\n\r\n",
			header: http.Header{"X": {"\x01"}}},
		{desc: "obsolete line fold", b: Chromium, head: "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Methods: GET,\r\n\tPUT\r\nX: \x01\r\n\r\n",
			header: http.Header{ACAM: {"GET, PUT"}, "X": {"\x01"}}},
		{desc: "repeated headers in order", b: Chromium, head: "HTTP/1.1 200 OK\r\nVary: Origin\r\nX: \x01\r\nvary: Accept\r\n\r\n",
			header: http.Header{"Vary": {"Origin", "Accept"}, "X": {"\x01"}}},
		{desc: "what follows the empty line is the body", b: Chromium, head: "HTTP/1.1 200 OK\r\nX: 1\r\n\r\nY: 2\r\n",
			header: http.Header{"X": {"1"}}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			resp, malformed, err := ReadResponseHead(tc.b, []byte(tc.head))
			if err != nil {
				t.Fatal(err)
			}
			if tc.header != nil && !reflect.DeepEqual(resp.Header, tc.header) {
				t.Errorf("header %q, want %q", resp.Header, tc.header)
			}
			if tc.invalid == "" && resp.Invalid != "" || !strings.Contains(resp.Invalid, tc.invalid) {
				t.Errorf("invalid %q, want %q", resp.Invalid, tc.invalid)
			}
			var problems []string
			for _, m := range malformed {
				problems = append(problems, m.Problem)
			}
			if tc.problems != nil && !reflect.DeepEqual(problems, tc.problems) {
				t.Errorf("problems %q, want %q", problems, tc.problems)
			}
		})
	}
	for _, bad := range []string{"", "SSH-2.0-OpenSSH_9.6\r\n\r\n", "HTTP/1.1\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 99 X\r\n\r\n", "HTTP/1.1 abc\r\n\r\n"} {
		if _, _, err := ReadResponseHead(Chromium, []byte(bad)); err == nil {
			t.Errorf("ReadResponseHead(%q): no error", bad)
		}
	}
}

// FuzzReadResponseHead: any bytes read as a response head never panic; a
// head Go's parser reads is read the same way, headers and status, with
// nothing malformed (the tolerant reader only changes what Go rejects).
func FuzzReadResponseHead(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: *\r\nVary: Origin\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-Junk: a\x00b\r\n\r\n",
		"HTTP/1.1 204\nA: 1\n b\nA: 2\n\n",
		"HTTP/1.0 301 Moved\r\nLocation: /x\r\nNoColon\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		resp, malformed, err := ReadResponseHead(Chromium, head)
		if err != nil {
			return
		}
		r, gerr := http.ReadResponse(bufio.NewReader(bytes.NewReader(append(bytes.Clone(head), "\r\n\r\n"...))), nil)
		if gerr != nil || bytes.Contains(head, []byte("\n\n")) || bytes.Contains(head, []byte("\r\r")) {
			return // Go rejects it, or the two readers may end the head elsewhere
		}
		if len(malformed) > 0 || resp.Invalid != "" {
			t.Fatalf("Go reads %q, ReadResponseHead finds it malformed: %+v", head, malformed)
		}
		delete(r.Header, "Content-Length") // Go's own framing checks
		delete(resp.Header, "Content-Length")
		// Names as the browser reads what Go hands over (as audit does),
		// values trimmed (a fold of nothing but spaces may leave one).
		trimmed := func(h http.Header) http.Header {
			out := http.Header{}
			keys := make([]string, 0, len(h))
			for k := range h {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				n, ok := ResponseHeaderName(Chromium, k)
				if !ok {
					continue
				}
				n = http.CanonicalHeaderKey(n)
				for _, v := range h[k] {
					out[n] = append(out[n], strings.TrimSpace(v))
				}
			}
			return out
		}
		if r.StatusCode != resp.Status || len(r.Header) > 0 && !reflect.DeepEqual(trimmed(r.Header), trimmed(resp.Header)) {
			t.Fatalf("%q: Go reads %d %q, ReadResponseHead %d %q", head, r.StatusCode, r.Header, resp.Status, resp.Header)
		}
	})
}

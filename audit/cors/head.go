package cors

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// MalformedLine is a response header line outside HTTP's field syntax
// (https://httpwg.org/specs/rfc9110.html#fields: a token, ":", then visible
// bytes, spaces and tabs), which Go's HTTP/1.1 parser rejects and browsers
// read in their own way (ReadResponseHead).
type MalformedLine struct {
	// Name is the header the browser reads the line as; "" when it drops
	// the line or rejects the response.
	Name string
	// Problem says what is wrong, the line quoted: `"X-A: a\x00b" holds a
	// NUL byte`.
	Problem string
	// Rejected: the browser treats the whole response as a network error.
	Rejected bool
}

// ReadResponseHead reads a response's status line and header lines as
// browser b does, where Go's parser gives up on the whole response; head
// is every byte up to the empty line that ends the header block. The
// Response holds every header line b keeps (names canonical, values
// trimmed of spaces and tabs, repeated headers in order) and, when b
// rejects the response, Invalid; malformed lists the lines outside HTTP's
// field syntax. An error means there is no HTTP status line.
//
// What the engines do, from the conformance scenarios "response header
// line with ..." (Chromium 156, Firefox ESR 153, WebKitGTK 2.4x):
//   - a NUL byte in a value: all three report a network error (Chromium:
//     net::ERR_INVALID_HTTP_RESPONSE); in a name: Chromium and WebKit too,
//     Firefox drops the line;
//   - other control bytes (0x01-0x1f but tab, and 0x7f) and a bare CR in a
//     value stay in the value: the response is read;
//   - a line without a colon is dropped;
//   - a name followed by whitespace is read by ResponseHeaderName;
//   - a line starting with a space or tab continues the previous value
//     (an obsolete line fold): a space and the line's trimmed content are
//     added, an empty line's too, as Go reads it.
//
// The spec model follows Chromium.
func ReadResponseHead(b Browser, head []byte) (resp Response, malformed []MalformedLine, err error) {
	lines := bytes.Split(head, []byte("\n"))
	statusLine := strings.TrimSuffix(string(lines[0]), "\r")
	if resp.Status, err = parseStatusLine(statusLine); err != nil {
		return Response{}, nil, err
	}
	resp.Header = http.Header{}
	var last string // the header the previous line added, "" for none
	for _, raw := range lines[1:] {
		line := strings.TrimSuffix(string(raw), "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			// Each fold adds a space and the line's trimmed content, an
			// empty one too (so "a", " ", " b" is "a  b"); the value's
			// ends are trimmed once it is whole, below.
			if vs := resp.Header[last]; last != "" && len(vs) > 0 {
				vs[len(vs)-1] += " " + strings.Trim(line, " \t")
			}
			continue
		}
		m, name, value, keep := readHeaderLine(b, line)
		if m != nil {
			malformed = append(malformed, *m)
			if m.Rejected && resp.Invalid == "" {
				resp.Invalid = m.Problem
			}
		}
		last = ""
		if keep {
			resp.Header[name] = append(resp.Header[name], value)
			last = name
		}
	}
	for _, vs := range resp.Header {
		for i, v := range vs {
			vs[i] = strings.Trim(v, " \t")
		}
	}
	return resp, malformed, nil
}

// readHeaderLine reads one header line as browser b does: the header it
// adds (keep), and what is malformed about it (nil if nothing).
func readHeaderLine(b Browser, line string) (m *MalformedLine, name, value string, keep bool) {
	rawName, rawValue, ok := strings.Cut(line, ":")
	if !ok {
		return &MalformedLine{Problem: fmt.Sprintf("%q has no colon", line)}, "", "", false
	}
	value = strings.Trim(rawValue, " \t")
	if i := strings.IndexByte(line, 0); i >= 0 {
		m := &MalformedLine{Problem: fmt.Sprintf("%q holds a NUL byte", line), Rejected: true}
		if i < len(rawName) && b == Firefox {
			m.Rejected = false // Firefox drops a line whose name is not a token
		}
		return m, "", "", false
	}
	n, ok := ResponseHeaderName(b, rawName)
	if !ok {
		return nil, "", "", false
	}
	name = textproto.CanonicalMIMEHeaderKey(n)
	for i := 0; i < len(line); i++ {
		if c := line[i]; c < ' ' && c != '\t' || c == 0x7f {
			return &MalformedLine{Name: name, Problem: fmt.Sprintf("%q holds the control byte 0x%02x", line, c)}, name, value, true
		}
	}
	return nil, name, value, true
}

// parseStatusLine reads "HTTP/1.1 200 OK" (the reason phrase optional).
func parseStatusLine(line string) (int, error) {
	rest, ok := strings.CutPrefix(line, "HTTP/")
	if !ok {
		return 0, errors.New("no HTTP status line")
	}
	_, rest, ok = strings.Cut(rest, " ")
	code := rest
	if i := strings.IndexByte(rest, ' '); i >= 0 {
		code = rest[:i]
	}
	n, err := strconv.Atoi(code)
	if !ok || err != nil || len(code) != 3 || n < 100 {
		return 0, fmt.Errorf("malformed HTTP status line %q", line)
	}
	return n, nil
}

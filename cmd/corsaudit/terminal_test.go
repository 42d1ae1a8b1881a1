package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/corsaudit/corsaudit/diff"
)

// terminalUnsafe says what in s a terminal would act on instead of
// showing: a byte that is not UTF-8, a C0 control other than a line break,
// DEL, a C1 control (CSI U+009B, OSC U+009D...) or a bidirectional
// formatting character; "" when s is safe to show.
func terminalUnsafe(s string) string {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return fmt.Sprintf("byte %#x at %d", s[i], i)
		case r < 0x20 && r != '\n', r >= 0x7f && r <= 0x9f,
			r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x2028, r == 0x2029:
			return fmt.Sprintf("%U at %d", r, i)
		}
	}
	return ""
}

// hostileAnswer is what the hostile instance answers to every request:
// CORS headers laced with terminal controls that Go's client reads as
// they are (raw C1 bytes, C1 as UTF-8, bidi overrides, bytes that are not
// UTF-8).
const hostileAnswer = "HTTP/1.1 200 OK\r\n" +
	"Access-Control-Allow-Origin: https://app.example.com\x9b2J\u009d0;owned\u009c\r\n" +
	"Access-Control-Allow-Methods: GET, \u202eTUP\u009b0m\r\n" +
	"Access-Control-Allow-Headers: X-\u2066a\u2069\xff\r\n" +
	"Access-Control-Allow-Credentials: true\x9b2J\r\n" +
	"Access-Control-Expose-Headers: X-\u009b31m\r\n" +
	"Vary: Origin\r\n"

// hostileInstance serves hostileAnswer on loopback until the test ends.
func hostileInstance(t *testing.T) string { return rawCORS(t, hostileAnswer) }

// TestTerminalOutputsAreSanitised: whatever reaches a terminal (stdout in
// text formats, stderr) from any source — an instance's answers, target
// names and instance ids from a config or a discovery API, a report file,
// error messages quoting them — holds no control a terminal acts on, no
// bidi override and no byte that is not UTF-8.
func TestTerminalOutputsAreSanitised(t *testing.T) {
	addr := hostileInstance(t)
	// YAML escapes: \e ESC, \x9b a C1 control, \u202e RLO.
	path := writeConfig(t, fmt.Sprintf(`fail_on: never
targets:
  - name: "api\e]0;owned\a\u202e"
    url: http://api.example.com/v1/cart
    direct: {scheme: http}
    lb: {disabled: true}
    discover:
      static:
        instances:
          - {id: "i1\x9b2J", addr: "%[1]s", group: blue}
          - {id: "i2\u202e", addr: "%[1]s", group: blue}
          - {id: "i3\e[31m", addr: "%[1]s", group: "green\e[0m"}
    policy: {origins: [https://app.example.com], methods: [GET, PUT], headers: [X-A], credentials: true}
`, addr))
	partial := &diff.Report{Tool: "corsaudit", Incomplete: "deadline\x1b]0;owned\x07 \u009b2J \xff\u202e",
		Targets: []diff.TargetReport{{Name: "web\u009b31m", URL: "https://web.example.com/",
			Instances: []diff.InstanceInfo{{ID: "i9\u202e", Reachable: true}}}},
		Findings: []diff.Finding{{Kind: diff.KindHeaderDrift, Severity: diff.SeverityError, Target: "web\u009b31m",
			Instances: []string{"i9\u202e"}, Message: "drift \x1b[2J", Expected: "a\u009d", Observed: "b\xff"}}}
	partialPath := writeJSONReport(t, t.TempDir(), "partial.json", partial)
	for _, tc := range []struct {
		desc string
		args []string
	}{
		{"check, text", []string{"check", "http://api.example.com/v1/cart", "--connect-to", addr, "--origin", "http://app.example.com",
			"-X", "PUT", "-H", "X-A: 1", "--credentials", "--format", "text"}},
		{"audit, table", []string{"audit", "--config", path, "--format", "table"}},
		{"gate diff", []string{"gate", "--config", path, "--baseline", "blue", "--candidate", "green\x1b[0m", "--format", "table"}},
		{"discover", []string{"discover", "--config", path}},
		{"merge of a report file, table and error", []string{"merge", partialPath, "--format", "table"}},
		{"an error quoting a file's bytes", []string{"merge", filepath.Join(t.TempDir(), "no\x1b]0;such\a\u202e.json")}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			if code == exitUsage && !strings.Contains(tc.desc, "error") {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			if stdout == "" && stderr == "" {
				t.Fatal("no output")
			}
			if why := terminalUnsafe(stdout); why != "" {
				t.Errorf("stdout holds %s:\n%q", why, stdout)
			}
			if why := terminalUnsafe(stderr); why != "" {
				t.Errorf("stderr holds %s:\n%q", why, stderr)
			}
		})
	}
}

// TestHTMLReportIsValidUTF8: bytes that are not UTF-8 in an instance's
// answers do not make the HTML report invalid UTF-8 (its meta charset
// says UTF-8).
func TestHTMLReportIsValidUTF8(t *testing.T) {
	addr := hostileInstance(t)
	out := filepath.Join(t.TempDir(), "r.html")
	code, _, stderr := runCLI("audit", "http://api.example.com/v1/cart", "--instance", "i1="+addr, "--instance", "i2="+addr,
		"--no-lb", "--origin", "http://app.example.com", "--method", "PUT", "--header", "X-A", "--format", "html", "--output", out)
	if code == exitUsage || code == exitIncomplete {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(b) {
		i := len(b)
		for j := 0; j < len(b); {
			r, n := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && n == 1 {
				i = j
				break
			}
			j += n
		}
		t.Errorf("the HTML report is not valid UTF-8: %q", b[max(0, i-40):min(len(b), i+40)])
	}
}

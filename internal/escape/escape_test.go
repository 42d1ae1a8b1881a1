package escape

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestShell(t *testing.T) {
	for _, tc := range []struct{ desc, in, want string }{
		{"bare word", "https://api.example.com/v1/cart", "https://api.example.com/v1/cart"},
		{"empty", "", "''"},
		{"space", "Origin: https://a.example", "'Origin: https://a.example'"},
		{"single quote", "it's", `'it'\''s'`},
		{"command substitution", "X-$(id)", "'X-$(id)'"},
		{"backquotes", "X-`id`", "'X-`id`'"},
		{"variable", "$HOME", "'$HOME'"},
		{"zsh equals expansion", "=ls", "'=ls'"},
		{"tilde", "~root", "'~root'"},
		{"glob", "*", "'*'"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if got := Shell(tc.in); got != tc.want {
				t.Errorf("Shell(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

// shellPrints runs `printf %s WORD` in /bin/sh and returns what it
// printed.
func shellPrints(t testing.TB, word string) string {
	t.Helper()
	out, err := exec.Command("/bin/sh", "-c", "printf %s "+word).Output()
	if err != nil {
		t.Fatalf("sh -c 'printf %%s %s': %v", word, err)
	}
	return string(out)
}

// FuzzShell: for any bytes (a NUL cannot be in a shell word), the shell
// reads the quoted word back as exactly those bytes: nothing in it is
// expanded or run.
func FuzzShell(f *testing.F) {
	if _, err := exec.LookPath("/bin/sh"); err != nil {
		f.Skip("no /bin/sh")
	}
	for _, s := range []string{"", "plain", "X-`touch /tmp/pwned`", "$(id)", "a'b\"c", "\\", "'", "''\\''",
		"${IFS}", "!!", "a\nb", "\x1b[31m", "\x81\x82\x88\xff", "é\u202e", "=x", "~", "*?[a]", "-n", "%s", "a b\tc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.IndexByte(s, 0) >= 0 {
			t.Skip("a shell word cannot hold a NUL byte")
		}
		if got := shellPrints(t, Shell(s)); got != s {
			t.Errorf("sh read Shell(%q) = %s back as %q", s, Shell(s), got)
		}
	})
}

func TestText(t *testing.T) {
	for _, tc := range []struct{ desc, in, want string }{
		{"plain", "origin https://a.example", "origin https://a.example"},
		{"letters of any language", "café 東京 🙂", "café 東京 🙂"},
		{"C0: escape, line break, tab", "a\x1b[2Jb\nc\td\re", `a\x1b[2Jb\nc\td\re`},
		{"DEL", "a\x7f", `a\x7f`},
		{"C1 as UTF-8: CSI, OSC", "a\u009b2Jb\u009d0;x\u009c", `a\u009b2Jb\u009d0;x\u009c`},
		{"raw bytes that are not UTF-8", "a\x9b2J\xff", `a\x9b2J\xff`},
		{"bidi overrides and isolates", "a\u202eb\u2066c\u2069d\u200f", `a\u202eb\u2066c\u2069d\u200f`},
		{"line separators", "a\u2028b\u2029", `a\u2028b\u2029`},
		{"a real U+FFFD stays", "a\uFFFDb", "a\uFFFDb"},
		{"backslash before a letter that is no escape", `C:\Windows`, `C:\Windows`},
		{"backslash that would read as an escape", `\x1b \u202e \n \\`, `\\x1b \\u202e \\n \\\`},
		{"backslash before an escaped byte", "\\\x1b", `\\\x1b`},
		{"shell quote escape stays pasteable", `'it'\''s'`, `'it'\''s'`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if got := Text(tc.in); got != tc.want {
				t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := unescape(Text(tc.in)); got != tc.in {
				t.Errorf("unescape(Text(%q)) = %q: not faithful", tc.in, got)
			}
		})
	}
}

func TestLines(t *testing.T) {
	in := "invalid config:\n  targets[0].name: \"\x1b]0;x\x07\"\n"
	want := "invalid config:\n  targets[0].name: \"\\x1b]0;x\\x07\"\n"
	if got := Lines(in); got != want {
		t.Errorf("Lines = %q, want %q", got, want)
	}
}

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := Writer(&b)
	// "é" split across two writes is one rune, not two invalid bytes.
	for _, p := range []string{"corsaudit: \xc3", "\xa9 \x1b[2J\u009b\n", "next\n"} {
		if n, err := w.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	if want := "corsaudit: é \\x1b[2J\\u009b\nnext\n"; b.String() != want {
		t.Errorf("wrote %q, want %q", b.String(), want)
	}
}

// unescape reverses Text.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch c := s[i+1]; {
		case c == '\\':
			b.WriteByte('\\')
			i++
		case c == 'n', c == 't', c == 'r':
			b.WriteByte(map[byte]byte{'n': '\n', 't': '\t', 'r': '\r'}[c])
			i++
		case c == 'x' && i+4 <= len(s):
			v, _ := strconv.ParseUint(s[i+2:i+4], 16, 8)
			b.WriteByte(byte(v))
			i += 3
		case c == 'u' && i+6 <= len(s):
			v, _ := strconv.ParseUint(s[i+2:i+6], 16, 32)
			b.WriteRune(rune(v))
			i += 5
		default:
			b.WriteByte('\\')
		}
	}
	return b.String()
}

// FuzzText: whatever the bytes, the output is valid UTF-8 and holds no C0
// or C1 control, no bidirectional formatting character and no line
// separator, and it is a faithful escape: unescaping gives the input back,
// so distinct inputs stay distinguishable. Lines keeps only line breaks.
func FuzzText(f *testing.F) {
	for _, s := range []string{"", "plain", "a\x1b[31mred", "\u009b2J", "\x9b2J", "\u202eevil", "\u2066x\u2069",
		`\x1b`, "\\\x1b", `\`, "\xff\xfe", "\uFFFD", "a\nb\tc\r", "\\u202e", "é\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Text(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Text(%q) = %q: not UTF-8", s, out)
		}
		for _, r := range out {
			if r < 0x20 || r >= 0x7f && r <= 0x9f || needsEscape(r, utf8.RuneLen(r)) {
				t.Fatalf("Text(%q) = %q holds %U", s, out, r)
			}
		}
		if back := unescape(out); back != s {
			t.Fatalf("Text(%q) = %q reads back as %q", s, out, back)
		}
		lines := Lines(s)
		if strings.Count(lines, "\n") != strings.Count(s, "\n") {
			t.Fatalf("Lines(%q) = %q", s, lines)
		}
		for _, r := range lines {
			if r != '\n' && (r < 0x20 || r >= 0x7f && r <= 0x9f) {
				t.Fatalf("Lines(%q) = %q holds %U", s, lines, r)
			}
		}
	})
}

func TestValidUTF8(t *testing.T) {
	var b bytes.Buffer
	w := ValidUTF8(&b)
	for _, p := range []string{"<td>a\xff\xfeb ", "\xe6\x9d", "\xb1 \u009b</td>"} {
		w.Write([]byte(p))
	}
	if want := "<td>a\uFFFDb 東 \u009b</td>"; b.String() != want {
		t.Errorf("wrote %q, want %q", b.String(), want)
	}
}

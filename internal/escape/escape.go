package escape

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Shell quotes s as one word for a POSIX shell: `sh -c 'printf %s WORD'`
// prints s exactly, whatever its bytes (a shell word cannot hold a NUL
// byte: s must not contain one). Words made only of letters, digits and
// -_./:@,+% are left bare; any other word is single-quoted, a quote inside
// closing the quotes, escaped and reopening them:
//
//	'it'\''s'
//
// Nothing in a single-quoted word is expanded: no variable, command
// substitution, glob or history expansion, in sh, bash, dash or zsh.
func Shell(s string) string {
	if s != "" && !strings.ContainsFunc(s, NeedsQuote) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// NeedsQuote reports whether r cannot stand bare in a shell word (Shell
// quotes a word that holds one). '=' and '~' are among them: zsh expands a
// word starting with either.
func NeedsQuote(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@,+%", r))
}

// Quote quotes each string with %q (Go syntax: every control character
// and invalid byte escaped), for messages that name values.
func Quote(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// Text is s as it may reach a terminal or a text report: valid UTF-8
// without any control character (C0 including line breaks and tabs, DEL,
// C1 such as CSI U+009B and OSC U+009D) and without the bidirectional
// formatting characters that reorder what is displayed (U+202A–U+202E,
// U+2066–U+2069, U+200E, U+200F, U+061C) or break lines (U+2028, U+2029).
// Each of those is written as an escape: \n, \t, \r, \xHH for the other
// C0 controls, DEL and every byte that is not UTF-8, \uHHHH for a rune. A
// backslash is doubled when what follows it would read as an escape, so
// the escape is faithful: distinct inputs give distinct outputs. Printable
// text, including any language's letters, is unchanged.
func Text(s string) string {
	if isPlain(s, false) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\\':
			b.WriteByte('\\')
			if startsEscape(s[i+1:]) {
				b.WriteByte('\\')
			}
		case !needsEscape(r, n):
			b.WriteString(s[i : i+n])
		default:
			writeEscape(&b, s[i], r, n)
		}
		i += n
	}
	return b.String()
}

// Lines is Text applied to each line of s: line breaks are kept, every
// other character is escaped as by Text. For a multi-line message whose
// lines are corsaudit's own (a report, an error naming several problems).
func Lines(s string) string {
	if isPlain(s, true) {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Text(l)
	}
	return strings.Join(lines, "\n")
}

// isPlain reports whether s is printable ASCII without a backslash
// (line breaks apart, with lines): Text returns it unchanged.
func isPlain(s string, lines bool) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 || c >= 0x7f || c == '\\') && !(lines && c == '\n') {
			return false
		}
	}
	return true
}

// needsEscape reports whether the rune r, n bytes long in its input (a
// byte that is not UTF-8 reads as utf8.RuneError of length 1), is
// escaped by Text.
func needsEscape(r rune, n int) bool {
	switch {
	case r == utf8.RuneError && n == 1:
		return true
	case r < 0x20 || r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x061c || r == 0x200e || r == 0x200f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x2028 || r == 0x2029:
		return true
	}
	return false
}

// startsEscape reports whether Text's output for rest starts with a
// character that would make a preceding backslash read as an escape.
func startsEscape(rest string) bool {
	if rest == "" {
		return false
	}
	r, n := utf8.DecodeRuneInString(rest)
	return needsEscape(r, n) || strings.ContainsRune(`\xuntr`, r)
}

func writeEscape(b *strings.Builder, first byte, r rune, n int) {
	switch {
	case r == '\n':
		b.WriteString(`\n`)
	case r == '\t':
		b.WriteString(`\t`)
	case r == '\r':
		b.WriteString(`\r`)
	case n == 1:
		fmt.Fprintf(b, `\x%02x`, first) // C0, DEL, or a byte that is not UTF-8
	default:
		fmt.Fprintf(b, `\u%04x`, r)
	}
}

// Writer returns a writer that writes to w what Lines makes of every
// write: for a stream read on a terminal (standard error), whoever
// writes to it. A write that ends inside a UTF-8 sequence keeps those
// bytes for the next one.
func Writer(w io.Writer) io.Writer { return &writer{w: w, escape: Lines} }

// ValidUTF8 returns a writer that writes to w what it is given with each
// run of bytes that are not UTF-8 replaced by U+FFFD: for a document that
// declares UTF-8 (the HTML report), whose markup html/template escapes.
func ValidUTF8(w io.Writer) io.Writer {
	return &writer{w: w, escape: func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }}
}

type writer struct {
	w       io.Writer
	escape  func(string) string
	pending []byte
}

func (e *writer) Write(p []byte) (int, error) {
	buf := append(e.pending, p...)
	cut := len(buf) - incompleteTail(buf)
	e.pending = append([]byte(nil), buf[cut:]...)
	if cut == 0 {
		return len(p), nil
	}
	if _, err := io.WriteString(e.w, e.escape(string(buf[:cut]))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// incompleteTail is the length of a UTF-8 sequence begun but not finished
// at the end of b (0 when none).
func incompleteTail(b []byte) int {
	for k := 1; k <= utf8.UTFMax-1 && k <= len(b); k++ {
		if c := b[len(b)-k]; utf8.RuneStart(c) {
			if c >= 0xc0 && !utf8.FullRune(b[len(b)-k:]) {
				return k
			}
			return 0
		}
	}
	return 0
}

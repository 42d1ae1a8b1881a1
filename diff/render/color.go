package render

import (
	"fmt"
	"io"

	"github.com/corsaudit/corsaudit/diff"
)

// Options change how a renderer draws a report, never what it says.
type Options struct {
	// Color draws the table with ANSI colours (severities, missing and
	// extra tokens, the verdict). Decide it with UseColor.
	Color bool
}

// LookupWith returns the renderer for a --format name drawn with o. Only
// the table uses colour; the other formats ignore o.
func LookupWith(name string, o Options) (Renderer, error) {
	if name == "table" {
		return tableRenderer{Color: o.Color}, nil
	}
	return Lookup(name)
}

// UseColor reports whether a report written to a terminal (isTerminal)
// should be coloured: never when NO_COLOR is set to anything non-empty
// (https://no-color.org), never when the output is not a terminal.
func UseColor(isTerminal bool, getenv func(string) string) bool {
	return isTerminal && getenv("NO_COLOR") == ""
}

// tableRenderer is the table format, with or without colour.
type tableRenderer struct{ Color bool }

// Render writes the table.
func (t tableRenderer) Render(w io.Writer, r *diff.Report) error {
	return table(w, r, painter(t.Color))
}

// ANSI SGR sequences the table uses.
const (
	sgrReset  = "\x1b[0m"
	sgrRed    = "\x1b[31m"
	sgrBold   = "\x1b[1;31m"
	sgrGreen  = "\x1b[32m"
	sgrYellow = "\x1b[33m"
	sgrBlue   = "\x1b[34m"
	sgrDim    = "\x1b[2m"
)

// painter wraps text in an SGR sequence, or leaves it as is without colour.
// Text is cleaned of control characters before it is painted.
type painter bool

func (p painter) paint(sgr, s string) string {
	if !p || s == "" {
		return s
	}
	return sgr + s + sgrReset
}

// severity paints a severity word, padded to width.
func (p painter) severity(s diff.Severity, width int) string {
	word := fmt.Sprintf("%-*s", width, s)
	switch s {
	case diff.SeverityError:
		return p.paint(sgrBold, word)
	case diff.SeverityWarning:
		return p.paint(sgrYellow, word)
	case diff.SeverityInfo:
		return p.paint(sgrBlue, word)
	}
	return word
}

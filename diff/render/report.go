package render

import (
	"fmt"
	"io"
	"sort"

	"github.com/corsaudit/corsaudit/diff"
)

// Renderer writes a report in one format.
type Renderer interface {
	Render(w io.Writer, r *diff.Report) error
}

// rendererFunc adapts a function to Renderer.
type rendererFunc func(w io.Writer, r *diff.Report) error

// Render calls f.
func (f rendererFunc) Render(w io.Writer, r *diff.Report) error { return f(w, r) }

// formats maps --format names to renderers.
var formats = map[string]Renderer{
	"json":  rendererFunc(JSON),
	"table": rendererFunc(Table),
	"sarif": rendererFunc(SARIF),
	"junit": rendererFunc(JUnit),
	"html":  rendererFunc(HTML),
}

// Lookup returns the renderer for a --format name.
func Lookup(name string) (Renderer, error) {
	r, ok := formats[name]
	if !ok {
		return nil, fmt.Errorf("report: unknown format %q (known: %v)", name, Formats())
	}
	return r, nil
}

// Formats lists the format names, sorted.
func Formats() []string {
	names := make([]string, 0, len(formats))
	for n := range formats {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

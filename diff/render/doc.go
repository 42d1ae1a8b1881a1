// Package render renders a diff.Report. Every format is a Renderer; Lookup
// maps the --format name to one.
package render

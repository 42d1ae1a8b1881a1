package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/diff/render"
)

// normalizeFormat reads a --format (-o) value as people type it: case does
// not matter, and "text" and "table" name the same human format (canonical
// is the one this command calls it). A value that looks like a file name
// (-o report.html, as with curl or gcc) is an error that points at
// --output, or at a redirect when the command writes only to stdout.
func normalizeFormat(value string, known []string, canonical string, hasOutput bool) (string, error) {
	f := strings.ToLower(strings.TrimSpace(value))
	if f == "text" || f == "table" {
		f = canonical
	}
	if slices.Contains(known, f) {
		return f, nil
	}
	msg := fmt.Sprintf("format: unknown format %q (known: %s)", value, strings.Join(known, ", "))
	if strings.ContainsAny(value, "./\\") {
		if hasOutput {
			msg += fmt.Sprintf("; did you mean --output %s? (-o is the format, as in kubectl)", value)
		} else {
			msg += fmt.Sprintf("; -o is the format: to write a file, redirect the output (> %s)", value)
		}
	}
	return "", usageError(errors.New(msg))
}

// reportFormat is normalizeFormat for the report formats of audit, gate
// and merge.
func reportFormat(value string) (string, error) {
	return normalizeFormat(value, render.Formats(), "table", true)
}

// urlSchemeHint returns a usage error for a URL argument typed without its
// scheme (127.0.0.1:8080/x, api.example.com/v1), which Go's URL parser
// reports in terms nobody asked about; nil when the scheme is there, or
// for a path alone (which the callers reject as not absolute).
func urlSchemeHint(what, raw string) error {
	if raw == "" || strings.Contains(raw, "://") || strings.HasPrefix(raw, "/") {
		return nil
	}
	if shown := config.ShowURL(raw); shown != raw {
		return fmt.Errorf("%s: %q has a user name or password: browsers never send one with fetch(); give the URL without it, with a scheme (e.g. https://%s)", what, shown, shown)
	}
	return fmt.Errorf("%s: %q has no scheme: add http:// or https:// (e.g. https://%s)", what, raw, raw)
}

// noteReportWritten tells stderr where the report went and what it holds,
// in one line, when it went to a file: the terminal (or CI log) otherwise
// shows nothing at all.
func noteReportWritten(ios iostreams, path string, rep *diff.Report) {
	if path == "" || path == "-" || rep == nil {
		return
	}
	fmt.Fprintf(ios.errOut, "corsaudit: wrote %s: %s\n", path, render.SummaryLine(rep))
}

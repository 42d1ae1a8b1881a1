package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/diff/render"
)

// checkOutputs fails, before anything is probed, when an output file could
// not be written: its directory is missing or not writable, or it is a
// directory. "" and "-" (stdout) are always fine.
func checkOutputs(paths ...string) error {
	for _, p := range paths {
		if p == "" || p == "-" {
			continue
		}
		fi, err := os.Stat(p)
		switch {
		case err == nil && fi.IsDir():
			return fmt.Errorf("output %s: is a directory", p)
		case err == nil && !fi.Mode().IsRegular():
			// A device or FIFO (/dev/null, /dev/stdout) is written in place.
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return fmt.Errorf("output %s: %w", p, err)
			}
			f.Close()
			continue
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("output %s: %w", p, err)
		}
		// Files are replaced atomically through a temporary file beside them.
		f, err := os.CreateTemp(filepath.Dir(p), ".corsaudit-check-*")
		if err != nil {
			return fmt.Errorf("output %s: cannot write in %s: %w", p, filepath.Dir(p), errors.Unwrap(err))
		}
		f.Close()
		os.Remove(f.Name())
	}
	return nil
}

// writeReport renders rep to path, or to stdout when path is "" or "-".
func writeReport(stdout io.Writer, path string, r render.Renderer, rep *diff.Report) error {
	if path == "" || path == "-" {
		return r.Render(stdout, rep)
	}
	return render.WriteFileAtomic(path, func(w io.Writer) error { return r.Render(w, rep) })
}

// writeMetrics writes the metrics file. lastSuccess is when the run
// succeeded; zero for a failed run, which keeps the last success of the
// file it replaces, so that an alert on its age fires.
func writeMetrics(path string, rep *diff.Report, lastSuccess time.Time) error {
	if path == "" {
		return nil
	}
	if lastSuccess.IsZero() {
		lastSuccess = render.PreviousSuccess(path)
	}
	err := render.WriteFileAtomic(path, func(w io.Writer) error { return render.Metrics(w, rep, lastSuccess) })
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// notRunMetrics is err, a command's outcome, after writing the metrics
// file of a run that could not start (exit 2), when there is one: it
// replaces the last run's with corsaudit_run_complete 0 and carries the
// last success over, so that the alert on its age fires instead of the
// file saying the last run completed.
func notRunMetrics(path string, err error) error {
	var ee *exitError
	if path == "" || !errors.As(err, &ee) || ee.code != exitUsage {
		return err
	}
	last := render.PreviousSuccess(path)
	werr := render.WriteFileAtomic(path, func(w io.Writer) error { return render.NotRunMetrics(w, time.Now(), last) })
	if werr != nil {
		return usageError(fmt.Errorf("%w (and metrics: %w)", ee.err, werr))
	}
	return err
}

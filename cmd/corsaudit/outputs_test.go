package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/corsaudit/corsaudit/diff"
)

// TestOutputsAndProgress: --output and --metrics-file write their files,
// stdout stays empty, and the progress bar appears on stderr only when it
// is a terminal.
func TestOutputsAndProgress(t *testing.T) {
	f := newFleet(t)
	a, b := f.start("a", currentCORS), f.start("b", currentCORS)
	dir := t.TempDir()
	for _, terminal := range []bool{false, true} {
		reportFile, metricsFile := filepath.Join(dir, "r.json"), filepath.Join(dir, "m.prom")
		var out, errOut bytes.Buffer
		ios := iostreams{out: &out, errOut: &errOut, in: strings.NewReader(""), errIsTerminal: terminal}
		code := execute(context.Background(), ios, []string{"audit", "http://api.example.com/", "--instance", "a=" + a, "--instance", "b=" + b,
			"--origin", "https://app.example.com", "--no-lb", "--output", reportFile, "--metrics-file", metricsFile})
		if code != exitClean {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		if out.Len() != 0 {
			t.Errorf("stdout not empty with --output: %q", out.String())
		}
		if got := strings.Contains(errOut.String(), "probing ["); got != terminal {
			t.Errorf("terminal=%v: progress bar shown = %v\n%q", terminal, got, errOut.String())
		}
		data, err := os.ReadFile(reportFile)
		if err != nil {
			t.Fatal(err)
		}
		var rep diff.Report
		if err := json.Unmarshal(data, &rep); err != nil || rep.Summary.Instances != 2 {
			t.Errorf("--output file: %v, summary %+v", err, rep.Summary)
		}
		mf, err := os.Open(metricsFile)
		if err != nil {
			t.Fatal(err)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := parser.TextToMetricFamilies(mf)
		mf.Close()
		if err != nil {
			t.Fatalf("metrics file does not parse: %v", err)
		}
		if len(fams) == 0 {
			t.Error("metrics file has no metric family")
		}
	}
}

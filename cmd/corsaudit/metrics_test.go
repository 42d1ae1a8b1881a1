package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMetricsWhenARunCannotStart: with --metrics-file, a run that cannot
// start (exit 2: a config error, unreadable input) still replaces the
// metrics file with run_complete 0, keeping the last success of the file
// it replaces, so an alert on the success's age fires.
func TestMetricsWhenARunCannotStart(t *testing.T) {
	bad := writeConfig(t, "targets:\n  - url: not a url\n")
	const previous = `# HELP corsaudit_run_complete 1 when the last run completed, 0 when its report is partial.
# TYPE corsaudit_run_complete gauge
corsaudit_run_complete 1
# HELP corsaudit_last_success_timestamp_seconds Unix time of the last run that completed.
# TYPE corsaudit_last_success_timestamp_seconds gauge
corsaudit_last_success_timestamp_seconds 1.7734e+09
`
	for _, tc := range []struct {
		desc string
		args []string
	}{
		{"audit, invalid config", []string{"audit", "--config", bad}},
		{"audit, unknown format", []string{"audit", "--config", bad, "--format", "yaml"}},
		{"gate, invalid config", []string{"gate", "--config", bad, "--candidate", "green", "--baseline", "blue"}},
		{"merge, unreadable input", []string{"merge", filepath.Join(t.TempDir(), "missing.json")}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "corsaudit.prom")
			if err := os.WriteFile(path, []byte(previous), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runCLI(append(tc.args, "--metrics-file", path)...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d\n%s", code, exitUsage, stderr)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			parser := expfmt.NewTextParser(model.UTF8Validation)
			fams, err := parser.TextToMetricFamilies(f)
			if err != nil {
				t.Fatalf("metrics do not parse: %v", err)
			}
			if mf := fams["corsaudit_run_complete"]; mf == nil || mf.Metric[0].GetGauge().GetValue() != 0 {
				t.Errorf("run_complete is %v, want 0", mf)
			}
			if mf := fams["corsaudit_last_success_timestamp_seconds"]; mf == nil || mf.Metric[0].GetGauge().GetValue() != 1.7734e+09 {
				t.Errorf("last success is %v, want the previous file's 1.7734e+09", mf)
			}
			if mf := fams["corsaudit_last_run_timestamp_seconds"]; mf == nil || time.Since(time.Unix(int64(mf.Metric[0].GetGauge().GetValue()), 0)) > time.Minute {
				t.Errorf("last run is %v, want now", mf)
			}
			if _, ok := fams["corsaudit_findings"]; ok {
				t.Error("a run that did not start reports findings (zeros would resolve alerts on them)")
			}
			if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 || strings.HasPrefix(entries[0].Name(), ".") {
				t.Errorf("files left beside the metrics file: %v", entries)
			}
		})
	}
}

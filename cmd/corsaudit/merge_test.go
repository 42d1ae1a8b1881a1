package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/corsaudit/corsaudit/diff"
)

// runMergeCLI runs `corsaudit <args>` with the merge command and returns the
// exit code and streams, mapping errors as execute does.
func runMergeCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ios := iostreams{in: strings.NewReader(stdin), out: &out, errOut: &errOut}
	root := newRootCmd(ios)
	if c, _, err := root.Find([]string{"merge"}); err != nil || c == root {
		root.AddCommand(newCmdMerge(ios, nil))
	}
	root.SetArgs(args)
	code := exitClean
	if err := root.ExecuteContext(context.Background()); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		} else {
			code = exitUsage
		}
		errOut.WriteString(err.Error())
	}
	return code, out.String(), errOut.String()
}

func writeJSONReport(t *testing.T, dir, name string, r *diff.Report) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func shardReport(target string, sev diff.Severity, ids ...string) *diff.Report {
	r := &diff.Report{Tool: "corsaudit", Version: "0.4.0", Browser: "chromium",
		RunTime: diff.RunTime{StartedAt: time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC), Duration: 2}}
	t := diff.TargetReport{Name: target, URL: "https://" + target + ".example.com/",
		Probes: []diff.ProbeRef{{ID: "p1", Origin: "https://app.example.com", Method: "GET"}}}
	for _, id := range ids {
		t.Instances = append(t.Instances, diff.InstanceInfo{ID: id, Addr: "127.0.0.1:1", Group: "blue", Reachable: true})
	}
	r.Targets = []diff.TargetReport{t}
	if sev != "" {
		r.Findings = []diff.Finding{{Kind: diff.KindHeaderDrift, Severity: sev, Target: target, Instances: ids[:1], Message: "drift"}}
	}
	r.Summarize()
	return r
}

func TestMergeCommand(t *testing.T) {
	dir := t.TempDir()
	eu := writeJSONReport(t, dir, "eu.json", shardReport("api", diff.SeverityWarning, "i-1", "i-2"))
	us := writeJSONReport(t, dir, "us.json", shardReport("web", "", "i-3"))
	dup := writeJSONReport(t, dir, "dup.json", shardReport("api", "", "i-2"))
	partialReport := shardReport("web", "", "i-9")
	partialReport.Incomplete = "deadline exceeded"
	partial := writeJSONReport(t, dir, "partial.json", partialReport)
	garbage := filepath.Join(dir, "garbage.json")
	os.WriteFile(garbage, []byte("{not json"), 0o644)
	other := filepath.Join(dir, "other.json")
	os.WriteFile(other, []byte(`{"runs": []}`), 0o644)
	euBytes, _ := os.ReadFile(eu)

	for _, tc := range []struct {
		desc      string
		stdin     string
		args      []string
		code      int
		stderr    string // substring
		targets   int    // of the JSON on stdout, when > 0
		instances int
	}{
		{desc: "two shards to json", args: []string{"merge", eu, us}, targets: 2, instances: 3},
		{desc: "stdin and a file", stdin: string(euBytes), args: []string{"merge", "-", us, "--format", "json"}, targets: 2, instances: 3},
		{desc: "fail-on warning", args: []string{"merge", eu, us, "--fail-on", "warning"}, code: exitFindings, targets: 2, instances: 3},
		{desc: "fail-on error ignores warnings", args: []string{"merge", eu, us, "--fail-on", "error"}, targets: 2, instances: 3},
		{desc: "partial input: written, exit 3", args: []string{"merge", eu, partial}, code: exitIncomplete, stderr: "merge: partial report: deadline exceeded", targets: 2, instances: 3},
		{desc: "no input", args: []string{"merge"}, code: exitUsage, stderr: "merge: give at least one JSON report"},
		{desc: "missing file", args: []string{"merge", eu, filepath.Join(dir, "nope.json")}, code: exitUsage, stderr: "merge: read " + filepath.Join(dir, "nope.json")},
		{desc: "not JSON", args: []string{"merge", garbage}, code: exitUsage, stderr: "not a JSON report"},
		{desc: "JSON but not a corsaudit report", args: []string{"merge", other}, code: exitUsage, stderr: "not a corsaudit report"},
		{desc: "same instance in two shards", args: []string{"merge", eu, dup}, code: exitUsage, stderr: `instance "i-2" is in report 1 and report 2`},
		{desc: "unknown format", args: []string{"merge", eu, "--format", "yaml"}, code: exitUsage, stderr: "format: unknown format \"yaml\""},
		{desc: "bad fail-on", args: []string{"merge", eu, "--fail-on", "sometimes"}, code: exitUsage, stderr: "--fail-on"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			code, stdout, stderr := runMergeCLI(t, tc.stdin, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, stderr)
			}
			if tc.stderr != "" && !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, tc.stderr)
			}
			if tc.targets > 0 {
				var r diff.Report
				if err := json.Unmarshal([]byte(stdout), &r); err != nil {
					t.Fatalf("stdout is not a JSON report: %v\n%s", err, stdout)
				}
				if len(r.Targets) != tc.targets || r.Summary.Instances != tc.instances {
					t.Errorf("%d targets %d instances, want %d %d", len(r.Targets), r.Summary.Instances, tc.targets, tc.instances)
				}
			}
		})
	}
}

func TestMergeCommandFiles(t *testing.T) {
	dir := t.TempDir()
	eu := writeJSONReport(t, dir, "eu.json", shardReport("api", diff.SeverityError, "i-1", "i-2"))
	us := writeJSONReport(t, dir, "us.json", shardReport("web", "", "i-3"))
	out := filepath.Join(dir, "junit.xml")
	prom := filepath.Join(dir, "corsaudit.prom")
	code, stdout, stderr := runMergeCLI(t, "", "merge", eu, us, "--format", "junit", "--output", out, "--metrics-file", prom)
	if code != exitFindings || stdout != "" { // an error, under the runs' fail_on (error)
		t.Fatalf("exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal(b, &suites); err != nil || suites.Tests != 3 || suites.Failures != 1 {
		t.Errorf("junit tests=%d failures=%d (%v), want 3 and 1:\n%s", suites.Tests, suites.Failures, err, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	f, err := os.Open(prom)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	want := float64(time.Date(2026, 3, 14, 9, 0, 2, 0, time.UTC).Unix())
	if mf := fams["corsaudit_last_success_timestamp_seconds"]; mf == nil || mf.Metric[0].GetGauge().GetValue() != want {
		t.Errorf("last success %v, want %v (the merged runs' end)", mf, want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("%d files in the output directory, want 4 (no temp files left)", len(entries))
	}
}

func TestMergeCommandFlags(t *testing.T) {
	var got *mergeOptions
	cmd := newCmdMerge(iostreams{out: &bytes.Buffer{}, errOut: &bytes.Buffer{}}, func(o *mergeOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"a.json", "b.json", "-o", "sarif", "--output", "x.sarif", "--metrics-file", "m.prom", "--fail-on", "error"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want := mergeOptions{Inputs: []string{"a.json", "b.json"}, Format: "sarif", Output: "x.sarif", MetricsFile: "m.prom", FailOn: "error"}
	if got == nil || strings.Join(got.Inputs, ",") != strings.Join(want.Inputs, ",") || got.Format != want.Format ||
		got.Output != want.Output || got.MetricsFile != want.MetricsFile || got.FailOn != want.FailOn {
		t.Errorf("options %+v, want %+v", got, want)
	}
}

// TestMergeReportPrintsNoForeignCommand: a report file whose reproduce
// lines were edited to run something is merged with those lines dropped,
// in every format; a curl line corsaudit wrote is kept as written.
func TestMergeReportPrintsNoForeignCommand(t *testing.T) {
	dir := t.TempDir()
	const good = "curl -sS -o /dev/null -D - https://api.example.com/ -H 'Origin: https://app.example.com'"
	r := shardReport("api", diff.SeverityError, "i-1", "i-2")
	r.Findings = append(r.Findings, r.Findings[0], r.Findings[0])
	r.Findings[0].Reproduce = good
	r.Findings[1].Reproduce = good + "; touch pwned"
	r.Findings[2].Reproduce = `curl -sS -o /dev/null -D - https://api.example.com/ -H "X: $(touch pwned)"`
	path := writeJSONReport(t, dir, "edited.json", r)
	for _, format := range []string{"json", "table", "sarif", "junit", "html"} {
		_, stdout, _ := runMergeCLI(t, "", "merge", path, "--format", format)
		if strings.Contains(stdout, "touch pwned") {
			t.Errorf("%s: the edited command is printed:\n%s", format, stdout)
		}
		if format == "json" && strings.Count(stdout, "https://app.example.com'") != 1 {
			t.Errorf("json: the curl line corsaudit wrote is not kept once:\n%s", stdout)
		}
	}
}

// TestMergeEndlessInput: `merge /dev/zero` (an input that never ends) is a
// usage error once the bound is read, not memory without end; so is an
// inventory that never ends for a shard audit.
func TestMergeEndlessInput(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero here")
	}
	for _, args := range [][]string{{"merge", "/dev/zero"}, {"audit", "--inventory", "/dev/zero", "--shard", "0/2", "--output", filepath.Join(t.TempDir(), "s.json")}} {
		code, out, errOut := runCLI(args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, "/dev/zero") || strings.Count(errOut, "\n") > 3 {
			t.Errorf("%v: exit %d, stdout %d bytes, stderr %.300q; want exit %d naming /dev/zero in a line or two", args, code, len(out), errOut, exitUsage)
		}
	}
}

package render

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gosarif "github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/corsaudit/corsaudit/diff"
)

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	sch, err := c.Compile(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	incomplete := fixture()
	incomplete.Incomplete = "deadline exceeded after 30s"
	for _, tc := range []struct {
		desc string
		r    *diff.Report
	}{
		{"fixture", fixture()},
		{"incomplete run", incomplete},
		{"no findings", &diff.Report{Tool: "corsaudit"}},
		{"unknown kind from a newer version", &diff.Report{Findings: []diff.Finding{{Kind: "future-kind", Severity: "critical", Message: "m"}}}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			out := render(t, "sarif", tc.r)
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(doc); err != nil {
				t.Fatalf("SARIF does not validate against the 2.1.0 schema: %v", err)
			}
			lib, err := gosarif.FromBytes(out)
			if err != nil {
				t.Fatal(err)
			}
			if err := lib.Validate(); err != nil {
				t.Errorf("go-sarif validation: %v", err)
			}
		})
	}
}

func TestSARIFResults(t *testing.T) {
	r := fixture()
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID   string `json:"id"`
						Help struct {
							Text string `json:"text"`
						} `json:"help"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID     string         `json:"ruleId"`
				RuleIndex  int            `json:"ruleIndex"`
				Level      string         `json:"level"`
				Properties map[string]any `json:"properties"`
				Locations  []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(render(t, "sarif", r), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("version %q with %d runs, want 2.1.0 with 1", log.Version, len(log.Runs))
	}
	run := log.Runs[0]
	if len(run.Tool.Driver.Rules) != len(diff.Kinds) {
		t.Errorf("%d rules, want one per kind (%d)", len(run.Tool.Driver.Rules), len(diff.Kinds))
	}
	if len(run.Results) != len(r.Findings) {
		t.Fatalf("%d results, want %d", len(run.Results), len(r.Findings))
	}
	levels := map[diff.Severity]string{diff.SeverityError: "error", diff.SeverityWarning: "warning", diff.SeverityInfo: "note"}
	seen := map[string]bool{}
	for i, res := range run.Results {
		f := r.Findings[i]
		if res.RuleID != string(f.Kind) || run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %d: rule %q index %d, want %q", i, res.RuleID, res.RuleIndex, f.Kind)
		}
		if run.Tool.Driver.Rules[res.RuleIndex].Help.Text == "" {
			t.Errorf("rule %s has no help text", res.RuleID)
		}
		if res.Level != levels[f.Severity] {
			t.Errorf("result %d: level %q for severity %s", i, res.Level, f.Severity)
		}
		if f.Reproduce != "" && res.Properties["reproduce"] != f.Reproduce {
			t.Errorf("result %d: reproduce property %v", i, res.Properties["reproduce"])
		}
		// One location per path, the target's URL on it.
		if len(res.Locations) != max(1, len(f.Paths)) {
			t.Errorf("result %d: %d locations for paths %v", i, len(res.Locations), f.Paths)
		}
		for k, loc := range res.Locations {
			if u := loc.PhysicalLocation.ArtifactLocation.URI; u == "" || k < len(f.Paths) && !strings.HasSuffix(u, f.Paths[k]) {
				t.Errorf("result %d: location %d is %q, want the target URL on %v", i, k, u, f.Paths)
			}
		}
		fp := res.PartialFingerprints["corsauditFinding/v2"]
		if fp == "" || seen[fp] || fp != f.Fingerprint() {
			t.Errorf("result %d: fingerprint %q missing, repeated or not the finding's", i, fp)
		}
		seen[fp] = true
	}
}

func TestJUnitParses(t *testing.T) {
	type testcase struct {
		Name    string    `xml:"name,attr"`
		Failure *struct{} `xml:"failure"`
		Error   *struct{} `xml:"error"`
		Skipped *struct{} `xml:"skipped"`
	}
	type suite struct {
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Skipped  int      `xml:"skipped,attr"`
		Suites   []suite  `xml:"testsuite"`
	}
	incomplete := fixture()
	incomplete.Incomplete = "interrupted"
	incomplete.Findings[0].Message = "control \x00\x1b[31m chars"
	for _, tc := range []struct {
		desc                                   string
		r                                      *diff.Report
		suites, tests, failures, errs, skipped int
	}{
		// api: 6 probes on two paths (p2, p5 and p6 fail: one cause
		// covering the three, an lb-redirect covering p2 and p5) +
		// unreachable; static: 3 probes (p2 and p3 fail: the reflection
		// covers both) + vary-missing + skipped. Under the default fail-on
		// (error), the vary-missing warning is output, not a failure.
		{"fixture", fixture(), 2, 12, 6, 0, 1},
		{"incomplete run with control characters", incomplete, 3, 13, 6, 1, 1},
		{"no targets", &diff.Report{}, 0, 0, 0, 0, 0},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			out := render(t, "junit", tc.r)
			doc.Suites = nil
			if err := xml.Unmarshal(out, &doc); err != nil {
				t.Fatalf("JUnit does not parse: %v\n%s", err, out)
			}
			if len(doc.Suites) != tc.suites || doc.Tests != tc.tests || doc.Failures != tc.failures ||
				doc.Errors != tc.errs || doc.Skipped != tc.skipped {
				t.Errorf("suites=%d tests=%d failures=%d errors=%d skipped=%d, want %d %d %d %d %d",
					len(doc.Suites), doc.Tests, doc.Failures, doc.Errors, doc.Skipped,
					tc.suites, tc.tests, tc.failures, tc.errs, tc.skipped)
			}
			tests, failures := 0, 0
			for _, s := range doc.Suites {
				if s.Tests != len(s.Cases) {
					t.Errorf("suite %s: tests=%d but %d testcases", s.Name, s.Tests, len(s.Cases))
				}
				tests += len(s.Cases)
				for _, c := range s.Cases {
					if c.Failure != nil {
						failures++
					}
				}
			}
			if tests != doc.Tests || failures != doc.Failures {
				t.Errorf("counted %d tests %d failures, attributes say %d %d", tests, failures, doc.Tests, doc.Failures)
			}
		})
	}
}

func TestMetricsParse(t *testing.T) {
	success := time.Date(2026, 3, 14, 9, 27, 0, 0, time.UTC)
	ended := time.Date(2026, 3, 14, 9, 26, 57, 215e6, time.UTC)
	incomplete := fixture()
	incomplete.Incomplete = "deadline"
	file := func(r *diff.Report, lastSuccess time.Time) func(io.Writer) error {
		return func(w io.Writer) error { return Metrics(w, r, lastSuccess) }
	}
	exporter := func(ms ...RunMetrics) func(io.Writer) error {
		return func(w io.Writer) error {
			reg := prometheus.NewRegistry()
			for _, m := range ms {
				if err := reg.Register(m); err != nil {
					return err
				}
			}
			return writeMetrics(w, reg)
		}
	}
	hostile := &diff.Report{Targets: []diff.TargetReport{{Name: "bad\xff\"name\"\n"}},
		Findings: []diff.Finding{{Kind: diff.KindVerdictDrift, Severity: diff.SeverityError, Target: "bad\xff\"name\"\n"}}}
	for _, tc := range []struct {
		desc   string
		write  func(io.Writer) error
		want   map[string]float64 // "name{label=value,...}" (labels sorted) -> value
		absent []string
	}{
		{"complete run", file(fixture(), success), map[string]float64{
			"corsaudit_findings{kind=verdict-drift,severity=error,target=api}":    1,
			"corsaudit_findings{kind=lb-redirect,severity=error,target=api}":      1,
			"corsaudit_findings{kind=skipped,severity=info,target=static}":        1,
			"corsaudit_findings{kind=verdict-drift,severity=error,target=static}": 0,
			"corsaudit_findings{kind=cache-leak,severity=error,target=api}":       0,
			"corsaudit_affected_share{kind=lb-redirect,target=api}":               0.5,
			"corsaudit_instances{target=api}":                                     6,
			"corsaudit_instances{target=static}":                                  2,
			"corsaudit_instances_unreachable{target=api}":                         1,
			"corsaudit_instances_unreachable{target=static}":                      0,
			"corsaudit_targets":                        2,
			"corsaudit_probes":                         9,
			"corsaudit_requests":                       212,
			"corsaudit_run_duration_seconds":           4.215,
			"corsaudit_run_complete":                   1,
			"corsaudit_last_run_timestamp_seconds":     float64(ended.UnixNano()) / 1e9,
			"corsaudit_last_success_timestamp_seconds": float64(success.Unix()),
		}, []string{"corsaudit_up"}},
		{"partial run", file(incomplete, time.Time{}), map[string]float64{
			"corsaudit_run_complete": 0,
		}, []string{"corsaudit_last_success_timestamp_seconds"}},
		{"empty report", file(&diff.Report{}, time.Time{}), map[string]float64{
			"corsaudit_targets":      0,
			"corsaudit_run_complete": 1,
		}, []string{"corsaudit_instances", "corsaudit_findings", "corsaudit_last_run_timestamp_seconds"}},
		{"exporter: two targets, each run labelled", exporter(
			RunMetrics{Target: "api", Report: reportOf(fixture(), "api"), Ran: true, Ended: ended, Duration: 1.5, Complete: true, Up: true, LastSuccess: success},
			RunMetrics{Target: "static", Report: reportOf(fixture(), "static"), Ran: true, Ended: ended, Duration: 2, Complete: false, Up: true},
		), map[string]float64{
			"corsaudit_findings{kind=verdict-drift,severity=error,target=api}": 1,
			"corsaudit_findings{kind=skipped,severity=info,target=static}":     1,
			"corsaudit_targets{target=api}":                                    1,
			"corsaudit_targets{target=static}":                                 1,
			"corsaudit_run_duration_seconds{target=api}":                       1.5,
			"corsaudit_run_complete{target=api}":                               1,
			"corsaudit_run_complete{target=static}":                            0,
			"corsaudit_up{target=api}":                                         1,
			"corsaudit_last_success_timestamp_seconds{target=api}":             float64(success.Unix()),
			"corsaudit_last_run_timestamp_seconds{target=static}":              float64(ended.UnixNano()) / 1e9,
		}, nil},
		{"exporter: before the first run", exporter(RunMetrics{Target: "api"}), nil,
			[]string{"corsaudit_findings", "corsaudit_up", "corsaudit_run_complete", "corsaudit_last_success_timestamp_seconds"}},
		{"exporter: a run that could not start", exporter(RunMetrics{Target: "api", Ran: true, Ended: ended, LastSuccess: success}), map[string]float64{
			"corsaudit_up{target=api}":                             0,
			"corsaudit_run_complete{target=api}":                   0,
			"corsaudit_last_success_timestamp_seconds{target=api}": float64(success.Unix()),
		}, []string{"corsaudit_findings"}},
		{"a target name that is not UTF-8 or has quotes", file(hostile, time.Time{}), map[string]float64{
			"corsaudit_findings{kind=verdict-drift,severity=error,target=bad\uFFFD\"name\"\n}": 1,
		}, nil},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tc.write(&buf); err != nil {
				t.Fatal(err)
			}
			p := expfmt.NewTextParser(model.UTF8Validation)
			fams, err := p.TextToMetricFamilies(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatalf("the Prometheus text parser rejects the metrics: %v\n%s", err, buf.String())
			}
			got := map[string]float64{}
			for name, mf := range fams {
				if mf.GetType() != dto.MetricType_GAUGE || mf.GetHelp() == "" {
					t.Errorf("%s: type %v, help %q", name, mf.GetType(), mf.GetHelp())
				}
				for _, m := range mf.Metric {
					var ls []string
					for _, l := range m.Label {
						ls = append(ls, l.GetName()+"="+l.GetValue())
					}
					key := name
					if len(ls) > 0 {
						key += "{" + strings.Join(ls, ",") + "}"
					}
					got[key] = m.GetGauge().GetValue()
				}
			}
			for k, v := range tc.want {
				g, ok := got[k]
				if !ok || math.Abs(g-v) > 1e-3 {
					t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
				}
			}
			for _, name := range tc.absent {
				if _, ok := fams[name]; ok {
					t.Errorf("%s present, want absent", name)
				}
			}
		})
	}
}

// reportOf is r narrowed to one target and its findings.
func reportOf(r *diff.Report, target string) *diff.Report {
	out := *r
	out.Targets, out.Findings = nil, nil
	for _, t := range r.Targets {
		if t.Name == target {
			out.Targets = append(out.Targets, t)
		}
	}
	for _, f := range r.Findings {
		if f.Target == target {
			out.Findings = append(out.Findings, f)
		}
	}
	return &out
}

func TestWriteFileAtomic(t *testing.T) {
	errBoom := errors.New("boom")
	for _, tc := range []struct {
		desc     string
		old      *string // existing content, nil: no file
		oldMode  os.FileMode
		write    func(w *bytes.Buffer) error
		want     string
		wantMode os.FileMode
		wantErr  error
	}{
		{"new file", nil, 0, func(w *bytes.Buffer) error { w.WriteString("new\n"); return nil }, "new\n", 0o644, nil},
		{"replaces and keeps mode", ptr("old\n"), 0o640, func(w *bytes.Buffer) error { w.WriteString("new\n"); return nil }, "new\n", 0o640, nil},
		{"failed write leaves old file", ptr("old\n"), 0o644, func(w *bytes.Buffer) error { w.WriteString("partial"); return errBoom }, "old\n", 0o644, errBoom},
		{"failed write creates nothing", nil, 0, func(w *bytes.Buffer) error { return errBoom }, "", 0, errBoom},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "corsaudit.prom")
			if tc.old != nil {
				if err := os.WriteFile(path, []byte(*tc.old), tc.oldMode); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tc.oldMode); err != nil {
					t.Fatal(err)
				}
			}
			err := WriteFileAtomic(path, func(w io.Writer) error {
				var buf bytes.Buffer
				werr := tc.write(&buf)
				if _, err := w.Write(buf.Bytes()); err != nil {
					return err
				}
				return werr
			})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "report: write "+path) {
				t.Errorf("error %q does not name the file", err)
			}
			entries, _ := os.ReadDir(dir)
			if tc.want == "" {
				if len(entries) != 0 {
					t.Errorf("directory holds %d entries, want none", len(entries))
				}
				return
			}
			if len(entries) != 1 {
				t.Errorf("directory holds %d entries, want only the file (temp file left?)", len(entries))
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != tc.want {
				t.Errorf("content %q (%v), want %q", got, err, tc.want)
			}
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != tc.wantMode {
				t.Errorf("mode %v (%v), want %v", fi.Mode().Perm(), err, tc.wantMode)
			}
		})
	}
}

func TestWriteFileAtomicRefusesDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFileAtomic(dir, func(w io.Writer) error { return nil }); err == nil {
		t.Fatal("writing over a directory succeeded")
	}
}

func ptr(s string) *string { return &s }

// TestWriteFileAtomicDevice: a device such as /dev/null is written in
// place, never replaced by a regular file.
func TestWriteFileAtomicDevice(t *testing.T) {
	if err := WriteFileAtomic(os.DevNull, func(w io.Writer) error {
		_, err := io.WriteString(w, "report")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(os.DevNull)
	if err != nil || fi.Mode()&os.ModeDevice == 0 {
		t.Fatalf("%s is no longer a device: %v %v", os.DevNull, fi.Mode(), err)
	}
}

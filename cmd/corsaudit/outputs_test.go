package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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

// TestOutputsCheckedBeforeProbing: --output or --metrics-file into a
// missing or unwritable directory is a usage error (exit 2) naming the
// path, before anything is probed, for audit, gate and merge.
func TestOutputsCheckedBeforeProbing(t *testing.T) {
	f := newFleet(t)
	a := f.start("a", currentCORS)
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "r.json")
	if err := os.WriteFile(report, []byte(`{"tool":"corsaudit","targets":[],"findings":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := gateConfig(t, gateTarget{"shop", append(group("blue", 1, currentCORS, false), group("green", 1, currentCORS, false)...)})
	auditArgs := []string{"audit", "http://api.example.com/", "--instance", "a=" + a, "--origin", "https://app.example.com", "--no-lb"}
	gateArgs := []string{"gate", "--config", cfg, "--baseline", "blue", "--candidate", "green"}
	missing := filepath.Join(dir, "nope", "out")
	unwritable := filepath.Join(notDir, "out")
	for _, tc := range []struct {
		desc string
		args []string
		path string
	}{
		{"audit --output in a missing directory", append(auditArgs, "--output", missing), missing},
		{"audit --metrics-file in a missing directory", append(auditArgs, "--metrics-file", missing), missing},
		{"audit --output under a file", append(auditArgs, "--output", unwritable), unwritable},
		{"gate --output in a missing directory", append(gateArgs, "--output", missing), missing},
		{"gate --metrics-file under a file", append(gateArgs, "--metrics-file", unwritable), unwritable},
		{"merge --output in a missing directory", []string{"merge", report, "--output", missing}, missing},
		{"merge --metrics-file under a file", []string{"merge", report, "--metrics-file", unwritable}, unwritable},
	} {
		code, _, errOut := runCLI(tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.path) {
			t.Errorf("%s: exit %d, stderr %q; want %d naming %s", tc.desc, code, errOut, exitUsage, tc.path)
		}
		if strings.Contains(errOut, "auditing") {
			t.Errorf("%s: probing started before the output was checked:\n%s", tc.desc, errOut)
		}
	}
	if st := f.servers["a"].Stats(); st.Preflights != 0 || len(st.Actual) != 0 {
		t.Errorf("instance a received %d preflights and %v; want nothing", st.Preflights, st.Actual)
	}
}

// hangingAddr accepts connections and never answers.
func hangingAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			select {
			case <-done:
				return
			default:
			}
		}
	}()
	t.Cleanup(func() { close(done); ln.Close() })
	return ln.Addr().String()
}

// TestMetricsKeepLastSuccess: a failed run's metrics file keeps the last
// success of the file it replaces, so that a staleness alert fires.
func TestMetricsKeepLastSuccess(t *testing.T) {
	f := newFleet(t)
	a := f.start("a", currentCORS)
	metrics := filepath.Join(t.TempDir(), "m.prom")
	base := []string{"audit", "http://api.example.com/", "--origin", "https://app.example.com", "--no-lb", "--metrics-file", metrics, "--output", filepath.Join(t.TempDir(), "r.json")}
	if code, _, errOut := runCLI(append(base, "--instance", "a="+a)...); code != exitClean {
		t.Fatalf("first run: exit %d\n%s", code, errOut)
	}
	first := lastSuccessIn(t, metrics)
	if first == "" {
		t.Fatal("the successful run wrote no last success")
	}
	code, _, errOut := runCLI(append(base, "--instance", "h="+hangingAddr(t), "--timeout", "300ms", "--deadline", "300ms")...)
	if code != exitIncomplete {
		t.Fatalf("second run: exit %d, want %d (deadline)\n%s", code, exitIncomplete, errOut)
	}
	data, _ := os.ReadFile(metrics)
	if !strings.Contains(string(data), "corsaudit_run_complete 0") {
		t.Fatalf("the failed run did not rewrite the metrics file:\n%s", data)
	}
	if got := lastSuccessIn(t, metrics); got != first {
		t.Errorf("last success after a failed run = %q, want the first run's %q", got, first)
	}
}

func lastSuccessIn(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "corsaudit_last_success_timestamp_seconds "); ok {
			return v
		}
	}
	return ""
}

// TestProgressAgreesWithTargetLines: the progress bar counts to the
// fetches the target lines announce (each probe to each instance, through
// the load balancer, the cache checks), and the run's line gives their
// total: one count, one unit.
func TestProgressAgreesWithTargetLines(t *testing.T) {
	f := newFleet(t)
	a, b, lb := f.start("a", currentCORS), f.start("b", currentCORS), f.start("lb", currentCORS)
	cfg := writeConfig(t, "targets:\n"+
		staticTarget("shop", "http://"+lb+"/v1/cart", "{samples: 2}", map[string]string{"a": a, "b": b})+
		staticTarget("admin", "http://"+lb+"/admin", "{disabled: true}", map[string]string{"a": a}))
	var out, errOut bytes.Buffer
	ios := iostreams{out: &out, errOut: &errOut, in: strings.NewReader(""), errIsTerminal: true}
	if code := execute(context.Background(), ios, []string{"audit", "--config", cfg, "--format", "json"}); code != exitClean {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	log := errOut.String()
	targets := regexp.MustCompile(`corsaudit: (shop|admin): \d+ instances?, \d+ probes?: (\d+) fetch(es)? \(`).FindAllStringSubmatch(log, -1)
	total := regexp.MustCompile(`corsaudit: auditing 2 targets, 3 instances, (\d+) fetches, up to (\d+) requests`).FindStringSubmatch(log)
	bars := regexp.MustCompile(`probing \[[= ]+\] (\d+)/(\d+) fetches`).FindAllStringSubmatch(log, -1)
	if len(targets) != 2 || total == nil || len(bars) == 0 {
		t.Fatalf("want two target lines, the run's line and a progress bar counting fetches:\n%q", log)
	}
	sum := 0
	for _, m := range targets {
		n, _ := strconv.Atoi(m[2])
		sum += n
	}
	last := bars[len(bars)-1]
	if total[1] != strconv.Itoa(sum) || last[1] != total[1] || last[2] != total[1] {
		t.Errorf("target lines say %d fetches, the run's line %s, the bar ends at %s/%s:\n%q", sum, total[1], last[1], last[2], log)
	}
	if n, _ := strconv.Atoi(total[1]); n <= 3*6 {
		t.Errorf("%d fetches: the load balancer's and the cache checks' are missing:\n%q", n, log)
	}
}

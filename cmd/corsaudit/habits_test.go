package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/audit/cors"
)

// TestFormatHabits: -o stays the format but a file name gets a hint;
// format names ignore case; check takes table like the other commands.
func TestFormatHabits(t *testing.T) {
	report := filepath.Join(t.TempDir(), "r.json")
	if err := os.WriteFile(report, []byte(`{"tool":"corsaudit","targets":[],"findings":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		desc   string
		args   []string
		code   int
		stderr string // in stderr
		stdout string // in stdout
	}{
		{"audit -o report.html", []string{"audit", "--config", "testdata/valid.yaml", "-o", "report.html"}, exitUsage,
			"did you mean --output report.html?", ""},
		{"merge -o out/report.sarif", []string{"merge", report, "-o", "out/report.sarif"}, exitUsage,
			"did you mean --output out/report.sarif?", ""},
		{"unknown format without a dot: no hint", []string{"merge", report, "-o", "yaml"}, exitUsage,
			`unknown format "yaml" (known: html, json, junit, sarif, table)`, ""},
		{"check -o x.json: check has no --output", []string{"check", "http://127.0.0.1:1/", "--origin", pageOrigin, "-o", "x.json"}, exitUsage,
			"redirect the output (> x.json)", ""},
		{"merge --format JSON", []string{"merge", report, "--format", "JSON"}, exitClean, "", `"tool": "corsaudit"`},
		{"merge --format text is the table", []string{"merge", report, "--format", "text"}, exitClean, "", "summary: 0 targets"},
		{"discover -o Json", []string{"discover", "--config", "testdata/valid.yaml", "-o", "Json"}, exitClean, "", `"targets"`},
	} {
		code, stdout, stderr := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.stderr) || !strings.Contains(stdout, tc.stdout) {
			t.Errorf("%s: exit %d, stderr %q, stdout %q; want %d, stderr with %q, stdout with %q",
				tc.desc, code, stderr, stdout, tc.code, tc.stderr, tc.stdout)
		}
	}
}

// TestCheckFormatTable: check takes table (and TEXT) as text.
func TestCheckFormatTable(t *testing.T) {
	s := &scriptedCORS{pre: answer(204), act: answer(200, cors.ACAO, pageOrigin)}
	srv := startScripted(t, s)
	for _, format := range []string{"table", "TEXT"} {
		code, stdout, stderr := runCLI("check", srv.URL+"/x", "--origin", pageOrigin, "--format", format, "--browser", "chromium")
		if code != exitClean || !strings.HasPrefix(stdout, "ALLOWED: chromium would let") {
			t.Errorf("--format %s: exit %d, stdout %q, stderr %q; want the text verdict", format, code, stdout, stderr)
		}
	}
}

// TestURLWithoutScheme: a URL typed without its scheme gets the fix, not
// Go's URL parser message.
func TestURLWithoutScheme(t *testing.T) {
	for _, tc := range []struct {
		desc string
		args []string
	}{
		{"check host:port/path", []string{"check", "127.0.0.1:8080/x", "--origin", pageOrigin}},
		{"check host/path", []string{"check", "api.example.com/x", "--origin", pageOrigin}},
		{"audit host:port/path", []string{"audit", "127.0.0.1:8080/x", "--instance", "127.0.0.1:8080", "--origin", pageOrigin}},
	} {
		code, _, stderr := runCLI(tc.args...)
		if code != exitUsage || !strings.Contains(stderr, "has no scheme: add http:// or https://") ||
			strings.Contains(stderr, "first path segment") {
			t.Errorf("%s: exit %d, stderr %q; want %d and the scheme hint", tc.desc, code, stderr, exitUsage)
		}
	}
}

// TestConfigCheckArgument: the file may be the argument or --config.
func TestConfigCheckArgument(t *testing.T) {
	for _, tc := range []struct {
		desc   string
		args   []string
		code   int
		stream string // "out" or "err"
		want   string
	}{
		{"file as argument", []string{"config", "check", "testdata/valid.yaml"}, exitClean, "out", "config testdata/valid.yaml: ok (1 target)"},
		{"file as --config", []string{"config", "check", "--config", "testdata/valid.yaml"}, exitClean, "out", "ok (1 target)"},
		{"missing file as argument", []string{"config", "check", "nope.yaml"}, exitUsage, "err", "config nope.yaml: no such file"},
		{"no file", []string{"config", "check"}, exitUsage, "err", "give the file: corsaudit config check FILE (or --config FILE)"},
		{"two different files", []string{"config", "check", "a.yaml", "--config", "b.yaml"}, exitUsage, "err", "give the file once"},
	} {
		code, stdout, stderr := runCLI(tc.args...)
		got := stdout
		if tc.stream == "err" {
			got = stderr
		}
		if code != tc.code || !strings.Contains(got, tc.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %d and %q", tc.desc, code, stdout, stderr, tc.code, tc.want)
		}
	}
}

// TestConfigCheckWarnsMixedContent: config check warns about a target
// whose http URL its https policy origins cannot call.
func TestConfigCheckWarnsMixedContent(t *testing.T) {
	data, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := writeConfig(t, strings.Replace(string(data), "url: https://api.example.com/v1/cart", "url: http://api.example.com/v1/cart", 1))
	code, _, stderr := runCLI("config", "check", path)
	if code != exitClean || !strings.Contains(stderr, "warning: target shop-api: browsers block every fetch() to http://api.example.com/v1/cart from a page on https://app.example.com (mixed content") {
		t.Errorf("exit %d, stderr %q; want 0 and the mixed content warning", code, stderr)
	}
	if _, _, stderr := runCLI("config", "check", "testdata/valid.yaml"); strings.Contains(stderr, "mixed content") {
		t.Errorf("https target warned: %q", stderr)
	}
}

// TestVersion: --version and `version` print the same line, from the
// build info.
func TestVersion(t *testing.T) {
	code1, flag, _ := runCLI("--version")
	code2, cmd, _ := runCLI("version")
	if code1 != exitClean || code2 != exitClean || flag != cmd || !strings.HasPrefix(flag, "corsaudit ") {
		t.Errorf("--version: %d %q; version: %d %q; want the same line starting with \"corsaudit \"", code1, flag, code2, cmd)
	}
	info := func(version string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{GoVersion: "go1.25.0", Main: debug.Module{Path: "github.com/corsaudit/corsaudit", Version: version}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	const rev = "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		desc    string
		ldflags string
		info    *debug.BuildInfo
		ok      bool
		line    string // buildVersion.String()
		version string
	}{
		{"go install module@v1.2.3", "", info("v1.2.3"), true, "v1.2.3 (go1.25.0)", "v1.2.3"},
		{"build in a checkout", "", info("(devel)", "vcs.revision", rev, "vcs.time", "2026-12-01T10:00:00Z", "vcs.modified", "true"), true,
			"dev (revision " + rev + " (modified), 2026-12-01T10:00:00Z, go1.25.0)", "dev"},
		{"ldflags win", "v9.9.9", info("v1.2.3"), true, "v9.9.9 (go1.25.0)", "v9.9.9"},
		{"no build info", "", nil, false, "dev", "dev"},
	} {
		v := versionOf(tc.ldflags, tc.info, tc.ok)
		if v.String() != tc.line || v.Version != tc.version {
			t.Errorf("%s: %q (version %q), want %q (version %q)", tc.desc, v.String(), v.Version, tc.line, tc.version)
		}
	}
}

// TestReportWrittenSummaryAndGrammar: with --output, audit, gate and merge
// still print a one-line summary on stderr; counts of one are singular in
// the logs and the summary.
func TestReportWrittenSummaryAndGrammar(t *testing.T) {
	f := newFleet(t)
	a := f.start("a", currentCORS)
	dir := t.TempDir()
	out := filepath.Join(dir, "r.json")
	cfg := gateConfig(t, gateTarget{"shop", append(group("blue", 1, currentCORS, false), group("green", 1, currentCORS, false)...)})
	for _, tc := range []struct {
		desc string
		args []string
		want []string
	}{
		{"audit", []string{"audit", "http://127.0.0.1:1/", "--instance", "a=" + a, "--origin", pageOrigin, "--no-lb", "--output", out},
			[]string{"auditing 1 target, 1 instance, 40 fetches, up to", "corsaudit: wrote " + out + ": summary: 1 target, 1 instance (1 probed, 0 unreachable)"}},
		{"gate", []string{"gate", "--config", cfg, "--baseline", "blue", "--candidate", "green", "--output", out},
			[]string{"corsaudit: wrote " + out + ": summary: 1 target, 2 instances", "gate: PASS"}},
		{"merge", []string{"merge", out, "--output", filepath.Join(dir, "m.html"), "--format", "html"},
			[]string{"corsaudit: wrote " + filepath.Join(dir, "m.html") + ": summary: 1 target, 2 instances"}},
	} {
		code, stdout, stderr := runCLI(tc.args...)
		if code != exitClean || stdout != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 0 and nothing on stdout", tc.desc, code, stdout, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", tc.desc, w, stderr)
			}
		}
		if strings.Contains(stderr, "1 targets") || strings.Contains(stderr, "1 instances") {
			t.Errorf("%s: stderr has a plural for one:\n%s", tc.desc, stderr)
		}
	}
	// Without --output the report is on stdout and nothing more is said.
	if _, _, stderr := runCLI("merge", out, "--format", "json"); strings.Contains(stderr, "wrote") {
		t.Errorf("merge to stdout: stderr %q mentions a file", stderr)
	}
}

// TestProgressUnits: the progress bar says what it counts.
func TestProgressUnits(t *testing.T) {
	var b bytes.Buffer
	bar := newProgressBar(&b)
	bar.update(66, 105)
	if !strings.HasSuffix(b.String(), "] 66/105 fetches") {
		t.Errorf("progress %q, want it to end with \"] 66/105 fetches\"", b.String())
	}
}

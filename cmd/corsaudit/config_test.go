package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// TestPrecedence checks file < CORSAUDIT_* environment < flags.
func TestPrecedence(t *testing.T) {
	t.Setenv("CORSAUDIT_TIMEOUT", "4s")
	t.Setenv("CORSAUDIT_PER_INSTANCE", "7")
	t.Setenv("CORSAUDIT_CHECKS", "drift,lb")
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	addSettingFlags(fs)
	if err := fs.Parse([]string{"--per-instance=9", "--deadline", "90s"}); err != nil {
		t.Fatal(err)
	}
	c, err := loadSettings("testdata/valid.yaml", fs)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		desc      string
		got, want any
	}{
		{"file only", c.Concurrency, 32},
		{"env beats file", c.Timeout, 4 * time.Second},
		{"flag beats env and file", c.PerInstance, 9},
		{"duration flag beats file", c.Deadline, 90 * time.Second},
		{"list from env", strings.Join(c.Analyses, ","), "drift,lb"},
		{"default", c.MaxProbes, 200},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.desc, tc.got, tc.want)
		}
	}
}

// TestConfigErrorsNameTheirSource: a problem is named where the user wrote
// it: the file line, the CORSAUDIT_* variable, or the flag (ad hoc mode
// speaks of --origin, not targets[0].policy.origins).
func TestConfigErrorsNameTheirSource(t *testing.T) {
	for _, tc := range []struct {
		desc string
		env  map[string]string
		args []string
		want []string
	}{
		{desc: "duration without a unit in a variable", env: map[string]string{"CORSAUDIT_TIMEOUT": "5"},
			args: []string{"audit", "--config", "testdata/valid.yaml"},
			want: []string{`CORSAUDIT_TIMEOUT: "5" has no unit: write "5s" (or 500ms, 2m)`}},
		{desc: "bad number in a variable", env: map[string]string{"CORSAUDIT_CONCURRENCY": "0"},
			args: []string{"audit", "--config", "testdata/valid.yaml"},
			want: []string{"CORSAUDIT_CONCURRENCY: 0 must be at least 1"}},
		{desc: "duration without a unit in a flag", args: []string{"audit", "--config", "testdata/valid.yaml", "--timeout", "5"},
			want: []string{`invalid argument "5" for "--timeout" flag: "5" has no unit: write "5s" (or 500ms, 2m)`}},
		{desc: "ad hoc mode speaks of flags", args: []string{"audit", "http://api.example.com/", "--instance", "nope",
			"--origin", "app.example.com", "--method", "GE T", "--fail-on", "sometimes"},
			want: []string{
				`--fail-on: "sometimes" is not error, warning, info or never`,
				`--origin: "app.example.com" has no scheme`,
				`--method: "GE T" is not an HTTP method`,
				`--instance: "nope" is not host:port`}},
		{desc: "ad hoc mode without an origin", args: []string{"audit", "http://api.example.com/", "--instance", "127.0.0.1:1"},
			want: []string{`--origin: at least one origin is required`}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			code, _, errOut := runCLI(tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d\n%s", code, exitUsage, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(errOut, "targets[0]") {
				t.Errorf("stderr speaks of the config's fields:\n%s", errOut)
			}
		})
	}
}

// TestHostileConfigFiles: a config file that would exhaust memory or print
// megabytes is a usage error (exit 2) told in a few lines: an endless file,
// aliases expanding beyond the bound, thousands of unknown keys.
func TestHostileConfigFiles(t *testing.T) {
	var keys, paths strings.Builder
	for i := range 20_000 {
		fmt.Fprintf(&keys, "k%d: 1\n", i)
	}
	for i := range 1000 {
		fmt.Fprintf(&paths, "    - /p%d\n", i)
	}
	bomb := "targets:\n- &t\n  url: https://api.example.com\n  policy: {origins: [https://app.example.com]}\n" +
		"  discover: {static: {instances: [{addr: 127.0.0.1:8080}]}}\n  paths:\n" + paths.String() + strings.Repeat("- *t\n", 1000)
	for _, tc := range []struct {
		desc string
		file string
		want string
	}{
		{"an endless file", "/dev/zero", "config /dev/zero: larger than 32 MiB"},
		{"aliases expanding beyond the bound", writeConfig(t, bomb), "aliases expand the document beyond"},
		{"20,000 unknown keys", writeConfig(t, keys.String()), "and 19951 more problems"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			code, out, errOut := runCLI("config", "check", "--config", tc.file)
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want %d; stderr (%d bytes) %.300q, want it to contain %q", code, exitUsage, len(errOut), errOut, tc.want)
			}
			if lines := strings.Count(errOut, "\n"); lines > 60 || out != "" {
				t.Errorf("%d lines on stderr, %d bytes on stdout: want a few lines and nothing on stdout", lines, len(out))
			}
		})
	}
}

// TestUndialableAddressesAreUsageErrors: an address that cannot be dialled
// (port 0, negative or above 65535) is a mistake in the input, exit 2 naming
// it, wherever it is written; never an `unreachable` finding.
func TestUndialableAddressesAreUsageErrors(t *testing.T) {
	static := func(addr string) string {
		return writeConfig(t, "targets:\n- url: http://api.example.com/\n  policy: {origins: [https://app.example.com]}\n"+
			"  discover: {static: {instances: [{addr: \""+addr+"\"}]}}\n")
	}
	for _, tc := range []struct {
		desc string
		args []string
		want string
	}{
		{"config check, port above 65535", []string{"config", "check", "--config", static("127.0.0.1:99999")},
			`targets[0].discover.static.instances[0].addr: "127.0.0.1:99999": port "99999" is not a number from 1 to 65535`},
		{"config check, port 0", []string{"config", "check", "--config", static("127.0.0.1:0")}, `port "0" is not a number`},
		{"config check, port -1", []string{"config", "check", "--config", static("127.0.0.1:-1")}, `port "-1" is not a number`},
		{"audit --instance", []string{"audit", "http://api.example.com/", "--instance", "127.0.0.1:99999", "--origin", "https://app.example.com"},
			`--instance: "127.0.0.1:99999": port "99999" is not a number from 1 to 65535`},
		{"check --connect-to", []string{"check", "http://api.example.com/", "--origin", "https://app.example.com", "--connect-to", "127.0.0.1:0"},
			`connect-to: "127.0.0.1:0": port "0" is not a number from 1 to 65535`},
		{"check --connect-to, curl's four-part form", []string{"check", "http://api.example.com/", "--origin", "https://app.example.com",
			"--connect-to", "api.example.com:80:127.0.0.1:70000"}, `port "70000" is not a number`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			code, _, errOut := runCLI(tc.args...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want %d; stderr %q, want it to contain %q", code, exitUsage, errOut, tc.want)
			}
		})
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/discovery"
)

// runCLI runs a command line in-process and returns its exit code, stdout
// and stderr.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = execute(context.Background(), iostreams{out: &out, errOut: &errOut, in: strings.NewReader("")}, args)
	return code, out.String(), errOut.String()
}

// writeConfig writes a config file into a test's temporary directory.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "corsaudit.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// discoverJSON runs `corsaudit discover --format json` on a config and
// decodes its targets.
func discoverJSON(t *testing.T, path string) []discovery.Target {
	t.Helper()
	code, out, stderr := runCLI("discover", "--config", path, "--format", "json")
	if code != exitClean {
		t.Fatalf("discover: exit %d\nstderr: %s", code, stderr)
	}
	var got struct {
		Targets []discovery.Target `json:"targets"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("discover output is not JSON: %v\n%s", err, out)
	}
	return got.Targets
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		desc string
		args []string
		code int
		err  string
	}{
		{"unknown command", []string{"bogus"}, exitUsage, `unknown command "bogus"`},
		{"unknown flag", []string{"audit", "--bogus"}, exitUsage, "unknown flag: --bogus"},
		{"audit without target", []string{"audit"}, exitUsage, "give --config FILE, or a URL with --instance and --origin"},
		{"missing config file", []string{"audit", "--config", "testdata/nope.yaml"}, exitUsage, "config testdata/nope.yaml:"},
		{"valid config", []string{"config", "check", "--config", "testdata/valid.yaml"}, exitClean, ""},
		{"help", []string{"--help"}, exitClean, ""},
	} {
		code, _, stderr := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.err) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", tc.desc, code, stderr, tc.code, tc.err)
		}
	}
}

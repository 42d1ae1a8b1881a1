package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// helperEnv makes the test binary act as corsaudit (see TestHelperCLI), so
// that scripts can run it without a separate build.
const helperEnv = "CORSAUDIT_TEST_AS_CLI"

// TestHelperCLI is corsaudit itself when the test binary is started by a
// script through the wrapper that shardsScriptCLI writes; otherwise it
// does nothing.
func TestHelperCLI(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return
	}
	args := os.Args[slices.Index(os.Args, "--")+1:]
	ios := iostreams{in: os.Stdin, out: os.Stdout, errOut: os.Stderr}
	os.Exit(execute(context.Background(), ios, args))
}

// TestShardsScript runs examples/shards.sh: 3 local shard processes and
// the merge give the report and exit code of a single audit.
func TestShardsScript(t *testing.T) {
	dir := t.TempDir()
	cfg := shardConfig(t, dir, "corsaudit.yaml", "https://app.example.com", shardFleet(t))
	wrapper := filepath.Join(dir, "corsaudit")
	script := "#!/bin/sh\nexec \"" + os.Args[0] + "\" -test.run='^TestHelperCLI$' -- \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	code, single, stderr := runCLI("audit", "--config", cfg, "--format", "json")
	if code != exitFindings {
		t.Fatalf("audit: exit %d\n%s", code, stderr)
	}
	out := filepath.Join(dir, "out")
	cmd := exec.Command("sh", "../../examples/shards.sh", cfg, "3", out, "--format", "json")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "CORSAUDIT="+wrapper)
	var stdout, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitFindings {
		t.Fatalf("shards.sh: %v, want exit %d (findings, as the single audit)\n%s", err, exitFindings, errOut.String())
	}
	shards, _ := filepath.Glob(filepath.Join(out, "shard-*.json"))
	if len(shards) != 3 {
		t.Errorf("shards.sh wrote %v, want 3 shard files", shards)
	}
	want, got := withoutTiming(t, single), withoutTiming(t, stdout.String())
	if w, g := mustJSON(t, want), mustJSON(t, got); w != g {
		t.Errorf("shards.sh report differs from the single audit:\nsingle: %s\nshards: %s", w, g)
	}
	if strings.Contains(errOut.String(), "PASS") {
		t.Errorf("the test binary printed its own verdict into the script's output:\n%s", errOut.String())
	}
}

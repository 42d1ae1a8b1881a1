package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestExampleConfigsValidate runs `config check` on every example config, so
// that the examples never drift from the config schema.
func TestExampleConfigsValidate(t *testing.T) {
	files, err := filepath.Glob("../../examples/*/corsaudit*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("found only %v", files)
	}
	for _, f := range files {
		code, out, errOut := runCLI("config", "check", "--config", f)
		if code != exitClean || !strings.Contains(out, ": ok (") {
			t.Errorf("%s: exit %d\n%s%s", f, code, out, errOut)
		}
	}
	if _, err := readPolicy("../../examples/gate/policy.yaml"); err != nil {
		t.Error(err)
	}
}

package config

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsNothingAboveAudit: config is read by pipeline, the exporter
// and the commands, so it imports none of them, nor diff (the vocabulary
// it checks, the analyses and the fail-on threshold, lives in audit and in
// the leaf diff/severity).
func TestImportsNothingAboveAudit(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const mod = "github.com/corsaudit/corsaudit/"
	for _, p := range strings.Fields(string(out)) {
		rel, ok := strings.CutPrefix(p, mod)
		if !ok || rel == "diff/severity" {
			continue
		}
		for _, above := range []string{"diff", "pipeline", "exporter", "cmd"} {
			if rel == above || strings.HasPrefix(rel, above+"/") {
				t.Errorf("config imports %s, a package above audit", p)
			}
		}
	}
}

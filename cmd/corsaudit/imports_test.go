package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestShipsNoTestInfrastructure: the binary links nothing under
// internal/testinfra (fake listeners, bench fleets, test environments,
// the schema generator): those are for tests and benchmarks only, and the
// runtime helpers they may use live apart, at internal/.
func TestShipsNoTestInfrastructure(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list -deps listed nothing")
	}
	for _, p := range deps {
		if strings.Contains(p, "/corsaudit/internal/testinfra/") {
			t.Errorf("corsaudit links %s, test infrastructure", p)
		}
	}
}

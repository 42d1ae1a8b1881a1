package releasecheck

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// installFromCheckout is the README's third way in, beside the release
// tarball (TestArchives) and the image (TestImageRuns).
const installFromCheckout = "go install ./cmd/corsaudit"

// TestGoInstallFromCheckout: the README's "Install" section's command from
// a checkout gives a corsaudit that runs: --version, and the demo with its
// findings. (The same command with @version needs a registry, as pulling
// the image does: not tried here.)
func TestGoInstallFromCheckout(t *testing.T) {
	root := moduleRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "`"+installFromCheckout+"`") {
		t.Fatalf("README.md no longer shows `%s`: this test tries the command the README gives", installFromCheckout)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin := t.TempDir()
	args := strings.Fields(installFromCheckout)
	install := exec.CommandContext(ctx, args[0], args[1:]...)
	install.Dir = root
	install.Env = append(os.Environ(), "GOBIN="+bin)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", installFromCheckout, err, out)
	}
	corsaudit := filepath.Join(bin, "corsaudit")

	out, err := exec.CommandContext(ctx, corsaudit, "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "corsaudit ") {
		t.Errorf("installed corsaudit --version: %v %q; want corsaudit <version> ...", err, out)
	}

	var stderr strings.Builder
	demo := exec.CommandContext(ctx, corsaudit, "demo", "--format", "json")
	demo.Stderr = &stderr
	out, err = demo.Output()
	var rep struct {
		Findings []struct{ Kind string } `json:"findings"`
	}
	if jerr := json.Unmarshal(out, &rep); err != nil || jerr != nil || len(rep.Findings) == 0 {
		t.Errorf("installed corsaudit demo: %v, %d findings (%v); stderr %s", err, len(rep.Findings), jerr, stderr.String())
	}
}

// moduleRoot is the checkout's root, where go.mod is.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	return strings.TrimSpace(string(out))
}

package releasecheck

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/internal/lab/labserver"
	"github.com/corsaudit/corsaudit/internal/testinfra/testenv"
)

// image is IMAGE, the name .ci/image printed, with buildah to run it. It
// fails the test in CI when either is missing, and skips it elsewhere.
func image(t *testing.T) (buildah, name string) {
	t.Helper()
	buildah = testenv.LookTool(t, "the image checks run the image with buildah", "buildah")
	name = os.Getenv("IMAGE")
	if name == "" {
		msg := "IMAGE is not set: .ci/run builds the image (bash .ci/image) and sets it"
		if testenv.InCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return buildah, name
}

// container is a buildah working container of an image, removed at the
// end of the test; its commands run with chroot isolation on this host's
// network (loopback included), as the image's user.
type container struct {
	t       *testing.T
	buildah string
	id      string
}

func buildahCmd(buildah string, args ...string) *exec.Cmd {
	cmd := exec.Command(buildah, args...)
	cmd.Env = append(os.Environ(), "STORAGE_DRIVER=vfs", "BUILDAH_ISOLATION=chroot")
	return cmd
}

func newContainer(t *testing.T, buildah, image string) *container {
	t.Helper()
	out, err := buildahCmd(buildah, "from", "--pull=never", image).Output()
	if err != nil {
		t.Fatalf("buildah from %s: %v", image, err)
	}
	c := &container{t: t, buildah: buildah, id: strings.TrimSpace(string(out))}
	t.Cleanup(func() { _ = buildahCmd(buildah, "rm", c.id).Run() })
	return c
}

// run runs argv in the container and returns its exit code and output.
func (c *container) run(argv ...string) (int, string, string) {
	c.t.Helper()
	cmd := buildahCmd(c.buildah, append([]string{"run", "--isolation", "chroot", c.id, "--"}, argv...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("buildah run %q: %v", argv, err)
	}
	return code, stdout.String(), stderr.String()
}

// TestImageConfig: the image runs /corsaudit as user 65532, and holds
// nothing but the binary, the CA bundle and the user's passwd and group
// lines: no shell.
func TestImageConfig(t *testing.T) {
	buildah, name := image(t)
	out, err := buildahCmd(buildah, "inspect", "--type", "image", name).Output()
	if err != nil {
		t.Fatalf("buildah inspect: %v", err)
	}
	var inspect struct {
		OCIv1 struct {
			Config struct {
				User       string
				Entrypoint []string
			} `json:"config"`
		} `json:"OCIv1"`
	}
	if err := json.Unmarshal(out, &inspect); err != nil {
		t.Fatalf("buildah inspect %s: %v", name, err)
	}
	cfg := inspect.OCIv1.Config
	if cfg.User != "65532:65532" || !slices.Equal(cfg.Entrypoint, []string{"/corsaudit"}) {
		t.Errorf("image config: user %q, entrypoint %q; want 65532:65532 and [/corsaudit]", cfg.User, cfg.Entrypoint)
	}

	// The files of a fresh container (before any run adds /etc/hosts).
	c := newContainer(t, buildah, name)
	mnt, err := buildahCmd(buildah, "mount", c.id).Output()
	if err != nil {
		t.Fatalf("buildah mount: %v", err)
	}
	root := strings.TrimSpace(string(mnt))
	t.Cleanup(func() { _ = buildahCmd(buildah, "umount", c.id).Run() })
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files = append(files, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	want := []string{"corsaudit", "etc/group", "etc/passwd", "etc/ssl/certs/ca-certificates.crt"}
	if !slices.Equal(files, want) {
		t.Errorf("image files %q, want exactly %q (no shell, nothing else)", files, want)
	}
	passwd, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if !strings.HasPrefix(string(passwd), "corsaudit:x:65532:65532:") {
		t.Errorf("/etc/passwd %q: want the user corsaudit, 65532", passwd)
	}
	pem, _ := os.ReadFile(filepath.Join(root, "etc/ssl/certs/ca-certificates.crt"))
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) || bytes.Count(pem, []byte("BEGIN CERTIFICATE")) < 50 {
		t.Errorf("the CA bundle holds %d certificates: want the system's (over 50)", bytes.Count(pem, []byte("BEGIN CERTIFICATE")))
	}
}

// TestImageRuns: the image's corsaudit says its version, runs the demo,
// and audits a fleet on this host's loopback; it runs as a user that
// cannot write to /, and there is no shell to run.
func TestImageRuns(t *testing.T) {
	buildah, name := image(t)
	c := newContainer(t, buildah, name)
	version := name[strings.LastIndex(name, ":")+1:]
	if code, out, errOut := c.run("/corsaudit", "--version"); code != 0 || !strings.HasPrefix(out, "corsaudit "+version+" ") {
		t.Errorf("--version: exit %d, %q %q; want corsaudit %s", code, out, errOut, version)
	}
	code, out, errOut := c.run("/corsaudit", "demo", "--format", "json")
	var rep struct {
		Findings []struct{ Kind string } `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || len(rep.Findings) == 0 {
		t.Errorf("demo: exit %d, %d findings (%v); stderr %s", code, len(rep.Findings), err, errOut)
	}

	// A fleet of two on loopback, one drifted: exit 1, a verdict-drift.
	var addrs []string
	for i, methods := range [][]string{{"GET", "PUT"}, {"GET", "PUT"}, {"GET"}} {
		srv := httptest.NewServer(labserver.New(labserver.Behavior{ID: fmt.Sprint("i", i),
			AllowOrigins: []string{"https://app.example.com"}, AllowMethods: methods}))
		t.Cleanup(srv.Close)
		addrs = append(addrs, srv.Listener.Addr().String())
	}
	args := []string{"/corsaudit", "audit", "http://api.example.com/v1/cart", "--no-lb", "--direct-scheme", "http",
		"--origin", "https://app.example.com", "--method", "GET", "--method", "PUT", "--format", "json"}
	for i, a := range addrs {
		args = append(args, "--instance", fmt.Sprintf("i%d=%s", i, a))
	}
	code, out, errOut = c.run(args...)
	if code != 1 || !strings.Contains(out, `"verdict-drift"`) || !strings.Contains(out, `"i2"`) {
		t.Errorf("audit of a loopback fleet: exit %d; want 1 and a verdict-drift naming i2\nstdout %s\nstderr %s", code, out, errOut)
	}
	// Not root: / is not writable.
	code, _, errOut = c.run(append(args, "--output", "/report.json")...)
	if code != 2 || !strings.Contains(errOut, "permission denied") {
		t.Errorf("audit --output /report.json: exit %d, %q; want 2 and permission denied (the user is not root)", code, errOut)
	}
	if code, _, _ := c.run("/bin/sh", "-c", "true"); code == 0 {
		t.Error("/bin/sh ran in the image: it must have no shell")
	}
}

// TestShellImage: the -shell image adds BusyBox for scripts (the sharded
// Job's run.sh) and still runs as 65532.
func TestShellImage(t *testing.T) {
	buildah, name := image(t)
	c := newContainer(t, buildah, name+"-shell")
	code, out, errOut := c.run("sh", "-c", `id -u; for c in mkdir date sleep find rm cat corsaudit; do command -v "$c" >/dev/null || echo "missing $c"; done; corsaudit version`)
	if code != 0 || !strings.HasPrefix(out, "65532\n") || strings.Contains(out, "missing") || !strings.Contains(out, "corsaudit ") {
		t.Errorf("shell image: exit %d, %q %q; want uid 65532, every tool run.sh uses, and corsaudit", code, out, errOut)
	}
}

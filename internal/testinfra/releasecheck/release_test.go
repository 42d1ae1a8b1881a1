package releasecheck

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/internal/testinfra/testenv"
)

// releaseDir is RELEASE_DIR: where .ci/release wrote the artifacts. It
// fails the test in CI when unset, and skips it elsewhere.
func releaseDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("RELEASE_DIR")
	if dir == "" {
		msg := "RELEASE_DIR is not set: .ci/run builds the release artifacts (bash .ci/release --platform linux/amd64) and sets it"
		if testenv.InCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// artifactName matches the archives' names: corsaudit[-slim]_V_OS_ARCH.
var artifactName = regexp.MustCompile(`^(corsaudit(?:-slim)?)_(.+)_(linux|darwin|windows)_(amd64|arm64)\.(tar\.gz|zip)$`)

// TestChecksums: SHA256SUMS names every other file of the release, once,
// with its digest.
func TestChecksums(t *testing.T) {
	dir := releaseDir(t)
	sums, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 {
			t.Fatalf("SHA256SUMS line %q is not sha256sum's", line)
		}
		if _, dup := listed[name]; dup {
			t.Errorf("SHA256SUMS lists %s twice", name)
		}
		listed[name] = sum
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "SHA256SUMS" {
			continue
		}
		want, ok := listed[e.Name()]
		if !ok {
			t.Errorf("%s is not in SHA256SUMS", e.Name())
			continue
		}
		delete(listed, e.Name())
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != want {
			t.Errorf("%s: sha256 %x, SHA256SUMS says %s", e.Name(), got, want)
		}
	}
	for name := range listed {
		t.Errorf("SHA256SUMS lists %s, which is not there", name)
	}
}

// unpack extracts a .tar.gz into a new directory and returns it.
func unpack(t *testing.T, archive string) string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", archive, err)
	}
	dir := t.TempDir()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", archive, err)
		}
		if h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: %s owned by %d:%d, want 0:0", archive, h.Name, h.Uid, h.Gid)
		}
		name := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(name, dir) {
			t.Fatalf("%s: entry %q leaves the directory", archive, h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(name, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			out, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY, os.FileMode(h.Mode)&0o755)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(out, tr); err != nil {
				t.Fatal(err)
			}
			out.Close()
		default:
			t.Errorf("%s: %s is not a file or directory (type %c)", archive, h.Name, h.Typeflag)
		}
	}
	return dir
}

// TestArchives: each linux/amd64 archive holds a static, stripped binary
// that runs and says its version, the licence, the README, the man pages
// and the completions; the slim one has only the static and dns providers.
func TestArchives(t *testing.T) {
	dir := releaseDir(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		m := artifactName.FindStringSubmatch(e.Name())
		if m == nil || m[3] != "linux" || m[4] != "amd64" {
			continue
		}
		variant, version := m[1], m[2]
		seen[variant] = true
		root := unpack(t, filepath.Join(dir, e.Name()))
		for _, want := range []string{"corsaudit", "LICENSE", "README.md", "man/corsaudit.1", "man/corsaudit-audit.1",
			"completions/corsaudit.bash", "completions/_corsaudit", "completions/corsaudit.fish", "completions/corsaudit.ps1"} {
			if fi, err := os.Stat(filepath.Join(root, want)); err != nil || fi.Size() == 0 {
				t.Errorf("%s: %s missing or empty", e.Name(), want)
			}
		}
		bin := filepath.Join(root, "corsaudit")
		checkStaticStripped(t, bin)
		out, err := exec.Command(bin, "--version").CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "corsaudit v"+version+" ") && !strings.HasPrefix(string(out), "corsaudit "+version+" ") {
			t.Errorf("%s: --version: %v %q, want the version %s", e.Name(), err, out, version)
		}
		out, _ = exec.Command(bin, "providers").CombinedOutput()
		for _, sdk := range []string{"aws", "gcp", "kubernetes"} {
			has := strings.HasPrefix(string(out), sdk+":") || strings.Contains(string(out), "\n"+sdk+":")
			if has != (variant == "corsaudit") {
				t.Errorf("%s: providers says %q: the full build has %s, the slim one (static and dns only) does not", e.Name(), out, sdk)
			}
		}
	}
	for _, v := range []string{"corsaudit", "corsaudit-slim"} {
		if !seen[v] {
			t.Errorf("no %s_V_linux_amd64.tar.gz in %s", v, dir)
		}
	}
}

// checkStaticStripped fails unless bin is an ELF without an interpreter
// (static) and without a symbol table (-s).
func checkStaticStripped(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has an ELF interpreter: not static (CGO_ENABLED=0)", bin)
		}
	}
	if f.Section(".symtab") != nil {
		t.Errorf("%s has a symbol table: not stripped (-s -w)", bin)
	}
}

// TestSBOM: the CycloneDX SBOM names corsaudit and every direct
// dependency in go.mod that the binary links, at go.mod's version.
func TestSBOM(t *testing.T) {
	dir := releaseDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "corsaudit_*.cdx.json"))
	if len(files) != 1 {
		t.Fatalf("want one corsaudit_V.cdx.json in %s, got %q", dir, files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var bom struct {
		BOMFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
		Metadata    struct {
			Component struct{ Name, Version string } `json:"component"`
		} `json:"metadata"`
		Components []struct {
			Name, Version, Purl string
			Hashes              []struct{ Alg, Content string }
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &bom); err != nil {
		t.Fatalf("%s: %v", files[0], err)
	}
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion == "" || bom.Metadata.Component.Name != "github.com/corsaudit/corsaudit" {
		t.Errorf("SBOM header: format %q, spec %q, component %q", bom.BOMFormat, bom.SpecVersion, bom.Metadata.Component.Name)
	}
	got := map[string]string{}
	for _, c := range bom.Components {
		got[c.Name] = c.Version
	}
	direct := directDependencies(t)
	linked := linkedModules(t)
	n := 0
	for _, m := range direct {
		if !linked[m.path] {
			continue // a test-only dependency (k8s.io/api for examples/kubernetes)
		}
		n++
		if v, ok := got[m.path]; !ok || v != m.version {
			t.Errorf("SBOM: %s at %q, go.mod requires %s", m.path, v, m.version)
		}
	}
	if n < 5 {
		t.Errorf("only %d direct dependencies linked: the comparison checked nothing much", n)
	}
}

type module struct{ path, version string }

// directDependencies are go.mod's requirements without // indirect.
func directDependencies(t *testing.T) []module {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{if not .Indirect}}{{if not .Main}}{{.Path}} {{.Version}}{{end}}{{end}}", "all").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	var ms []module
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if p, v, ok := strings.Cut(sc.Text(), " "); ok {
			ms = append(ms, module{p, v})
		}
	}
	return ms
}

// linkedModules are the modules of the packages cmd/corsaudit links.
func linkedModules(t *testing.T) map[string]bool {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{.Path}}{{end}}", "github.com/corsaudit/corsaudit/cmd/corsaudit").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	m := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		m[p] = true
	}
	return m
}

// TestOCIArchive: the image archive is an OCI layout (oci-layout,
// index.json) naming the image.
func TestOCIArchive(t *testing.T) {
	dir := releaseDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "corsaudit_*_linux_amd64.oci.tar"))
	if len(files) != 1 {
		t.Fatalf("want one corsaudit_V_linux_amd64.oci.tar in %s, got %q", dir, files)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	var index []byte
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Name == "index.json" {
			index, _ = io.ReadAll(tr)
		}
	}
	if !slices.Contains(names, "oci-layout") || index == nil {
		t.Fatalf("%s is not an OCI layout: %q", files[0], names)
	}
	var idx struct {
		Manifests []struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(index, &idx); err != nil || len(idx.Manifests) != 1 ||
		!strings.HasPrefix(idx.Manifests[0].Annotations["org.opencontainers.image.ref.name"], "localhost/corsaudit:") {
		t.Errorf("index.json %s: want one manifest named localhost/corsaudit:V (%v)", index, err)
	}
}

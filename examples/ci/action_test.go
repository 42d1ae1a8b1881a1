package ci

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/diff/severity"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
	"github.com/corsaudit/corsaudit/internal/testinfra/testenv"
)

// action is the part of action.yml (the repository's GitHub Action) the
// tests read.
type action struct {
	Name   string `yaml:"name"`
	Inputs map[string]struct {
		Description string `yaml:"description"`
		Required    bool   `yaml:"required"`
		Default     string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string       `yaml:"using"`
		Steps []actionStep `yaml:"steps"`
	} `yaml:"runs"`
}

type actionStep struct {
	Name  string            `yaml:"name"`
	ID    string            `yaml:"id"`
	If    string            `yaml:"if"`
	Shell string            `yaml:"shell"`
	Run   string            `yaml:"run"`
	Uses  string            `yaml:"uses"`
	Env   map[string]string `yaml:"env"`
	With  map[string]string `yaml:"with"`
}

func readAction(t *testing.T) action {
	t.Helper()
	var a action
	readYAML(t, "../../action.yml", &a)
	return a
}

// actionVersion is the release the action installs by default: the one
// every example pins (TestPinnedVersions).
func actionVersion(t *testing.T) string {
	t.Helper()
	return readAction(t).Inputs["version"].Default
}

func (a action) step(t *testing.T, name string) actionStep {
	t.Helper()
	for _, s := range a.Runs.Steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("action.yml has no step %q", name)
	return actionStep{}
}

// TestActionSchema: a composite action with the inputs config, args,
// sarif and fail-on; every script is bash that passes bash -n and reads
// the inputs from its environment (an input pasted into a script by
// ${{ }} would be run as shell code); SARIF goes to code scanning.
func TestActionSchema(t *testing.T) {
	a := readAction(t)
	if a.Name == "" || a.Runs.Using != "composite" {
		t.Errorf("action name %q, runs.using %q; want a composite action", a.Name, a.Runs.Using)
	}
	for _, in := range []string{"config", "args", "sarif", "fail-on", "version"} {
		if a.Inputs[in].Description == "" {
			t.Errorf("input %s missing or undescribed", in)
		}
	}
	if !a.Inputs["config"].Required {
		t.Error("input config is not required")
	}
	if _, err := severity.ParseFailOn(a.Inputs["fail-on"].Default); err != nil {
		t.Errorf("fail-on default: %v", err)
	}
	if !regexp.MustCompile(`^v\d+\.\d+\.\d+$`).MatchString(a.Inputs["version"].Default) {
		t.Errorf("version default %q is not a release tag vX.Y.Z", a.Inputs["version"].Default)
	}
	for _, out := range []string{"exit-code", "report"} {
		if a.Outputs[out].Value == "" {
			t.Errorf("output %s missing", out)
		}
	}
	upload := false
	for _, s := range a.Runs.Steps {
		if s.Run != "" {
			if s.Shell != "bash" {
				t.Errorf("step %q: shell %q, want bash", s.Name, s.Shell)
			}
			if strings.Contains(s.Run, "${{") {
				t.Errorf("step %q: a ${{ }} expression inside the script; pass it through env", s.Name)
			}
			cmd := exec.Command("bash", "-n")
			cmd.Stdin = strings.NewReader(s.Run)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("step %q: bash -n: %v\n%s", s.Name, err, out)
			}
		}
		for name := range s.Env {
			if strings.HasPrefix(name, "CORSAUDIT_") {
				t.Errorf("step %q: variable %s: corsaudit reads CORSAUDIT_* variables as settings", s.Name, name)
			}
		}
		if strings.HasPrefix(s.Uses, "github/codeql-action/upload-sarif@") {
			upload = strings.Contains(s.If, "always()") && strings.Contains(s.If, "steps.run.outputs.sarif")
		}
	}
	if !upload {
		t.Error("no upload-sarif step that runs always() when the run step wrote SARIF")
	}
}

// runStep runs a step's script with bash, its env with values for the
// ${{ }} expressions (vals, by input or output name) and the GitHub
// runner's files; it returns the outputs the step set and the exit code.
func runStep(t *testing.T, s actionStep, vals map[string]string, extraEnv ...string) (map[string]string, int, string) {
	t.Helper()
	dir := t.TempDir()
	outFile, summary := filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	env := append(os.Environ(), "GITHUB_OUTPUT="+outFile, "GITHUB_STEP_SUMMARY="+summary, "GITHUB_PATH="+filepath.Join(dir, "path"))
	for name, v := range s.Env {
		env = append(env, name+"="+expr.ReplaceAllStringFunc(v, func(e string) string {
			key := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(e, "${{"), "}}"))
			key = key[strings.LastIndex(key, ".")+1:]
			val, ok := vals[key]
			if !ok {
				t.Fatalf("step %q: no value for %s", s.Name, e)
			}
			return val
		}))
	}
	cmd := exec.Command("bash", "-e", "-c", s.Run)
	cmd.Env = append(env, extraEnv...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{}
	b, _ := os.ReadFile(outFile)
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			outputs[k] = v
		}
	}
	sum, _ := os.ReadFile(summary)
	outputs["_dir"] = dir
	return outputs, code, string(out) + "\n--- summary ---\n" + string(sum)
}

// TestActionRun runs the action's run and exit steps as the runner would,
// with the real corsaudit on a loopback fleet of which one instance
// drifts: with fail-on error the step fails (1) and SARIF and the job
// summary are written; with fail-on never it passes; a bad config is 2.
func TestActionRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds corsaudit")
	}
	a := readAction(t)
	bin := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "corsaudit"), "github.com/corsaudit/corsaudit/cmd/corsaudit").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var insts []string
	for i, methods := range [][]string{{"GET", "PUT"}, {"GET", "PUT"}, {"GET"}} {
		srv := httptest.NewServer(labserver.New(labserver.Behavior{ID: fmt.Sprint("i", i),
			AllowOrigins: []string{"https://app.example.com"}, AllowMethods: methods}))
		t.Cleanup(srv.Close)
		insts = append(insts, fmt.Sprintf("{id: i%d, addr: %s}", i, srv.Listener.Addr()))
	}
	cfg := filepath.Join(t.TempDir(), "corsaudit.yaml")
	yaml := "targets:\n  - name: shop\n    url: http://api.example.com/v1/cart\n    discover: {static: {instances: [" +
		strings.Join(insts, ", ") + "]}}\n    direct: {scheme: http}\n    lb: {disabled: true}\n" +
		"    policy: {origins: [https://app.example.com], methods: [GET, PUT]}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	path := "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")
	run, exit := a.step(t, "Run corsaudit"), a.step(t, "Exit as corsaudit did")
	for _, tc := range []struct {
		desc   string
		config string
		failOn string
		sarif  string
		code   string // the exit-code output
		exit   int    // the last step's exit code
	}{
		{"drift fails the gate", cfg, "error", "true", "1", 1},
		{"fail-on never passes", cfg, "never", "false", "0", 0},
		{"a missing config is a usage error", cfg + ".missing", "error", "true", "2", 2},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			runner := t.TempDir()
			outputs, code, log := runStep(t, run, map[string]string{"config": tc.config, "args": "audit",
				"sarif": tc.sarif, "fail-on": tc.failOn}, path, "RUNNER_TEMP="+runner)
			if code != 0 || outputs["exit-code"] != tc.code {
				t.Fatalf("run step: exit %d, exit-code output %q; want 0 and %q\n%s", code, outputs["exit-code"], tc.code, log)
			}
			if tc.code != "2" {
				report, err := os.ReadFile(outputs["report"])
				if err != nil || !strings.Contains(string(report), `"verdict-drift"`) {
					t.Errorf("report %q: %v; want the JSON report with the drift", outputs["report"], err)
				}
				if !strings.Contains(log, "--- summary ---\n```\nFAIL") {
					t.Errorf("job summary lacks the table:\n%s", log)
				}
			}
			sarif := outputs["sarif"] != ""
			if sarif != (tc.sarif == "true" && tc.code != "2") {
				t.Errorf("sarif output %q with sarif: %s", outputs["sarif"], tc.sarif)
			}
			if sarif {
				var doc struct {
					Runs []struct {
						Results []json.RawMessage `json:"results"`
					} `json:"runs"`
				}
				b, err := os.ReadFile(filepath.Join(outputs["_dir"], outputs["sarif"]))
				if err == nil {
					err = json.Unmarshal(b, &doc)
				}
				if err != nil || len(doc.Runs) != 1 || len(doc.Runs[0].Results) == 0 {
					t.Errorf("SARIF %s: %v, want one run with results", outputs["sarif"], err)
				}
			}
			_, code, log = runStep(t, exit, map[string]string{"exit-code": outputs["exit-code"]})
			if code != tc.exit {
				t.Errorf("exit step: %d, want %d\n%s", code, tc.exit, log)
			}
		})
	}
}

// TestActionInstall runs the action's install step against the release
// artifacts .ci/release built (RELEASE_DIR), with curl standing in for
// the download: the names the action asks for are the names a release
// has, and the checksum check passes.
func TestActionInstall(t *testing.T) {
	rel := os.Getenv("RELEASE_DIR")
	if rel == "" {
		msg := "RELEASE_DIR is not set: .ci/run builds the release artifacts and sets it"
		if testenv.InCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	files, _ := filepath.Glob(filepath.Join(rel, "corsaudit_*_linux_amd64.tar.gz"))
	if len(files) != 1 {
		t.Fatalf("no corsaudit_V_linux_amd64.tar.gz in %s: %q", rel, files)
	}
	v := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(files[0]), "corsaudit_"), "_linux_amd64.tar.gz")
	// curl -fsSL --retry 3 -o FILE URL: copy the URL's file from RELEASE_DIR.
	fake := t.TempDir()
	script := "#!/bin/sh\nfor a; do out=$url; url=$a; done\nwhile [ $# -gt 0 ]; do [ \"$1\" = -o ] && out=$2; shift; done\n" +
		"case \"$url\" in https://github.com/corsaudit/corsaudit/releases/download/v" + v + "/*) ;; *) echo \"unexpected URL $url\" >&2; exit 22;; esac\n" +
		"cp \"$RELEASE_DIR/${url##*/}\" \"$out\"\n"
	if err := os.WriteFile(filepath.Join(fake, "curl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	runner := t.TempDir()
	outputs, code, log := runStep(t, readAction(t).step(t, "Install corsaudit"), map[string]string{"version": "v" + v},
		"PATH="+fake+string(os.PathListSeparator)+os.Getenv("PATH"), "RUNNER_TEMP="+runner, "RUNNER_OS=Linux", "RUNNER_ARCH=X64")
	if code != 0 {
		t.Fatalf("install step: exit %d\n%s", code, log)
	}
	added, _ := os.ReadFile(filepath.Join(outputs["_dir"], "path"))
	dir := strings.TrimSpace(string(added))
	out, err := exec.Command(filepath.Join(dir, "corsaudit"), "--version").Output()
	if err != nil || !strings.Contains(string(out), v) {
		t.Errorf("installed corsaudit in %q: %v %q; want version %s", dir, err, out, v)
	}
}

// pinned matches what names a corsaudit release: the image, the action,
// go install.
var pinned = regexp.MustCompile(`(ghcr\.io/corsaudit/corsaudit:|corsaudit/corsaudit@|/cmd/corsaudit@)([A-Za-z0-9._-]+)`)

// TestPinnedVersions: every image, action and go install of corsaudit in
// the repository names the release the action installs (the image's -shell
// variant too), never latest; a release bumps them all at once.
func TestPinnedVersions(t *testing.T) {
	v := actionVersion(t)
	found := 0
	err := filepath.WalkDir("../..", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "dist" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		ext := filepath.Ext(p)
		if d.IsDir() || (ext != ".yml" && ext != ".yaml" && ext != ".md" && ext != ".sh") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range pinned.FindAllStringSubmatch(string(b), -1) {
			found++
			tag := m[2]
			if tag != v && !(m[1] == "ghcr.io/corsaudit/corsaudit:" && tag == v+"-shell") {
				t.Errorf("%s: %s%s, want %s (action.yml's version)", p, m[1], tag, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 5 {
		t.Errorf("%d pinned references found: the walk missed the examples", found)
	}
}

// TestReleaseWorkflow: the release workflow runs on version tags, its
// scripts pass bash -n, and its first check accepts the tag the action
// pins and refuses any other.
func TestReleaseWorkflow(t *testing.T) {
	var wf struct {
		On struct {
			Push struct {
				Tags []string `yaml:"tags"`
			} `yaml:"push"`
		} `yaml:"on"`
		Jobs map[string]struct {
			Steps []actionStep `yaml:"steps"`
		} `yaml:"jobs"`
	}
	readYAML(t, "../../.github/workflows/release.yml", &wf)
	if len(wf.On.Push.Tags) != 1 || wf.On.Push.Tags[0] != "v*" {
		t.Errorf("release.yml runs on tags %q, want [v*]", wf.On.Push.Tags)
	}
	var pin *actionStep
	for _, job := range wf.Jobs {
		for i, s := range job.Steps {
			if s.Run == "" {
				continue
			}
			cmd := exec.Command("bash", "-n")
			cmd.Stdin = strings.NewReader(s.Run)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("step %q: bash -n: %v\n%s", s.Name, err, out)
			}
			if strings.Contains(s.Run, "action.yml") {
				pin = &job.Steps[i]
			}
		}
	}
	if pin == nil {
		t.Fatal("no step checks the tag against action.yml")
	}
	for _, tc := range []struct {
		version string
		code    int
	}{{actionVersion(t), 0}, {"v99.0.0", 1}} {
		cmd := exec.Command("bash", "-e", "-c", pin.Run)
		cmd.Dir = "../.."
		cmd.Env = append(os.Environ(), "VERSION="+tc.version)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != tc.code {
			t.Errorf("tag %s: the pin check exits %d, want %d\n%s", tc.version, code, tc.code, out)
		}
	}
}

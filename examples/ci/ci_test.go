// Package ci holds CI pipelines that gate a blue-green traffic switch on
// `corsaudit gate`: GitHub Actions and GitLab CI. The tests check their
// syntax, that the switch depends on the gate, and that they call corsaudit
// the way it expects.
package ci

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/corsaudit/corsaudit/diff/render"
	"github.com/corsaudit/corsaudit/diff/severity"
)

func TestGitHubActions(t *testing.T) {
	var wf struct {
		Name string         `yaml:"name"`
		On   map[string]any `yaml:"on"`
		Jobs map[string]struct {
			Needs any `yaml:"needs"`
			Steps []struct {
				Name string            `yaml:"name"`
				Uses string            `yaml:"uses"`
				Run  string            `yaml:"run"`
				If   string            `yaml:"if"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	readYAML(t, "github-actions.yml", &wf)
	if _, ok := wf.On["workflow_dispatch"]; !ok {
		t.Error("no workflow_dispatch trigger")
	}
	gate, ok := wf.Jobs["gate"]
	if !ok {
		t.Fatal("no gate job")
	}
	if sw := wf.Jobs["switch"]; sw.Needs != "gate" {
		t.Errorf("switch job needs %v, want gate: the traffic must not move before the gate passes", sw.Needs)
	}
	var scripts []string
	action := 0
	for _, s := range gate.Steps {
		if s.Run != "" {
			// ${{ }} expressions are GitHub's, not the shell's.
			scripts = append(scripts, expr.ReplaceAllString(s.Run, "x"))
		}
		if strings.HasPrefix(s.Uses, "corsaudit/corsaudit@") {
			action++
			if v := strings.TrimPrefix(s.Uses, "corsaudit/corsaudit@"); v != actionVersion(t) {
				t.Errorf("the gate uses corsaudit/corsaudit@%s, want the release the action installs (%s)", v, actionVersion(t))
			}
			if s.With["config"] == "" || s.With["sarif"] != "true" {
				t.Errorf("the corsaudit step has config %q, sarif %q; want a config and SARIF uploaded", s.With["config"], s.With["sarif"])
			}
			// The action adds --config, --fail-on and --output to args.
			line := "corsaudit " + expr.ReplaceAllString(s.With["args"], "x") + " --config " + s.With["config"] + " --output r.json"
			checkArgs(t, line)
			if _, err := severity.ParseFailOn(s.With["fail-on"]); err != nil {
				t.Errorf("fail-on %q: %v", s.With["fail-on"], err)
			}
		}
	}
	if action != 1 {
		t.Errorf("%d steps use the corsaudit action, want 1", action)
	}
	checkScripts(t, scripts, 0)
}

// expr matches GitHub's ${{ }} expressions.
var expr = regexp.MustCompile(`\$\{\{[^}]*\}\}`)

func TestGitLabCI(t *testing.T) {
	var pipeline map[string]any
	readYAML(t, "gitlab-ci.yml", &pipeline)
	type job struct {
		Stage       string    `yaml:"stage"`
		Needs       []string  `yaml:"needs"`
		Script      []string  `yaml:"script"`
		Image       yaml.Node `yaml:"image"`
		AfterScript []string  `yaml:"after_script"`
		Artifacts   struct {
			When    string `yaml:"when"`
			Reports struct {
				JUnit string `yaml:"junit"`
			} `yaml:"reports"`
		} `yaml:"artifacts"`
	}
	var jobs map[string]job
	b, _ := os.ReadFile("gitlab-ci.yml")
	var raw map[string]yaml.Node
	if err := yaml.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	jobs = map[string]job{}
	for name, node := range raw {
		if name == "stages" || name == "variables" {
			continue
		}
		var j job
		if err := node.Decode(&j); err != nil {
			t.Fatalf("job %s: %v", name, err)
		}
		jobs[name] = j
	}
	gate, ok := jobs["corsaudit-gate"]
	if !ok {
		t.Fatal("no corsaudit-gate job")
	}
	if sw := jobs["switch-traffic"]; !slices.Contains(sw.Needs, "corsaudit-gate") {
		t.Errorf("switch-traffic needs %v, want corsaudit-gate", sw.Needs)
	}
	if gate.Artifacts.When != "always" || gate.Artifacts.Reports.JUnit != "corsaudit-junit.xml" {
		t.Errorf("gate artifacts %+v: want the JUnit report kept always", gate.Artifacts)
	}
	checkScripts(t, append(append([]string{}, gate.Script...), gate.AfterScript...), 1)
	var image struct {
		Name       string   `yaml:"name"`
		Entrypoint []string `yaml:"entrypoint"`
	}
	if err := gate.Image.Decode(&image); err != nil {
		t.Fatalf("gate image: %v", err)
	}
	if want := "ghcr.io/corsaudit/corsaudit:" + actionVersion(t) + "-shell"; image.Name != want || !slices.Equal(image.Entrypoint, []string{""}) {
		t.Errorf("gate image %+v, want %s with entrypoint [\"\"] (GitLab runs the script in its shell)", image, want)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
}

// checkScripts checks shell syntax (bash -n) and every corsaudit command
// line (checkArgs); gates is how many gate commands there must be.
func checkScripts(t *testing.T, scripts []string, gates int) {
	t.Helper()
	n := 0
	for _, s := range scripts {
		cmd := exec.Command("bash", "-n")
		cmd.Stdin = strings.NewReader(s)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("bash -n: %v\n%s\n%s", err, out, s)
		}
		joined := strings.ReplaceAll(s, "\\\n", " ")
		for _, line := range strings.Split(joined, "\n") {
			if checkArgs(t, line) == "gate" {
				n++
			}
		}
	}
	if n != gates {
		t.Errorf("%d corsaudit gate commands, want %d", n, gates)
	}
}

// checkArgs checks the corsaudit command in line, if any, and returns its
// subcommand: the gate compares two groups and writes a report; report
// formats exist.
func checkArgs(t *testing.T, line string) string {
	t.Helper()
	f := strings.Fields(line)
	i := slices.Index(f, "corsaudit")
	if i < 0 || i+1 >= len(f) {
		return ""
	}
	args := f[i:]
	switch args[1] {
	case "gate":
		for _, want := range []string{"--config", "--baseline", "--candidate", "--output"} {
			if !slices.Contains(args, want) {
				t.Errorf("gate command %q lacks %s", line, want)
			}
		}
	case "merge":
	default:
		t.Errorf("unexpected corsaudit subcommand in %q", line)
	}
	if k := slices.Index(args, "--format"); k >= 0 && k+1 < len(args) {
		if _, err := render.Lookup(args[k+1]); err != nil {
			t.Errorf("%q: %v", line, err)
		}
	}
	return args[1]
}

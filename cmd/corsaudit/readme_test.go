package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/corsaudit/corsaudit/config"
)

// TestCLIDocumentsEveryFlag: every flag of every command appears in
// docs/cli.md (linked from the README) as --name.
func TestCLIDocumentsEveryFlag(t *testing.T) {
	data, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	root := newRootCmd(iostreams{out: &bytes.Buffer{}, errOut: &bytes.Buffer{}})
	root.InitDefaultHelpFlag()
	var walk func(c *cobra.Command)
	checked := 0
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Name == "help" {
				return
			}
			checked++
			if !strings.Contains(readme, "--"+f.Name) {
				t.Errorf("docs/cli.md does not document %s --%s", c.CommandPath(), f.Name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if checked < 30 {
		t.Errorf("checked %d flags; the walk missed commands", checked)
	}
}

// TestCLIDocumentsEveryCommand: every command appears in docs/cli.md in a
// code span that starts with its path (`schema config|report...`), or
// with its parent's and names it (`completion bash|zsh|fish|powershell`).
func TestCLIDocumentsEveryCommand(t *testing.T) {
	data, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	var spans []string
	for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(string(data), -1) {
		spans = append(spans, strings.TrimPrefix(m[1], "corsaudit "))
	}
	documented := func(parent, name string) bool {
		for _, s := range spans {
			if strings.HasPrefix(s, strings.TrimSpace(parent+" "+name)) ||
				parent != "" && strings.HasPrefix(s, parent+" ") && slices.Contains(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '|' }), name) {
				return true
			}
		}
		return false
	}
	root := newRootCmd(iostreams{out: &bytes.Buffer{}, errOut: &bytes.Buffer{}})
	root.InitDefaultCompletionCmd()
	checked := 0
	var walk func(c *cobra.Command, parent string)
	walk = func(c *cobra.Command, parent string) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" {
				continue
			}
			checked++
			if !documented(parent, sub.Name()) {
				t.Errorf("docs/cli.md does not document the command %s", strings.TrimSpace(parent+" "+sub.Name()))
			}
			walk(sub, strings.TrimSpace(parent+" "+sub.Name()))
		}
	}
	walk(root, "")
	if checked < 12 {
		t.Errorf("checked %d commands; the walk missed some", checked)
	}
}

// TestDocsLinksResolve: every relative link of the README and of docs/
// names a file that exists, and every file under docs/ is linked from the
// README, so reference material that moves stays reachable.
func TestDocsLinksResolve(t *testing.T) {
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no docs/*.md: %v", err)
	}
	link := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)\s]*)?\)`)
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append([]string{"../../README.md"}, files...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(data), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(f), target)); err != nil {
				t.Errorf("%s links to %s, which does not exist", f, target)
			}
		}
	}
	for _, f := range files {
		if !strings.Contains(string(readme), "docs/"+filepath.Base(f)) {
			t.Errorf("README does not link to docs/%s", filepath.Base(f))
		}
	}
}

// TestConfigDocsShowTheDefaults: the settings docs/configuration.md shows
// first are config.Default's, the one place a default is written.
func TestConfigDocsShowTheDefaults(t *testing.T) {
	data, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(data), "```yaml\n")
	settings, _, found := strings.Cut(block, "targets:")
	if !ok || !found {
		t.Fatal("docs/configuration.md has no yaml block with settings before targets:")
	}
	shown, err := config.Parse([]byte(settings), "docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	d := config.Default()
	got, _ := yaml.Marshal(shown)
	want, _ := yaml.Marshal(&d)
	if string(got) != string(want) {
		t.Errorf("docs/configuration.md shows the settings\n%s\nconfig.Default is\n%s", got, want)
	}
	for _, key := range config.Settings {
		if !regexp.MustCompile(`(?m)^` + key + `:`).MatchString(settings) {
			t.Errorf("docs/configuration.md does not show %s", key)
		}
	}
}

// TestReadmeLayoutNamesEveryPackage: the layout block of the README's
// Development section names every package of the module (by its directory
// name), so a package added or moved shows up there.
func TestReadmeLayoutNamesEveryPackage(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, dev, ok := strings.Cut(string(readme), "## Development\n")
	if !ok {
		t.Fatal("README has no Development section")
	}
	_, block, ok := strings.Cut(dev, "```\n")
	block, _, ok2 := strings.Cut(block, "```\n")
	if !ok || !ok2 {
		t.Fatal("the Development section has no layout block")
	}
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dirs := strings.Fields(string(out))
	if len(dirs) < 10 {
		t.Fatalf("go list found %d packages", len(dirs))
	}
	for _, d := range dirs {
		rel, err := filepath.Rel(root, d)
		if err != nil {
			t.Fatal(err)
		}
		name := regexp.MustCompile(`(^|[\s/(])` + regexp.QuoteMeta(filepath.Base(rel)) + `/`)
		if !name.MatchString(block) {
			t.Errorf("the README's layout block does not name %s/", rel)
		}
	}
}

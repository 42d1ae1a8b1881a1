package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const limitTarget = "  url: https://api.example.com\n  policy: {origins: [https://app.example.com]}\n" +
	"  discover: {static: {instances: [{addr: 127.0.0.1:8080}]}}\n"

// numbered is n YAML lines made by line(i), joined.
func numbered(n int, line func(i int) string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(line(i))
		b.WriteByte('\n')
	}
	return b.String()
}

// TestAliasExpansionBounded: aliases repeat an anchored value without
// repeating its text. Whatever shape the repetition takes (a target, a
// list inside a policy, a provider section, aliases of aliases), what the
// aliases add is bounded, and an anchor that contains itself is refused
// rather than followed for ever.
func TestAliasExpansionBounded(t *testing.T) {
	for _, tc := range []struct {
		desc string
		yaml string
		want string
	}{
		{"a target with 1,000 paths repeated 1,000 times (the issue's example, smaller)",
			"targets:\n- &t\n  name: a\n" + limitTarget + "  paths:\n" +
				numbered(1000, func(i int) string { return fmt.Sprintf("    - /p%d", i) }) +
				strings.Repeat("- *t\n", 1000),
			"aliases expand"},
		{"nested aliases in a policy (billion laughs)",
			"a: &a [x, x, x, x, x, x, x, x, x, x]\n" +
				"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
				"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
				"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
				"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n" +
				"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n" +
				"targets:\n- url: https://api.example.com\n  policy: {origins: *f}\n",
			"aliases expand"},
		{"a provider section with 2,000 instances repeated 500 times",
			"targets:\n- url: https://api.example.com\n  policy: {origins: [https://app.example.com]}\n" +
				"  discover: &d\n    static:\n      instances:\n" +
				numbered(2000, func(i int) string { return fmt.Sprintf("        - addr: 127.0.0.1:%d", 1000+i) }) +
				strings.Repeat("- url: https://api.example.com\n  policy: {origins: [https://app.example.com]}\n  discover: *d\n", 500),
			"aliases expand"},
		{"an anchor inside itself", "targets: &x [*x]\n", `anchor "x" contains itself`},
		{"an anchor inside itself, deeper", "targets:\n- &t\n  paths: [/a]\n  lb: {x: *t}\n", `anchor "t" contains itself`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "bomb.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "config bomb.yaml: ") {
				t.Fatalf("Parse: got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestAliasesWithinBoundsStillWork: reusing a policy or a provider section
// across targets is what anchors are for.
func TestAliasesWithinBoundsStillWork(t *testing.T) {
	src := "targets:\n" +
		"- name: a\n  url: https://a.example.com\n  policy: &p {origins: [https://app.example.com], methods: [GET, PUT]}\n" +
		"  discover: &d {static: {instances: [{addr: 127.0.0.1:8080}]}}\n" +
		"  paths: &paths\n" + numbered(300, func(i int) string { return fmt.Sprintf("    - /p%d", i) }) +
		"- name: b\n  url: https://b.example.com\n  policy: *p\n  discover: *d\n  paths: *paths\n"
	c, err := Parse([]byte(src), "ok.yaml")
	if err != nil {
		t.Fatal(err)
	}
	built, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	if len(built.Targets) != 2 || len(built.Targets[1].Paths) != 300 || len(built.Targets[1].Policy.Methods) != 2 || built.Targets[1].Provider == nil {
		t.Fatalf("built %+v: want target b with the anchored policy, section and 300 paths", built.Targets[1])
	}
}

// TestProblemsAreCapped: however many problems a file has, the error lists
// the first few and says how many more: a file of 20,000 unknown keys or
// bad values is told in a screen, not megabytes (BenchmarkManyUnknownKeys
// times 200,000).
func TestProblemsAreCapped(t *testing.T) {
	const n = 20_000
	for _, tc := range []struct {
		desc  string
		yaml  string
		first string
	}{
		{"unknown top-level keys",
			numbered(n, func(i int) string { return fmt.Sprintf("k%d: 1", i) }),
			`many.yaml:1: unknown key "k0" (known: `},
		{"unknown keys in a target",
			"targets:\n- name: a\n" + limitTarget + numbered(n, func(i int) string { return fmt.Sprintf("  k%d: 1", i) }),
			`many.yaml:6: targets[0]: unknown key "k0"`},
		{"unknown keys in a provider section",
			"targets:\n- name: a\n  url: https://api.example.com\n  policy: {origins: [https://app.example.com]}\n" +
				"  discover:\n    static:\n      instances: [{addr: 127.0.0.1:8080}]\n" +
				numbered(n, func(i int) string { return fmt.Sprintf("      k%06d: 1", i) }),
			`targets[0].discover.static: unknown key "k000000"`},
		{"bad values in a list",
			"targets:\n- name: a\n" + limitTarget + "  paths:\n" + numbered(n, func(i int) string { return fmt.Sprintf("  - p%d", i) }),
			`targets[0].paths[0]: `},
		{"the same path listed again and again",
			"targets:\n- name: a\n" + limitTarget + "  paths:\n" + numbered(n, func(int) string { return "  - /same" }),
			`targets[0].paths[1]: "/same" is listed twice`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml), "many.yaml")
			if err != nil {
				t.Fatal(err)
			}
			err = c.Validate()
			if err == nil {
				t.Fatal("Validate: no error")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) > maxListed+1 {
				t.Fatalf("%d lines (%d bytes), want at most %d", len(lines), len(err.Error()), maxListed+1)
			}
			if !strings.Contains(lines[0], tc.first) {
				t.Errorf("first line %q, want it to contain %q", lines[0], tc.first)
			}
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "and ") || !strings.HasSuffix(last, " more problems") {
				t.Errorf("last line %q, want \"and N more problems\"", last)
			}
		})
	}
}

// BenchmarkManyUnknownKeys: parsing and validating a file of 200,000
// unknown keys (2 MB).
func BenchmarkManyUnknownKeys(b *testing.B) {
	data := []byte(numbered(200_000, func(i int) string { return fmt.Sprintf("k%d: 1", i) }))
	for b.Loop() {
		c, err := Parse(data, "many.yaml")
		if err != nil {
			b.Fatal(err)
		}
		if c.Validate() == nil {
			b.Fatal("no error")
		}
	}
}

// BenchmarkManyPaths: validating a target of 100,000 distinct paths
// (the duplicate check is linear).
func BenchmarkManyPaths(b *testing.B) {
	data := []byte("targets:\n- name: a\n" + limitTarget + "  paths:\n" +
		numbered(100_000, func(i int) string { return fmt.Sprintf("  - /p%d", i) }))
	c, err := Parse(data, "paths.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := c.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReadFileLimit: a config is read whole, up to MaxFileSize; a larger
// file, or an endless one, is an error that says so (not a hang or an
// exhausted memory).
func TestReadFileLimit(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	small := filepath.Join(t.TempDir(), "small.yaml")
	if err := os.WriteFile(small, []byte("timeout: 2s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		desc, path, want string
	}{
		{"an endless file", "/dev/zero", "/dev/zero: larger than 32 MiB"},
		{"one byte over", big, "big.yaml: larger than 32 MiB"},
		{"a missing file", filepath.Join(t.TempDir(), "none.yaml"), "no such file"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if tc.path == "/dev/zero" {
				if _, err := os.Stat(tc.path); err != nil {
					t.Skip("no /dev/zero here")
				}
			}
			_, err := ReadFile(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ReadFile: got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	data, err := ReadFile(small)
	if err != nil || string(data) != "timeout: 2s\n" {
		t.Fatalf("ReadFile(small): %q, %v", data, err)
	}
}

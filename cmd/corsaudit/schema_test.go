package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/corsaudit/corsaudit/docs/schema"
	"github.com/corsaudit/corsaudit/internal/lab"
	"github.com/corsaudit/corsaudit/internal/testinfra/schemagen"
	"github.com/corsaudit/corsaudit/pipeline"
)

var update = flag.Bool("update", false, "rewrite docs/schema/*.json from the Go types")

// TestSchemas: the committed schemas are those the Go types generate now
// (-update rewrites them), and `corsaudit schema NAME` prints them.
func TestSchemas(t *testing.T) {
	g, err := schemagen.New("../..")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("../../docs/schema/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range schema.Names {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("../../docs/schema", name+".json")
			want, err := g.Generate(name)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./cmd/corsaudit -run TestSchemas -update writes it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s is not the schema the Go types generate: a type changed without its schema; run go test ./cmd/corsaudit -run TestSchemas -update and review the diff", path)
			}
			code, out, stderr := runCLI("schema", name)
			if code != exitClean || out != string(got) {
				t.Errorf("corsaudit schema %s: exit %d, %d bytes, want %s (%d bytes)\n%s", name, code, len(out), path, len(got), stderr)
			}
		})
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	if want := slices.Sorted(slices.Values(schema.Names)); !slices.Equal(names, want) {
		t.Errorf("docs/schema holds %q, want a schema for each of %q", names, want)
	}
	if code, _, stderr := runCLI("schema", "policy"); code != exitUsage || !strings.Contains(stderr, `invalid argument "policy"`) {
		t.Errorf("schema policy: exit %d, want %d\n%s", code, exitUsage, stderr)
	}
}

// compileSchema compiles the committed schema of document name.
func compileSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	data, err := schema.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	id := doc.(map[string]any)["$id"].(string)
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatalf("schema %s: %v", name, err)
	}
	return sch
}

// yamlDoc decodes YAML as the schema validator takes it.
func yamlDoc(t *testing.T, data []byte) any {
	t.Helper()
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// exampleConfigs are the corsaudit configs of examples/: the files, and
// those a Kubernetes ConfigMap of examples/ carries.
func exampleConfigs(t *testing.T) map[string][]byte {
	t.Helper()
	configs := map[string][]byte{}
	files, err := filepath.Glob("../../examples/*/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(filepath.Base(f), "corsaudit") {
			configs[f] = data
			continue
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var m struct {
				Kind string            `yaml:"kind"`
				Data map[string]string `yaml:"data"`
			}
			if dec.Decode(&m) != nil {
				break
			}
			for key, text := range m.Data {
				if m.Kind == "ConfigMap" && strings.HasSuffix(key, ".yaml") && strings.Contains(text, "targets:") {
					configs[f+": "+key] = []byte(text)
				}
			}
		}
	}
	return configs
}

// TestConfigSchemaValidatesExamples: every example config, the sample of
// docs/configuration.md and the configs `corsaudit lab` and `demo` write
// are valid under the config schema, as they are for `config check`.
func TestConfigSchemaValidatesExamples(t *testing.T) {
	sch := compileSchema(t, "config")
	configs := exampleConfigs(t)
	if len(configs) < 7 {
		t.Fatalf("found only %d example configs: %v", len(configs), slices.Collect(func(yield func(string) bool) {
			for k := range configs {
				if !yield(k) {
					return
				}
			}
		}))
	}
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	sample := regexp.MustCompile("(?s)## Config\n.*?```yaml\n(.*?)```").FindSubmatch(doc)
	if sample == nil {
		t.Fatal("docs/configuration.md has no yaml sample under ## Config")
	}
	configs["docs/configuration.md"] = sample[1]
	for _, sc := range lab.Scenarios() {
		l := &lab.Lab{Scenario: sc, URL: "http://127.0.0.1:8080" + lab.Path,
			Instances: []lab.Instance{{ID: "web-01", Addr: "127.0.0.1:9001", Group: "blue"}}}
		text, err := l.ConfigYAML()
		if err != nil {
			t.Fatal(err)
		}
		configs["lab "+sc.Name] = text
	}
	configs["demo"] = []byte(demoConfig(t))
	for name, data := range configs {
		if err := sch.Validate(yamlDoc(t, data)); err != nil {
			t.Errorf("%s does not validate against the config schema: %v", name, err)
		}
	}
	policy, err := os.ReadFile("../../examples/gate/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	wrapped := "targets:\n  - discover: {static: {instances: []}}\n    policy:\n" + indentLines(string(policy), "      ")
	if err := sch.Validate(yamlDoc(t, []byte(wrapped))); err != nil {
		t.Errorf("examples/gate/policy.yaml is not a valid policy: section: %v", err)
	}
}

func indentLines(s, prefix string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(prefix + line + "\n")
	}
	return b.String()
}

// TestConfigSchemaAcceptsWeakTypes: a provider section is decoded weakly
// typed (a number for a string, a number in a string): the schema accepts
// it too, as config check does.
func TestConfigSchemaAcceptsWeakTypes(t *testing.T) {
	sch := compileSchema(t, "config")
	for _, tc := range []struct{ desc, yaml string }{
		{"a number for a string", "targets:\n  - url: https://api.example.com/\n    discover: {static: {instances: [{id: 7, addr: 127.0.0.1:1, labels: {tier: 1}}]}}\n    policy: {origins: [https://app.example.com]}\n"},
		{"a number in a string", "targets:\n  - discover: {dns: {name: web.internal, port: \"8080\"}}\n    policy: {origins: [https://app.example.com]}\n"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if err := sch.Validate(yamlDoc(t, []byte(tc.yaml))); err != nil {
				t.Errorf("the schema rejects what corsaudit accepts: %v", err)
			}
			if code, _, stderr := runCLI("config", "check", "--config", writeConfig(t, tc.yaml)); code != exitClean {
				t.Errorf("config check: exit %d, want %d\n%s", code, exitClean, stderr)
			}
		})
	}
}

// TestConfigSchemaRejects: what `config check` rejects for its form, the
// schema rejects too, so an editor marks it as it is typed.
func TestConfigSchemaRejects(t *testing.T) {
	sch := compileSchema(t, "config")
	const target = "targets:\n  - url: https://api.example.com/\n    discover: {static: {instances: [{id: a, addr: 127.0.0.1:1}]}}\n    policy: {origins: [https://app.example.com]}\n"
	tests := []struct {
		desc, yaml string
	}{
		{desc: "duration without a unit", yaml: "timeout: 5\n" + target},
		{desc: "duration that is not one", yaml: "deadline: soon\n" + target},
		{desc: "unknown top-level key", yaml: "timeuot: 5s\n" + target},
		{desc: "unknown browser", yaml: "browser: netscape\n" + target},
		{desc: "unknown check", yaml: "checks: [drift, speed]\n" + target},
		{desc: "unknown fail_on", yaml: "fail_on: critical\n" + target},
		{desc: "no targets", yaml: "timeout: 5s\n"},
		{desc: "target without policy", yaml: "targets:\n  - discover: {dns: {name: web.internal, port: 80}}\n"},
		{desc: "policy without origins", yaml: "targets:\n  - discover: {dns: {name: a, port: 80}}\n    policy: {methods: [GET]}\n"},
		{desc: "no provider", yaml: "targets:\n  - discover: {}\n    policy: {origins: [https://a.example]}\n"},
		{desc: "two providers", yaml: "targets:\n  - discover: {dns: {name: a, port: 80}, static: {instances: []}}\n    policy: {origins: [https://a.example]}\n"},
		{desc: "unknown provider", yaml: "targets:\n  - discover: {consul: {service: web}}\n    policy: {origins: [https://a.example]}\n"},
		{desc: "unknown provider key", yaml: "targets:\n  - discover: {dns: {name: a, prot: 80}}\n    policy: {origins: [https://a.example]}\n"},
		{desc: "provider duration without a unit", yaml: "targets:\n  - discover: {gcp: {project: p, backend_service: b, call_timeout: 30}}\n    policy: {origins: [https://a.example]}\n"},
		{desc: "unknown key in a static instance", yaml: "targets:\n  - discover: {static: {instances: [{id: a, adr: 127.0.0.1:1}]}}\n    policy: {origins: [https://a.example]}\n"},
		{desc: "an empty list of sources", yaml: "targets:\n  - discover: []\n    policy: {origins: [https://a.example]}\n"},
		{desc: "a source with two providers", yaml: "targets:\n  - discover:\n      - {group: blue, dns: {name: a, port: 80}, static: {instances: []}}\n    policy: {origins: [https://a.example]}\n"},
		{desc: "a source with a group only", yaml: "targets:\n  - discover:\n      - {group: blue}\n    policy: {origins: [https://a.example]}\n"},
		{desc: "a source with an empty group", yaml: "targets:\n  - discover:\n      - {group: '', dns: {name: a, port: 80}}\n    policy: {origins: [https://a.example]}\n"},
		{desc: "a source with an unknown key", yaml: "targets:\n  - discover:\n      - {gruop: blue, dns: {name: a, port: 80}}\n    policy: {origins: [https://a.example]}\n"},
		{desc: "direct scheme", yaml: "targets:\n  - discover: {dns: {name: a, port: 80}}\n    direct: {scheme: ftp}\n    policy: {origins: [https://a.example]}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if err := sch.Validate(yamlDoc(t, []byte(tc.yaml))); err == nil {
				t.Errorf("the schema accepts:\n%s", tc.yaml)
			}
			path := writeConfig(t, tc.yaml)
			if code, _, _ := runCLI("config", "check", "--config", path); code != exitUsage {
				t.Errorf("config check: exit %d, want %d: the schema rejects what corsaudit accepts", code, exitUsage)
			}
		})
	}
}

// TestOutputSchemasValidateOutputs: the demo's JSON report, an inventory
// of the demo fleet, the two shards audited from it and the report merged
// from them are valid under their schemas; a wrong kind is not.
func TestOutputSchemasValidateOutputs(t *testing.T) {
	dir := t.TempDir()
	code, demoOut, stderr := runCLI("demo", "--format", "json")
	if code != exitClean {
		t.Fatalf("demo: exit %d\n%s", code, stderr)
	}
	cfg := filepath.Join(dir, "demo.yaml")
	if err := os.WriteFile(cfg, []byte(demoConfig(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(dir, "inventory.json")
	if code, _, stderr := runCLI("discover", "--config", cfg, "--output", inv); code != exitClean {
		t.Fatalf("discover: exit %d\n%s", code, stderr)
	}
	var shards []string
	for _, k := range []string{"0/2", "1/2"} {
		out := filepath.Join(dir, "shard-"+k[:1]+".json")
		if code, _, stderr := runCLI("audit", "--inventory", inv, "--shard", k, "--output", out); code != exitClean {
			t.Fatalf("audit --shard %s: exit %d\n%s", k, code, stderr)
		}
		shards = append(shards, out)
	}
	code, merged, stderr := runCLI(append([]string{"merge", "--format", "json", "--fail-on", "never"}, shards...)...)
	if code != exitClean {
		t.Fatalf("merge: exit %d\n%s", code, stderr)
	}
	docs := []struct {
		desc, schema string
		data         []byte
	}{
		{"demo report", "report", []byte(demoOut)},
		{"merged report", "report", []byte(merged)},
		{"inventory", "inventory", readFile(t, inv)},
		{"shard 0/2", "shard", readFile(t, shards[0])},
		{"shard 1/2", "shard", readFile(t, shards[1])},
	}
	compiled := map[string]*jsonschema.Schema{}
	for _, d := range docs {
		sch := compiled[d.schema]
		if sch == nil {
			sch = compileSchema(t, d.schema)
			compiled[d.schema] = sch
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(d.data))
		if err != nil {
			t.Fatalf("%s: %v", d.desc, err)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("%s does not validate against the %s schema: %v", d.desc, d.schema, err)
		}
		// The same document with a field of the wrong type is invalid.
		var m map[string]any
		if err := json.Unmarshal(d.data, &m); err != nil {
			t.Fatal(err)
		}
		m["targets"] = "all of them"
		bad, _ := json.Marshal(m)
		doc, _ = jsonschema.UnmarshalJSON(bytes.NewReader(bad))
		if sch.Validate(doc) == nil {
			t.Errorf("%s with targets a string validates against the %s schema", d.desc, d.schema)
		}
	}
}

// demoConfig starts the demo's fleet for the test and returns the config
// that audits it, as written out.
func demoConfig(t *testing.T) string {
	t.Helper()
	fleet, err := startDemoFleet()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fleet.Close)
	text, err := pipeline.ConfigYAML(fleet.config)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

package config

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/corsaudit/corsaudit/discovery"
)

func parseFile(t *testing.T, file string) (*Config, error) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return Parse(data, file)
}

func TestParseValid(t *testing.T) {
	c, err := parseFile(t, "testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	built, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		desc      string
		got, want any
	}{
		{"concurrency from the file", c.Concurrency, 32},
		{"timeout from the file", c.Timeout, 3 * time.Second},
		{"deadline from the file", c.Deadline, time.Minute},
		{"browser default", c.Browser, "chromium"},
		{"fail_on default", c.FailOn, "error"},
		{"max_probes default", c.MaxProbes, 200},
		{"interval default", c.Interval, 10 * time.Minute},
		{"one target built", len(built.Targets), 1},
		{"methods normalised", built.Targets[0].Policy.Methods[2], "PUT"},
		{"credentials", built.Targets[0].Policy.Credentials, true},
		{"instance header", built.Targets[0].LB.InstanceHeader, "X-Instance-Id"},
		{"direct scheme", built.Targets[0].Direct.Scheme, "http"},
		{"label", built.Targets[0].Label, "shop-api"},
		// Positions cost more than a large inventory's values: a config
		// without problems never records them.
		{"no positions recorded", len(c.pos), 0},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.desc, tc.got, tc.want)
		}
	}
}

// TestFronts: a target's fronts, outermost first, reach the audit as
// written; without fronts: none.
func TestFronts(t *testing.T) {
	c, err := parseFile(t, "testdata/fronts-valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	built := b.Targets
	if got, want := fmt.Sprint(built[0].Fronts), "[{cdn https://api.example.com } {lb  shop-alb.example.com:443}]"; got != want {
		t.Errorf("fronts %s, want %s", got, want)
	}
	if built[1].Fronts != nil {
		t.Errorf("a target without fronts: %v", built[1].Fronts)
	}
}

func TestInvalidConfigs(t *testing.T) {
	for _, tc := range []struct {
		desc string
		file string
		want []string
	}{
		{"unknown key in a target", "invalid-unknown-key.yaml", []string{
			`testdata/invalid-unknown-key.yaml:8: targets[0]: unknown key "polcy", did you mean "policy"?`}},
		{"unknown key in lb", "invalid-lb-key.yaml", []string{
			`testdata/invalid-lb-key.yaml:8: targets[0].lb: unknown key "instance_hedaer", did you mean "instance_header"?`}},
		{"unknown key in a provider section", "invalid-provider-key.yaml", []string{
			`testdata/invalid-provider-key.yaml:7: targets[0].discover.static: unknown key "region" (known: instances, id, addr, group, zone, scheme, labels)`}},
		{"no targets", "invalid-no-targets.yaml", []string{"targets: at least one target is required"}},
		{"fronts", "invalid-fronts.yaml", []string{
			`testdata/invalid-fronts.yaml:7: targets[0].lb.disabled: true samples none of the fronts: remove it or fronts:`,
			`testdata/invalid-fronts.yaml:9: targets[0].fronts[0].url: "api.example.com" is not an absolute http(s) URL`,
			`testdata/invalid-fronts.yaml:10: targets[0].fronts[1].name: "cdn" already names fronts[0]`,
			`testdata/invalid-fronts.yaml:10: targets[0].fronts[1].address: "lb.example.com:https": port "https" is not a number from 1 to 65535`,
			`testdata/invalid-fronts.yaml:11: targets[0].fronts[2].name: required (the name findings give the layer: cdn, lb)`,
			`testdata/invalid-fronts.yaml:11: targets[0].fronts[2]: give url: or address:, not both`,
			`testdata/invalid-fronts.yaml:12: targets[0].fronts[3]: unknown key "addrress", did you mean "address"?`,
			`testdata/invalid-fronts.yaml:12: targets[0].fronts[3].name: "the lb" is not a short name (letters, digits, '.', '_' and '-', up to 32)`,
			`testdata/invalid-fronts.yaml:12: targets[0].fronts[3]: give url: (the layer's own URL) or address: (host:port dialled with the public Host and SNI)`}},
		{"bad duration", "invalid-duration.yaml", []string{
			`testdata/invalid-duration.yaml:1: timeout: "fast" is not a duration (like 500ms, 5s, 2m)`,
			`testdata/invalid-duration.yaml:2: targets: at least one target is required`}},
		{"interval not positive", "invalid-interval.yaml", []string{
			`testdata/invalid-interval.yaml:1: interval: 0s must be positive`}},
		{"duration without a unit", "invalid-duration-unit.yaml", []string{
			`testdata/invalid-duration-unit.yaml:1: timeout: "5" has no unit: write "5s" (or 500ms, 2m)`}},
		{"values of the wrong type", "invalid-type.yaml", []string{
			`testdata/invalid-type.yaml:1: concurrency: "lots" is not a whole number`,
			`testdata/invalid-type.yaml:2: checks: not a list`,
			`testdata/invalid-type.yaml:8: targets[0].lb.disabled: "maybe" is not true or false`}},
		// Problems are listed in the order of the file's lines.
		{"an unknown key does not hide the other problems", "invalid-unknown-and-more.yaml", []string{
			`testdata/invalid-unknown-and-more.yaml:1: unknown key "concurency", did you mean "concurrency"?`,
			`testdata/invalid-unknown-and-more.yaml:2: per_instance: 0 must be at least 1`,
			`testdata/invalid-unknown-and-more.yaml:7: targets[0].discover.static.instances[0]: unknown key "adr", did you mean "addr"?`,
			`testdata/invalid-unknown-and-more.yaml:10: targets[0].policy.methods[1]: "P UT" is not an HTTP method`,
			`testdata/invalid-unknown-and-more.yaml:11: targets[0].policy.headers[0]: "X Request" is not a header name`}},
		{"paths, auth and tls", "invalid-target-keys.yaml", []string{
			`testdata/invalid-target-keys.yaml:7: targets[0].paths[1]: "v1/items" is not an absolute path (like /v1/cart)`,
			`testdata/invalid-target-keys.yaml:7: targets[0].paths[2]: "/v1/cart" is listed twice`,
			`testdata/invalid-target-keys.yaml:9: targets[0].auth: a browser sends cookies only on credentialed requests: set policy.credentials: true`,
			readOnBuild + `testdata/invalid-target-keys.yaml:10: targets[0].auth.value_from_env: CORSAUDIT_CONFIG_TEST_UNSET is not set or empty`,
			`testdata/invalid-target-keys.yaml:11: targets[0].auth: unknown key "valu_from_file", did you mean "value_from_file"?`,
			`testdata/invalid-target-keys.yaml:13: targets[0].tls.cert_file: key_file is required with it`}},
		{"many problems", "invalid-many.yaml", []string{
			`testdata/invalid-many.yaml:1: concurrency: 0 must be at least 1`,
			`testdata/invalid-many.yaml:3: deadline: 5s is shorter than timeout 10s`,
			`testdata/invalid-many.yaml:4: fail_on: "sometimes" is not error, warning, info or never`,
			`testdata/invalid-many.yaml:7: targets[0].url: "api.example.com" is not an absolute http(s) URL`,
			`testdata/invalid-many.yaml:10: targets[0].discover.static.instances[0].addr: "nope" is not host:port`,
			`testdata/invalid-many.yaml:11: targets[0].direct.scheme: "ftp" is not http or https`,
			`testdata/invalid-many.yaml:13: targets[0].policy.origins[0]: "app.example.com" has no scheme`,
			`testdata/invalid-many.yaml:13: targets[0].policy.origins[1]: "https://app.example.com/": an origin has no trailing slash (browsers send "https://app.example.com")`,
			`testdata/invalid-many.yaml:13: targets[0].policy.origins[2]: "https://app.example.com/path" is not an origin (scheme://host[:port] only)`,
			`testdata/invalid-many.yaml:14: targets[0].policy.methods[0]: "GE T" is not an HTTP method`,
			`testdata/invalid-many.yaml:15: targets[1].name: "a" already used by targets[0]`,
			`testdata/invalid-many.yaml:17: targets[1].discover.consul: unknown provider (known: aws, dns, gcp, kubernetes, static)`}},
		{"a list of sources", "invalid-sources.yaml", []string{
			`testdata/invalid-sources.yaml:7: targets[0].discover[0].static.instances[0]: unknown key "adr", did you mean "addr"?`,
			`testdata/invalid-sources.yaml:8: targets[0].discover[1].group: not a group name`,
			`testdata/invalid-sources.yaml:8: targets[0].discover[1]: exactly one provider per source, got 2 (a list of sources under discover: combines several)`,
			`testdata/invalid-sources.yaml:12: targets[0].discover[2]: one provider is required (one of aws, dns, gcp, kubernetes, static)`,
			`testdata/invalid-sources.yaml:13: targets[0].discover[3].consul: unknown provider (known: aws, dns, gcp, kubernetes, static)`,
			`testdata/invalid-sources.yaml:17: targets[1].discover: at least one source is required (a provider section, and group: when the source is one group)`}},
	} {
		checkProblems(t, tc.desc, tc.file, tc.want)
	}
}

// checkProblems checks that the config in testdata/file has exactly the
// problems want, in order: Validate reads nothing, so the problems only
// reading finds (marked readOnBuild) are Build's, listed in their place
// among the others.
func checkProblems(t *testing.T, desc, file string, want []string) {
	t.Helper()
	var validate, build []string
	for _, w := range want {
		if line, read := strings.CutPrefix(w, readOnBuild); read {
			build = append(build, line)
			continue
		}
		validate, build = append(validate, w), append(build, w)
	}
	for _, step := range []struct {
		name string
		run  func(*Config) error
		want []string
	}{
		{"Validate", (*Config).Validate, validate},
		{"Build", func(c *Config) error { _, err := c.Build(); return err }, build},
	} {
		c, err := parseFile(t, filepath.Join("testdata", file))
		if err == nil {
			err = step.run(c)
		}
		want := strings.Join(step.want, "\n")
		switch {
		case err == nil && want != "":
			t.Errorf("%s: %s: no error, want %q", desc, step.name, want)
		case err != nil && err.Error() != want:
			t.Errorf("%s: %s:\n got: %s\nwant: %s", desc, step.name, err, want)
		}
	}
}

// readOnBuild marks a problem that only reading a secret or a file finds:
// Build reports it, Validate does not.
const readOnBuild = "(read) "

func TestParseUnreadableYAML(t *testing.T) {
	_, err := parseFile(t, "testdata/invalid-yaml.yaml")
	if want := "config testdata/invalid-yaml.yaml: line 3: did not find expected ',' or ']'"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want it to contain %q", err, want)
	}
}

func TestParsePolicy(t *testing.T) {
	for _, tc := range []struct {
		desc, yaml, want string
	}{
		{"valid", "origins: [https://app.example.com]\nmethods: [get, PUT]\n", ""},
		{"methods, headers and keys checked like a target's policy",
			"origins: [https://app.example.com, \"app2.example.com\"]\nmethods: [\"GE T\"]\nheaders: [\"X Request-Id\"]\ncredentals: true\n",
			strings.Join([]string{
				`p.yaml:4: unknown key "credentals", did you mean "credentials"?`,
				`p.yaml:1: origins[1]: "app2.example.com" has no scheme`,
				`p.yaml:2: methods[0]: "GE T" is not an HTTP method`,
				`p.yaml:3: headers[0]: "X Request-Id" is not a header name`}, "\n")},
		{"no origin", "methods: [GET]\n", "origins: at least one origin is required (the page origins that call this service)"},
	} {
		_, err := ParsePolicy([]byte(tc.yaml), "p.yaml")
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%s:\n got: %s\nwant: %s", tc.desc, got, tc.want)
		}
	}
}

func TestSet(t *testing.T) {
	for _, tc := range []struct {
		desc, key, value, name string
		want                   string // the problem, or "" when valid
	}{
		{"duration", "timeout", "3s", "CORSAUDIT_TIMEOUT", ""},
		{"duration without a unit from a variable", "timeout", "5", "CORSAUDIT_TIMEOUT", `CORSAUDIT_TIMEOUT: "5" has no unit: write "5s" (or 500ms, 2m)`},
		{"number from a flag", "concurrency", "many", "--concurrency", `--concurrency: "many" is not a whole number`},
		{"invalid value from a variable", "per_instance", "0", "CORSAUDIT_PER_INSTANCE", "CORSAUDIT_PER_INSTANCE: 0 must be at least 1"},
		{"list", "checks", "drift, lb", "--checks", ""},
	} {
		c, err := parseFile(t, "testdata/valid.yaml")
		if err != nil {
			t.Fatal(err)
		}
		c.Set(tc.key, tc.value, tc.name)
		got := ""
		if err := c.Validate(); err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%s:\n got: %s\nwant: %s", tc.desc, got, tc.want)
		}
	}
}

// TestMarshalRoundTrip: a Config written as YAML parses back into the same
// Config (what the lab and demo rely on to write their configs).
func TestMarshalRoundTrip(t *testing.T) {
	c := Default()
	c.Timeout = 1500 * time.Millisecond
	c.Analyses = []string{"drift", "lb"}
	c.Interval = 90 * time.Second
	c.Targets = []Target{{
		Name: "shop-api", URL: "http://127.0.0.1:8080/v1/cart",
		Discover: map[string]map[string]any{"static": {"instances": []any{
			map[string]any{"id": "web-1", "addr": "127.0.0.1:8081", "group": "blue"}}}},
		Direct: Direct{Scheme: "http"},
		LB:     LB{InstanceHeader: "X-Instance-Id", Samples: 4},
		Policy: Policy{Origins: []string{"https://app.example.com"}, Methods: []string{"GET", "PUT"},
			Headers: []string{"X-Request-Id"}, Credentials: true},
	}}
	data, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data, "marshalled")
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Validate(); err != nil {
		t.Fatalf("marshalled config is invalid: %v\n%s", err, data)
	}
	again, err := yaml.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(data) {
		t.Errorf("round trip changed the config:\n%s\nvs\n%s", data, again)
	}
	if back.Timeout != c.Timeout || back.Interval != c.Interval || back.Targets[0].LB.Samples != 4 || !back.Targets[0].Policy.Credentials {
		t.Errorf("round trip: %+v", back)
	}
}

// TestSources: discover: as a list of sources builds one provider of
// every source, named by group (else provider), each with its group; the
// list survives the round trip through YAML (inventories and shards carry
// the config as YAML and fingerprint it).
func TestSources(t *testing.T) {
	c, err := parseFile(t, "testdata/sources-valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	built, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	srcs, ok := built.Targets[0].Provider.(discovery.Sources)
	if !ok {
		t.Fatalf("provider is a %T, want discovery.Sources", built.Targets[0].Provider)
	}
	var got []string
	for _, s := range srcs {
		got = append(got, s.Name+"="+s.Group)
	}
	if want := "blue=blue green=green dns="; strings.Join(got, " ") != want {
		t.Errorf("sources %q, want %q", strings.Join(got, " "), want)
	}
	ts, err := srcs[:2].Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, in := range ts[0].Instances {
		groups = append(groups, in.ID+":"+in.Group+":"+in.Pool)
	}
	if want := "blue-1:blue: green-1:green:"; strings.Join(groups, " ") != want {
		t.Errorf("instances %q, want %q (the source's group wins; no router, no pools)", strings.Join(groups, " "), want)
	}
	data, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data, "marshalled")
	if err != nil {
		t.Fatal(err)
	}
	again, err := yaml.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(data) {
		t.Errorf("YAML changed on the round trip:\n%s\nvs\n%s", data, again)
	}
	if len(back.Targets[0].Sources) != 3 || back.Targets[0].Sources[1].Group != "green" {
		t.Errorf("sources after the round trip: %+v", back.Targets[0].Sources)
	}
	if !strings.Contains(string(data), "discover:\n") || !strings.Contains(string(data), "group: blue") {
		t.Errorf("the list form is not written as a list:\n%s", data)
	}
}

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestLoadConfigValid(t *testing.T) {
	c, err := loadConfig("testdata/valid.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	built, err := c.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if c.Concurrency != 32 || c.PerInstance != 2 || c.Timeout != 3*time.Second || c.Deadline != time.Minute {
		t.Errorf("settings = %+v", c)
	}
	if c.Browser != "chromium" || c.FailOn != "error" || c.MaxProbes != 200 {
		t.Errorf("defaults not applied: %+v", c)
	}
	if len(built) != 1 || built[0].policy.Methods[2] != "PUT" || !built[0].policy.Credentials {
		t.Errorf("built = %+v", built)
	}
	if c.Targets[0].LB.InstanceHeader != "X-Instance-Id" || c.Targets[0].Direct.Scheme != "http" {
		t.Errorf("target = %+v", c.Targets[0])
	}
}

// TestPrecedence checks file < CORSAUDIT_* environment < flags.
func TestPrecedence(t *testing.T) {
	t.Setenv("CORSAUDIT_TIMEOUT", "4s")
	t.Setenv("CORSAUDIT_PER_INSTANCE", "7")
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	addSettingFlags(fs)
	if err := fs.Parse([]string{"--per-instance=9"}); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig("testdata/valid.yaml", fs)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		desc      string
		got, want any
	}{
		{"file only", c.Concurrency, 32},
		{"env beats file", c.Timeout, 4 * time.Second},
		{"flag beats env and file", c.PerInstance, 9},
		{"default", c.MaxProbes, 200},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.desc, tc.got, tc.want)
		}
	}
}

func TestInvalidConfigs(t *testing.T) {
	for _, tc := range []struct {
		file string
		want string
	}{
		{"testdata/invalid-unknown-key.yaml", "config testdata/invalid-unknown-key.yaml: 'targets[0]' has invalid keys: polcy"},
		{"testdata/invalid-provider-key.yaml", `targets[0].discover.static: '' has invalid keys: region`},
		{"testdata/invalid-no-targets.yaml", "targets: at least one target is required"},
		{"testdata/invalid-duration.yaml", "config testdata/invalid-duration.yaml: 'timeout' \"fast\" is not a duration (like 500ms, 5s, 2m)"},
		{"testdata/invalid-many.yaml", strings.Join([]string{
			`concurrency: 0 must be at least 1`,
			`deadline: 5s is shorter than timeout 10s`,
			`fail_on: "sometimes" is not error, warning, info or never`,
			`targets[0].url: "api.example.com" is not an absolute http(s) URL`,
			`targets[0].direct.scheme: "ftp" is not http or https`,
			`targets[0].policy.origins[0]: "app.example.com" has no scheme`,
			`targets[0].policy.origins[1]: "https://app.example.com/": an origin has no trailing slash (browsers send "https://app.example.com")`,
			`targets[0].policy.origins[2]: "https://app.example.com/path" is not an origin (scheme://host[:port] only)`,
			`targets[0].policy.methods[0]: "GE T" is not an HTTP method`,
			`targets[0].discover.static: instances[0].addr: "nope" is not host:port`,
			`targets[1].name: "a" already used by targets[0]`,
			`targets[1].discover.consul: unknown provider (known: ` + providerNames() + `)`,
		}, "\n")},
	} {
		c, err := loadConfig(tc.file, nil)
		if err == nil {
			_, err = c.Validate()
		}
		if err == nil {
			t.Errorf("%s: no error, want %q", tc.file, tc.want)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("%s:\n got: %s\nwant: %s", tc.file, err, tc.want)
		}
	}
}

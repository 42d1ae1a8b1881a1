package lab

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

// TestConfigYAML checks that the YAML the lab prints parses back, through
// the config package's strict parser, into the config that audits the lab.
func TestConfigYAML(t *testing.T) {
	ins := []Instance{{ID: "web-1", Addr: "127.0.0.1:9001", Group: "blue"}, {ID: "web-2", Addr: "127.0.0.1:9002", Group: "blue"}}
	tests := []struct {
		desc      string
		scenario  Scenario
		wantShows string
	}{
		{desc: "a scenario with findings", scenario: mustLookup(t, "nginx-round-robin"), wantShows: "# built to show: verdict-drift (explaining lb-mismatch, verdict-drift)\n"},
		{desc: "a clean scenario", scenario: mustLookup(t, "haproxy-clean"), wantShows: "# built to show: no finding\n"},
		{desc: "the demo", scenario: Demo(), wantShows: "# built to show: lb-redirect, unreachable, verdict-drift (explaining lb-mismatch, verdict-drift)\n"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			l := &Lab{Scenario: tc.scenario, URL: "http://127.0.0.1:8080" + Path, Instances: ins}
			data, err := l.ConfigYAML()
			if err != nil {
				t.Fatal(err)
			}
			text := string(data)
			if !strings.HasPrefix(text, "# corsaudit lab "+tc.scenario.Name+" ("+string(tc.scenario.Proxy)+")\n") || !strings.Contains(text, tc.wantShows) {
				t.Errorf("comment header lacks the scenario or %q:\n%s", tc.wantShows, text)
			}
			lines := strings.Split(strings.TrimSpace(text), "\n")
			if last := strings.TrimSpace(lines[len(lines)-1]); last != "credentials: true" {
				t.Errorf("last line %q, want credentials: true (the lab command's readers wait for it)", last)
			}
			c, err := config.Parse(data, "lab.yaml")
			if err != nil {
				t.Fatalf("printed config does not parse: %v\n%s", err, text)
			}
			built, err := c.Build()
			if err != nil {
				t.Fatalf("printed config is invalid: %v\n%s", err, text)
			}
			if len(built.Targets) != 1 || len(c.Targets) != 1 {
				t.Fatalf("%d targets, want 1", len(c.Targets))
			}
			got := c.Targets[0]
			if got.Name != tc.scenario.Name || got.URL != l.URL || got.LB.InstanceHeader != labserver.InstanceHeader || got.Direct.Scheme != "http" {
				t.Errorf("target = %+v, want %s at %s, http, sampled by %s", got, tc.scenario.Name, l.URL, labserver.InstanceHeader)
			}
			want := config.Policy{Origins: PolicyOrigins, Methods: PolicyMethods, Headers: PolicyHeaders, Credentials: true}
			if !reflect.DeepEqual(got.Policy, want) {
				t.Errorf("policy = %+v, want %+v", got.Policy, want)
			}
			if c.Timeout != 5*time.Second || c.Concurrency != config.Default().Concurrency {
				t.Errorf("settings timeout %s concurrency %d, want the defaults", c.Timeout, c.Concurrency)
			}
			discover, err := got.DiscoverSettings()
			if err != nil {
				t.Fatal(err)
			}
			list, _ := discover["static"]["instances"].([]any)
			if len(list) != len(ins) {
				t.Fatalf("static instances %v, want %d", discover, len(ins))
			}
			for i, in := range ins {
				m, _ := list[i].(map[string]any)
				if m["id"] != in.ID || m["addr"] != in.Addr || m["group"] != in.Group {
					t.Errorf("instance %d = %v, want %+v", i, list[i], in)
				}
			}
		})
	}
}

func mustLookup(t *testing.T, name string) Scenario {
	t.Helper()
	sc, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

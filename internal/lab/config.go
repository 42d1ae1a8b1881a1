package lab

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

// Target is the config target that audits ins behind url: the static
// provider lists them, they are reached directly over http, the load
// balancer is sampled and its answers attributed by labserver's instance
// header, and the policy is the lab's.
func Target(name, url string, ins []Instance) config.Target {
	list := make([]any, len(ins))
	for i, in := range ins {
		list[i] = map[string]any{"id": in.ID, "addr": in.Addr, "group": in.Group}
	}
	return config.Target{
		Name:     name,
		URL:      url,
		Discover: map[string]map[string]any{"static": {"instances": list}},
		Direct:   config.Direct{Scheme: "http"},
		LB:       config.LB{InstanceHeader: labserver.InstanceHeader},
		Policy: config.Policy{Origins: slices.Clone(PolicyOrigins), Methods: slices.Clone(PolicyMethods),
			Headers: slices.Clone(PolicyHeaders), Credentials: true},
	}
}

// Config returns the corsaudit config that audits the lab: the defaults
// and one target named after the scenario.
func (l *Lab) Config() config.Config {
	c := config.Default()
	t := Target(l.Scenario.Name, l.URL, l.Instances)
	if f := l.Scenario.Front; f != nil {
		t.Fronts = []config.Front{{Name: string(f.Proxy), URL: "http://" + l.Addr},
			{Name: string(l.Scenario.Proxy), Address: l.Inner}}
	}
	c.Targets = []config.Target{t}
	return c
}

// ConfigYAML is Config as YAML, after comment lines saying what the
// scenario shows. Its last line is the policy's credentials.
func (l *Lab) ConfigYAML() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# corsaudit lab %s (%s)\n# %s\n", l.Scenario.Name, l.Scenario.Proxy, l.Scenario.Summary)
	shows := "no finding"
	if len(l.Scenario.Findings) > 0 {
		shows = strings.Join(l.Scenario.Findings, ", ")
	}
	if len(l.Scenario.Explains) > 0 {
		shows += " (explaining " + strings.Join(l.Scenario.Explains, ", ") + ")"
	}
	fmt.Fprintf(&b, "# built to show: %s\n", shows)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(l.Config()); err != nil {
		return nil, fmt.Errorf("lab: %s: config: %w", l.Scenario.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("lab: %s: config: %w", l.Scenario.Name, err)
	}
	return b.Bytes(), nil
}

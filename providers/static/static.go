package static

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/corsaudit/corsaudit/discovery"
)

// InstanceConfig is one listed instance.
type InstanceConfig struct {
	// ID names the instance in reports (default: Addr).
	ID string `mapstructure:"id"`
	// Addr is the host:port dialled.
	Addr string `mapstructure:"addr"`
	// Group is the instance's group (blue, green) for a gate.
	Group string `mapstructure:"group"`
	// Zone is the instance's zone, shown in reports.
	Zone string `mapstructure:"zone"`
	// Scheme is how this instance is dialled, http or https (default: the
	// target's direct.scheme).
	Scheme string `mapstructure:"scheme"`
	// Labels are free-form facts kept with the instance (in the
	// inventory).
	Labels map[string]string `mapstructure:"labels"`
}

// Config is the `discover: static:` section.
type Config struct {
	// Instances are the instances behind the load balancer.
	Instances []InstanceConfig `mapstructure:"instances"`
}

// Validate lists every problem at once, naming each field.
func (c Config) Validate() error {
	var errs []error
	if len(c.Instances) == 0 {
		errs = append(errs, errors.New("instances: at least one instance is required"))
	}
	seen := map[string]int{}
	for i, in := range c.Instances {
		field := fmt.Sprintf("instances[%d]", i)
		if err := discovery.CheckAddr(in.Addr); err != nil {
			errs = append(errs, fmt.Errorf("%s.addr: %w", field, err))
		}
		id := in.ID
		if id == "" {
			id = in.Addr
		}
		if j, dup := seen[id]; dup {
			errs = append(errs, fmt.Errorf("%s.id: %q already used by instances[%d]", field, id, j))
		}
		seen[id] = i
		if err := discovery.CheckScheme(in.Scheme); err != nil {
			errs = append(errs, fmt.Errorf("%s.scheme: %w", field, err))
		}
	}
	return errors.Join(errs...)
}

// Provider returns the configured instances.
type Provider struct{ instances []discovery.Instance }

// Check validates the section as New does, building nothing: what
// config.Validate (and so `config check`) asks of the provider.
func Check(decode func(any) error) error {
	_, err := load(decode)
	return err
}

// load decodes the section and validates it.
func load(decode func(any) error) (Config, error) {
	return discovery.DecodeSection(decode, Config{})
}

// New builds the static provider from its config section. The instances
// are converted once, here: the decoded section is not kept.
func New(decode func(any) error) (discovery.Provider, error) {
	c, err := load(decode)
	if err != nil {
		return nil, err
	}
	out := make([]discovery.Instance, len(c.Instances))
	for i, in := range c.Instances {
		id := in.ID
		if id == "" {
			id = in.Addr
		}
		out[i] = discovery.Instance{ID: id, Addr: in.Addr, Group: in.Group, Zone: in.Zone,
			Scheme: in.Scheme, Health: discovery.HealthUnknown, Labels: in.Labels}
	}
	return &Provider{instances: out}, nil
}

// Discover returns one unnamed target holding the listed instances; the
// config layer names it and gives its URL. The instances are the
// provider's own, not a copy (a large list is held once): callers do not
// modify them, and appending to the slice copies it.
func (p *Provider) Discover(context.Context) ([]discovery.Target, error) {
	return []discovery.Target{{Instances: slices.Clip(p.instances)}}, nil
}

// Help describes the `discover: static:` section, every key of Config, for
// `corsaudit providers`.
const Help = `static: instances listed in the config
  instances:
    - id: web-1            # optional: defaults to addr
      addr: 10.0.1.5:8080  # host:port dialled
      group: blue          # optional: blue, green, canary...
      zone: eu-west-1a     # optional
      scheme: https        # optional: http | https, else the target's direct scheme
      labels: {rack: r1}   # optional: free-form`

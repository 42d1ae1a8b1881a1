// Package static is the provider for instances listed in the config file.
package static

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/corsaudit/corsaudit/discovery"
)

// InstanceConfig is one listed instance.
type InstanceConfig struct {
	ID     string            `mapstructure:"id"`
	Addr   string            `mapstructure:"addr"`
	Group  string            `mapstructure:"group"`
	Zone   string            `mapstructure:"zone"`
	Scheme string            `mapstructure:"scheme"`
	Labels map[string]string `mapstructure:"labels"`
}

// Config is the `discover: static:` section.
type Config struct {
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
		if _, _, err := net.SplitHostPort(in.Addr); err != nil {
			errs = append(errs, fmt.Errorf("%s.addr: %q is not host:port", field, in.Addr))
		}
		id := in.ID
		if id == "" {
			id = in.Addr
		}
		if j, dup := seen[id]; dup {
			errs = append(errs, fmt.Errorf("%s.id: %q already used by instances[%d]", field, id, j))
		}
		seen[id] = i
		if in.Scheme != "" && in.Scheme != "http" && in.Scheme != "https" {
			errs = append(errs, fmt.Errorf("%s.scheme: %q is not http or https", field, in.Scheme))
		}
	}
	return errors.Join(errs...)
}

// Provider returns the configured instances.
type Provider struct{ cfg Config }

// New builds the static provider from its config section.
func New(decode func(any) error) (discovery.Provider, error) {
	var c Config
	if err := decode(&c); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &Provider{cfg: c}, nil
}

// Discover returns one unnamed target holding the listed instances; the
// config layer names it and gives its URL.
func (p *Provider) Discover(context.Context) ([]discovery.Target, error) {
	out := make([]discovery.Instance, 0, len(p.cfg.Instances))
	for _, in := range p.cfg.Instances {
		id := in.ID
		if id == "" {
			id = in.Addr
		}
		out = append(out, discovery.Instance{ID: id, Addr: in.Addr, Group: in.Group, Zone: in.Zone,
			Scheme: in.Scheme, Health: discovery.HealthUnknown, Labels: in.Labels})
	}
	return []discovery.Target{{Instances: out}}, nil
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

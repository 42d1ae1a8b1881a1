package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"

	"github.com/corsaudit/corsaudit/discovery"
)

// Config is the `discover: dns:` section.
type Config struct {
	// Name is resolved to A and AAAA records; each address is one instance.
	Name string `mapstructure:"name"`
	// Port is dialled on each address.
	Port int `mapstructure:"port"`
	// Group is given to every instance found (e.g. "blue").
	Group string `mapstructure:"group"`
	// Network restricts the records: "ip" (both, default), "ip4" or "ip6".
	Network string `mapstructure:"network"`
}

// Validate lists every problem at once, naming each field.
func (c Config) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("name: required"))
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("port: %d is not a port (1-65535)", c.Port))
	}
	switch c.Network {
	case "", "ip", "ip4", "ip6":
	default:
		errs = append(errs, fmt.Errorf("network: %q is not ip, ip4 or ip6", c.Network))
	}
	return errors.Join(errs...)
}

// Resolver is the part of *net.Resolver the provider uses.
type Resolver interface {
	LookupIP(ctx context.Context, network, host string) ([]net.IP, error)
}

// Provider resolves the configured name.
type Provider struct {
	cfg      Config
	resolver Resolver
}

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

// New builds the dns provider from its config section.
func New(decode func(any) error) (discovery.Provider, error) {
	c, err := load(decode)
	if err != nil {
		return nil, err
	}
	return NewWithResolver(c, net.DefaultResolver), nil
}

// NewWithResolver builds the provider with a given resolver.
func NewWithResolver(c Config, r Resolver) *Provider {
	if c.Network == "" {
		c.Network = "ip"
	}
	return &Provider{cfg: c, resolver: r}
}

// Discover resolves the name; each address is an instance named ip:port.
func (p *Provider) Discover(ctx context.Context) ([]discovery.Target, error) {
	ips, err := p.resolver.LookupIP(ctx, p.cfg.Network, p.cfg.Name)
	if err != nil {
		return nil, fmt.Errorf("dns: resolve %s: %w", p.cfg.Name, err)
	}
	sort.Slice(ips, func(i, j int) bool { return ips[i].String() < ips[j].String() })
	port := strconv.Itoa(p.cfg.Port)
	var out []discovery.Instance
	seen := map[string]bool{}
	for _, ip := range ips {
		addr := net.JoinHostPort(ip.String(), port)
		if seen[addr] {
			continue
		}
		seen[addr] = true
		out = append(out, discovery.Instance{ID: addr, Addr: addr, Group: p.cfg.Group,
			Health: discovery.HealthUnknown, Labels: map[string]string{"dns_name": p.cfg.Name}})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("dns: resolve %s: no A or AAAA records", p.cfg.Name)
	}
	return []discovery.Target{{Instances: out}}, nil
}

// Help describes the `discover: dns:` section, every key of Config, for
// `corsaudit providers`.
const Help = `dns: one instance per A/AAAA record of a name
  name: web.internal   # e.g. a headless Kubernetes service
  port: 8080
  group: blue          # optional
  network: ip          # ip | ip4 | ip6`

package gcp

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/corsaudit/corsaudit/discovery"
)

// Address modes: which IP of an instance corsaudit dials.
const (
	AddressInternal = "internal" // the primary interface's networkIP
	AddressExternal = "external" // the primary interface's first natIP
)

// DefaultCallTimeout bounds each API call (a paginated list counts as one
// call). The client retries 503s with backoff for up to ten minutes
// otherwise.
const DefaultCallTimeout = 30 * time.Second

// Config is the `discover: gcp:` section.
type Config struct {
	// Project holds the backend service.
	Project string `mapstructure:"project"`
	// BackendService is the backend service's name.
	BackendService string `mapstructure:"backend_service"`
	// Region is empty for a global backend service, else its region.
	Region string `mapstructure:"region"`
	// ForwardingRule, when set, names the forwarding rule (the load
	// balancer frontend) that the target's URL reaches, for when its host
	// name could reach several URL maps.
	ForwardingRule string `mapstructure:"forwarding_rule"`
	// Address is "internal" (networkIP, the default) or "external" (natIP).
	Address string `mapstructure:"address"`
	// Endpoint overrides the compute API endpoint, and the IAP API's
	// (emulators, tests, private access). With an http:// endpoint no
	// authentication is used.
	Endpoint string `mapstructure:"endpoint"`
	// CallTimeout bounds each API call; zero means DefaultCallTimeout.
	CallTimeout time.Duration `mapstructure:"call_timeout"`
}

// nameRE is the shape of Compute Engine resource names (RFC 1035 labels).
var nameRE = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)

// projectRE accepts project IDs, including domain-scoped ones
// (example.com:my-project).
var projectRE = regexp.MustCompile(`^([a-z0-9.-]+:)?[a-z][-a-z0-9]{4,28}[a-z0-9]$`)

// Validate lists every problem at once, naming each field.
func (c Config) Validate() error {
	var errs []error
	switch {
	case c.Project == "":
		errs = append(errs, errors.New("project: required"))
	case !projectRE.MatchString(c.Project):
		errs = append(errs, fmt.Errorf("project: %q is not a project ID", c.Project))
	}
	switch {
	case c.BackendService == "":
		errs = append(errs, errors.New("backend_service: required"))
	case !nameRE.MatchString(c.BackendService):
		errs = append(errs, fmt.Errorf("backend_service: %q is not a resource name", c.BackendService))
	}
	if c.Region != "" && !nameRE.MatchString(c.Region) {
		errs = append(errs, fmt.Errorf("region: %q is not a region name", c.Region))
	}
	if c.ForwardingRule != "" && !nameRE.MatchString(c.ForwardingRule) {
		errs = append(errs, fmt.Errorf("forwarding_rule: %q is not a resource name", c.ForwardingRule))
	}
	switch c.Address {
	case "", AddressInternal, AddressExternal:
	default:
		errs = append(errs, fmt.Errorf("address: %q is not internal or external", c.Address))
	}
	if c.Endpoint != "" && !strings.HasPrefix(c.Endpoint, "http://") && !strings.HasPrefix(c.Endpoint, "https://") {
		errs = append(errs, fmt.Errorf("endpoint: %q is not an http(s) URL", c.Endpoint))
	}
	if c.CallTimeout < 0 {
		errs = append(errs, fmt.Errorf("call_timeout: %s must not be negative", c.CallTimeout))
	}
	return errors.Join(errs...)
}

// Provider discovers the instances behind one backend service.
type Provider struct {
	cfg Config
	api computeAPI
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

// New builds the gcp provider from its config section. The API clients are
// created on the first Discover, so a config check needs no credentials.
func New(decode func(any) error) (discovery.Provider, error) {
	c, err := load(decode)
	if err != nil {
		return nil, err
	}
	return newProvider(c, nil), nil
}

func newProvider(c Config, api computeAPI) *Provider {
	if c.Address == "" {
		c.Address = AddressInternal
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	return &Provider{cfg: c, api: api}
}

// Help describes the `discover: gcp:` section, every key of Config, for
// `corsaudit providers`.
const Help = `gcp: the instances behind a Google Cloud backend service
  project: my-project
  backend_service: shop-backend
  region: ""          # empty: global backend service; else its region
  forwarding_rule: "" # the frontend the URL reaches, when its host could reach several URL maps
  address: internal   # internal (networkIP) or external (natIP)
  endpoint: ""        # API endpoint override; http:// means no authentication
  call_timeout: 30s   # per API call
Credentials: Application Default Credentials. Permissions: see
examples/gcp/role.yaml. Routing: the URL's scheme, address and port pick a
forwarding rule and its URL map; host rules, path rules (longest match) and
route rules (by priority) say which backend service, bucket or redirect
serves each probed path, and only instances of the same backend service are
compared. Backend services in a weighted split with this one are discovered
too, each its own group (gate --baseline blue-svc --candidate green-svc).
The URL defaults to the address of a forwarding rule whose URL map routes
to the backend service, one whose own address reaches it if any.`

// Discover returns one target: the backend service and its instances.
func (p *Provider) Discover(ctx context.Context) ([]discovery.Target, error) {
	api := p.api
	if api == nil {
		c, err := newRESTAPI(ctx, p.cfg.Endpoint)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		api = c
	}
	d := &discoverer{cfg: p.cfg, api: api}
	t, err := d.run(ctx)
	if err != nil {
		return nil, err
	}
	return []discovery.Target{t}, nil
}

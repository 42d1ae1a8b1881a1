package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/corsaudit/corsaudit/discovery"
)

// DefaultGroupLabel is the pod label that names an instance's group when
// the config sets none.
const DefaultGroupLabel = "app.kubernetes.io/version"

// DefaultCallTimeout bounds each API call (a paginated list counts as one
// call per page).
const DefaultCallTimeout = 30 * time.Second

// Config is the `discover: kubernetes:` section.
type Config struct {
	// Kubeconfig is the kubeconfig file. Empty: in-cluster when
	// KUBERNETES_SERVICE_HOST is set (and Context is empty), else
	// $KUBECONFIG, else ~/.kube/config.
	Kubeconfig string `mapstructure:"kubeconfig"`
	// Context is the kubeconfig context; empty: the current one.
	Context string `mapstructure:"context"`
	// Namespace holds the Service or route; empty: the context's, else
	// "default".
	Namespace string `mapstructure:"namespace"`
	// Service, Ingress and HTTPRoute: exactly one names what to discover.
	Service   string `mapstructure:"service"`
	Ingress   string `mapstructure:"ingress"`
	HTTPRoute string `mapstructure:"httproute"`
	// Port is the Service port (name or number) of a service target;
	// empty when the Service has one port.
	Port string `mapstructure:"port"`
	// GroupLabel is the pod label whose value is an instance's group;
	// empty means DefaultGroupLabel. Pods without it are grouped by their
	// ReplicaSet (a Deployment's rollout), else their StatefulSet's or
	// DaemonSet's revision, else their Service.
	GroupLabel string `mapstructure:"group_label"`
	// CallTimeout bounds each API call; zero means DefaultCallTimeout.
	CallTimeout time.Duration `mapstructure:"call_timeout"`
}

// Validate lists every problem at once, naming each field. It reads no
// file and no environment.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, value string, problems []string) {
		if len(problems) > 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not valid: %s", field, value, problems[0]))
		}
	}
	set := 0
	for _, n := range []string{c.Service, c.Ingress, c.HTTPRoute} {
		if n != "" {
			set++
		}
	}
	if set != 1 {
		errs = append(errs, errors.New("service, ingress, httproute: give exactly one"))
	}
	if c.Service != "" {
		bad("service", c.Service, validation.IsDNS1035Label(c.Service))
	}
	if c.Ingress != "" {
		bad("ingress", c.Ingress, validation.IsDNS1123Subdomain(c.Ingress))
	}
	if c.HTTPRoute != "" {
		bad("httproute", c.HTTPRoute, validation.IsDNS1123Subdomain(c.HTTPRoute))
	}
	if c.Namespace != "" {
		bad("namespace", c.Namespace, validation.IsDNS1123Label(c.Namespace))
	}
	if c.Port != "" {
		switch {
		case c.Service == "":
			errs = append(errs, errors.New("port: only with service (an ingress or httproute names its backends' ports)"))
		case isNumber(c.Port):
			if n, err := strconv.Atoi(c.Port); err != nil || n < 1 || n > 65535 {
				errs = append(errs, fmt.Errorf("port: %s is not a port (1-65535)", c.Port))
			}
		default:
			bad("port", c.Port, validation.IsValidPortName(c.Port))
		}
	}
	if c.GroupLabel != "" {
		bad("group_label", c.GroupLabel, validation.IsQualifiedName(c.GroupLabel))
	}
	if c.CallTimeout < 0 {
		errs = append(errs, fmt.Errorf("call_timeout: %s must not be negative", c.CallTimeout))
	}
	return errors.Join(errs...)
}

// isNumber reports whether s is all ASCII digits.
func isNumber(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// Provider discovers the pods behind one Service, Ingress or HTTPRoute.
type Provider struct {
	cfg Config
	api clusterAPI
	// source describes api for errors ("kubeconfig …, context …").
	source string
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

// New builds the kubernetes provider from its config section. The client
// is created on the first Discover, so a config check reads no kubeconfig.
func New(decode func(any) error) (discovery.Provider, error) {
	c, err := load(decode)
	if err != nil {
		return nil, err
	}
	return newProvider(c, nil), nil
}

func newProvider(c Config, api clusterAPI) *Provider {
	if c.GroupLabel == "" {
		c.GroupLabel = DefaultGroupLabel
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	return &Provider{cfg: c, api: api}
}

// Help describes the `discover: kubernetes:` section, every key of Config,
// for `corsaudit providers`.
const Help = `kubernetes: the pods behind a Service, or behind the Services an Ingress or an HTTPRoute routes to
  kubeconfig: ""      # empty: in-cluster when KUBERNETES_SERVICE_HOST is set, else $KUBECONFIG, else ~/.kube/config
  context: ""         # empty: the kubeconfig's current context
  namespace: ""       # empty: the context's namespace, else default
  service: shop       # one of service, ingress, httproute
  port: http          # service only: port name or number; empty when the Service has one
  ingress: shop       # networking.k8s.io/v1 Ingress: its host and path rules pick the Service
  httproute: shop     # gateway.networking.k8s.io/v1 HTTPRoute: matches, weights, redirects
  group_label: app.kubernetes.io/version  # pod label naming the group; else its ReplicaSet or revision
  call_timeout: 30s   # per API call
One instance per ready endpoint of the Services' EndpointSlices, named by
its pod; terminating and not-ready endpoints are listed, not probed. Pods
are dialled over https when the Service port's appProtocol or name says
https (or ingress-nginx's backend-protocol annotation does), else http.
An Ingress gives the target's URL (its first host; https when in tls:).
Permissions (get, list; nothing is written): examples/kubernetes/rbac.yaml.`

// Discover returns one target: the Service, Ingress or HTTPRoute and the
// pods behind it.
func (p *Provider) Discover(ctx context.Context) ([]discovery.Target, error) {
	api, ns, source := p.api, p.cfg.Namespace, p.source
	if api == nil {
		c, err := newRESTAPI(p.cfg)
		if err != nil {
			return nil, err
		}
		api, source = c, c.source
		if ns == "" {
			ns = c.namespace
		}
	}
	if ns == "" {
		ns = "default"
	}
	d := &discoverer{cfg: p.cfg, api: api, ns: ns, source: source}
	t, err := d.run(ctx)
	if err != nil {
		return nil, err
	}
	return []discovery.Target{t}, nil
}

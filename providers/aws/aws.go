package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/corsaudit/corsaudit/discovery"
)

// Address choices: which instance IP is dialled for `instance` targets.
const (
	AddressPrivate = "private"
	AddressPublic  = "public"
)

// Config is the `discover: aws:` section.
type Config struct {
	// Region of the load balancer; empty means the SDK's default chain
	// (AWS_REGION, the profile), or the region of an ARN given as
	// load_balancer.
	Region string `mapstructure:"region"`
	// LoadBalancer is the load balancer's name, ARN or DNS name (a
	// "dualstack." prefix and a trailing dot are tolerated).
	LoadBalancer string `mapstructure:"load_balancer"`
	// ListenerPort, when set, restricts discovery to that listener, and
	// every URL of the target is routed by its rules whatever the URL's
	// port (a CDN or proxy in front may map ports).
	ListenerPort int `mapstructure:"listener_port"`
	// TargetGroups, when set, keeps only the instances of the target groups
	// with these names. Routing still follows every rule: a kept group is
	// compared only on the requests its rules send it.
	TargetGroups []string `mapstructure:"target_groups"`
	// Profile is a shared-config profile (SSO profiles included).
	Profile string `mapstructure:"profile"`
	// RoleARN is a role assumed through STS with the chain's credentials.
	RoleARN string `mapstructure:"role_arn"`
	// Address says which IP of an EC2 instance is dialled: private
	// (default) or public.
	Address string `mapstructure:"address"`
}

// DefaultConfig holds the defaults applied before validation.
var DefaultConfig = Config{Address: AddressPrivate}

// Validate lists every problem at once, naming each field.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.LoadBalancer) == "" {
		errs = append(errs, errors.New("load_balancer: required (a name, an ARN or the DNS name)"))
	} else if strings.HasPrefix(c.LoadBalancer, "arn:") {
		a, err := arn.Parse(c.LoadBalancer)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("load_balancer: %q is not an ARN: %w", c.LoadBalancer, err))
		case a.Service != "elasticloadbalancing" || !strings.HasPrefix(a.Resource, "loadbalancer/"):
			errs = append(errs, fmt.Errorf("load_balancer: %q is not a load balancer ARN (arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<id>)", c.LoadBalancer))
		case c.Region != "" && a.Region != c.Region:
			errs = append(errs, fmt.Errorf("region: %q, but load_balancer is an ARN in region %q", c.Region, a.Region))
		}
	}
	if c.ListenerPort < 0 || c.ListenerPort > 65535 {
		errs = append(errs, fmt.Errorf("listener_port: %d is not a port (1-65535)", c.ListenerPort))
	}
	for i, g := range c.TargetGroups {
		if strings.TrimSpace(g) == "" {
			errs = append(errs, fmt.Errorf("target_groups[%d]: empty name", i))
		}
	}
	if c.RoleARN != "" {
		if a, err := arn.Parse(c.RoleARN); err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
			errs = append(errs, fmt.Errorf("role_arn: %q is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)", c.RoleARN))
		}
	}
	switch c.Address {
	case AddressPrivate, AddressPublic:
	default:
		errs = append(errs, fmt.Errorf("address: %q is not private or public", c.Address))
	}
	return errors.Join(errs...)
}

// Provider discovers the instances behind one load balancer.
type Provider struct {
	cfg Config

	once    sync.Once
	initErr error
	clients Clients
	region  string
	calls   *callCounter
}

// Clients are the API seams the provider calls.
type Clients struct {
	ELB ELB
	EC2 EC2
}

// Check validates the section as New does, building nothing: what
// config.Validate (and so `config check`) asks of the provider.
func Check(decode func(any) error) error {
	_, err := load(decode)
	return err
}

// load decodes the section over DefaultConfig and validates it.
func load(decode func(any) error) (Config, error) {
	return discovery.DecodeSection(decode, DefaultConfig)
}

// New builds the aws provider from its config section. The SDK config is
// loaded on the first Discover, so building a provider never touches the
// network or the credential chain.
func New(decode func(any) error) (discovery.Provider, error) {
	c, err := load(decode)
	if err != nil {
		return nil, err
	}
	return &Provider{cfg: c, calls: newCallCounter()}, nil
}

// newWithClients builds the provider on given clients (the tests' fakes).
// region only labels errors.
func newWithClients(c Config, region string, cl Clients) *Provider {
	if c.Address == "" {
		c.Address = AddressPrivate
	}
	p := &Provider{cfg: c, clients: cl, region: region}
	p.once.Do(func() {})
	return p
}

// init loads the SDK config from the default chain, once.
func (p *Provider) init(ctx context.Context) error {
	p.once.Do(func() {
		p.clients, p.region, p.initErr = loadClients(ctx, p.cfg, p.calls)
	})
	return p.initErr
}

// loadClients builds ELBv2 and EC2 clients from the default chain. The
// SDK's standard retryer retries throttling with exponential backoff; every
// wait respects ctx, so the run deadline still holds.
func loadClients(ctx context.Context, c Config, calls *callCounter) (Clients, string, error) {
	region := c.Region
	if region == "" && strings.HasPrefix(c.LoadBalancer, "arn:") {
		if a, err := arn.Parse(c.LoadBalancer); err == nil {
			region = a.Region
		}
	}
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if c.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.Profile))
	}
	if calls != nil {
		opts = append(opts, config.WithAPIOptions(calls.APIOptions()))
	}
	sc, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return Clients{}, "", fmt.Errorf("aws: load sdk config: %w", err)
	}
	// After loading, so the chain's transport settings (AWS_CA_BUNDLE...)
	// apply to the client being wrapped.
	sc.HTTPClient = bufferedBodyClient{next: sc.HTTPClient}
	if sc.Region == "" {
		return Clients{}, "", errors.New("aws: no region: set discover.aws.region, AWS_REGION or a profile's region")
	}
	if c.RoleARN != "" {
		sc.Credentials = sdkaws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(sc), c.RoleARN,
			func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "corsaudit" }))
	}
	return Clients{ELB: elbv2.NewFromConfig(sc), EC2: ec2.NewFromConfig(sc)}, sc.Region, nil
}

// Help describes the `discover: aws:` section, every key of Config, for
// `corsaudit providers`.
const Help = `aws: the targets behind an AWS Application Load Balancer
  region: eu-west-1          # optional: default chain (AWS_REGION, profile)
  load_balancer: shop-alb    # name, ARN or DNS name (dualstack. and a trailing dot tolerated)
  listener_port: 443         # optional: only this listener; it routes every URL of the target
  target_groups: [blue, green]  # optional: audit only these target groups (by name)
  profile: ""                # optional: shared-config / SSO profile
  role_arn: ""               # optional: role to assume through STS
  address: private           # private | public: which instance IP is dialled
Credentials come from the SDK's default chain; AWS_ENDPOINT_URL is honoured.
IAM: elasticloadbalancing:DescribeLoadBalancers, DescribeListeners,
DescribeRules, DescribeTargetGroups, DescribeTargetHealth; ec2:DescribeInstances
(see examples/aws/iam-policy.json).
Routing: every instance's pool is its target group. Each request is routed
as the load balancer does: the listener of the URL's scheme and port, its
rules by priority (host, path, method, header and query conditions), then
the default action; instances are compared only with the instances of the
target group their rule forwards to. A source-ip condition, which corsaudit
cannot see, gives both outcomes; redirect, fixed-response and
authentication actions are reported as what the load balancer answers.
target_groups does not turn routing off: a listed group is audited on the
requests its rules send it; a request routed to an unlisted group reaches
no audited instance.
A target group reached by several rules is listed once; its weight is the one
of the first weighted forward action seen (listeners by port, rules by
priority, default rule last), 0 when no forward action splits traffic.`

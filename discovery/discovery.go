package discovery

import (
	"context"
	"net"
)

// Health states used by providers. Cloud-specific states are mapped onto
// these; the provider's own wording goes into Instance.HealthReason.
const (
	HealthHealthy     = "healthy"
	HealthUnhealthy   = "unhealthy"
	HealthDraining    = "draining"
	HealthUnused      = "unused"
	HealthUnavailable = "unavailable"
	HealthInitial     = "initial"
	HealthUnknown     = "unknown"
)

// Instance is one server behind a load balancer.
type Instance struct {
	// ID names the instance in findings: an EC2 instance id, ip:port, a VM name.
	ID string `json:"id"`
	// Addr is the host:port corsaudit dials to reach the instance directly.
	// Empty when the instance cannot be dialled (see Skip).
	Addr string `json:"addr,omitempty"`
	// Scheme for direct access ("http" or "https"); empty means the target's
	// configured direct scheme.
	Scheme string `json:"scheme,omitempty"`
	// Group is the target group, instance group or NEG (blue vs green):
	// what a gate compares.
	Group string `json:"group,omitempty"`
	// Pool is the set of instances the load balancer forwards to that this
	// instance belongs to (an ALB target group, a GCP backend service, a
	// Kubernetes Service): the name a Route's Pools use. Empty when the
	// provider knows no routing (every instance serves every request).
	Pool string `json:"pool,omitempty"`
	// Weight is the group's forward weight at the load balancer, when known.
	Weight int `json:"weight,omitempty"`
	// Zone is the availability zone, when known.
	Zone string `json:"zone,omitempty"`
	// Health is one of the Health* constants; HealthReason is the provider's
	// own explanation (e.g. "Target.ResponseCodeMismatch").
	Health       string `json:"health,omitempty"`
	HealthReason string `json:"health_reason,omitempty"`
	// Skip, when set, says why this instance is listed but not probed
	// (a lambda target, an unused target).
	Skip string `json:"skip,omitempty"`
	// Labels are free-form provider facts (instance type, NEG type...).
	Labels map[string]string `json:"labels,omitempty"`
}

// Probeable reports whether corsaudit should send requests to the instance.
func (i Instance) Probeable() bool { return i.Skip == "" && i.Addr != "" }

// IsLoopback reports whether the instance's address is a loopback IP literal.
// Tests use it to make sure nothing else is ever dialled.
func (i Instance) IsLoopback() bool {
	host, _, err := net.SplitHostPort(i.Addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Target is one public entry point and the instances behind it.
type Target struct {
	Name string `json:"name"`
	// URL is the public URL, through the load balancer. Its path is probed.
	URL       string     `json:"url"`
	Instances []Instance `json:"instances"`
	// Router, when set, says which pools serve each request: instances are
	// compared only with the instances that serve the same route. Nil: the
	// load balancer sends every request to every instance.
	Router Router `json:"-"`
	// Facts are what the provider read of the configuration of the layers
	// in front of the instances that decides what browsers see.
	Facts []FrontFact `json:"facts,omitempty"`
}

// Provider finds targets and their instances. Implementations are built from
// their own config section by a factory in package providers.
type Provider interface {
	Discover(ctx context.Context) ([]Target, error)
}

// Kinds of FrontFact: what a provider read of a front's configuration
// that decides what browsers see.
const (
	// FactCORSHeaders: the front sets Access-Control-* headers on answers
	// itself (ALB listener attributes routing.http.response.access_control_*,
	// GCP backend service customResponseHeaders).
	FactCORSHeaders = "cors-headers"
	// FactCacheKey: a CDN caches answers with a key that does not hold the
	// Origin (Cloud CDN without Origin in cacheKeyPolicy.includeHttpHeaders).
	FactCacheKey = "cache-key"
	// FactPreflightLogin: an identity-aware proxy sends preflights to its
	// login (IAP without accessSettings.corsSettings.allowHttpOptions).
	FactPreflightLogin = "preflight-login"
	// FactUnread: the provider could not read this part of a front's
	// configuration (a permission not granted): the audit goes on without
	// it, and says so. Settings hold the reason.
	FactUnread = "unread"
)

// FrontFact is one thing a provider read, while discovering, of the
// configuration of a layer in front of the instances (the load balancer,
// its CDN, its identity-aware proxy) that decides what browsers see.
// Providers only read it; diff turns it into a finding that names the
// resource and the probe findings it explains.
type FrontFact struct {
	// Kind is one of the Fact* constants.
	Kind string `json:"kind"`
	// Resource names the resource as its owner looks it up ("ALB listener
	// arn:aws:…:listener/app/shop/…/… (HTTPS:443)", "backend service
	// projects/p/global/backendServices/shop").
	Resource string `json:"resource"`
	// Settings are the settings and values that make the fact, as the
	// provider's API spells them ("routing.http.response.access_control_allow_origin.header_value=*").
	Settings []string `json:"settings"`
}

package discovery

import (
	"net/http"
	"net/url"
)

// Actions a load balancer rule can take with a request (Route.Action).
const (
	// ActionForward sends the request to one or more pools (Route.Pools).
	ActionForward = "forward"
	// ActionRedirect answers with a redirect (Route.Detail: status and
	// location). Browsers fail every redirected preflight.
	ActionRedirect = "redirect"
	// ActionFixedResponse answers from the load balancer itself, without
	// any CORS header unless the rule writes one (Route.Detail: status).
	ActionFixedResponse = "fixed-response"
	// ActionAuthenticate sends the request through an identity provider
	// first (ALB authenticate-oidc/-cognito, IAP): an unauthenticated
	// preflight gets a redirect to the login page.
	ActionAuthenticate = "authenticate"
	// ActionBucket serves the request from a storage bucket (GCP backend
	// bucket): no instance answers it.
	ActionBucket = "backend-bucket"
	// ActionNone: nothing the provider knows serves the request (no
	// listener on the URL's port, no host rule).
	ActionNone = "none"
)

// Request is what a load balancer sees of one request corsaudit sends:
// enough to evaluate its routing rules. Header holds the request headers
// the browser sends (Origin, Access-Control-Request-*, the page's headers),
// with canonical keys.
type Request struct {
	Method string
	URL    *url.URL
	Header http.Header
}

// Pool is one set of instances a load balancer forwards to (an ALB target
// group, a GCP backend service, a Kubernetes Service), with its share of
// the traffic when the forward is weighted (0: not weighted).
type Pool struct {
	Name   string `json:"name"`
	Weight int    `json:"weight,omitempty"`
}

// Route is what the load balancer does with one request: the rule that
// matched and its action.
type Route struct {
	// Rule names the rule that matched as its owner would look it up
	// ("HTTPS:443 rule priority 10 (…/3c8e1f)", "HTTPS:443 default
	// action", "url map web: host rule api.example.com, path matcher api,
	// path rule /api/*").
	Rule string `json:"rule"`
	// Action is one of the Action* constants.
	Action string `json:"action"`
	// Pools are where ActionForward sends the request.
	Pools []Pool `json:"pools,omitempty"`
	// Detail says what a non-forward action answers ("302 to
	// https://login.example.com/…", "fixed response 204").
	Detail string `json:"detail,omitempty"`
	// Note says what the provider could not know, e.g. a source-ip
	// condition (the caller's address is not known here).
	Note string `json:"note,omitempty"`
}

// Forwards reports whether the route sends the request to pool name.
func (r Route) Forwards(name string) bool {
	if r.Action != ActionForward {
		return false
	}
	for _, p := range r.Pools {
		if p.Name == name {
			return true
		}
	}
	return false
}

// Router is what a provider knows of the load balancer's routing: where it
// sends a request. It returns every route the request may take: one when
// the rules decide it from the request alone, several when a condition
// depends on what corsaudit cannot see (a rule on the caller's source
// address), each a possible outcome to audit. Routers are pure: the
// provider reads the rules once during Discover.
type Router interface {
	Route(Request) []Route
}

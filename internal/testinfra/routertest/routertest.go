package routertest

import (
	"context"
	"strings"

	"github.com/corsaudit/corsaudit/discovery"
)

// Rule is one rule: it matches a request whose host, path and method
// match every condition set, and its Routes are where the request goes
// (several: outcomes the rule cannot decide, like a source-ip condition).
type Rule struct {
	Host       string // exact host, without port
	PathPrefix string
	Method     string
	Routes     []discovery.Route
}

// Router applies the first matching rule; Default when none matches.
type Router struct {
	Rules   []Rule
	Default []discovery.Route
	// Seen records every request routed, for assertions.
	Seen *[]discovery.Request
}

// Route implements discovery.Router.
func (r Router) Route(req discovery.Request) []discovery.Route {
	if r.Seen != nil {
		*r.Seen = append(*r.Seen, req)
	}
	for _, rule := range r.Rules {
		if rule.Host != "" && req.URL.Hostname() != rule.Host {
			continue
		}
		if rule.PathPrefix != "" && !strings.HasPrefix(req.URL.Path, rule.PathPrefix) {
			continue
		}
		if rule.Method != "" && req.Method != rule.Method {
			continue
		}
		return rule.Routes
	}
	return r.Default
}

// Forward is a forward route of rule to pools (weights 0).
func Forward(rule string, pools ...string) discovery.Route {
	r := discovery.Route{Rule: rule, Action: discovery.ActionForward}
	for _, p := range pools {
		r.Pools = append(r.Pools, discovery.Pool{Name: p})
	}
	return r
}

// Provider returns one target: its URL, instances and router.
type Provider struct {
	Target discovery.Target
}

// Discover implements discovery.Provider.
func (p Provider) Discover(context.Context) ([]discovery.Target, error) {
	t := p.Target
	t.Instances = append([]discovery.Instance(nil), t.Instances...)
	return []discovery.Target{t}, nil
}

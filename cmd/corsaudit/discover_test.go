package main

import (
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/pipeline"
)

// TestDiscoverTableRoutes: discover's table shows each instance's pool,
// per path and step the rule, action, pools and weights and notes, the
// pools left out and the findings of the routes, with every value from the
// provider made inert for the terminal.
func TestDiscoverTableRoutes(t *testing.T) {
	fwd := audit.StepRoute{Step: audit.StepActual, Route: discovery.Route{Rule: "HTTPS:443 rule priority 10 (…/9c2e)", Action: discovery.ActionForward,
		Pools: []discovery.Pool{{Name: "api-blue", Weight: 80}, {Name: "api-green", Weight: 20}}, Note: "source-ip 10.0.0.0/8"}}
	fixed := audit.StepRoute{Step: audit.StepPreflight, Route: discovery.Route{Rule: "rule \x1b[31m3", Action: discovery.ActionFixedResponse, Detail: "fixed response 200"}}
	it := pipeline.InventoryTarget{Name: "shop", URL: "https://shop.example.com/api/cart",
		Instances: []discovery.Instance{{ID: "i-1", Addr: "10.0.0.1:80", Group: "blue", Pool: "api-blue"}},
		Routing: []pipeline.RoutingEntry{
			{Path: "/api/cart", Method: "OPTIONS", StepRoute: fixed, Probes: []string{"p2.preflight", "p3", "p4", "p6", "p9", "p10"}},
			{Path: "/api/cart", Method: "GET", StepRoute: fwd, Probes: []string{"p1", "p2.actual"}}},
		LeftOut: []audit.PoolCount{{Pool: "admin", Instances: 2}},
		Findings: []diff.Finding{{Kind: diff.KindLBAnswersOptions, Severity: diff.SeverityError, Message: "the load balancer answers OPTIONS /api/cart itself; rule: rule 3", Reproduce: "curl -X OPTIONS https://shop.example.com/api/cart"},
			// About the PUT a browser sends after the preflight alone: no
			// curl line (corsaudit prints no unsafe request).
			{Kind: diff.KindUnauditedRoute, Severity: diff.SeverityWarning, Message: "the load balancer routes PUT /api/cart to backend-bucket"}},
	}
	var b strings.Builder
	writeDiscoverTarget(&b, &it)
	out := b.String()
	for _, want := range []string{"POOL", "api-blue", "OPTIONS (preflight)", "rule \\x1b[31m3", "fixed-response: fixed response 200",
		"p2.preflight, p3, p4, p6, p9 and 1 more", "forward to api-blue (weight 80), api-green (weight 20); note: source-ip 10.0.0.0/8",
		"not audited: pool admin serves none of the probed requests (the load balancer routes them elsewhere): its 2 instances are not audited",
		"error    lb-answers-options  the load balancer answers OPTIONS /api/cart itself; rule: rule 3",
		"$ curl -X OPTIONS https://shop.example.com/api/cart"} {
		if !strings.Contains(out, want) {
			t.Errorf("discover table lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "$ ") != 1 {
		t.Errorf("want one curl line, for the finding that has one:\n%s", out)
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("a terminal escape reached the table:\n%q", out)
	}
	// A fleet without routing shows what it always did.
	b.Reset()
	writeDiscoverTarget(&b, &pipeline.InventoryTarget{Name: "web", URL: "https://web.example.com/", Instances: []discovery.Instance{{ID: "w-1"}}})
	if out := b.String(); strings.Contains(out, "POOL") || strings.Contains(out, "routes") || strings.Contains(out, "findings") {
		t.Errorf("a target without routing:\n%s", out)
	}
}

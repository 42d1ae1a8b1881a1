package render

import (
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/discovery"
)

// Hostile values a server or a provider could put in a report: they must
// come out as inert text in every format.
const (
	hostileHeader = `<script>document.documentElement.setAttribute('data-pwned','1');alert(1)</script>`
	hostileID     = `i-0b3"><img src=x onerror="document.title='pwned'">`
)

// fixture is a realistic report: two targets, eight instances in groups
// blue and green (one unreachable, one skipped), findings of several kinds,
// one cause over three probes on two paths (two green instances lacking
// PUT and DELETE: verdict-drift, and lb-mismatch on the path whose
// preflights the load balancer forwards), an lb-redirect over two probes,
// two instances showing a reflection on different probes, differences per
// header. Findings are in the differ's order: severity, share of LB
// requests, instances.
func fixture() *diff.Report {
	appGet := diff.ProbeRef{ID: "p1", Origin: "https://app.example.com", Method: "GET", Headers: []string{}, Class: "policy", Expect: "allowed", Path: "/v1/cart"}
	appPut := diff.ProbeRef{ID: "p2", Origin: "https://app.example.com", Method: "PUT",
		Headers: []string{"Content-Type: application/json", "X-Request-Id: 1"}, Credentials: true, Class: "policy", Expect: "allowed", Path: "/v1/cart",
		// The shared load balancer's rule for /api/* (its preflight and
		// the PUT a browser sends after it) names the pools it weighs.
		Routes: []audit.StepRoute{
			{Step: audit.StepPreflight, Route: discovery.Route{Rule: "HTTPS:443 rule priority 10 (…/9c2e)", Action: discovery.ActionForward,
				Pools: []discovery.Pool{{Name: "api-blue", Weight: 90}, {Name: "api-green", Weight: 10}}}},
			{Step: audit.StepActual, Route: discovery.Route{Rule: "HTTPS:443 rule priority 10 (…/9c2e)", Action: discovery.ActionForward,
				Pools: []discovery.Pool{{Name: "api-blue", Weight: 90}, {Name: "api-green", Weight: 10}}}},
		}}
	appDelete := diff.ProbeRef{ID: "p5", Origin: "https://app.example.com", Method: "DELETE", Headers: []string{}, Credentials: true,
		Class: "policy", Expect: "allowed", Path: "/v1/cart"}
	evil := diff.ProbeRef{ID: "p3", Origin: "https://evil.example", Method: "GET", Headers: []string{}, Class: "arbitrary", Path: "/v1/cart"}
	null := diff.ProbeRef{ID: "p4", Origin: "null", Method: "GET", Headers: []string{}, Class: "null", Path: "/v1/cart"}
	itemsPut := diff.ProbeRef{ID: "p6", Origin: "https://app.example.com", Method: "PUT", Headers: []string{}, Credentials: true,
		Class: "policy", Expect: "allowed", Path: "/v1/items"}
	fontGet := diff.ProbeRef{ID: "p1", Origin: "https://app.example.com", Method: "GET", Headers: []string{}, Class: "policy", Expect: "allowed",
		Path: "/fonts/inter.woff2"}
	fontEvil := diff.ProbeRef{ID: "p2", Origin: "https://evil.example", Method: "GET", Headers: []string{}, Class: "arbitrary", Path: "/fonts/inter.woff2"}
	fontEvilPut := diff.ProbeRef{ID: "p3", Origin: "https://evil.example", Method: "PUT", Headers: []string{}, Class: "arbitrary", Path: "/fonts/inter.woff2"}

	apiInstances := []diff.InstanceInfo{
		{ID: "i-0a1", Addr: "10.0.1.11:8443", Group: "blue", Zone: "eu-west-1a", Health: "healthy", Reachable: true},
		{ID: "i-0a2", Addr: "10.0.1.12:8443", Group: "blue", Zone: "eu-west-1b", Health: "healthy", Reachable: true},
		{ID: "i-0a3", Addr: "10.0.1.13:8443", Group: "blue", Zone: "eu-west-1c", Health: "healthy", Reachable: true},
		{ID: "i-0b1", Addr: "10.0.2.11:8443", Group: "green", Zone: "eu-west-1a", Health: "healthy", Reachable: true},
		{ID: hostileID, Addr: "10.0.2.12:8443", Group: "green", Zone: "eu-west-1b", Health: "healthy", Reachable: true},
		{ID: "i-0c9", Addr: "10.0.2.19:8443", Group: "green", Zone: "eu-west-1c", Health: "unhealthy"},
	}
	var apiCells []diff.Cell
	for _, in := range apiInstances {
		for _, p := range []string{"p1", "p2", "p3", "p4", "p5", "p6"} {
			c := diff.Cell{Instance: in.ID, Probe: p, Outcome: diff.OutcomeAllowed, Status: 200}
			switch {
			case in.ID == "i-0c9":
				c = diff.Cell{Instance: in.ID, Probe: p, Outcome: diff.OutcomeError, Reason: "refused"}
			case (p == "p2" || p == "p5" || p == "p6") && (in.ID == "i-0b1" || in.ID == hostileID):
				c.Outcome, c.Reason, c.Status, c.Drift = diff.OutcomeBlocked, "method-not-allowed", 204, true
			case p == "p2" || p == "p5" || p == "p6":
				c.Status = 204
			case p == "p3" || p == "p4":
				c.Outcome, c.Reason = diff.OutcomeBlocked, "origin-mismatch"
			}
			apiCells = append(apiCells, c)
		}
	}
	apiCells = append(apiCells,
		diff.Cell{Instance: "lb", Probe: "p1", Outcome: diff.OutcomeAllowed, Status: 200},
		diff.Cell{Instance: "lb", Probe: "p2", Outcome: diff.OutcomeBlocked, Reason: "redirect", Status: 301, Drift: true},
		diff.Cell{Instance: "lb", Probe: "p3", Outcome: diff.OutcomeBlocked, Reason: "origin-mismatch", Status: 200},
		diff.Cell{Instance: "lb", Probe: "p4", Outcome: diff.OutcomeBlocked, Reason: "origin-mismatch", Status: 200},
		diff.Cell{Instance: "lb", Probe: "p5", Outcome: diff.OutcomeBlocked, Reason: "redirect", Status: 301, Drift: true},
		diff.Cell{Instance: "lb", Probe: "p6", Outcome: diff.OutcomeAllowed, Status: 204, Drift: true},
	)
	staticInstances := []diff.InstanceInfo{
		{ID: "s-blue-1", Addr: "10.0.3.21:80", Group: "blue", Reachable: true},
		{ID: "s-green-1", Addr: "10.0.3.22:80", Group: "green", Reachable: true,
			NotRun: []diff.NotRun{{Reason: "the run's deadline passed", Probes: []string{"p2"}}}},
		{ID: "arn:aws:lambda:eu-west-1:123456789012:function:fonts", Group: "green", Skip: "lambda target"},
	}
	staticCells := []diff.Cell{
		{Instance: "s-blue-1", Probe: "p1", Outcome: diff.OutcomeAllowed, Status: 200},
		{Instance: "s-blue-1", Probe: "p2", Outcome: diff.OutcomeAllowed, Status: 200},
		{Instance: "s-blue-1", Probe: "p3", Outcome: diff.OutcomeAllowed, Status: 204},
		{Instance: "s-green-1", Probe: "p1", Outcome: diff.OutcomeAllowed, Status: 200},
		{Instance: "s-green-1", Probe: "p3", Outcome: diff.OutcomeAllowed, Status: 204},
	}
	putCurl := `curl -sS -o /dev/null -D - -X OPTIONS https://api.example.com/v1/cart --connect-to api.example.com:443:10.0.2.11:8443 -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: PUT' -H 'Access-Control-Request-Headers: content-type,x-request-id'`
	r := &diff.Report{
		Tool: "corsaudit", Version: "0.4.0", Browser: "chromium",
		RunTime: diff.RunTime{StartedAt: time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC), Duration: 4.215},
		Targets: []diff.TargetReport{
			{Name: "api", URL: "https://api.example.com/v1/cart", Instances: apiInstances,
				Probes: []diff.ProbeRef{appGet, appPut, evil, null, appDelete, itemsPut}, Cells: diff.NewCells(apiCells...)},
			{Name: "static", URL: "https://static.example.com/fonts/inter.woff2", Instances: staticInstances,
				Probes: []diff.ProbeRef{fontGet, fontEvil, fontEvilPut}, Cells: diff.NewCells(staticCells...)},
		},
		Findings: []diff.Finding{
			{Kind: diff.KindVerdictDrift, Severity: diff.SeverityError, Target: "api", Instances: []string{"i-0b1", hostileID}, Groups: []string{"green"}, Probe: &appPut,
				Probes: []diff.ProbeRef{appPut, appDelete, itemsPut}, Paths: []string{"/v1/cart", "/v1/items"}, Path: "/v1/cart",
				Explains: []diff.Kind{diff.KindVerdictDrift, diff.KindLBMismatch},
				Difference: []diff.HeaderDifference{{Step: "preflight", Header: "Access-Control-Allow-Methods", Missing: []string{"DELETE", "PUT"}},
					{Step: "preflight", Header: "Access-Control-Max-Age", Expected: "600", Observed: "60"}},
				Expected: "allowed; preflight: 204 ACAO=https://app.example.com ACAC=true ACAM=GET,PUT,POST ACAH=content-type,x-request-id",
				Observed: "blocked; preflight: 204 ACAO=https://app.example.com ACAC=true ACAM=GET,POST ACAH=content-type,x-request-id",
				Message:  "i-0b1, " + hostileID + " (2 of 5 green instances) omit DELETE, PUT from Access-Control-Allow-Methods and send Access-Control-Max-Age 60 instead of 600 on /v1/cart and /v1/items: PUT, DELETE from https://app.example.com are blocked there, and on 40% of requests through the load balancer",
				Share:    0.4, Compared: 5,
				Reproduce: putCurl,
				Evidence: []diff.Evidence{{Instances: []string{"i-0b1", hostileID}, Probes: []string{"p2", "p5", "p6"}, Reproduce: putCurl},
					{Instances: []string{"lb"}, Probes: []string{"p6"}, Reproduce: `curl -sS -o /dev/null -D - -X OPTIONS https://api.example.com/v1/items -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: PUT'`}}},
			{Kind: diff.KindLBRedirect, Severity: diff.SeverityError, Target: "api", Instances: []string{"lb"}, Probe: &appPut,
				Probes: []diff.ProbeRef{appPut, appDelete}, Paths: []string{"/v1/cart"}, Path: "/v1/cart",
				Expected: "a 2xx answer to the preflight", Observed: "301 Location=http://api.example.com/v1/cart",
				Message: "the load balancer redirects OPTIONS preflights (2 of 3 preflighted probes, Location: http://api.example.com/v1/cart): browsers reject every redirected preflight",
				Share:   0.5, Reproduce: `curl -sS -o /dev/null -D - -X OPTIONS https://api.example.com/v1/cart -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: PUT' -H 'Access-Control-Request-Headers: content-type,x-request-id'`},
			{Kind: diff.KindUnreachable, Severity: diff.SeverityError, Target: "api", Instances: []string{"i-0c9"}, Groups: []string{"green"},
				Expected: "an HTTP response", Observed: "refused: dial tcp 10.0.2.19:8443: connect: connection refused",
				Message:   "instance i-0c9 (10.0.2.19:8443) answered none of 8 requests: refused",
				Reproduce: `curl -sS -o /dev/null -D - https://api.example.com/v1/cart --connect-to api.example.com:443:10.0.2.19:8443 -H 'Origin: https://app.example.com'`},
			{Kind: diff.KindHeaderDrift, Severity: diff.SeverityWarning, Target: "api", Instances: []string{"i-0a3"}, Groups: []string{"blue"}, Probe: &appPut,
				Probes: []diff.ProbeRef{appPut}, Paths: []string{"/v1/cart"}, Path: "/v1/cart", Explains: []diff.Kind{diff.KindHeaderDrift},
				Difference: []diff.HeaderDifference{{Step: "preflight", Header: "Access-Control-Max-Age", Expected: "600", Observed: "7200"},
					{Step: "preflight", Header: "Access-Control-Expose-Headers", Extra: []string{hostileHeader}}},
				Expected:  "allowed; preflight: 204 ACAO=https://app.example.com ACAC=true ACAM=GET,PUT,POST ACMA=600",
				Observed:  "allowed; preflight: 204 ACAO=https://app.example.com ACAC=true ACAM=GET,PUT,POST ACMA=7200 ACEH=" + hostileHeader,
				Compared:  5,
				Message:   "i-0a3 (1 of 5 instances) sends Access-Control-Max-Age 7200 instead of 600 and adds " + hostileHeader + " to Access-Control-Expose-Headers on /v1/cart: browsers decide the same on 1 request",
				Reproduce: `curl -sS -o /dev/null -D - -X OPTIONS https://api.example.com/v1/cart --connect-to api.example.com:443:10.0.1.13:8443 -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: PUT'`},
			{Kind: diff.KindOriginReflection, Severity: diff.SeverityError, Target: "static", Instances: []string{"s-blue-1", "s-green-1"}, Groups: []string{"blue", "green"}, Probe: &fontEvil,
				Probes: []diff.ProbeRef{fontEvil, fontEvilPut}, Paths: []string{"/fonts/inter.woff2"}, Path: "/fonts/inter.woff2",
				Expected: "no Access-Control-Allow-Origin for https://evil.example", Observed: "Access-Control-Allow-Origin: https://evil.example",
				Message:   "all 2 instances (s-blue-1, s-green-1) reflect any origin in Access-Control-Allow-Origin (https://evil.example was trusted): any website can read the responses",
				Reproduce: `curl -sS -o /dev/null -D - -X GET https://static.example.com/fonts/inter.woff2 --connect-to static.example.com:443:10.0.3.21:80 -H 'Origin: https://evil.example'`,
				// s-green-1 reflects the origin on preflights only: its
				// evidence is a preflight, not the GET its answer is right to.
				Evidence: []diff.Evidence{
					{Instances: []string{"s-blue-1"}, Probes: []string{"p2", "p3"}, Reproduce: `curl -sS -o /dev/null -D - -X GET https://static.example.com/fonts/inter.woff2 --connect-to static.example.com:443:10.0.3.21:80 -H 'Origin: https://evil.example'`},
					{Instances: []string{"s-green-1"}, Probes: []string{"p3"}, Reproduce: `curl -sS -o /dev/null -D - -X OPTIONS https://static.example.com/fonts/inter.woff2 --connect-to static.example.com:443:10.0.3.22:80 -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: PUT'`},
				}},
			{Kind: diff.KindVaryMissing, Severity: diff.SeverityWarning, Target: "static", Instances: []string{"s-blue-1", "s-green-1"}, Groups: []string{"blue", "green"},
				Expected: "Vary: Origin", Observed: "no Vary: Origin on an origin-dependent Access-Control-Allow-Origin",
				Message:   "2 instance(s) answer GET with an Access-Control-Allow-Origin that depends on the Origin but without Vary: Origin: a shared cache can serve one origin's answer to another",
				Reproduce: `curl -sS -o /dev/null -D - -X GET https://static.example.com/fonts/inter.woff2 --connect-to static.example.com:443:10.0.3.21:80 -H 'Origin: https://app.example.com'`},
			{Kind: diff.KindSkipped, Severity: diff.SeverityInfo, Target: "static", Instances: []string{"arn:aws:lambda:eu-west-1:123456789012:function:fonts"}, Groups: []string{"green"},
				Message: "instance arn:aws:lambda:eu-west-1:123456789012:function:fonts is not probed: lambda target"},
		},
		Summary: diff.Summary{Requests: 212},
	}
	r.Summarize()
	return r
}

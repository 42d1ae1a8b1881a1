package gcp

import (
	"context"
	"net"
	"strings"

	"cloud.google.com/go/compute/apiv1/computepb"
)

// publicURL finds the load balancer address of the backend service: the URL
// maps that route to it, the target proxies using those maps, the
// forwarding rules pointing at those proxies. An HTTPS proxy wins over an
// HTTP one. It returns "" when no chain reaches the service (the config then
// has to give the URL), and the weight of the service in a weighted route
// (blue/green across backend services), 0 when there is none.
func (d *discoverer) publicURL(ctx context.Context, serviceURL string) (string, int, error) {
	project, region := d.cfg.Project, d.cfg.Region
	var maps []*computepb.UrlMap
	err := d.call(ctx, callSpec{op: "list url maps", permission: d.regional("compute.urlMaps.list")},
		func(ctx context.Context) (err error) {
			maps, err = d.api.ListURLMaps(ctx, project, region)
			return err
		})
	if err != nil {
		return "", 0, err
	}
	var routing []string
	weight := 0
	for _, m := range maps {
		if ok, w := routesTo(m, serviceURL); ok {
			routing = append(routing, m.GetSelfLink())
			if w > 0 && weight == 0 {
				weight = w
			}
		}
	}
	if len(routing) == 0 {
		return "", 0, nil
	}
	var proxies []targetProxy
	for _, https := range []bool{true, false} {
		perm := "compute.targetHttpProxies.list"
		if https {
			perm = "compute.targetHttpsProxies.list"
		}
		var ps []targetProxy
		err := d.call(ctx, callSpec{op: "list target proxies", permission: d.regional(perm)},
			func(ctx context.Context) (err error) {
				ps, err = d.api.ListTargetProxies(ctx, project, region, https)
				return err
			})
		if err != nil {
			return "", 0, err
		}
		for _, p := range ps {
			for _, m := range routing {
				if sameResource(p.URLMap, m) {
					proxies = append(proxies, p)
				}
			}
		}
	}
	if len(proxies) == 0 {
		return "", weight, nil
	}
	var rules []*computepb.ForwardingRule
	perm := "compute.globalForwardingRules.list"
	if region != "" {
		perm = "compute.forwardingRules.list"
	}
	err = d.call(ctx, callSpec{op: "list forwarding rules", permission: perm},
		func(ctx context.Context) (err error) {
			rules, err = d.api.ListForwardingRules(ctx, project, region)
			return err
		})
	if err != nil {
		return "", 0, err
	}
	return frontendURL(proxies, rules), weight, nil
}

// frontendURL is the URL of the first forwarding rule pointing at one of the
// proxies (HTTPS proxies first, in list order), or "".
func frontendURL(proxies []targetProxy, rules []*computepb.ForwardingRule) string {
	for _, https := range []bool{true, false} {
		for _, p := range proxies {
			if p.HTTPS != https {
				continue
			}
			for _, r := range rules {
				if r.GetIPAddress() == "" || !sameResource(r.GetTarget(), p.SelfLink) {
					continue
				}
				scheme, def := "http", "80"
				if https {
					scheme, def = "https", "443"
				}
				host := r.GetIPAddress()
				if port := firstPort(r.GetPortRange()); port != "" && port != def {
					host = net.JoinHostPort(host, port)
				} else if strings.Contains(host, ":") {
					host = "[" + host + "]"
				}
				return scheme + "://" + host + "/"
			}
		}
	}
	return ""
}

// firstPort is the first port of a portRange ("443-443", "8080").
func firstPort(portRange string) string {
	p, _, _ := strings.Cut(portRange, "-")
	return p
}

// routesTo reports whether the URL map sends any request to the service, and
// the service's weight in the first weighted route naming it.
func routesTo(m *computepb.UrlMap, service string) (bool, int) {
	found, weight := false, 0
	visitService := func(s string) {
		if s != "" && sameResource(s, service) {
			found = true
		}
	}
	visitAction := func(a *computepb.HttpRouteAction) {
		for _, wb := range a.GetWeightedBackendServices() {
			if sameResource(wb.GetBackendService(), service) {
				found = true
				if weight == 0 {
					weight = int(wb.GetWeight())
				}
			}
		}
	}
	visitService(m.GetDefaultService())
	visitAction(m.GetDefaultRouteAction())
	for _, pm := range m.GetPathMatchers() {
		visitService(pm.GetDefaultService())
		visitAction(pm.GetDefaultRouteAction())
		for _, pr := range pm.GetPathRules() {
			visitService(pr.GetService())
			visitAction(pr.GetRouteAction())
		}
		for _, rr := range pm.GetRouteRules() {
			visitService(rr.GetService())
			visitAction(rr.GetRouteAction())
		}
	}
	return found, weight
}

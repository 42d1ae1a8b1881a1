package gcp

import (
	"context"
	"fmt"

	"cloud.google.com/go/compute/apiv1/computepb"
)

// loadBalancers is what Discover read of the Application Load Balancers in
// front of the backend service.
type loadBalancers struct {
	// router evaluates them; nil when no URL map routes to the service or
	// no forwarding rule leads to one (routing is then unknown).
	router *router
	// url is the default public URL (see router.defaultURL).
	url string
	// partners are the backend services (URLs) that share a weighted
	// split with the service, in the order the maps name them.
	partners []string
	// weights are the weights of the service and its partners (by name) in
	// the first weighted split naming the service.
	weights map[string]int
}

// loadBalancers lists the URL maps, and when one of them routes to the
// service, the HTTPS and HTTP target proxies and the forwarding rules: four
// list calls, whatever the number of maps, proxies and rules.
func (d *discoverer) loadBalancers(ctx context.Context, serviceURL string) (loadBalancers, error) {
	project, region := d.cfg.Project, d.cfg.Region
	var maps []*computepb.UrlMap
	err := d.call(ctx, callSpec{op: "list url maps", permission: d.regional("compute.urlMaps.list")},
		func(ctx context.Context) (err error) {
			maps, err = d.api.ListURLMaps(ctx, project, region)
			return err
		})
	if err != nil {
		return loadBalancers{}, err
	}
	lb := loadBalancers{weights: map[string]int{}}
	routing := false
	for _, m := range maps {
		if ok, _ := routesTo(m, serviceURL); ok {
			routing = true
			lb.addSplits(m, serviceURL)
		}
	}
	if !routing {
		return lb, nil
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
			return loadBalancers{}, err
		}
		proxies = append(proxies, ps...)
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
		return loadBalancers{}, err
	}
	byKey := make(map[string]*mapRouter, len(maps))
	for _, m := range maps {
		if ref, ok := parseRef(m.GetSelfLink()); ok {
			byKey[ref.key()] = newMapRouter(m)
		}
	}
	fronts := frontends(rules, proxies, byKey)
	if name := d.cfg.ForwardingRule; name != "" {
		var picked []frontend
		for _, f := range fronts {
			if f.Rule == name {
				picked = append(picked, f)
			}
		}
		if len(picked) == 0 {
			return loadBalancers{}, fmt.Errorf("gcp: forwarding_rule %q: no forwarding rule of that name points at an HTTP(S) target proxy in project %s (found: %s)",
				name, project, describe(fronts))
		}
		fronts = picked
	}
	if len(fronts) == 0 {
		return lb, nil
	}
	lb.router = newRouter(project, fronts, byKey)
	lb.url = lb.router.defaultURL(serviceURL)
	return lb, nil
}

// addSplits records, for every weighted split of m that names the service,
// the other backend services in it (partners, once each) and, for the
// first such split, every member's weight.
func (lb *loadBalancers) addSplits(m *computepb.UrlMap, serviceURL string) {
	visitActions(m, func(_ string, a *computepb.HttpRouteAction) {
		wbs := a.GetWeightedBackendServices()
		in := false
		for _, wb := range wbs {
			in = in || sameResource(wb.GetBackendService(), serviceURL)
		}
		if !in {
			return
		}
		first := len(lb.weights) == 0
		for _, wb := range wbs {
			s := wb.GetBackendService()
			if first {
				lb.weights[lastSegment(s)] = int(wb.GetWeight())
			}
			if sameResource(s, serviceURL) || lb.hasPartner(s) {
				continue
			}
			lb.partners = append(lb.partners, s)
		}
	})
}

func (lb *loadBalancers) hasPartner(s string) bool {
	for _, p := range lb.partners {
		if sameResource(p, s) {
			return true
		}
	}
	return false
}

// visitActions calls f with every service and route action of the map:
// its defaults, each path matcher's defaults, path rules and route rules.
func visitActions(m *computepb.UrlMap, f func(service string, a *computepb.HttpRouteAction)) {
	f(m.GetDefaultService(), m.GetDefaultRouteAction())
	for _, pm := range m.GetPathMatchers() {
		f(pm.GetDefaultService(), pm.GetDefaultRouteAction())
		for _, pr := range pm.GetPathRules() {
			f(pr.GetService(), pr.GetRouteAction())
		}
		for _, rr := range pm.GetRouteRules() {
			f(rr.GetService(), rr.GetRouteAction())
		}
	}
}

// routesTo reports whether the URL map names the service anywhere, and the
// service's weight in the first weighted route naming it.
func routesTo(m *computepb.UrlMap, service string) (bool, int) {
	found, weight := false, 0
	visitActions(m, func(s string, a *computepb.HttpRouteAction) {
		if s != "" && sameResource(s, service) {
			found = true
		}
		for _, wb := range a.GetWeightedBackendServices() {
			if sameResource(wb.GetBackendService(), service) {
				found = true
				if weight == 0 {
					weight = int(wb.GetWeight())
				}
			}
		}
	})
	return found, weight
}

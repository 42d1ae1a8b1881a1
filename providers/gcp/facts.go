package gcp

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"cloud.google.com/go/compute/apiv1/computepb"

	"github.com/corsaudit/corsaudit/discovery"
)

// serviceFacts is what the backend services' configuration says of the
// layers in front of their instances (discovery.FrontFact): CORS headers
// the load balancer adds (customResponseHeaders), a Cloud CDN whose cache
// key leaves out the Origin, an Identity-Aware Proxy that sends preflights
// to its login. Reading it costs one IAP settings get per service with
// IAP enabled (iap.googleapis.com), nothing else: the rest is in the
// backend service already read.
func (d *discoverer) serviceFacts(ctx context.Context, services []*computepb.BackendService) ([]discovery.FrontFact, error) {
	var out []discovery.FrontFact
	for _, bs := range services {
		resource := "backend service " + resourceName(bs.GetSelfLink(), bs.GetName())
		if f, ok := customCORSHeaders(resource, bs.GetCustomResponseHeaders()); ok {
			out = append(out, f)
		}
		if f, ok := cdnCacheKey(resource, bs); ok {
			out = append(out, f)
		}
		if !bs.GetIap().GetEnabled() {
			continue
		}
		name := iapResource(d.cfg.Project, d.cfg.Region, bs.GetName())
		var allow bool
		err := d.call(ctx, callSpec{op: "get IAP settings of " + bs.GetName(), permission: "iap.webServices.getSettings"},
			func(ctx context.Context) (err error) {
				allow, err = d.api.GetIAPSettings(ctx, name)
				return err
			})
		if err != nil {
			// IAP settings need a permission roles/compute.viewer lacks:
			// the audit goes on without them, and says so.
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			out = append(out, discovery.FrontFact{Kind: discovery.FactUnread, Resource: "the IAP settings of " + resource + " (" + name + ")",
				Settings: []string{err.Error()}})
			continue
		}
		if !allow {
			out = append(out, discovery.FrontFact{Kind: discovery.FactPreflightLogin, Resource: resource + " (IAP " + name + ")",
				Settings: []string{"iap.enabled=true", "accessSettings.corsSettings.allowHttpOptions=false"}})
		}
	}
	return out, nil
}

// resourceName is a self link as the API's resource name
// ("projects/p/global/backendServices/shop"), else name.
func resourceName(selfLink, name string) string {
	if _, rest, ok := strings.Cut(selfLink, "/compute/v1/"); ok {
		return rest
	}
	return name
}

// iapResource is the IAP settings resource of a backend service
// (https://cloud.google.com/iap/docs/reference/rest/v1/IapSettings):
// projects/P/iap_web/compute/services/S, or compute-REGION for a
// regional one.
func iapResource(project, region, service string) string {
	kind := "compute"
	if region != "" {
		kind += "-" + region
	}
	return fmt.Sprintf("projects/%s/iap_web/%s/services/%s", project, kind, service)
}

// customCORSHeaders is the fact that a backend service's
// customResponseHeaders set Access-Control-* headers on every answer.
func customCORSHeaders(resource string, headers []string) (discovery.FrontFact, bool) {
	var settings []string
	for _, h := range headers {
		name, _, _ := strings.Cut(h, ":")
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(name)), "access-control-") {
			settings = append(settings, "customResponseHeaders: "+h)
		}
	}
	if len(settings) == 0 {
		return discovery.FrontFact{}, false
	}
	return discovery.FrontFact{Kind: discovery.FactCORSHeaders, Resource: resource, Settings: settings}, true
}

// cdnCacheKey is the fact that Cloud CDN caches a backend service's
// answers under a key without the Origin header
// (https://cloud.google.com/cdn/docs/caching#cache-keys): only a Vary:
// Origin on every answer then keeps origins apart.
func cdnCacheKey(resource string, bs *computepb.BackendService) (discovery.FrontFact, bool) {
	if !bs.GetEnableCDN() {
		return discovery.FrontFact{}, false
	}
	pol := bs.GetCdnPolicy()
	headers := pol.GetCacheKeyPolicy().GetIncludeHttpHeaders()
	if slices.ContainsFunc(headers, func(h string) bool { return http.CanonicalHeaderKey(strings.TrimSpace(h)) == "Origin" }) {
		return discovery.FrontFact{}, false
	}
	mode := pol.GetCacheMode()
	if mode == "" {
		mode = "CACHE_ALL_STATIC"
	}
	return discovery.FrontFact{Kind: discovery.FactCacheKey, Resource: resource, Settings: []string{"enableCDN=true",
		"cdnPolicy.cacheMode=" + mode, "cdnPolicy.cacheKeyPolicy.includeHttpHeaders=[" + strings.Join(headers, ",") + "]"}}, true
}

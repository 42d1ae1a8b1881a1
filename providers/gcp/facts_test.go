package gcp

import (
	"reflect"
	"testing"

	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/providers/gcp/gcptest"
)

// TestDiscoverFacts: what the backend service's configuration says of the
// layers in front of its instances, read through the fake compute and IAP
// REST APIs with the real clients: CORS headers in customResponseHeaders,
// Cloud CDN with a cache key without the Origin, IAP without
// allowHttpOptions, each naming the backend service; and none of them for
// a service set up right.
func TestDiscoverFacts(t *testing.T) {
	const svcPath = "global/backendServices/shop-backend"
	resource := "backend service projects/" + project + "/" + svcPath
	iapName := "projects/" + project + "/iap_web/compute/services/shop-backend"
	for _, tc := range []struct {
		desc  string
		set   func(svc gcptest.Obj)
		allow bool // IAP lets OPTIONS through
		deny  bool // the IAP settings may not be read
		want  []discovery.FrontFact
	}{
		{desc: "nothing in front", set: func(gcptest.Obj) {}},
		{desc: "customResponseHeaders set CORS headers",
			set: func(svc gcptest.Obj) {
				svc["customResponseHeaders"] = []string{"X-Frame-Options: DENY", "Access-Control-Allow-Origin: *", "access-control-max-age: 600"}
			},
			want: []discovery.FrontFact{{Kind: discovery.FactCORSHeaders, Resource: resource,
				Settings: []string{"customResponseHeaders: Access-Control-Allow-Origin: *", "customResponseHeaders: access-control-max-age: 600"}}}},
		{desc: "Cloud CDN keyed without the Origin",
			set: func(svc gcptest.Obj) {
				svc["enableCDN"] = true
				svc["cdnPolicy"] = gcptest.Obj{"cacheMode": "FORCE_CACHE_ALL", "cacheKeyPolicy": gcptest.Obj{"includeHttpHeaders": []string{"Accept-Language"}}}
			},
			want: []discovery.FrontFact{{Kind: discovery.FactCacheKey, Resource: resource,
				Settings: []string{"enableCDN=true", "cdnPolicy.cacheMode=FORCE_CACHE_ALL", "cdnPolicy.cacheKeyPolicy.includeHttpHeaders=[Accept-Language]"}}}},
		{desc: "Cloud CDN keyed on the Origin",
			set: func(svc gcptest.Obj) {
				svc["enableCDN"] = true
				svc["cdnPolicy"] = gcptest.Obj{"cacheKeyPolicy": gcptest.Obj{"includeHttpHeaders": []string{"origin"}}}
			}},
		{desc: "IAP without allowHttpOptions",
			set: func(svc gcptest.Obj) { svc["iap"] = gcptest.Obj{"enabled": true} },
			want: []discovery.FrontFact{{Kind: discovery.FactPreflightLogin, Resource: resource + " (IAP " + iapName + ")",
				Settings: []string{"iap.enabled=true", "accessSettings.corsSettings.allowHttpOptions=false"}}}},
		{desc: "IAP settings that may not be read: said, discovery goes on", deny: true,
			set: func(svc gcptest.Obj) { svc["iap"] = gcptest.Obj{"enabled": true} },
			want: []discovery.FrontFact{{Kind: discovery.FactUnread, Resource: "the IAP settings of " + resource + " (" + iapName + ")",
				Settings: []string{"gcp: get IAP settings of shop-backend: permission denied (needs iap.webServices.getSettings)"}}}},
		{desc: "IAP that lets OPTIONS through", allow: true,
			set: func(svc gcptest.Obj) { svc["iap"] = gcptest.Obj{"enabled": true} }},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			f := gcptest.NewServer(t, project)
			group := "zones/europe-west1-b/instanceGroups/shop-blue"
			svc := f.BackendService(svcPath, "HTTP", "http", group)
			vm := f.VM("europe-west1-b", "shop-blue-1", "127.0.0.11", "", "RUNNING")
			f.GroupMember(group, vm, "RUNNING", map[string]int{"http": 8080})
			f.Health(svcPath, group, gcptest.Obj{"instance": vm, "ipAddress": "127.0.0.11", "port": 8080, "healthState": "HEALTHY"})
			f.Frontend("global", svc, true, "127.0.0.1", "443-443")
			obj := f.Put(svcPath, f.Object(svcPath))
			tc.set(obj)
			f.IAPSettings(iapName, tc.allow)
			if tc.deny {
				f.SetError("iap:"+iapName, gcptest.Error{Code: 403, Reason: "forbidden", Message: "Permission 'iap.webServices.getSettings' denied"})
			}
			tg, err := discover(t, Config{Project: project, BackendService: "shop-backend", Endpoint: f.URL()})
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if !reflect.DeepEqual(tg.Facts, tc.want) {
				t.Errorf("facts %+v\nwant %+v", tg.Facts, tc.want)
			}
			iapCalls, _ := f.CallCount("GET iap/{}:iapSettings")
			if wantCalls := map[bool]int{true: 1, false: 0}[obj["iap"] != nil]; iapCalls != wantCalls {
				t.Errorf("%d IAP settings calls, want %d (only for a service with IAP enabled)", iapCalls, wantCalls)
			}
		})
	}
}

package gcp

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/providers/gcp/gcptest"
)

const project = "shop-project"

// discover builds the provider from cfg through New, as the config layer
// does, and runs it with the real REST clients.
func discover(t *testing.T, cfg Config) (discovery.Target, error) {
	t.Helper()
	p, err := New(func(out any) error { *(out.(*Config)) = cfg; return nil })
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ts, err := p.Discover(ctx)
	if err != nil {
		return discovery.Target{}, err
	}
	if len(ts) != 1 {
		t.Fatalf("Discover returned %d targets, want 1", len(ts))
	}
	return ts[0], nil
}

// brief is the part of an instance the tests compare.
type brief struct {
	ID, Addr, Scheme, Group, Zone, Health, Skip string
	Weight                                      int
}

func briefs(ins []discovery.Instance) []brief {
	out := make([]brief, len(ins))
	for i, in := range ins {
		out[i] = brief{ID: in.ID, Addr: in.Addr, Scheme: in.Scheme, Group: in.Group, Zone: in.Zone,
			Health: in.Health, Skip: in.Skip, Weight: in.Weight}
	}
	return out
}

func checkInstances(t *testing.T, desc string, got []discovery.Instance, want []brief) {
	t.Helper()
	g := briefs(got)
	if !reflect.DeepEqual(g, want) {
		t.Errorf("%s: instances:\n got %+v\nwant %+v", desc, g, want)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		desc    string
		cfg     Config
		wantErr string
	}{
		{desc: "minimal", cfg: Config{Project: "my-project", BackendService: "shop-backend"}},
		{desc: "everything", cfg: Config{Project: "example.com:my-project", BackendService: "shop-backend", Region: "europe-west1",
			ForwardingRule: "shop-https", Address: "external", Endpoint: "http://127.0.0.1:9", CallTimeout: time.Second}},
		{desc: "empty", cfg: Config{}, wantErr: "project: required\nbackend_service: required"},
		{desc: "every problem named", cfg: Config{Project: "My_Project", BackendService: "Shop", Region: "europe west1",
			ForwardingRule: "Shop HTTPS", Address: "public", Endpoint: "127.0.0.1:9", CallTimeout: -time.Second},
			wantErr: `project: "My_Project" is not a project ID` + "\n" +
				`backend_service: "Shop" is not a resource name` + "\n" +
				`region: "europe west1" is not a region name` + "\n" +
				`forwarding_rule: "Shop HTTPS" is not a resource name` + "\n" +
				`address: "public" is not internal or external` + "\n" +
				`endpoint: "127.0.0.1:9" is not an http(s) URL` + "\n" +
				`call_timeout: -1s must not be negative`},
	} {
		_, err := New(func(out any) error { *(out.(*Config)) = tc.cfg; return nil })
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: New: %v", tc.desc, err)
		case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
			t.Errorf("%s: err = %v, want %q", tc.desc, err, tc.wantErr)
		}
	}
}

func TestNewPassesDecodeError(t *testing.T) {
	want := errors.New(`'' has invalid keys: projekt`)
	_, err := New(func(any) error { return want })
	if !errors.Is(err, want) {
		t.Errorf("New: err = %v, want the decode error", err)
	}
}

func TestDiscoverGlobalTwoZonalGroups(t *testing.T) {
	f := gcptest.NewServer(t, project)
	blue, green := "zones/europe-west1-b/instanceGroups/shop-blue", "zones/europe-west1-c/instanceGroups/shop-green"
	svcPath := "global/backendServices/shop-backend"
	svc := f.BackendService(svcPath, "HTTPS", "https", blue, green)
	ports := map[string]int{"https": 8443, "metrics": 9100}
	b1 := f.VM("europe-west1-b", "shop-blue-1", "10.0.0.11", "34.0.0.11", "RUNNING")
	b2 := f.VM("europe-west1-b", "shop-blue-2", "10.0.0.12", "", "RUNNING")
	g1 := f.VM("europe-west1-c", "shop-green-1", "10.0.1.11", "", "RUNNING")
	g2 := f.VM("europe-west1-c", "shop-green-2", "10.0.1.12", "", "TERMINATED")
	f.VM("europe-west1-c", "unrelated-vm", "10.0.1.99", "", "RUNNING")
	f.GroupMember(blue, b1, "RUNNING", ports)
	f.GroupMember(blue, b2, "RUNNING", ports)
	f.GroupMember(green, g1, "RUNNING", ports)
	f.GroupMember(green, g2, "TERMINATED", ports)
	f.Health(svcPath, blue, gcptest.Obj{"instance": b1, "ipAddress": "10.0.0.11", "port": 8443, "healthState": "HEALTHY"})
	f.Health(svcPath, blue, gcptest.Obj{"instance": b2, "ipAddress": "10.0.0.12", "port": 8443, "healthState": "UNHEALTHY"})
	f.Health(svcPath, green, gcptest.Obj{"instance": g1, "ipAddress": "10.0.1.11", "port": 8443, "healthState": "HEALTHY"})
	f.Frontend("global", svc, true, "34.120.0.1", "443-443")

	tg, err := discover(t, Config{Project: project, BackendService: "shop-backend", Endpoint: f.URL()})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if tg.Name != "shop-backend" || tg.URL != "https://34.120.0.1/" {
		t.Errorf("target = %q %q, want shop-backend https://34.120.0.1/", tg.Name, tg.URL)
	}
	checkInstances(t, "global", tg.Instances, []brief{
		{ID: "shop-blue-1", Addr: "10.0.0.11:8443", Scheme: "https", Group: "shop-blue", Zone: "europe-west1-b", Health: "healthy"},
		{ID: "shop-blue-2", Addr: "10.0.0.12:8443", Scheme: "https", Group: "shop-blue", Zone: "europe-west1-b", Health: "unhealthy"},
		{ID: "shop-green-1", Addr: "10.0.1.11:8443", Scheme: "https", Group: "shop-green", Zone: "europe-west1-c", Health: "healthy"},
		{ID: "shop-green-2", Addr: "10.0.1.12:8443", Scheme: "https", Group: "shop-green", Zone: "europe-west1-c", Health: "unknown",
			Skip: "instance status TERMINATED"},
	})
	if len(tg.Instances) == 4 {
		l := tg.Instances[0].Labels
		want := map[string]string{"kind": "zonal-instance-group", "backend_service": "shop-backend",
			"balancing_mode": "UTILIZATION", "capacity_scaler": "1", "machine_type": "e2-small"}
		if !reflect.DeepEqual(l, want) {
			t.Errorf("labels = %v, want %v", l, want)
		}
		if r := tg.Instances[3].HealthReason; r != "not reported by getHealth" {
			t.Errorf("health reason = %q", r)
		}
	}
	// Instance IPs come from one filtered list per zone.
	if n, _ := f.CallCount("GET zones/{}/instances"); n != 2 {
		t.Errorf("instances list calls = %d, want 2 (one per zone)", n)
	}
}

func TestDiscoverRegionalGroupExternal(t *testing.T) {
	f := gcptest.NewServer(t, project)
	rig := "regions/us-east1/instanceGroups/shop-mig"
	svcPath := "regions/us-east1/backendServices/shop-backend"
	svc := f.BackendService(svcPath, "HTTP", "", rig)
	a := f.VM("us-east1-b", "shop-mig-a", "10.1.0.1", "35.1.0.1", "RUNNING")
	b := f.VM("us-east1-c", "shop-mig-b", "10.1.0.2", "35.1.0.2", "RUNNING")
	c := f.VM("us-east1-d", "shop-mig-c", "10.1.0.3", "", "RUNNING")
	for _, v := range []string{a, b, c} {
		f.GroupMember(rig, v, "RUNNING", map[string]int{"http": 8080})
	}
	f.Health(svcPath, rig, gcptest.Obj{"instance": a, "ipAddress": "10.1.0.1", "port": 8080, "healthState": "HEALTHY"})
	f.Health(svcPath, rig, gcptest.Obj{"instance": b, "ipAddress": "10.1.0.2", "port": 8080, "healthState": "DRAINING"})
	f.Frontend("regions/us-east1", svc, false, "10.9.9.9", "8080-8080")

	tg, err := discover(t, Config{Project: project, BackendService: "shop-backend", Region: "us-east1",
		Address: "external", Endpoint: f.URL()})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if tg.URL != "http://10.9.9.9:8080/" {
		t.Errorf("url = %q, want http://10.9.9.9:8080/", tg.URL)
	}
	checkInstances(t, "regional", tg.Instances, []brief{
		{ID: "shop-mig-a", Addr: "35.1.0.1:8080", Scheme: "http", Group: "shop-mig", Zone: "us-east1-b", Health: "healthy"},
		{ID: "shop-mig-b", Addr: "35.1.0.2:8080", Scheme: "http", Group: "shop-mig", Zone: "us-east1-c", Health: "draining"},
		{ID: "shop-mig-c", Scheme: "http", Group: "shop-mig", Zone: "us-east1-d", Health: "unknown",
			Skip: "instance shop-mig-c has no external IP"},
	})
	if n, _ := f.CallCount("POST regions/{}/backendServices/{}/getHealth"); n != 1 {
		t.Errorf("regional getHealth calls = %d, want 1", n)
	}
	if n, _ := f.CallCount("GET regions/{}/forwardingRules"); n != 1 {
		t.Errorf("regional forwarding rules calls = %d, want 1", n)
	}
}

func TestDiscoverNEG(t *testing.T) {
	f := gcptest.NewServer(t, project)
	negPath := "zones/europe-west1-b/networkEndpointGroups/shop-neg"
	other := "zones/europe-west1-b/networkEndpointGroups/serverless"
	svcPath := "global/backendServices/shop-backend"
	f.BackendService(svcPath, "HTTP2", "http", negPath, other)
	f.Put(negPath, gcptest.Obj{"name": "shop-neg", "networkEndpointType": "GCE_VM_IP_PORT", "defaultPort": 9000,
		"zone": f.SelfLink("zones/europe-west1-b"), "size": 3})
	f.Put(other, gcptest.Obj{"name": "serverless", "networkEndpointType": "SERVERLESS"})
	vmA := f.VM("europe-west1-b", "neg-vm-a", "10.2.0.1", "", "RUNNING")
	f.VM("europe-west1-b", "neg-vm-b", "10.2.0.2", "", "RUNNING")
	f.Add(negPath+"/listNetworkEndpoints",
		gcptest.Obj{"networkEndpoint": gcptest.Obj{"ipAddress": "10.2.0.1", "port": 8080, "instance": "neg-vm-a"}},
		gcptest.Obj{"networkEndpoint": gcptest.Obj{"ipAddress": "10.2.0.1", "instance": vmA}},
		gcptest.Obj{"networkEndpoint": gcptest.Obj{"instance": "neg-vm-b", "port": 8081}},
		gcptest.Obj{"networkEndpoint": gcptest.Obj{"ipAddress": "10.2.0.7", "port": 8082}})
	f.Health(svcPath, negPath, gcptest.Obj{"ipAddress": "10.2.0.1", "port": 8080, "healthState": "HEALTHY"})
	f.Health(svcPath, negPath, gcptest.Obj{"ipAddress": "10.2.0.1", "port": 9000, "healthState": "UNHEALTHY"})
	f.Health(svcPath, negPath, gcptest.Obj{"ipAddress": "10.2.0.7", "port": 8082, "healthState": "HEALTHY"})

	tg, err := discover(t, Config{Project: project, BackendService: "shop-backend", Endpoint: f.URL()})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if tg.URL != "" {
		t.Errorf("url = %q, want none (no URL map routes to the service)", tg.URL)
	}
	checkInstances(t, "neg", tg.Instances, []brief{
		{ID: "neg-vm-a", Addr: "10.2.0.1:8080", Scheme: "https", Group: "shop-neg", Zone: "europe-west1-b", Health: "healthy"},
		{ID: "neg-vm-a", Addr: "10.2.0.1:9000", Scheme: "https", Group: "shop-neg", Zone: "europe-west1-b", Health: "unhealthy"},
		{ID: "neg-vm-b", Addr: "10.2.0.2:8081", Scheme: "https", Group: "shop-neg", Zone: "europe-west1-b", Health: "unknown"},
		{ID: "10.2.0.7:8082", Addr: "10.2.0.7:8082", Scheme: "https", Group: "shop-neg", Zone: "europe-west1-b", Health: "healthy"},
		{ID: "serverless", Scheme: "https", Group: "serverless", Zone: "europe-west1-b", Health: "unknown",
			Skip: "network endpoint group type SERVERLESS not supported (GCE_VM_IP_PORT is)"},
	})
	// Only neg-vm-b lacks an endpoint IP: one filtered instances list.
	if n, _ := f.CallCount("GET zones/{}/instances"); n != 1 {
		t.Errorf("instances list calls = %d, want 1", n)
	}
	if n, _ := f.CallCount("getHealth"); n != 1 {
		t.Errorf("getHealth calls = %d, want 1 (none for the unsupported NEG)", n)
	}
}

func TestDiscoverPagination(t *testing.T) {
	f := gcptest.NewServer(t, project)
	f.SetPageSize(2)
	ig := "zones/asia-east1-a/instanceGroups/big"
	svcPath := "global/backendServices/shop-backend"
	f.BackendService(svcPath, "HTTP", "http", ig)
	var want []brief
	for i := range 5 {
		name := fmt.Sprintf("big-%d", i)
		ip := fmt.Sprintf("10.3.0.%d", i+1)
		f.GroupMember(ig, f.VM("asia-east1-a", name, ip, "", "RUNNING"), "RUNNING", map[string]int{"http": 80})
		want = append(want, brief{ID: name, Addr: ip + ":80", Scheme: "http", Group: "big", Zone: "asia-east1-a", Health: "unknown"})
	}
	for i := range 3 {
		f.VM("asia-east1-a", fmt.Sprintf("other-%d", i), "10.3.1.1", "", "RUNNING")
	}
	for i := range 5 {
		f.Add("global/urlMaps", gcptest.Obj{"name": fmt.Sprintf("m%d", i), "selfLink": f.SelfLink(fmt.Sprintf("global/urlMaps/m%d", i))})
	}

	tg, err := discover(t, Config{Project: project, BackendService: "shop-backend", Endpoint: f.URL()})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	checkInstances(t, "pages", tg.Instances, want)
	for _, tc := range []struct {
		desc    string
		pattern string
		want    int
	}{
		{desc: "5 members in pages of 2", pattern: "listInstances", want: 3},
		{desc: "5 matching VMs of 8 in pages of 2", pattern: "GET zones/{}/instances", want: 3},
		{desc: "5 url maps in pages of 2", pattern: "GET global/urlMaps", want: 3},
	} {
		if n, _ := f.CallCount(tc.pattern); n != tc.want {
			t.Errorf("%s: %d calls, want %d", tc.desc, n, tc.want)
		}
	}
}

func TestDiscoverErrors(t *testing.T) {
	svcPath := "global/backendServices/shop-backend"
	ig := "zones/europe-west1-b/instanceGroups/shop-blue"
	for _, tc := range []struct {
		desc   string
		region string
		path   string
		err    gcptest.Error
		want   string
		kind   error
	}{
		{desc: "403 on the backend service", path: svcPath,
			err:  gcptest.Error{Code: 403, Reason: "forbidden", Message: "Required 'compute.backendServices.get' permission for 'projects/shop-project/global/backendServices/shop-backend'"},
			want: "gcp: get backend service shop-backend: permission denied (needs compute.backendServices.get)", kind: ErrPermissionDenied},
		{desc: "403 on a regional backend service", region: "us-east1", path: "regions/us-east1/backendServices/shop-backend",
			err:  gcptest.Error{Code: 403, Reason: "forbidden", Message: "Required 'compute.regionBackendServices.get' permission"},
			want: "gcp: get backend service shop-backend: permission denied (needs compute.regionBackendServices.get)", kind: ErrPermissionDenied},
		{desc: "404 unknown backend service", path: "global/backendServices/missing",
			want: `gcp: get backend service shop-backend: not found (no global backend service "shop-backend" in project shop-project; set region: for a regional one)`,
			kind: ErrNotFound},
		{desc: "403 on the group listing", path: ig + "/listInstances",
			err:  gcptest.Error{Code: 403, Reason: "forbidden", Message: "Required 'compute.instanceGroups.list' permission"},
			want: "gcp: list instances of instance group shop-blue: permission denied (needs compute.instanceGroups.list)", kind: ErrPermissionDenied},
		{desc: "403 on instances", path: "zones/europe-west1-b/instances",
			err:  gcptest.Error{Code: 403, Reason: "forbidden", Message: "Required 'compute.instances.list' permission"},
			want: "gcp: list instances in zone europe-west1-b: permission denied (needs compute.instances.list)", kind: ErrPermissionDenied},
		{desc: "API not enabled", path: svcPath,
			err:  gcptest.Error{Code: 403, Reason: "accessNotConfigured", Message: "Compute Engine API has not been used in project 1234 before or it is disabled."},
			want: "gcp: get backend service shop-backend: compute engine API not enabled (enable it: gcloud services enable compute.googleapis.com --project shop-project)",
			kind: ErrAPINotEnabled},
		{desc: "quota", path: "global/urlMaps", err: gcptest.Error{Code: 429, Reason: "rateLimitExceeded", Message: "Quota exceeded for quota metric 'Read requests'"},
			want: "gcp: list url maps: quota exceeded (compute API read requests; retry later or ask for a higher quota in project shop-project)",
			kind: ErrQuota},
		{desc: "403 on url maps names the permission", path: "global/urlMaps",
			err:  gcptest.Error{Code: 403, Reason: "forbidden", Message: "Required 'compute.urlMaps.list' permission"},
			want: "gcp: list url maps: permission denied (needs compute.urlMaps.list)", kind: ErrPermissionDenied},
		{desc: "unknown error keeps the API's words", path: svcPath,
			err:  gcptest.Error{Code: 400, Reason: "invalid", Message: "Invalid value for field 'resource'"},
			want: "gcp: get backend service shop-backend: googleapi: Error 400: Invalid value for field 'resource'"},
	} {
		f := gcptest.NewServer(t, project)
		if tc.region == "" && tc.path != "global/backendServices/missing" {
			f.BackendService(svcPath, "HTTP", "http", ig)
			f.GroupMember(ig, f.VM("europe-west1-b", "vm-1", "10.0.0.1", "", "RUNNING"), "RUNNING", map[string]int{"http": 80})
		}
		if tc.err.Code != 0 {
			f.SetError(tc.path, tc.err)
		}
		_, err := discover(t, Config{Project: project, BackendService: "shop-backend", Region: tc.region, Endpoint: f.URL()})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.desc, err, tc.want)
			continue
		}
		if tc.kind != nil && !errors.Is(err, tc.kind) {
			t.Errorf("%s: errors.Is(err, %v) = false", tc.desc, tc.kind)
		}
		var ae *APIError
		if !errors.As(err, &ae) {
			t.Errorf("%s: not an *APIError", tc.desc)
		}
	}
}

func TestDiscoverCallTimeout(t *testing.T) {
	f := gcptest.NewServer(t, project)
	f.SetBlock(true)
	start := time.Now()
	_, err := discover(t, Config{Project: project, BackendService: "shop-backend", Endpoint: f.URL(),
		CallTimeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if want := "gcp: get backend service shop-backend: timed out (after 200ms; raise call_timeout or check the endpoint)"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s, the call timeout is 200ms", d)
	}
}

func TestDiscoverRetried503StopsAtCallTimeout(t *testing.T) {
	f := gcptest.NewServer(t, project)
	f.SetError("global/backendServices/shop-backend", gcptest.Error{Code: 503, Reason: "backendError", Message: "Backend Error"})
	_, err := discover(t, Config{Project: project, BackendService: "shop-backend", Endpoint: f.URL(),
		CallTimeout: 500 * time.Millisecond})
	if err == nil || !strings.HasPrefix(err.Error(), "gcp: get backend service shop-backend: ") {
		t.Fatalf("err = %v, want the backend service call to fail", err)
	}
	if n, _ := f.CallCount("GET global/backendServices/{}"); n < 2 {
		t.Errorf("503 answered %d times; the client should have retried", n)
	}
}

// TestDiscoverCallCount3x100 measures the calls for a global backend service
// with one zonal instance group of 100 instances in each of 3 zones.
func TestDiscoverCallCount3x100(t *testing.T) {
	f := gcptest.NewServer(t, project)
	svcPath := "global/backendServices/shop-backend"
	var groups []string
	for _, z := range []string{"us-central1-a", "us-central1-b", "us-central1-c"} {
		groups = append(groups, "zones/"+z+"/instanceGroups/shop-"+z)
	}
	svc := f.BackendService(svcPath, "HTTP", "http", groups...)
	for zi, g := range groups {
		zone := strings.Split(g, "/")[1]
		for i := range 100 {
			ip := fmt.Sprintf("10.%d.%d.%d", zi, i/250, i%250+1)
			link := f.VM(zone, fmt.Sprintf("shop-%s-%03d", zone, i), ip, "", "RUNNING")
			f.GroupMember(g, link, "RUNNING", map[string]int{"http": 8080})
			f.Health(svcPath, g, gcptest.Obj{"instance": link, "ipAddress": ip, "port": 8080, "healthState": "HEALTHY"})
		}
		for i := range 50 {
			f.VM(zone, fmt.Sprintf("batch-%03d", i), "10.200.0.1", "", "RUNNING")
		}
	}
	f.Frontend("global", svc, true, "34.120.0.1", "443-443")

	tg, err := discover(t, Config{Project: project, BackendService: "shop-backend", Endpoint: f.URL()})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	healthy := 0
	for _, in := range tg.Instances {
		if in.Health == discovery.HealthHealthy && in.Probeable() {
			healthy++
		}
	}
	if len(tg.Instances) != 300 || healthy != 300 {
		t.Errorf("instances = %d (%d healthy and probeable), want 300", len(tg.Instances), healthy)
	}
	_, total := f.CallCount("")
	// 1 backend service + 3 listInstances + 3 getHealth + 3 instances lists
	// + url maps, https and http proxies, forwarding rules.
	if total != 14 {
		t.Errorf("API calls for 3 zones x 100 instances = %d, want 14: %v", total, f.Calls())
	}
	t.Logf("API calls for 3 zones x 100 instances: %d", total)
}

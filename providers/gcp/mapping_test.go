package gcp

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"

	"github.com/corsaudit/corsaudit/discovery"
)

func TestParseRef(t *testing.T) {
	for _, tc := range []struct {
		desc string
		url  string
		want resourceRef
		ok   bool
	}{
		{desc: "zonal instance group", url: "https://www.googleapis.com/compute/v1/projects/p1/zones/us-east1-b/instanceGroups/ig",
			want: resourceRef{Project: "p1", Zone: "us-east1-b", Collection: "instanceGroups", Name: "ig"}, ok: true},
		{desc: "regional, other host and version", url: "https://compute.googleapis.com/compute/beta/projects/p1/regions/us-east1/instanceGroups/rig",
			want: resourceRef{Project: "p1", Region: "us-east1", Collection: "instanceGroups", Name: "rig"}, ok: true},
		{desc: "global", url: "projects/p1/global/backendServices/bs",
			want: resourceRef{Project: "p1", Collection: "backendServices", Name: "bs"}, ok: true},
		{desc: "bare name", url: "vm-1"},
		{desc: "too short", url: "projects/p1/zones/z/instances"},
		{desc: "too long", url: "projects/p1/zones/z/instances/vm/extra"},
	} {
		got, ok := parseRef(tc.url)
		if ok != tc.ok || got != tc.want {
			t.Errorf("%s: parseRef(%q) = %+v, %v; want %+v, %v", tc.desc, tc.url, got, ok, tc.want, tc.ok)
		}
	}
	if !sameResource("https://www.googleapis.com/compute/v1/projects/p/global/urlMaps/m", "https://compute.googleapis.com/compute/v1/projects/p/global/urlMaps/m") {
		t.Error("sameResource: one resource under two hosts differs")
	}
	if sameResource("projects/p/global/urlMaps/m", "projects/p/regions/r/urlMaps/m") {
		t.Error("sameResource: global and regional maps of one name are the same")
	}
}

func TestMapHealth(t *testing.T) {
	for _, tc := range []struct{ desc, state, want string }{
		{desc: "healthy", state: "HEALTHY", want: discovery.HealthHealthy},
		{desc: "unhealthy", state: "UNHEALTHY", want: discovery.HealthUnhealthy},
		{desc: "timeout (NEG endpoints)", state: "TIMEOUT", want: discovery.HealthUnhealthy},
		{desc: "draining", state: "DRAINING", want: discovery.HealthDraining},
		{desc: "unknown", state: "UNKNOWN", want: discovery.HealthUnknown},
		{desc: "missing", state: "", want: discovery.HealthUnknown},
	} {
		if got := mapHealth(tc.state); got != tc.want {
			t.Errorf("%s: mapHealth(%q) = %q, want %q", tc.desc, tc.state, got, tc.want)
		}
	}
}

func TestSchemeFor(t *testing.T) {
	for _, tc := range []struct{ desc, protocol, want string }{
		{desc: "https", protocol: "HTTPS", want: "https"},
		{desc: "http2 is TLS to the backends", protocol: "HTTP2", want: "https"},
		{desc: "http", protocol: "HTTP", want: "http"},
		{desc: "unset defaults to HTTP", protocol: "", want: "http"},
	} {
		if got := schemeFor(tc.protocol); got != tc.want {
			t.Errorf("%s: schemeFor(%q) = %q, want %q", tc.desc, tc.protocol, got, tc.want)
		}
	}
}

func TestNameFilters(t *testing.T) {
	for _, tc := range []struct {
		desc  string
		names []string
		max   int
		want  []string
	}{
		{desc: "none", names: nil, max: 100, want: nil},
		{desc: "common prefix factored", names: []string{"shop-mig-abcd", "shop-mig-wxyz"}, max: 100,
			want: []string{`name eq "shop-mig-(abcd|wxyz)"`}},
		{desc: "no common prefix", names: []string{"a1", "b2"}, max: 100, want: []string{`name eq "(a1|b2)"`}},
		{desc: "a name that prefixes another", names: []string{"web", "web2"}, max: 100, want: []string{`name eq "web(|2)"`}},
		{desc: "split when long", names: []string{"x-aaaa", "x-bbbb", "x-cccc"}, max: 22,
			want: []string{`name eq "x-(aaaa|bbbb)"`, `name eq "x-(cccc)"`}},
	} {
		got := nameFilters(tc.names, tc.max)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: nameFilters = %q, want %q", tc.desc, got, tc.want)
		}
		// Each filter matches exactly its names, the way the API reads it.
		matched := 0
		for _, f := range got {
			re := regexp.MustCompile("^(?:" + strings.TrimSuffix(strings.TrimPrefix(f, `name eq "`), `"`) + ")$")
			for _, n := range tc.names {
				if re.MatchString(n) {
					matched++
				}
			}
			if re.MatchString(tc.names[0] + "x") {
				t.Errorf("%s: %s matches a longer name", tc.desc, f)
			}
		}
		if matched != len(tc.names) {
			t.Errorf("%s: filters match %d of %d names", tc.desc, matched, len(tc.names))
		}
	}
}

func TestRoutesTo(t *testing.T) {
	const svc = "https://www.googleapis.com/compute/v1/projects/p/global/backendServices/shop"
	const other = "projects/p/global/backendServices/other"
	weighted := func(ws ...any) *computepb.HttpRouteAction {
		a := &computepb.HttpRouteAction{}
		for i := 0; i < len(ws); i += 2 {
			a.WeightedBackendServices = append(a.WeightedBackendServices,
				&computepb.WeightedBackendService{BackendService: proto.String(ws[i].(string)), Weight: proto.Uint32(uint32(ws[i+1].(int)))})
		}
		return a
	}
	for _, tc := range []struct {
		desc       string
		m          *computepb.UrlMap
		want       bool
		wantWeight int
	}{
		{desc: "default service", m: &computepb.UrlMap{DefaultService: proto.String("projects/p/global/backendServices/shop")}, want: true},
		{desc: "other service only", m: &computepb.UrlMap{DefaultService: proto.String(other)}},
		{desc: "path rule", m: &computepb.UrlMap{DefaultService: proto.String(other), PathMatchers: []*computepb.PathMatcher{
			{PathRules: []*computepb.PathRule{{Service: proto.String(svc)}}}}}, want: true},
		{desc: "weighted route rule (blue/green services)", m: &computepb.UrlMap{PathMatchers: []*computepb.PathMatcher{
			{RouteRules: []*computepb.HttpRouteRule{{RouteAction: weighted(other, 90, svc, 10)}}}}}, want: true, wantWeight: 10},
		{desc: "weighted default route action", m: &computepb.UrlMap{DefaultRouteAction: weighted(svc, 100)}, want: true, wantWeight: 100},
	} {
		got, w := routesTo(tc.m, svc)
		if got != tc.want || w != tc.wantWeight {
			t.Errorf("%s: routesTo = %v, %d; want %v, %d", tc.desc, got, w, tc.want, tc.wantWeight)
		}
	}
}

func TestFinishInstance(t *testing.T) {
	vm := &computepb.Instance{Name: proto.String("vm-1"), Status: proto.String("RUNNING"),
		NetworkInterfaces: []*computepb.NetworkInterface{{NetworkIP: proto.String("10.0.0.1"),
			AccessConfigs: []*computepb.AccessConfig{{NatIP: proto.String("35.0.0.1")}}}}}
	ref := resourceRef{Project: "p", Zone: "z", Collection: "instances", Name: "vm-1"}
	vms := map[string]*computepb.Instance{ref.key(): vm}
	for _, tc := range []struct {
		desc     string
		m        member
		mode     string
		wantAddr string
		wantSkip string
	}{
		{desc: "internal from the VM", m: member{vm: ref, port: 80}, mode: AddressInternal, wantAddr: "10.0.0.1:80"},
		{desc: "external from the VM", m: member{vm: ref, port: 80}, mode: AddressExternal, wantAddr: "35.0.0.1:80"},
		{desc: "endpoint IP wins when internal", m: member{vm: ref, ip: "10.0.0.5", port: 81}, mode: AddressInternal, wantAddr: "10.0.0.5:81"},
		{desc: "natIP when external, even with an endpoint IP", m: member{vm: ref, ip: "10.0.0.5", port: 81}, mode: AddressExternal, wantAddr: "35.0.0.1:81"},
		{desc: "VM gone", m: member{vm: resourceRef{Project: "p", Zone: "z", Collection: "instances", Name: "vm-9"}, port: 80},
			mode: AddressInternal, wantSkip: "instance vm-9 not found in zone z"},
		{desc: "endpoint without VM, external", m: member{ip: "10.0.0.7", port: 80}, mode: AddressExternal,
			wantSkip: "endpoint has no instance to take an external IP from"},
		{desc: "stopped VM keeps its address, skipped", m: member{vm: ref, port: 80, status: "STOPPING"}, mode: AddressInternal,
			wantAddr: "10.0.0.1:80", wantSkip: "instance status STOPPING"},
		{desc: "earlier skip kept", m: member{vm: ref, inst: discovery.Instance{Skip: "no named port"}}, mode: AddressInternal,
			wantSkip: "no named port"},
	} {
		got := finishInstance(tc.m, vms, tc.mode)
		if got.Addr != tc.wantAddr || got.Skip != tc.wantSkip {
			t.Errorf("%s: addr %q skip %q; want %q %q", tc.desc, got.Addr, got.Skip, tc.wantAddr, tc.wantSkip)
		}
	}
}

func TestMapGroupMembersNamedPort(t *testing.T) {
	items := []*computepb.InstanceWithNamedPorts{
		{Instance: proto.String("projects/p/zones/z/instances/a"), Status: proto.String("RUNNING"),
			NamedPorts: []*computepb.NamedPort{{Name: proto.String("http"), Port: proto.Int32(80)}, {Name: proto.String("api"), Port: proto.Int32(8080)}}},
		{Instance: proto.String("projects/p/zones/z/instances/b"), Status: proto.String("RUNNING")},
	}
	group := resourceRef{Project: "p", Zone: "z", Collection: "instanceGroups", Name: "g"}
	ms := mapGroupMembers(items, group, "zonal-instance-group", "api", map[string]string{"backend_service": "s"})
	if len(ms) != 2 || ms[0].port != 8080 || ms[0].inst.ID != "a" || ms[0].inst.Zone != "z" || ms[0].inst.Group != "g" {
		t.Fatalf("members = %+v", ms)
	}
	if want := `instance group g has no named port "api" (the backend service's portName)`; ms[1].inst.Skip != want {
		t.Errorf("skip = %q, want %q", ms[1].inst.Skip, want)
	}
}

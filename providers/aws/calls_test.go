package aws

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"testing"

	"github.com/corsaudit/corsaudit/discovery"
)

// fleetCloud is one ALB whose only rule splits 90/10 between two instance
// target groups of n instances each (distinct instances).
func fleetCloud(n int) *fakeCloud {
	f := newFakeCloud()
	f.lbs = []fakeLB{{Name: "shop-alb", ARN: shopARN, DNS: shopDNS}}
	f.listeners = []fakeListener{{ARN: "lst-443", LBArn: shopARN, Port: 443, Protocol: "HTTPS", Default: []fakeAction{{Plain: blueARN}}}}
	f.rules["lst-443"] = []fakeRule{
		{Priority: "1", Actions: []fakeAction{{Tuples: []fakeTuple{{ARN: blueARN, Weight: 90}, {ARN: greenARN, Weight: 10}}}}},
		{Priority: "default", Actions: []fakeAction{{Plain: blueARN}}},
	}
	f.tgs = []fakeTG{
		{ARN: blueARN, Name: "blue", Type: "instance", Protocol: "HTTP", Port: 8080, LBArns: []string{shopARN}},
		{ARN: greenARN, Name: "green", Type: "instance", Protocol: "HTTP", Port: 8080, LBArns: []string{shopARN}},
	}
	for g, arn := range []string{blueARN, greenARN} {
		for i := range n {
			id := fmt.Sprintf("i-%d%05d", g, i)
			f.targets[arn] = append(f.targets[arn], fakeTarget{ID: id, State: "healthy"})
			f.instances[id] = fakeInstance{ID: id, PrivateIP: fmt.Sprintf("10.%d.%d.%d", g, i/250, i%250), AZ: "us-east-1a"}
		}
	}
	return f
}

// TestCallCount: the API calls grow with target groups and instances/100,
// never one call per instance.
func TestCallCount(t *testing.T) {
	for _, tc := range []struct {
		desc string
		n    int
		want map[string]int
	}{
		{desc: "2 target groups x 250 instances", n: 250, want: map[string]int{
			"DescribeLoadBalancers": 1, "DescribeListeners": 1, "DescribeRules": 1, "DescribeListenerAttributes": 1,
			"DescribeTargetGroups": 1, "DescribeTargetHealth": 2, "DescribeInstances": 5}},
		{desc: "2 target groups x 1 instance", n: 1, want: map[string]int{
			"DescribeLoadBalancers": 1, "DescribeListeners": 1, "DescribeRules": 1, "DescribeListenerAttributes": 1,
			"DescribeTargetGroups": 1, "DescribeTargetHealth": 2, "DescribeInstances": 1}},
		{desc: "2 target groups x 1000 instances", n: 1000, want: map[string]int{
			"DescribeLoadBalancers": 1, "DescribeListeners": 1, "DescribeRules": 1, "DescribeListenerAttributes": 1,
			"DescribeTargetGroups": 1, "DescribeTargetHealth": 2, "DescribeInstances": 20}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			f := fleetCloud(tc.n)
			got, calls, err := discoverWith(t, f, Config{LoadBalancer: "shop-alb"})
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if len(got[0].Instances) != 2*tc.n {
				t.Fatalf("%d instances, want %d", len(got[0].Instances), 2*tc.n)
			}
			for _, in := range got[0].Instances {
				if !in.Probeable() {
					t.Fatalf("%s not probeable: %q", in.ID, in.Skip)
				}
			}
			if c := calls.snapshot(); !reflect.DeepEqual(c, tc.want) {
				t.Errorf("calls = %v, want %v", c, tc.want)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			// No request is sent twice: bufferedBodyClient keeps the SDK
			// from closing the connection under the transport.
			if !reflect.DeepEqual(f.attempts, tc.want) {
				t.Errorf("requests seen by the endpoint = %v, want %v", f.attempts, tc.want)
			}
			t.Logf("%s: API calls %v", tc.desc, calls.snapshot())
		})
	}
}

// TestCallCountRouted: a shared ALB with 50 target groups, each behind its
// own path rule on HTTPS:443, and an HTTP:80 listener with its own rules.
// Discovery reads each listener's rules once (DescribeRules per listener,
// never per rule, path or probe), and routing any number of requests calls
// nothing.
func TestCallCountRouted(t *testing.T) {
	const groups, perGroup = 50, 20
	f := newFakeCloud()
	f.lbs = []fakeLB{{Name: "shop-alb", ARN: shopARN, DNS: shopDNS}}
	arn := func(g int) string {
		return fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/svc%02d/%d", g, g)
	}
	f.listeners = []fakeListener{
		{ARN: "lst-443", LBArn: shopARN, Port: 443, Protocol: "HTTPS", Default: []fakeAction{{Plain: arn(0)}}},
		{ARN: "lst-80", LBArn: shopARN, Port: 80, Protocol: "HTTP", Default: []fakeAction{{Plain: arn(0)}}},
	}
	f.rules["lst-80"] = []fakeRule{
		{Priority: "1", Conditions: conditionXML("host-header", "legacy.example.com"), Actions: []fakeAction{{Plain: arn(1)}}},
		{Priority: "default", Actions: []fakeAction{{Plain: arn(0)}}},
	}
	for g := range groups {
		f.rules["lst-443"] = append(f.rules["lst-443"], fakeRule{Priority: strconv.Itoa(g + 1),
			Conditions: conditionXML("path-pattern", fmt.Sprintf("/svc%02d/*", g)), Actions: []fakeAction{{Plain: arn(g)}}})
		f.tgs = append(f.tgs, fakeTG{ARN: arn(g), Name: fmt.Sprintf("svc%02d", g), Type: "ip", Protocol: "HTTP", Port: 8080, LBArns: []string{shopARN}})
		for i := range perGroup {
			f.targets[arn(g)] = append(f.targets[arn(g)], fakeTarget{ID: fmt.Sprintf("10.%d.%d.%d", g/250, g%250, i+1), State: "healthy"})
		}
	}
	f.rules["lst-443"] = append(f.rules["lst-443"], fakeRule{Priority: "default", Actions: []fakeAction{{Plain: arn(0)}}})
	got, calls, err := discoverWith(t, f, Config{LoadBalancer: "shop-alb"})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	want := map[string]int{"DescribeLoadBalancers": 1, "DescribeListeners": 1, "DescribeRules": 2, "DescribeListenerAttributes": 2,
		"DescribeTargetGroups": 1, "DescribeTargetHealth": groups}
	if c := calls.snapshot(); !reflect.DeepEqual(c, want) {
		t.Errorf("calls = %v, want %v", c, want)
	}
	if len(got[0].Instances) != groups*perGroup {
		t.Fatalf("%d instances, want %d", len(got[0].Instances), groups*perGroup)
	}
	u, _ := url.Parse("https://shop.example.com/")
	for i := range 10000 {
		g := i % groups
		u.Path = fmt.Sprintf("/svc%02d/item/%d", g, i)
		routes := got[0].Router.Route(discovery.Request{Method: "GET", URL: u, Header: http.Header{}})
		if len(routes) != 1 || !routes[0].Forwards(fmt.Sprintf("svc%02d", g)) {
			t.Fatalf("%s routes %+v, want svc%02d", u.Path, routes, g)
		}
	}
	if c := calls.snapshot(); !reflect.DeepEqual(c, want) {
		t.Errorf("after routing 10000 requests: calls = %v, want %v", c, want)
	}
	t.Logf("API calls for %d groups x %d instances, 2 listeners: %v", groups, perGroup, calls.snapshot())
}

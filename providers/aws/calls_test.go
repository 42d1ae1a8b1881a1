package aws

import (
	"fmt"
	"reflect"
	"testing"
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
			"DescribeLoadBalancers": 1, "DescribeListeners": 1, "DescribeRules": 1,
			"DescribeTargetGroups": 1, "DescribeTargetHealth": 2, "DescribeInstances": 5}},
		{desc: "2 target groups x 1 instance", n: 1, want: map[string]int{
			"DescribeLoadBalancers": 1, "DescribeListeners": 1, "DescribeRules": 1,
			"DescribeTargetGroups": 1, "DescribeTargetHealth": 2, "DescribeInstances": 1}},
		{desc: "2 target groups x 1000 instances", n: 1000, want: map[string]int{
			"DescribeLoadBalancers": 1, "DescribeListeners": 1, "DescribeRules": 1,
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

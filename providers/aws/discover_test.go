package aws

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/corsaudit/corsaudit/discovery"
)

const (
	shopARN   = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shop-alb/50dc6c495c0c9188"
	shopDNS   = "shop-alb-1234567890.us-east-1.elb.amazonaws.com"
	blueARN   = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1"
	greenARN  = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/2"
	lambdaARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/fn/3"
)

// shopCloud is one ALB with an HTTPS listener (a rule splitting 90/10
// between an instance group and an ip group, a rule to a lambda group, the
// default rule to the instance group in the plain TargetGroupArn form) and
// an HTTP listener that only redirects. Two other load balancers come
// first, so lookups by DNS name page.
func shopCloud() *fakeCloud {
	f := newFakeCloud()
	f.lbs = []fakeLB{
		{Name: "other-1", ARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/other-1/1", DNS: "other-1-1.us-east-1.elb.amazonaws.com"},
		{Name: "other-2", ARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/other-2/2", DNS: "other-2-2.us-east-1.elb.amazonaws.com"},
		{Name: "shop-alb", ARN: shopARN, DNS: shopDNS},
	}
	f.listeners = []fakeListener{
		{ARN: "lst-443", LBArn: shopARN, Port: 443, Protocol: "HTTPS", Default: []fakeAction{{Plain: blueARN}}},
		{ARN: "lst-80", LBArn: shopARN, Port: 80, Protocol: "HTTP", Default: []fakeAction{{Type: "redirect"}}},
	}
	f.rules["lst-443"] = []fakeRule{
		{Priority: "default", Actions: []fakeAction{{Plain: blueARN}}},
		{Priority: "20", Actions: []fakeAction{{Plain: lambdaARN}}},
		{Priority: "10", Actions: []fakeAction{{Tuples: []fakeTuple{{ARN: blueARN, Weight: 90}, {ARN: greenARN, Weight: 10}}}}},
	}
	f.rules["lst-80"] = []fakeRule{{Priority: "default", Actions: []fakeAction{{Type: "redirect"}}}}
	f.tgs = []fakeTG{
		{ARN: blueARN, Name: "blue", Type: "instance", Protocol: "HTTP", Port: 8080, LBArns: []string{shopARN}},
		{ARN: greenARN, Name: "green", Type: "ip", Protocol: "HTTPS", Port: 8443, LBArns: []string{shopARN}},
		{ARN: lambdaARN, Name: "fn", Type: "lambda", LBArns: []string{shopARN}},
		{ARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/unattached/4", Name: "unattached", Type: "instance", Protocol: "HTTP", Port: 80},
	}
	f.targets[blueARN] = []fakeTarget{
		{ID: "i-1", State: "healthy", AZ: "us-east-1a"},
		{ID: "i-2", Port: 9090, State: "draining", Reason: "Target.DeregistrationInProgress"},
		{ID: "i-3", State: "unused", Reason: "Target.NotInUse"},
		{ID: "i-gone", State: "healthy"},
	}
	f.targets[greenARN] = []fakeTarget{
		{ID: "10.0.2.5", State: "healthy", AZ: "us-east-1b"},
		{ID: "10.0.2.6", Port: 9443, State: "unhealthy", Reason: "Target.Timeout", AZ: "all"},
		{ID: "10.0.2.7", State: "unavailable", Reason: "Target.HealthCheckDisabled"},
	}
	f.targets[lambdaARN] = []fakeTarget{{ID: "arn:aws:lambda:us-east-1:123456789012:function:fn", State: "healthy"}}
	f.instances = map[string]fakeInstance{
		"i-1": {ID: "i-1", PrivateIP: "10.0.1.1", AZ: "us-east-1a", Type: "t3.micro"},
		"i-2": {ID: "i-2", PrivateIP: "10.0.1.2", PublicIP: "54.0.0.2", AZ: "us-east-1c", Type: "t3.micro"},
		"i-3": {ID: "i-3", PrivateIP: "10.0.1.3", AZ: "us-east-1a", Type: "t3.micro"},
	}
	return f
}

// line is the compact form of an instance the tests compare.
func line(in discovery.Instance) string {
	return fmt.Sprintf("%s addr=%s scheme=%s group=%s pool=%s weight=%d zone=%s health=%s reason=%s skip=%q draining=%s",
		in.ID, in.Addr, in.Scheme, in.Group, in.Pool, in.Weight, in.Zone, in.Health, in.HealthReason, in.Skip, in.Labels["draining"])
}

func discoverWith(t *testing.T, f *fakeCloud, c Config) ([]discovery.Target, *callCounter, error) {
	t.Helper()
	cl, calls := f.serve(t)
	p := newWithClients(c, "us-east-1", cl)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := p.Discover(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.foreign) > 0 {
		t.Fatalf("requests from non-loopback peers: %v", f.foreign)
	}
	return got, calls, err
}

func TestDiscoverWalk(t *testing.T) {
	want := []string{
		`i-1 addr=10.0.1.1:8080 scheme=http group=blue pool=blue weight=90 zone=us-east-1a health=healthy reason= skip="" draining=`,
		`i-2 addr=10.0.1.2:9090 scheme=http group=blue pool=blue weight=90 zone=us-east-1c health=draining reason=Target.DeregistrationInProgress skip="" draining=true`,
		`i-3 addr=10.0.1.3:8080 scheme=http group=blue pool=blue weight=90 zone=us-east-1a health=unused reason=Target.NotInUse skip="unused: Target.NotInUse" draining=`,
		`i-gone addr= scheme=http group=blue pool=blue weight=90 zone= health=healthy reason= skip="instance not returned by ec2:DescribeInstances (terminated?)" draining=`,
		`10.0.2.5:8443 addr=10.0.2.5:8443 scheme=https group=green pool=green weight=10 zone=us-east-1b health=healthy reason= skip="" draining=`,
		`10.0.2.6:9443 addr=10.0.2.6:9443 scheme=https group=green pool=green weight=10 zone= health=unhealthy reason=Target.Timeout skip="" draining=`,
		`10.0.2.7:8443 addr=10.0.2.7:8443 scheme=https group=green pool=green weight=10 zone= health=unavailable reason=Target.HealthCheckDisabled skip="unavailable: Target.HealthCheckDisabled" draining=`,
		`arn:aws:lambda:us-east-1:123456789012:function:fn addr= scheme= group=fn pool=fn weight=0 zone= health=healthy reason= skip="lambda target: not probeable" draining=`,
	}
	for _, tc := range []struct {
		desc     string
		pageSize int
	}{
		{desc: "one page per call", pageSize: 0},
		{desc: "one item per page: every marker and token followed", pageSize: 1},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			f := shopCloud()
			f.pageSize = tc.pageSize
			got, _, err := discoverWith(t, f, Config{LoadBalancer: "shop-alb"})
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if len(got) != 1 || got[0].Name != "shop-alb" || got[0].URL != "https://"+shopDNS {
				t.Fatalf("targets = %+v, want one shop-alb at https://%s", got, shopDNS)
			}
			var lines []string
			for _, in := range got[0].Instances {
				lines = append(lines, line(in))
				if in.Labels["target_group_arn"] == "" || in.Labels["target_type"] == "" {
					t.Errorf("%s: labels %v lack target_group_arn or target_type", in.ID, in.Labels)
				}
			}
			if strings.Join(lines, "\n") != strings.Join(want, "\n") {
				t.Errorf("instances:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
			}
			if tc.pageSize == 1 {
				f.mu.Lock()
				defer f.mu.Unlock()
				for _, op := range []string{"DescribeListeners", "DescribeRules", "DescribeTargetGroups", "DescribeInstances"} {
					if f.attempts[op] < 2 {
						t.Errorf("%s called %d times with one item per page, want the paginator to follow markers", op, f.attempts[op])
					}
				}
			}
		})
	}
}

func TestDiscoverAddressPublic(t *testing.T) {
	got, _, err := discoverWith(t, shopCloud(), Config{LoadBalancer: "shop-alb", Address: AddressPublic, TargetGroups: []string{"blue"}})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	byID := map[string]discovery.Instance{}
	for _, in := range got[0].Instances {
		byID[in.ID] = in
		if in.Group != "blue" {
			t.Errorf("%s: group %q, want only blue (target_groups filter)", in.ID, in.Group)
		}
	}
	for _, tc := range []struct{ desc, id, addr, skip string }{
		{desc: "public IP dialled", id: "i-2", addr: "54.0.0.2:9090"},
		{desc: "no public IP: skipped", id: "i-1", skip: "no public IP address"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			in := byID[tc.id]
			if in.Addr != tc.addr || in.Skip != tc.skip {
				t.Errorf("%s: addr %q skip %q, want %q %q", tc.id, in.Addr, in.Skip, tc.addr, tc.skip)
			}
		})
	}
}

func TestDiscoverLookup(t *testing.T) {
	for _, tc := range []struct {
		desc, lb  string
		wantErr   error
		errSubstr string
	}{
		{desc: "by name", lb: "shop-alb"},
		{desc: "by ARN", lb: shopARN},
		{desc: "by DNS name", lb: shopDNS},
		{desc: "dualstack prefix, trailing dot, upper case", lb: "dualstack." + strings.ToUpper(shopDNS) + "."},
		{desc: "unknown name", lb: "nope", wantErr: ErrLoadBalancerNotFound, errSubstr: "searched us-east-1"},
		{desc: "unknown ARN", lb: strings.Replace(shopARN, "shop-alb", "gone", 1), wantErr: ErrLoadBalancerNotFound, errSubstr: "check the name and the region"},
		{desc: "DNS name of another region", lb: "shop-alb-1.eu-west-1.elb.amazonaws.com", wantErr: ErrLoadBalancerNotFound, errSubstr: "wrong region: the DNS name is in eu-west-1"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			f := shopCloud()
			f.pageSize = 1
			got, _, err := discoverWith(t, f, Config{LoadBalancer: tc.lb})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.errSubstr) {
					t.Fatalf("err = %v, want %v containing %q", err, tc.wantErr, tc.errSubstr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if got[0].Name != "shop-alb" || len(got[0].Instances) != 8 {
				t.Errorf("got %s with %d instances, want shop-alb with 8", got[0].Name, len(got[0].Instances))
			}
		})
	}
}

func TestDiscoverSelection(t *testing.T) {
	for _, tc := range []struct {
		desc      string
		cfg       Config
		wantURL   string
		wantN     int
		errSubstr string
	}{
		{desc: "listener_port 443", cfg: Config{LoadBalancer: "shop-alb", ListenerPort: 443}, wantURL: "https://" + shopDNS, wantN: 8},
		{desc: "listener that only redirects", cfg: Config{LoadBalancer: "shop-alb", ListenerPort: 80}, errSubstr: "forwards to no target group"},
		{desc: "no such listener", cfg: Config{LoadBalancer: "shop-alb", ListenerPort: 8443}, errSubstr: "no listener on port 8443 (listener_port; its listeners: 80, 443)"},
		{desc: "target_groups filter", cfg: Config{LoadBalancer: "shop-alb", TargetGroups: []string{"green"}}, wantURL: "https://" + shopDNS, wantN: 3},
		{desc: "unknown target group", cfg: Config{LoadBalancer: "shop-alb", TargetGroups: []string{"green", "purple"}}, errSubstr: `target_groups: "purple" not forwarded to by shop-alb (its target groups: blue, green, fn)`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got, _, err := discoverWith(t, shopCloud(), tc.cfg)
			if tc.errSubstr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errSubstr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.errSubstr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if got[0].URL != tc.wantURL || len(got[0].Instances) != tc.wantN {
				t.Errorf("url %s, %d instances; want %s, %d", got[0].URL, len(got[0].Instances), tc.wantURL, tc.wantN)
			}
		})
	}
}

// TestDiscoverAPIErrors drives the SDK's error decoding and retryer. A
// fault served once (n: 1) and still reported proves the SDK did not retry
// it.
func TestDiscoverAPIErrors(t *testing.T) {
	for _, tc := range []struct {
		desc         string
		action, code string
		status, n    int
		wantErr      error
		errSubstr    string
		minAttempts  int
	}{
		{desc: "access denied on target health names the IAM action, not retried", action: "DescribeTargetHealth", code: "AccessDenied", status: 403, n: 1,
			wantErr: ErrPermissionDenied, errSubstr: "may not call elasticloadbalancing:DescribeTargetHealth", minAttempts: 1},
		{desc: "ec2 unauthorized names the IAM action, not retried", action: "DescribeInstances", code: "UnauthorizedOperation", status: 403, n: 1,
			wantErr: ErrPermissionDenied, errSubstr: "may not call ec2:DescribeInstances", minAttempts: 1},
		{desc: "access denied on load balancers", action: "DescribeLoadBalancers", code: "AccessDenied", status: 403, n: 1,
			wantErr: ErrPermissionDenied, errSubstr: "elasticloadbalancing:DescribeLoadBalancers", minAttempts: 1},
		{desc: "throttled twice then success", action: "DescribeTargetHealth", code: "Throttling", status: 400, n: 2,
			minAttempts: 2 + 3},
		{desc: "ec2 RequestLimitExceeded once then success", action: "DescribeInstances", code: "RequestLimitExceeded", status: 503, n: 1,
			minAttempts: 1 + 1},
		{desc: "throttled beyond the retries", action: "DescribeRules", code: "Throttling", status: 400, n: -1,
			wantErr: ErrThrottled, errSubstr: "elasticloadbalancing:DescribeRules still throttled", minAttempts: 3},
		{desc: "bad credentials", action: "DescribeLoadBalancers", code: "InvalidClientTokenId", status: 403, n: 1,
			wantErr: ErrCredentials, errSubstr: "check the credential chain", minAttempts: 1},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			f := shopCloud()
			f.fault(tc.action, tc.code, tc.status, tc.n)
			got, _, err := discoverWith(t, f, Config{LoadBalancer: "shop-alb"})
			f.mu.Lock()
			attempts, left := f.attempts[tc.action], len(f.faults[tc.action])
			f.mu.Unlock()
			if attempts < tc.minAttempts {
				t.Errorf("%s attempts = %d, want at least %d", tc.action, attempts, tc.minAttempts)
			}
			if tc.n > 0 && left != 0 {
				t.Errorf("%s: the fault was not served %d times", tc.action, tc.n)
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.errSubstr) {
					t.Fatalf("err = %v, want %v containing %q", err, tc.wantErr, tc.errSubstr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q contains the secret key", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if len(got[0].Instances) != 8 {
				t.Errorf("%d instances after retries, want 8", len(got[0].Instances))
			}
		})
	}
}

// TestDiscoverDeadline: AWS throttles forever and the SDK backs off for an
// hour between attempts; the caller's deadline still ends discovery.
func TestDiscoverDeadline(t *testing.T) {
	f := shopCloud()
	f.fault("DescribeTargetHealth", "Throttling", 400, -1)
	slow := clientsFor(f.start(t), newCallCounter(), func() sdkaws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 10
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Hour, nil })
		})
	})
	p := newWithClients(Config{LoadBalancer: "shop-alb"}, "us-east-1", slow)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.Discover(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Discover took %v after a 300ms deadline", d)
	}
}

const (
	apiARN   = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/11"
	adminARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/admin/12"
	webARN   = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/13"
)

// routedCloud is issue 21's shared ALB: on HTTPS:443, OPTIONS on
// /api/upload answered 204 by the load balancer (priority 5), /api/* to
// api (10), host admin.example.com to admin (20), everything else to web
// (the default rule, listed first as AWS lists it); HTTP:80 sends / to web.
func routedCloud() *fakeCloud {
	f := newFakeCloud()
	f.lbs = []fakeLB{{Name: "shop-alb", ARN: shopARN, DNS: shopDNS}}
	f.listeners = []fakeListener{
		{ARN: "lst-443", LBArn: shopARN, Port: 443, Protocol: "HTTPS", Default: []fakeAction{{Plain: webARN}}},
		{ARN: "lst-80", LBArn: shopARN, Port: 80, Protocol: "HTTP", Default: []fakeAction{{Plain: webARN}}},
	}
	f.rules["lst-443"] = []fakeRule{
		{Priority: "default", Actions: []fakeAction{{Plain: webARN}}},
		{Priority: "20", Conditions: conditionXML("host-header", "admin.example.com"), Actions: []fakeAction{{Plain: adminARN}}},
		{Priority: "10", Conditions: conditionXML("path-pattern", "/api/*"), Actions: []fakeAction{{Plain: apiARN}}},
		{Priority: "5", Conditions: methodConditionXML("OPTIONS") + conditionXML("path-pattern", "/api/upload"), Actions: []fakeAction{{Type: "fixed-response", Fixed: "204"}}},
	}
	f.rules["lst-80"] = []fakeRule{{Priority: "default", Actions: []fakeAction{{Plain: webARN}}}}
	for i, g := range []struct{ arn, name string }{{apiARN, "api"}, {adminARN, "admin"}, {webARN, "web"}} {
		f.tgs = append(f.tgs, fakeTG{ARN: g.arn, Name: g.name, Type: "ip", Protocol: "HTTP", Port: 8080, LBArns: []string{shopARN}})
		for j := range 2 {
			f.targets[g.arn] = append(f.targets[g.arn], fakeTarget{ID: fmt.Sprintf("10.0.%d.%d", i, j+1), State: "healthy"})
		}
	}
	return f
}

// routeOf routes one request with a discovered target's router, in the
// compact form of the rules tests.
func routeOf(t *testing.T, tgt discovery.Target, method, rawURL string, header ...string) string {
	t.Helper()
	if tgt.Router == nil {
		t.Fatal("the target has no Router")
	}
	return shorts(tgt.Router.Route(req(t, method, rawURL, header...)))
}

// TestDiscoverRouter: every instance carries its target group as Pool; the
// Router built from the rules Discover read sends each request to the group
// that serves it; routing calls no API.
func TestDiscoverRouter(t *testing.T) {
	f := routedCloud()
	got, calls, err := discoverWith(t, f, Config{LoadBalancer: "shop-alb"})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	pools := map[string][]string{}
	for _, in := range got[0].Instances {
		if in.Pool == "" || in.Pool != in.Group {
			t.Errorf("%s: pool %q group %q, want the target group's name in both", in.ID, in.Pool, in.Group)
		}
		pools[in.Pool] = append(pools[in.Pool], in.ID)
	}
	if len(pools) != 3 || len(pools["api"]) != 2 || len(pools["admin"]) != 2 || len(pools["web"]) != 2 {
		t.Errorf("instances by pool %v, want two in each of api, admin, web", pools)
	}
	before := calls.snapshot()
	for _, tc := range []struct {
		desc, method, url string
		header            []string
		want              string
	}{
		{desc: "/api/cart to api", method: "GET", url: "https://shop.example.com/api/cart", want: "HTTPS:443 rule priority 10 (…/rule-2) -> forward api"},
		{desc: "admin host to admin", method: "GET", url: "https://admin.example.com/", want: "HTTPS:443 rule priority 20 (…/rule-1) -> forward admin"},
		{desc: "/ to web", method: "GET", url: "https://shop.example.com/", want: "HTTPS:443 default action -> forward web"},
		{desc: "the preflight of /api/upload to the fixed response", method: "OPTIONS", url: "https://shop.example.com/api/upload",
			header: []string{"Origin: https://app.example.com", "Access-Control-Request-Method: POST"}, want: "HTTPS:443 rule priority 5 (…/rule-3) -> fixed-response"},
		{desc: "GET /api/upload to api", method: "GET", url: "https://shop.example.com/api/upload", want: "HTTPS:443 rule priority 10 (…/rule-2) -> forward api"},
		{desc: "http:// reaches the HTTP:80 listener", method: "GET", url: "http://shop.example.com/api/cart", want: "HTTP:80 default action -> forward web"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if s := routeOf(t, got[0], tc.method, tc.url, tc.header...); s != tc.want {
				t.Errorf("routes %s\nwant   %s", s, tc.want)
			}
		})
	}
	if after := calls.snapshot(); !reflect.DeepEqual(before, after) {
		t.Errorf("routing called the API: calls %v, then %v", before, after)
	}
	if before["DescribeRules"] != 2 {
		t.Errorf("DescribeRules called %d times, want once per listener (2)", before["DescribeRules"])
	}
}

// TestDiscoverTargetGroupsRoute: target_groups restricts the audited pools;
// routing still covers every group, so a listed group is compared only on
// the routes that reach it, and listener_port routes every URL through its
// listener.
func TestDiscoverTargetGroupsRoute(t *testing.T) {
	got, _, err := discoverWith(t, routedCloud(), Config{LoadBalancer: "shop-alb", TargetGroups: []string{"api"}})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	for _, in := range got[0].Instances {
		if in.Pool != "api" {
			t.Errorf("%s: pool %q, want only api instances", in.ID, in.Pool)
		}
	}
	if s := routeOf(t, got[0], "GET", "https://shop.example.com/"); s != "HTTPS:443 default action -> forward web" {
		t.Errorf("/ routes %s, want web (not audited, still routed)", s)
	}
	if s := routeOf(t, got[0], "GET", "https://shop.example.com/api/x"); s != "HTTPS:443 rule priority 10 (…/rule-2) -> forward api" {
		t.Errorf("/api/x routes %s, want api", s)
	}
	got, _, err = discoverWith(t, routedCloud(), Config{LoadBalancer: "shop-alb", ListenerPort: 80})
	if err != nil {
		t.Fatalf("Discover with listener_port: %v", err)
	}
	if s := routeOf(t, got[0], "GET", "https://shop.example.com/api/x"); s != "HTTP:80 default action -> forward web" {
		t.Errorf("listener_port 80: routes %s, want the HTTP:80 listener's default action", s)
	}
	if len(got[0].Instances) != 2 {
		t.Errorf("listener_port 80: %d instances, want web's 2", len(got[0].Instances))
	}
}

// TestPublicURL: the discovered URL names a listener the load balancer
// has, so that its router finds it.
func TestPublicURL(t *testing.T) {
	lb := elbtypes.LoadBalancer{DNSName: sdkaws.String("shop-1.us-east-1.elb.amazonaws.com.")}
	l := func(p elbtypes.ProtocolEnum, port int32) elbtypes.Listener {
		return listener("l", p, port, forwardTo("web"))
	}
	for _, tc := range []struct {
		desc      string
		listeners []elbtypes.Listener
		port      int
		want      string
	}{
		{desc: "HTTPS:443 first", listeners: []elbtypes.Listener{l("HTTP", 80), l("HTTPS", 443)}, want: "https://shop-1.us-east-1.elb.amazonaws.com"},
		{desc: "HTTPS on another port", listeners: []elbtypes.Listener{l("HTTP", 80), l("HTTPS", 8443)}, want: "https://shop-1.us-east-1.elb.amazonaws.com:8443"},
		{desc: "HTTP:80 only", listeners: []elbtypes.Listener{l("HTTP", 80)}, want: "http://shop-1.us-east-1.elb.amazonaws.com"},
		{desc: "HTTP:8080 only", listeners: []elbtypes.Listener{l("HTTP", 8080)}, want: "http://shop-1.us-east-1.elb.amazonaws.com:8080"},
		{desc: "TLS:443 of a network load balancer", listeners: []elbtypes.Listener{l("TLS", 443)}, want: "https://shop-1.us-east-1.elb.amazonaws.com"},
		{desc: "listener_port names the listener", listeners: []elbtypes.Listener{l("HTTP", 80)}, port: 80, want: "http://shop-1.us-east-1.elb.amazonaws.com"},
		{desc: "no listener", want: "https://shop-1.us-east-1.elb.amazonaws.com"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got := publicURL(lb, tc.listeners, tc.port)
			if got != tc.want {
				t.Fatalf("publicURL = %s, want %s", got, tc.want)
			}
			if len(tc.listeners) == 0 {
				return
			}
			r := newRouter("shop", tc.listeners, nil, nil, tc.port != 0)
			if rt := r.Route(req(t, "GET", got+"/")); rt[0].Action != discovery.ActionForward {
				t.Errorf("the router finds no listener for %s: %+v", got, rt[0])
			}
		})
	}
}

// TestDiscoverUnreadListenerAttributes: a policy written before corsaudit
// read listener attributes lacks elasticloadbalancing:DescribeListenerAttributes.
// Discovery still finds every instance and routes; what it could not read
// is a FactUnread naming the permission, not a failed discovery (an
// upgrade must not turn a cron job's exit 0 into exit 3).
func TestDiscoverUnreadListenerAttributes(t *testing.T) {
	f := shopCloud()
	f.fault("DescribeListenerAttributes", "AccessDenied", 403, -1)
	got, _, err := discoverWith(t, f, Config{LoadBalancer: "shop-alb"})
	if err != nil {
		t.Fatalf("Discover: %v, want the instances without the attributes", err)
	}
	if len(got) != 1 || len(got[0].Instances) != 8 || got[0].Router == nil {
		t.Fatalf("got %d targets; want one with 8 instances and a router", len(got))
	}
	var unread []discovery.FrontFact
	for _, fact := range got[0].Facts {
		if fact.Kind == discovery.FactUnread {
			unread = append(unread, fact)
		}
	}
	if len(unread) == 0 {
		t.Fatalf("facts %+v: want one saying the listener attributes could not be read", got[0].Facts)
	}
	for _, fact := range unread {
		if !strings.Contains(fact.Resource, "listener") || len(fact.Settings) != 1 ||
			!strings.Contains(fact.Settings[0], "elasticloadbalancing:DescribeListenerAttributes") {
			t.Errorf("fact %+v: want the listener and the permission to grant", fact)
		}
	}
}

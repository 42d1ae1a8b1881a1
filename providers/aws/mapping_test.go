package aws

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/corsaudit/corsaudit/discovery"
)

func fwd(tuples ...elbtypes.TargetGroupTuple) elbtypes.Action {
	return elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: tuples}}
}

func tuple(arn string, w *int32) elbtypes.TargetGroupTuple {
	return elbtypes.TargetGroupTuple{TargetGroupArn: sdkaws.String(arn), Weight: w}
}

func TestForwardedGroups(t *testing.T) {
	for _, tc := range []struct {
		desc    string
		actions []elbtypes.Action
		want    []groupRef
	}{
		{desc: "plain TargetGroupArn form", actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: sdkaws.String("a")}},
			want: []groupRef{{ARN: "a"}}},
		{desc: "weighted forward config", actions: []elbtypes.Action{fwd(tuple("a", sdkaws.Int32(90)), tuple("b", sdkaws.Int32(10)))},
			want: []groupRef{{ARN: "a", Weight: 90, Weighted: true}, {ARN: "b", Weight: 10, Weighted: true}}},
		{desc: "zero weight kept as weighted", actions: []elbtypes.Action{fwd(tuple("a", sdkaws.Int32(100)), tuple("b", sdkaws.Int32(0)))},
			want: []groupRef{{ARN: "a", Weight: 100, Weighted: true}, {ARN: "b", Weight: 0, Weighted: true}}},
		{desc: "single-group forward config is not a split", actions: []elbtypes.Action{fwd(tuple("a", sdkaws.Int32(1)))},
			want: []groupRef{{ARN: "a"}}},
		{desc: "both forms: ForwardConfig wins", actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: sdkaws.String("a"),
			ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{tuple("a", sdkaws.Int32(1))}}}},
			want: []groupRef{{ARN: "a"}}},
		{desc: "authenticate then forward", actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumAuthenticateOidc}, {Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: sdkaws.String("a")}},
			want: []groupRef{{ARN: "a"}}},
		{desc: "redirect and fixed response forward nowhere", actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumRedirect}, {Type: elbtypes.ActionTypeEnumFixedResponse}}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if got := forwardedGroups(tc.actions); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestMergeGroups(t *testing.T) {
	for _, tc := range []struct {
		desc string
		in   []groupRef
		want []groupRef
	}{
		{desc: "dedupe keeps first order", in: []groupRef{{ARN: "b"}, {ARN: "a"}, {ARN: "b"}}, want: []groupRef{{ARN: "b"}, {ARN: "a"}}},
		{desc: "first weighted action wins", in: []groupRef{{ARN: "a"}, {ARN: "a", Weight: 90, Weighted: true}, {ARN: "a", Weight: 50, Weighted: true}},
			want: []groupRef{{ARN: "a", Weight: 90, Weighted: true}}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if got := mergeGroups(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSortRules(t *testing.T) {
	rules := []elbtypes.Rule{{Priority: sdkaws.String("default"), IsDefault: sdkaws.Bool(true)}, {Priority: sdkaws.String("10")}, {Priority: sdkaws.String("2")}}
	sortRules(rules)
	var got []string
	for _, r := range rules {
		got = append(got, *r.Priority)
	}
	if strings.Join(got, ",") != "2,10,default" {
		t.Errorf("order %v, want 2,10,default", got)
	}
}

func TestMapTarget(t *testing.T) {
	inst := groupRef{Weight: 90, Weighted: true}
	blue := targetGroup{ARN: "tg-blue", Name: "blue", Type: elbtypes.TargetTypeEnumInstance, Port: 8080, Protocol: elbtypes.ProtocolEnumHttp, groupRef: inst}
	green := targetGroup{ARN: "tg-green", Name: "green", Type: elbtypes.TargetTypeEnumIp, Port: 443, Protocol: elbtypes.ProtocolEnumHttps}
	fn := targetGroup{ARN: "tg-fn", Name: "fn", Type: elbtypes.TargetTypeEnumLambda}
	nested := targetGroup{ARN: "tg-alb", Name: "alb", Type: elbtypes.TargetTypeEnumAlb, Port: 80, Protocol: elbtypes.ProtocolEnumTcp}
	instances := map[string]ec2Instance{"i-1": {PrivateIP: "10.0.0.1", PublicIP: "54.0.0.1", Zone: "eu-west-1a", Type: "m5.large", State: "running"},
		"i-2": {PrivateIP: "10.0.0.2", Zone: "eu-west-1b"}}
	desc := func(id string, port int32, az string, state elbtypes.TargetHealthStateEnum, reason elbtypes.TargetHealthReasonEnum) elbtypes.TargetHealthDescription {
		d := elbtypes.TargetHealthDescription{Target: &elbtypes.TargetDescription{Id: sdkaws.String(id)},
			TargetHealth: &elbtypes.TargetHealth{State: state, Reason: reason}}
		if port > 0 {
			d.Target.Port = sdkaws.Int32(port)
		}
		if az != "" {
			d.Target.AvailabilityZone = sdkaws.String(az)
		}
		return d
	}
	for _, tc := range []struct {
		desc    string
		g       targetGroup
		d       elbtypes.TargetHealthDescription
		address string
		want    discovery.Instance
	}{
		{desc: "healthy instance at its private IP and the group port", g: blue, d: desc("i-1", 0, "", "healthy", ""), address: AddressPrivate,
			want: discovery.Instance{ID: "i-1", Addr: "10.0.0.1:8080", Scheme: "http", Group: "blue", Pool: "blue", Weight: 90, Zone: "eu-west-1a", Health: "healthy",
				Labels: map[string]string{"target_group_arn": "tg-blue", "target_type": "instance", "forward_weight": "90", "instance_type": "m5.large", "instance_state": "running"}}},
		{desc: "per-target port override, public IP", g: blue, d: desc("i-1", 9000, "", "healthy", ""), address: AddressPublic,
			want: discovery.Instance{ID: "i-1", Addr: "54.0.0.1:9000", Scheme: "http", Group: "blue", Pool: "blue", Weight: 90, Zone: "eu-west-1a", Health: "healthy",
				Labels: map[string]string{"target_group_arn": "tg-blue", "target_type": "instance", "forward_weight": "90", "instance_type": "m5.large", "instance_state": "running"}}},
		{desc: "draining is probed and labelled", g: blue, d: desc("i-2", 0, "", "draining", "Target.DeregistrationInProgress"), address: AddressPrivate,
			want: discovery.Instance{ID: "i-2", Addr: "10.0.0.2:8080", Scheme: "http", Group: "blue", Pool: "blue", Weight: 90, Zone: "eu-west-1b", Health: "draining", HealthReason: "Target.DeregistrationInProgress",
				Labels: map[string]string{"target_group_arn": "tg-blue", "target_type": "instance", "forward_weight": "90", "draining": "true"}}},
		{desc: "unhealthy.draining is draining", g: blue, d: desc("i-2", 0, "", "unhealthy.draining", "Target.Timeout"), address: AddressPrivate,
			want: discovery.Instance{ID: "i-2", Addr: "10.0.0.2:8080", Scheme: "http", Group: "blue", Pool: "blue", Weight: 90, Zone: "eu-west-1b", Health: "draining", HealthReason: "Target.Timeout",
				Labels: map[string]string{"target_group_arn": "tg-blue", "target_type": "instance", "forward_weight": "90", "draining": "true"}}},
		{desc: "unused is listed, not probed", g: blue, d: desc("i-2", 0, "", "unused", "Target.NotInUse"), address: AddressPrivate,
			want: discovery.Instance{ID: "i-2", Addr: "10.0.0.2:8080", Scheme: "http", Group: "blue", Pool: "blue", Weight: 90, Zone: "eu-west-1b", Health: "unused", HealthReason: "Target.NotInUse", Skip: "unused: Target.NotInUse",
				Labels: map[string]string{"target_group_arn": "tg-blue", "target_type": "instance", "forward_weight": "90"}}},
		{desc: "ip target dialled at its IP, zone from the target, IPv6", g: green, d: desc("2001:db8::5", 0, "eu-west-1c", "initial", "Elb.RegistrationInProgress"), address: AddressPrivate,
			want: discovery.Instance{ID: "[2001:db8::5]:443", Addr: "[2001:db8::5]:443", Scheme: "https", Group: "green", Pool: "green", Zone: "eu-west-1c", Health: "initial", HealthReason: "Elb.RegistrationInProgress",
				Labels: map[string]string{"target_group_arn": "tg-green", "target_type": "ip"}}},
		{desc: "ip target outside the VPC: zone all dropped", g: green, d: desc("192.0.2.1", 8443, "all", "unavailable", "Target.HealthCheckDisabled"), address: AddressPrivate,
			want: discovery.Instance{ID: "192.0.2.1:8443", Addr: "192.0.2.1:8443", Scheme: "https", Group: "green", Pool: "green", Health: "unavailable", HealthReason: "Target.HealthCheckDisabled", Skip: "unavailable: Target.HealthCheckDisabled",
				Labels: map[string]string{"target_group_arn": "tg-green", "target_type": "ip"}}},
		{desc: "lambda is not probeable", g: fn, d: desc("arn:aws:lambda:eu-west-1:1:function:f", 0, "", "healthy", ""), address: AddressPrivate,
			want: discovery.Instance{ID: "arn:aws:lambda:eu-west-1:1:function:f", Group: "fn", Pool: "fn", Health: "healthy", Skip: "lambda target: not probeable",
				Labels: map[string]string{"target_group_arn": "tg-fn", "target_type": "lambda"}}},
		{desc: "alb target is not probeable", g: nested, d: desc("arn:alb", 80, "", "healthy", ""), address: AddressPrivate,
			want: discovery.Instance{ID: "arn:alb", Group: "alb", Pool: "alb", Health: "healthy", Skip: "alb target: not probeable (audit that load balancer as its own target)",
				Labels: map[string]string{"target_group_arn": "tg-alb", "target_type": "alb"}}},
		{desc: "instance gone from ec2", g: blue, d: desc("i-9", 0, "", "healthy", ""), address: AddressPrivate,
			want: discovery.Instance{ID: "i-9", Scheme: "http", Group: "blue", Pool: "blue", Weight: 90, Health: "healthy", Skip: "instance not returned by ec2:DescribeInstances (terminated?)",
				Labels: map[string]string{"target_group_arn": "tg-blue", "target_type": "instance", "forward_weight": "90"}}},
		{desc: "no public IP", g: blue, d: desc("i-2", 0, "", "healthy", ""), address: AddressPublic,
			want: discovery.Instance{ID: "i-2", Scheme: "http", Group: "blue", Pool: "blue", Weight: 90, Zone: "eu-west-1b", Health: "healthy", Skip: "no public IP address",
				Labels: map[string]string{"target_group_arn": "tg-blue", "target_type": "instance", "forward_weight": "90"}}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got := mapTarget(tc.g, tc.d, instances, tc.address)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if got.Probeable() == (tc.want.Skip != "") {
				t.Errorf("Probeable() = %v with skip %q", got.Probeable(), got.Skip)
			}
		})
	}
}

func TestDNSName(t *testing.T) {
	for _, tc := range []struct{ desc, in, norm, region string }{
		{desc: "plain", in: "shop-1.eu-west-1.elb.amazonaws.com", norm: "shop-1.eu-west-1.elb.amazonaws.com", region: "eu-west-1"},
		{desc: "dualstack, trailing dot, case", in: "DualStack.Shop-1.EU-WEST-1.elb.amazonaws.com.", norm: "shop-1.eu-west-1.elb.amazonaws.com", region: "eu-west-1"},
		{desc: "internal", in: "internal-shop-1.us-east-2.elb.amazonaws.com", norm: "internal-shop-1.us-east-2.elb.amazonaws.com", region: "us-east-2"},
		{desc: "china partition", in: "shop-1.cn-north-1.elb.amazonaws.com.cn", norm: "shop-1.cn-north-1.elb.amazonaws.com.cn", region: "cn-north-1"},
		{desc: "not an ELB name", in: "api.example.com", norm: "api.example.com", region: ""},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if got := normalizeDNSName(tc.in); got != tc.norm {
				t.Errorf("normalizeDNSName = %q, want %q", got, tc.norm)
			}
			if got := regionOfDNSName(tc.in); got != tc.region {
				t.Errorf("regionOfDNSName = %q, want %q", got, tc.region)
			}
		})
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		desc    string
		cfg     Config
		wantErr string
	}{
		{desc: "minimal", cfg: Config{LoadBalancer: "shop-alb"}},
		{desc: "everything", cfg: Config{Region: "eu-west-1", LoadBalancer: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop/1",
			ListenerPort: 443, TargetGroups: []string{"blue"}, Profile: "prod", RoleARN: "arn:aws:iam::123456789012:role/audit", Address: "public"}},
		{desc: "missing load balancer", cfg: Config{}, wantErr: "load_balancer: required (a name, an ARN or the DNS name)"},
		{desc: "every problem at once", cfg: Config{Region: "us-east-1", LoadBalancer: "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/x/1",
			ListenerPort: 70000, TargetGroups: []string{""}, RoleARN: "arn:aws:s3:::bucket", Address: "elastic"},
			wantErr: `region: "us-east-1", but load_balancer is an ARN in region "eu-west-1"
listener_port: 70000 is not a port (1-65535)
target_groups[0]: empty name
role_arn: "arn:aws:s3:::bucket" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)
address: "elastic" is not private or public`},
		{desc: "target group ARN given as load balancer", cfg: Config{LoadBalancer: "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/blue/1"},
			wantErr: `load_balancer: "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/blue/1" is not a load balancer ARN`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			decode := func(out any) error {
				c := out.(*Config)
				addr := c.Address // the default New applies before decoding
				*c = tc.cfg
				if c.Address == "" {
					c.Address = addr
				}
				return nil
			}
			p, err := New(decode)
			if tc.wantErr == "" {
				if err != nil || p == nil {
					t.Fatalf("New: %v, %v", p, err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v\nwant prefix %s", err, tc.wantErr)
			}
		})
	}
}

func TestCORSAttributes(t *testing.T) {
	attr := func(k, v string) elbtypes.ListenerAttribute {
		return elbtypes.ListenerAttribute{Key: sdkaws.String(k), Value: sdkaws.String(v)}
	}
	for _, tc := range []struct {
		desc  string
		attrs []elbtypes.ListenerAttribute
		want  []string
	}{
		{desc: "none set", attrs: []elbtypes.ListenerAttribute{attr("routing.http.response.server.enabled", "true")}},
		{desc: "an empty value sets nothing", attrs: []elbtypes.ListenerAttribute{attr("routing.http.response.access_control_allow_origin.header_value", "")}},
		{desc: "CORS attributes sorted, others left out", attrs: []elbtypes.ListenerAttribute{
			attr("routing.http.response.access_control_max_age.header_value", "600"),
			attr("routing.http.response.strict_transport_security.header_value", "max-age=1"),
			attr("routing.http.response.access_control_allow_credentials.header_value", "true")},
			want: []string{"routing.http.response.access_control_allow_credentials.header_value=true",
				"routing.http.response.access_control_max_age.header_value=600"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			f, ok := corsAttributes("arn:l", "HTTPS:443", tc.attrs)
			if ok != (tc.want != nil) || !slices.Equal(f.Settings, tc.want) {
				t.Fatalf("corsAttributes = %+v, %v; want settings %q", f, ok, tc.want)
			}
			if ok && (f.Kind != discovery.FactCORSHeaders || f.Resource != "ALB listener arn:l (HTTPS:443)") {
				t.Errorf("fact %+v", f)
			}
		})
	}
}

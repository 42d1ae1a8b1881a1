package awstest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"strconv"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/corsaudit/corsaudit/internal/syncbuf"
	"github.com/corsaudit/corsaudit/internal/testinfra/testenv"
)

// Region is the region every fixture lives in.
const Region = "us-east-1"

// Moto is a moto_server listening on loopback.
type Moto struct {
	// URL is the endpoint, http://127.0.0.1:<port>.
	URL string
	ELB *elbv2.Client
	EC2 *ec2.Client
}

// Start runs moto_server on a free loopback port until the test ends. In CI
// (CI=true) a missing moto_server fails the test; elsewhere it skips.
func Start(t testing.TB) *Moto {
	t.Helper()
	bin := testenv.LookTool(t, "aws integration test", "moto_server")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("awstest: free port: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("awstest: start moto_server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	// Readiness: poll moto's own API until it answers, within a deadline.
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(url + "/moto-api/")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("awstest: moto_server not ready on %s after 30s: %v\n%s", url, err, out.String())
		}
		select {
		case err := <-exited:
			t.Fatalf("awstest: moto_server exited: %v\n%s", err, out.String())
		case <-tick.C:
		}
	}
	creds := credentials.NewStaticCredentialsProvider("testing", "testing", "")
	return &Moto{URL: url,
		ELB: elbv2.New(elbv2.Options{Region: Region, BaseEndpoint: sdkaws.String(url), Credentials: creds}),
		EC2: ec2.New(ec2.Options{Region: Region, BaseEndpoint: sdkaws.String(url), Credentials: creds}),
	}
}

// Env points the SDK's default chain at the emulator for the rest of the
// test: endpoint, dummy static credentials, region, and no shared config
// files or instance metadata from the machine running the test.
func (m *Moto) Env(t testing.TB) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            m.URL,
		"AWS_ACCESS_KEY_ID":           "testing",
		"AWS_SECRET_ACCESS_KEY":       "testing",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  Region,
		"AWS_DEFAULT_REGION":          Region,
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             "/nonexistent/corsaudit-awstest-config",
		"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/corsaudit-awstest-credentials",
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
}

// Group is one target group of the fixture.
type Group struct {
	Name string
	// Weight in the listener rule's weighted forward; 0 puts the group
	// behind its own plain forward rule instead.
	Weight int32
	// Port of the target group (targets may override it).
	Port int32
	// Targets are ip targets (type ip). Loopback only, in tests.
	Targets []netip.AddrPort
	// Instances, when set, makes an instance group of that many new EC2
	// instances (moto gives them 10.x addresses: never dial them).
	Instances int
}

// ALB is a created load balancer.
type ALB struct {
	Name, ARN, DNSName string
	// GroupARNs by group name.
	GroupARNs map[string]string
	// VPC and Subnets it lives in.
	VPC     string
	Subnets []string
}

// IAMCertificate is a server certificate ARN for HTTPS listeners: moto
// accepts an IAM certificate ARN without creating it.
const IAMCertificate = "arn:aws:iam::123456789012:server-certificate/corsaudit-test"

// timeout bounds each fixture call.
const timeout = 60 * time.Second

// must fails the test on err.
func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("awstest: %s: %v", what, err)
	}
}

// NewALB creates an internet-facing Application Load Balancer named name,
// in a new VPC with two subnets, without listeners or target groups.
func (m *Moto) NewALB(t testing.TB, name string) ALB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	vpc, err := m.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: sdkaws.String("10.0.0.0/16")})
	must(t, "create vpc", err)
	alb := ALB{Name: name, GroupARNs: map[string]string{}, VPC: *vpc.Vpc.VpcId}
	for i, az := range []string{Region + "a", Region + "b"} {
		s, err := m.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId,
			CidrBlock: sdkaws.String(fmt.Sprintf("10.0.%d.0/24", i+1)), AvailabilityZone: sdkaws.String(az)})
		must(t, "create subnet", err)
		alb.Subnets = append(alb.Subnets, *s.Subnet.SubnetId)
	}
	lb, err := m.ELB.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: sdkaws.String(name), Subnets: alb.Subnets,
		Type: elbtypes.LoadBalancerTypeEnumApplication, Scheme: elbtypes.LoadBalancerSchemeEnumInternetFacing})
	must(t, "create load balancer", err)
	alb.ARN, alb.DNSName = *lb.LoadBalancers[0].LoadBalancerArn, *lb.LoadBalancers[0].DNSName
	return alb
}

// AddGroup creates target group g in the ALB's VPC with its targets, and
// returns its ARN (also recorded in alb.GroupARNs). g.Weight is not used
// here: rules say how traffic reaches the group.
func (m *Moto) AddGroup(t testing.TB, alb *ALB, g Group) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	typ := elbtypes.TargetTypeEnumIp
	if g.Instances > 0 {
		typ = elbtypes.TargetTypeEnumInstance
	}
	tg, err := m.ELB.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: sdkaws.String(g.Name), VpcId: sdkaws.String(alb.VPC),
		Protocol: elbtypes.ProtocolEnumHttp, Port: sdkaws.Int32(g.Port), TargetType: typ})
	must(t, "create target group "+g.Name, err)
	arn := *tg.TargetGroups[0].TargetGroupArn
	alb.GroupARNs[g.Name] = arn
	var targets []elbtypes.TargetDescription
	for _, ap := range g.Targets {
		targets = append(targets, elbtypes.TargetDescription{Id: sdkaws.String(ap.Addr().String()), Port: sdkaws.Int32(int32(ap.Port()))})
	}
	if g.Instances > 0 {
		run, err := m.EC2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: sdkaws.String("ami-12c6146b"),
			MinCount: sdkaws.Int32(int32(g.Instances)), MaxCount: sdkaws.Int32(int32(g.Instances)),
			InstanceType: ec2types.InstanceTypeT3Micro, SubnetId: sdkaws.String(alb.Subnets[0])})
		must(t, "run instances", err)
		for _, in := range run.Instances {
			targets = append(targets, elbtypes.TargetDescription{Id: in.InstanceId})
		}
	}
	if len(targets) > 0 {
		_, err = m.ELB.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: sdkaws.String(arn), Targets: targets})
		must(t, "register targets in "+g.Name, err)
	}
	return arn
}

// AddListener creates a listener (HTTPS ones with IAMCertificate) with
// its default actions, and returns its ARN.
func (m *Moto) AddListener(t testing.TB, alb ALB, protocol elbtypes.ProtocolEnum, port int32, defaults ...elbtypes.Action) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	in := &elbv2.CreateListenerInput{LoadBalancerArn: sdkaws.String(alb.ARN), Protocol: protocol, Port: sdkaws.Int32(port), DefaultActions: defaults}
	if protocol == elbtypes.ProtocolEnumHttps {
		in.Certificates = []elbtypes.Certificate{{CertificateArn: sdkaws.String(IAMCertificate)}}
	}
	l, err := m.ELB.CreateListener(ctx, in)
	must(t, fmt.Sprintf("create listener %s:%d", protocol, port), err)
	return *l.Listeners[0].ListenerArn
}

// SetListenerAttributes sets attributes of a listener
// (ModifyListenerAttributes), e.g. the routing.http.response.access_control_*
// ones that put fixed CORS headers on its answers.
func (m *Moto) SetListenerAttributes(t testing.TB, listenerARN string, attrs map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var list []elbtypes.ListenerAttribute
	for k, v := range attrs {
		list = append(list, elbtypes.ListenerAttribute{Key: sdkaws.String(k), Value: sdkaws.String(v)})
	}
	_, err := m.ELB.ModifyListenerAttributes(ctx, &elbv2.ModifyListenerAttributesInput{ListenerArn: sdkaws.String(listenerARN), Attributes: list})
	must(t, "modify listener attributes", err)
}

// AddRule creates a rule on a listener and returns its ARN.
func (m *Moto) AddRule(t testing.TB, listenerARN string, priority int32, conditions []elbtypes.RuleCondition, actions ...elbtypes.Action) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r, err := m.ELB.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: sdkaws.String(listenerARN), Priority: sdkaws.Int32(priority),
		Conditions: conditions, Actions: actions})
	must(t, fmt.Sprintf("create rule %d", priority), err)
	return *r.Rules[0].RuleArn
}

// Forward is a forward action to one target group.
func Forward(arn string) elbtypes.Action {
	return elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: sdkaws.String(arn)}
}

// CreateALB builds an internet-facing ALB named name with an HTTPS listener
// on port 443 and an HTTP listener on port 80 with the same rules: rule 10
// (path /*) forwards by weight to the groups with a weight, rules 20..
// forward /<group>/* to each unweighted group, the default action answers
// 404.
func (m *Moto) CreateALB(t testing.TB, name string, groups ...Group) ALB {
	t.Helper()
	alb := m.NewALB(t, name)
	var weighted []elbtypes.TargetGroupTuple
	var plain []string
	for _, g := range groups {
		arn := m.AddGroup(t, &alb, g)
		if g.Weight > 0 {
			weighted = append(weighted, elbtypes.TargetGroupTuple{TargetGroupArn: sdkaws.String(arn), Weight: sdkaws.Int32(g.Weight)})
		} else {
			plain = append(plain, g.Name)
		}
	}
	notFound := elbtypes.Action{Type: elbtypes.ActionTypeEnumFixedResponse,
		FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: sdkaws.String("404"), ContentType: sdkaws.String("text/plain")}}
	for _, l := range []string{
		m.AddListener(t, alb, elbtypes.ProtocolEnumHttps, 443, notFound),
		m.AddListener(t, alb, elbtypes.ProtocolEnumHttp, 80, notFound),
	} {
		pathRule := func(prio int32, path string, action elbtypes.Action) {
			m.AddRule(t, l, prio, []elbtypes.RuleCondition{{Field: sdkaws.String("path-pattern"), Values: []string{path}}}, action)
		}
		if len(weighted) > 0 {
			pathRule(10, "/*", elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: weighted}})
		}
		for i, name := range plain {
			pathRule(int32(20+i), "/"+name+"/*", Forward(alb.GroupARNs[name]))
		}
	}
	return alb
}

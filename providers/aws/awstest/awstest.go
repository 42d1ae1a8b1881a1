// Package awstest runs moto_server (a local AWS emulator) for integration
// tests and builds an Application Load Balancer in it: a VPC, two subnets,
// target groups with ip targets (loopback addresses where test servers
// listen) or EC2 instances, and a listener whose rule splits traffic by
// weight. It never talks to AWS: every client is pointed at the local
// emulator with dummy credentials.
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
	"github.com/corsaudit/corsaudit/internal/testenv"
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
}

// CreateALB builds an internet-facing ALB named name with an HTTP listener
// on port 80: rule 10 (path /*) forwards by weight to the groups with a
// weight, rules 20.. forward /<group>/* to each unweighted group, the
// default action answers 404.
func (m *Moto) CreateALB(t testing.TB, name string, groups ...Group) ALB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("awstest: %s: %v", what, err)
		}
	}
	vpc, err := m.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: sdkaws.String("10.0.0.0/16")})
	must("create vpc", err)
	var subnets []string
	for i, az := range []string{Region + "a", Region + "b"} {
		s, err := m.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId,
			CidrBlock: sdkaws.String(fmt.Sprintf("10.0.%d.0/24", i+1)), AvailabilityZone: sdkaws.String(az)})
		must("create subnet", err)
		subnets = append(subnets, *s.Subnet.SubnetId)
	}
	lb, err := m.ELB.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: sdkaws.String(name), Subnets: subnets,
		Type: elbtypes.LoadBalancerTypeEnumApplication, Scheme: elbtypes.LoadBalancerSchemeEnumInternetFacing})
	must("create load balancer", err)
	alb := ALB{Name: name, ARN: *lb.LoadBalancers[0].LoadBalancerArn, DNSName: *lb.LoadBalancers[0].DNSName, GroupARNs: map[string]string{}}
	var weighted []elbtypes.TargetGroupTuple
	var plain []string
	for _, g := range groups {
		typ := elbtypes.TargetTypeEnumIp
		if g.Instances > 0 {
			typ = elbtypes.TargetTypeEnumInstance
		}
		tg, err := m.ELB.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: sdkaws.String(g.Name), VpcId: vpc.Vpc.VpcId,
			Protocol: elbtypes.ProtocolEnumHttp, Port: sdkaws.Int32(g.Port), TargetType: typ})
		must("create target group "+g.Name, err)
		arn := *tg.TargetGroups[0].TargetGroupArn
		alb.GroupARNs[g.Name] = arn
		var targets []elbtypes.TargetDescription
		for _, ap := range g.Targets {
			targets = append(targets, elbtypes.TargetDescription{Id: sdkaws.String(ap.Addr().String()), Port: sdkaws.Int32(int32(ap.Port()))})
		}
		if g.Instances > 0 {
			run, err := m.EC2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: sdkaws.String("ami-12c6146b"),
				MinCount: sdkaws.Int32(int32(g.Instances)), MaxCount: sdkaws.Int32(int32(g.Instances)),
				InstanceType: ec2types.InstanceTypeT3Micro, SubnetId: sdkaws.String(subnets[0])})
			must("run instances", err)
			for _, in := range run.Instances {
				targets = append(targets, elbtypes.TargetDescription{Id: in.InstanceId})
			}
		}
		if len(targets) > 0 {
			_, err = m.ELB.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: sdkaws.String(arn), Targets: targets})
			must("register targets in "+g.Name, err)
		}
		if g.Weight > 0 {
			weighted = append(weighted, elbtypes.TargetGroupTuple{TargetGroupArn: sdkaws.String(arn), Weight: sdkaws.Int32(g.Weight)})
		} else {
			plain = append(plain, g.Name)
		}
	}
	l, err := m.ELB.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: sdkaws.String(alb.ARN),
		Protocol: elbtypes.ProtocolEnumHttp, Port: sdkaws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse,
			FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: sdkaws.String("404"), ContentType: sdkaws.String("text/plain")}}}})
	must("create listener", err)
	pathRule := func(prio int32, path string, action elbtypes.Action) {
		_, err := m.ELB.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: l.Listeners[0].ListenerArn, Priority: sdkaws.Int32(prio),
			Conditions: []elbtypes.RuleCondition{{Field: sdkaws.String("path-pattern"), Values: []string{path}}},
			Actions:    []elbtypes.Action{action}})
		must("create rule "+path, err)
	}
	if len(weighted) > 0 {
		pathRule(10, "/*", elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: weighted}})
	}
	for i, name := range plain {
		pathRule(int32(20+i), "/"+name+"/*", elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: sdkaws.String(alb.GroupARNs[name])})
	}
	return alb
}

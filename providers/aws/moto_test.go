package aws

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/providers/aws/awstest"
)

// TestMotoDiscover runs the provider, built from its config like the CLI
// builds it, through the SDK's default chain against moto_server: ip
// targets at loopback addresses split 90/10, an instance group of EC2
// instances, lookup by name, ARN and DNS name. Nothing is dialled.
func TestMotoDiscover(t *testing.T) {
	moto := awstest.Start(t)
	moto.Env(t)
	alb := moto.CreateALB(t, "shop-alb",
		awstest.Group{Name: "blue", Weight: 90, Port: 8080, Targets: []netip.AddrPort{
			netip.MustParseAddrPort("127.0.0.2:18080"), netip.MustParseAddrPort("127.0.0.3:18081")}},
		awstest.Group{Name: "green", Weight: 10, Port: 8080, Targets: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.4:18082")}},
		awstest.Group{Name: "legacy", Port: 8080, Instances: 3},
	)
	for _, tc := range []struct {
		desc    string
		cfg     Config
		want    int
		wantURL string
	}{
		{desc: "by name", cfg: Config{LoadBalancer: "shop-alb"}, want: 6, wantURL: "https://" + alb.DNSName},
		{desc: "by ARN", cfg: Config{LoadBalancer: alb.ARN}, want: 6, wantURL: "https://" + alb.DNSName},
		{desc: "by dualstack DNS name with a trailing dot", cfg: Config{LoadBalancer: "dualstack." + alb.DNSName + "."}, want: 6, wantURL: "https://" + alb.DNSName},
		{desc: "listener_port (HTTP) and target_groups filter", cfg: Config{LoadBalancer: "shop-alb", TargetGroups: []string{"green"}, ListenerPort: 80}, want: 1, wantURL: "http://" + alb.DNSName},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			p, got := discoverMoto(t, tc.cfg)
			if len(got) != 1 || got[0].Name != "shop-alb" || got[0].URL != tc.wantURL {
				t.Fatalf("targets %+v, want shop-alb at %s", got, tc.wantURL)
			}
			ins := got[0].Instances
			if len(ins) != tc.want {
				t.Fatalf("%d instances, want %d: %+v", len(ins), tc.want, ins)
			}
			weights := map[string]int{"blue": 90, "green": 10, "legacy": 0}
			for _, in := range ins {
				if in.Health != discovery.HealthHealthy {
					t.Errorf("%s: health %q, want healthy", in.ID, in.Health)
				}
				if w, ok := weights[in.Group]; !ok || in.Weight != w {
					t.Errorf("%s: group %q weight %d, want a known group with its weight", in.ID, in.Group, in.Weight)
				}
				switch in.Group {
				case "blue", "green":
					if !in.IsLoopback() || in.ID != in.Addr || !in.Probeable() {
						t.Errorf("%s: ip target addr %q, want its loopback ip:port, probeable", in.ID, in.Addr)
					}
				case "legacy":
					if !strings.HasPrefix(in.ID, "i-") || !strings.HasPrefix(in.Addr, "10.0.1.") || !strings.HasSuffix(in.Addr, ":8080") || in.Zone != "us-east-1a" {
						t.Errorf("%s: instance target addr %q zone %q, want its private 10.0.1.x:8080 in us-east-1a", in.ID, in.Addr, in.Zone)
					}
				}
			}
			calls := p.(*Provider).calls.snapshot()
			if calls["DescribeTargetHealth"] != len(weights) && tc.cfg.TargetGroups == nil {
				t.Errorf("calls %v, want one DescribeTargetHealth per group", calls)
			}
			t.Logf("API calls: %v", calls)
		})
	}
	t.Run("unknown load balancer", func(t *testing.T) {
		p, err := New(func(out any) error { out.(*Config).LoadBalancer = "nope"; return nil })
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		_, err = p.Discover(context.Background())
		if !errors.Is(err, ErrLoadBalancerNotFound) || !strings.Contains(err.Error(), "searched us-east-1") {
			t.Fatalf("err = %v, want ErrLoadBalancerNotFound naming the region", err)
		}
	})
}

// discoverMoto builds the provider from cfg as the CLI does (the default
// address applied) and runs Discover through the SDK's default chain.
func discoverMoto(t *testing.T, cfg Config) (discovery.Provider, []discovery.Target) {
	t.Helper()
	p, err := New(func(out any) error {
		c := out.(*Config)
		addr := c.Address
		*c = cfg
		c.Address = addr
		return nil
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := p.Discover(ctx)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	return p, got
}

// TestMotoRouting is issue 21's shared ALB built in moto_server and read
// back through the SDK: three target groups of ip targets at loopback
// addresses (never dialled), an HTTPS:443 listener whose rules send
// OPTIONS on /api/upload to a fixed response (priority 5), /api/* to api
// (10), host admin.example.com to admin (20), everything else to web (the
// default action); further rules exercise every other condition type and
// action moto stores and returns: http-header with a weighted forward,
// query-string, source-ip, authenticate-oidc, authenticate-cognito,
// redirect. moto 5.2 rejects RegexValues and jwt-validation and drops
// Transforms: those are covered by the table tests of rules_test.go only.
func TestMotoRouting(t *testing.T) {
	moto := awstest.Start(t)
	moto.Env(t)
	alb := moto.NewALB(t, "shared-alb")
	for i, name := range []string{"api", "admin", "web"} {
		moto.AddGroup(t, &alb, awstest.Group{Name: name, Port: 8080, Targets: []netip.AddrPort{
			netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 1, byte(10*i + 1)}), 18080),
			netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 1, byte(10*i + 2)}), 18080)}})
	}
	api, admin, web := alb.GroupARNs["api"], alb.GroupARNs["admin"], alb.GroupARNs["web"]
	l := moto.AddListener(t, alb, elbtypes.ProtocolEnumHttps, 443, awstest.Forward(web))
	str := sdkaws.String
	field := func(f string) *string { return str(f) }
	moto.AddRule(t, l, 5, []elbtypes.RuleCondition{
		{Field: field(fieldMethod), HttpRequestMethodConfig: &elbtypes.HttpRequestMethodConditionConfig{Values: []string{"OPTIONS"}}},
		{Field: field(fieldPath), Values: []string{"/api/upload"}},
	}, elbtypes.Action{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: str("204"), ContentType: str("text/plain")}})
	moto.AddRule(t, l, 10, []elbtypes.RuleCondition{{Field: field(fieldPath), PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{"/api/*"}}}}, awstest.Forward(api))
	moto.AddRule(t, l, 20, []elbtypes.RuleCondition{{Field: field(fieldHost), Values: []string{"admin.example.com"}}}, awstest.Forward(admin))
	moto.AddRule(t, l, 30, []elbtypes.RuleCondition{
		{Field: field(fieldHeader), HttpHeaderConfig: &elbtypes.HttpHeaderConditionConfig{HttpHeaderName: str("X-Canary"), Values: []string{"yes"}}},
	}, elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
		{TargetGroupArn: str(web), Weight: sdkaws.Int32(90)}, {TargetGroupArn: str(api), Weight: sdkaws.Int32(10)}}}})
	moto.AddRule(t, l, 40, []elbtypes.RuleCondition{
		{Field: field(fieldQuery), QueryStringConfig: &elbtypes.QueryStringConditionConfig{Values: []elbtypes.QueryStringKeyValuePair{{Key: str("version"), Value: str("v2")}}}},
	}, awstest.Forward(api))
	moto.AddRule(t, l, 50, []elbtypes.RuleCondition{
		{Field: field(fieldSource), SourceIpConfig: &elbtypes.SourceIpConditionConfig{Values: []string{"10.0.0.0/8"}}},
		{Field: field(fieldPath), Values: []string{"/internal/*"}},
	}, awstest.Forward(admin))
	moto.AddRule(t, l, 60, []elbtypes.RuleCondition{{Field: field(fieldPath), Values: []string{"/account/*"}}},
		elbtypes.Action{Type: elbtypes.ActionTypeEnumAuthenticateOidc, Order: sdkaws.Int32(1), AuthenticateOidcConfig: &elbtypes.AuthenticateOidcActionConfig{
			Issuer: str("https://idp.example.com"), AuthorizationEndpoint: str("https://idp.example.com/authorize"), TokenEndpoint: str("https://idp.example.com/token"),
			UserInfoEndpoint: str("https://idp.example.com/userinfo"), ClientId: str("corsaudit-test"), ClientSecret: str("test-only")}},
		elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, Order: sdkaws.Int32(2), TargetGroupArn: str(admin)})
	moto.AddRule(t, l, 70, []elbtypes.RuleCondition{{Field: field(fieldPath), Values: []string{"/old/*"}}},
		elbtypes.Action{Type: elbtypes.ActionTypeEnumRedirect, RedirectConfig: &elbtypes.RedirectActionConfig{Path: str("/new/#{path}"), StatusCode: elbtypes.RedirectActionStatusCodeEnumHttp301}})
	moto.AddRule(t, l, 80, []elbtypes.RuleCondition{{Field: field(fieldPath), Values: []string{"/staff/*"}}},
		elbtypes.Action{Type: elbtypes.ActionTypeEnumAuthenticateCognito, Order: sdkaws.Int32(1), AuthenticateCognitoConfig: &elbtypes.AuthenticateCognitoActionConfig{
			UserPoolArn: str("arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_test"), UserPoolClientId: str("corsaudit-test"),
			UserPoolDomain: str("shop-staff"), OnUnauthenticatedRequest: elbtypes.AuthenticateCognitoActionConditionalBehaviorEnumDeny}},
		elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, Order: sdkaws.Int32(2), TargetGroupArn: str(admin)})

	p, got := discoverMoto(t, Config{LoadBalancer: "shared-alb"})
	tgt := got[0]
	byPool := map[string]int{}
	for _, in := range tgt.Instances {
		byPool[in.Pool]++
		if in.Pool != in.Group || !in.IsLoopback() {
			t.Errorf("%s: pool %q group %q addr %q, want the group's name and a loopback address", in.ID, in.Pool, in.Group, in.Addr)
		}
	}
	if byPool["api"] != 2 || byPool["admin"] != 2 || byPool["web"] != 2 || len(byPool) != 3 {
		t.Errorf("instances by pool %v, want two in each of api, admin, web", byPool)
	}
	preflight := []string{"Origin: https://app.example.com", "Access-Control-Request-Method: PUT"}
	for _, tc := range []struct {
		desc, method, url string
		header            []string
		want              string
		detail            string
	}{
		{desc: "/api/cart to api", method: "GET", url: "https://shop.example.com/api/cart", want: "HTTPS:443 rule priority 10 (…) -> forward api"},
		{desc: "admin host to admin", method: "GET", url: "https://admin.example.com/", want: "HTTPS:443 rule priority 20 (…) -> forward admin"},
		{desc: "/ to web", method: "GET", url: "https://shop.example.com/", want: "HTTPS:443 default action -> forward web"},
		{desc: "the preflight of /api/upload to the fixed response", method: "OPTIONS", url: "https://shop.example.com/api/upload", header: preflight,
			want: "HTTPS:443 rule priority 5 (…) -> fixed-response", detail: "fixed response 204 (text/plain)"},
		{desc: "GET /api/upload to api", method: "GET", url: "https://shop.example.com/api/upload", want: "HTTPS:443 rule priority 10 (…) -> forward api"},
		{desc: "http-header and a weighted forward", method: "GET", url: "https://shop.example.com/beta", header: []string{"X-Canary: YES"},
			want: "HTTPS:443 rule priority 30 (…) -> forward web:90,api:10"},
		{desc: "query-string", method: "GET", url: "https://shop.example.com/search?version=v2", want: "HTTPS:443 rule priority 40 (…) -> forward api"},
		{desc: "source-ip: both outcomes", method: "GET", url: "https://shop.example.com/internal/x",
			want: "HTTPS:443 rule priority 50 (…) -> forward admin | HTTPS:443 default action -> forward web"},
		{desc: "authenticate-oidc: a preflight is sent to the IdP", method: "OPTIONS", url: "https://shop.example.com/account/me", header: preflight,
			want: "HTTPS:443 rule priority 60 (…) -> authenticate", detail: "302 to https://idp.example.com/authorize (authenticate-oidc: not logged in); authenticated requests go to admin"},
		{desc: "authenticate-cognito deny: 401 to a preflight", method: "OPTIONS", url: "https://shop.example.com/staff/x", header: preflight,
			want: "HTTPS:443 rule priority 80 (…) -> authenticate", detail: "401 Unauthorized (authenticate-cognito, on_unauthenticated_request deny); authenticated requests go to admin"},
		{desc: "redirect", method: "GET", url: "https://shop.example.com/old/x", want: "HTTPS:443 rule priority 70 (…) -> redirect", detail: "301 to #{protocol}://#{host}:#{port}/new/#{path}?#{query}"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			routes := tgt.Router.Route(req(t, tc.method, tc.url, tc.header...))
			if s := ruleARNs.ReplaceAllString(shorts(routes), "(…)"); s != tc.want {
				t.Errorf("routes %s\nwant   %s", s, tc.want)
			}
			if tc.detail != "" && routes[0].Detail != tc.detail {
				t.Errorf("detail %q, want %q", routes[0].Detail, tc.detail)
			}
		})
	}
	t.Logf("API calls: %v", p.(*Provider).calls.snapshot())
}

// ruleARNs matches the suffix of the random rule ARNs moto makes.
var ruleARNs = regexp.MustCompile(`\(…/[0-9a-f]+\)`)

// TestMotoListenerCORSAttributes: an ALB listener whose attributes put
// fixed CORS headers on every answer (routing.http.response.access_control_*,
// read with DescribeListenerAttributes) is a fact of the target naming the
// listener; a listener without them is none.
func TestMotoListenerCORSAttributes(t *testing.T) {
	moto := awstest.Start(t)
	moto.Env(t)
	alb := moto.NewALB(t, "attrs-alb")
	web := moto.AddGroup(t, &alb, awstest.Group{Name: "web", Port: 8080, Targets: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.2:18080")}})
	https := moto.AddListener(t, alb, elbtypes.ProtocolEnumHttps, 443, awstest.Forward(web))
	moto.AddListener(t, alb, elbtypes.ProtocolEnumHttp, 80, awstest.Forward(web))
	moto.SetListenerAttributes(t, https, map[string]string{
		"routing.http.response.access_control_allow_origin.header_value":  "*",
		"routing.http.response.access_control_allow_methods.header_value": "GET,POST",
		"routing.http.response.server.enabled":                            "false",
	})
	_, got := discoverMoto(t, Config{LoadBalancer: "attrs-alb"})
	if len(got) != 1 {
		t.Fatalf("targets %+v, want one", got)
	}
	want := []discovery.FrontFact{{Kind: discovery.FactCORSHeaders, Resource: "ALB listener " + https + " (HTTPS:443)",
		Settings: []string{"routing.http.response.access_control_allow_methods.header_value=GET,POST",
			"routing.http.response.access_control_allow_origin.header_value=*"}}}
	if !reflect.DeepEqual(got[0].Facts, want) {
		t.Errorf("facts %+v\nwant %+v", got[0].Facts, want)
	}
}

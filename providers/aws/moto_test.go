package aws

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

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
			p, err := New(func(out any) error {
				c := out.(*Config)
				addr := c.Address
				*c = tc.cfg
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

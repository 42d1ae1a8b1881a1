package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
	"github.com/corsaudit/corsaudit/providers/aws/awstest"
)

// awsFleet builds, in moto_server, an ALB "shop-alb" whose rule forwards
// 90/10 to target groups blue (three ip targets) and green (one ip
// target). Every target is a labserver on its own loopback address
// (127.0.0.2-5); the green one runs an older CORS config. The load balancer
// itself is not sampled (its DNS name is fictitious), so only loopback is
// ever dialled. It returns the config file path and the green target's id.
func awsFleet(t *testing.T) (path, drifted string) {
	t.Helper()
	moto := awstest.Start(t)
	moto.Env(t)
	current := labserver.Behavior{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "PUT"},
		AllowHeaders: []string{"Content-Type", "X-Request-Id"}, Credentials: true, MaxAge: 600}
	older := labserver.Behavior{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "POST"},
		AllowHeaders: []string{"Content-Type"}, Credentials: true, MaxAge: 600}
	var blue, green []netip.AddrPort
	servers := map[string]*labserver.Server{}
	for i := 2; i <= 5; i++ {
		b := current
		if i == 5 {
			b = older
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", i))
		if err != nil {
			t.Fatalf("listen on 127.0.0.%d: %v", i, err)
		}
		ap := netip.MustParseAddrPort(ln.Addr().String())
		b.ID = ap.String()
		s := labserver.New(b)
		servers[b.ID] = s
		srv := httptest.NewUnstartedServer(s)
		srv.Listener.Close()
		srv.Listener = ln
		srv.Start()
		t.Cleanup(srv.Close)
		if i == 5 {
			green = append(green, ap)
			drifted = ap.String()
		} else {
			blue = append(blue, ap)
		}
	}
	moto.CreateALB(t, "shop-alb",
		awstest.Group{Name: "blue", Weight: 90, Port: 8080, Targets: blue},
		awstest.Group{Name: "green", Weight: 10, Port: 8080, Targets: green})
	t.Cleanup(func() {
		for id, s := range servers {
			st := s.Stats()
			if st.Preflights == 0 {
				t.Errorf("instance %s received no preflight", id)
			}
			if st.Unsafe != 0 || st.Cookies != 0 || st.Authorization != 0 {
				t.Errorf("instance %s received %d unsafe actual requests, %d cookies, %d Authorization headers",
					id, st.Unsafe, st.Cookies, st.Authorization)
			}
		}
	})
	cfg := `targets:
  - discover:
      aws:
        region: ` + awstest.Region + `
        load_balancer: shop-alb
    lb: {disabled: true}
    policy:
      origins: [https://app.example.com]
      methods: [GET, PUT]
      headers: [X-Request-Id]
      credentials: true
`
	path = writeConfig(t, cfg)
	return path, drifted
}

// TestAWSDiscoverAndAudit: `corsaudit discover` against moto lists every
// target with its group, weight and health; `corsaudit audit` reports the
// drifted instance and its target group.
func TestAWSDiscoverAndAudit(t *testing.T) {
	path, drifted := awsFleet(t)

	targets := discoverJSON(t, path)
	if len(targets) != 1 || targets[0].Name != "shop-alb" || !strings.HasPrefix(targets[0].URL, "https://shop-alb-") {
		t.Fatalf("targets = %+v, want shop-alb at https://<its DNS name>", targets)
	}
	ins := targets[0].Instances
	if len(ins) != 4 {
		t.Fatalf("instances = %+v, want 4", ins)
	}
	for _, in := range ins {
		wantGroup, wantWeight := "blue", 90
		if in.ID == drifted {
			wantGroup, wantWeight = "green", 10
		}
		if in.Addr != in.ID || !strings.HasPrefix(in.Addr, "127.0.0.") || in.Group != wantGroup || in.Weight != wantWeight || in.Health != "healthy" {
			t.Errorf("instance %+v, want %s weight %d healthy at its loopback ip:port", in, wantGroup, wantWeight)
		}
	}
	code, table, stderr := runCLI("discover", "--config", path)
	if code != exitClean {
		t.Fatalf("discover (table): exit %d\nstderr: %s", code, stderr)
	}
	for _, want := range []string{"shop-alb", "GROUP", "WEIGHT", "HEALTH", drifted, "green", "10", "healthy"} {
		if !strings.Contains(table, want) {
			t.Errorf("discover table lacks %q:\n%s", want, table)
		}
	}
	t.Logf("corsaudit discover against moto:\n%s", table)

	code, out, stderr := runCLI("audit", "--config", path, "--format", "json")
	var rep diff.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("audit: exit %d, output is not JSON: %v\nstdout: %s\nstderr: %s", code, err, out, stderr)
	}
	if code != exitFindings {
		t.Errorf("audit: exit %d, want %d (findings); stderr:\n%s", code, exitFindings, stderr)
	}
	drifts := 0
	for _, fd := range rep.Findings {
		if fd.Kind != "verdict-drift" {
			continue
		}
		drifts++
		if fd.Target != "shop-alb" || !slices.Equal(fd.Instances, []string{drifted}) || !slices.Contains(fd.Groups, "green") {
			t.Errorf("verdict drift on %s %v groups %v, want shop-alb [%s] in group green", fd.Target, fd.Instances, fd.Groups, drifted)
		}
	}
	if drifts == 0 {
		t.Errorf("no verdict-drift finding; findings: %+v", rep.Findings)
	}
}

// TestAWSConfigFindings: an ALB listener whose attributes put a fixed
// Access-Control-Allow-Origin on every answer, read from moto_server:
// `corsaudit audit` reports config-cors-headers naming the listener and
// the value, a warning (exit 0: no probe of the run shows it, the load
// balancer not being sampled).
func TestAWSConfigFindings(t *testing.T) {
	moto := awstest.Start(t)
	moto.Env(t)
	ln, err := net.Listen("tcp", "127.0.0.6:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.6: %v", err)
	}
	ap := netip.MustParseAddrPort(ln.Addr().String())
	srv := httptest.NewUnstartedServer(labserver.New(labserver.Behavior{ID: ap.String(), AllowOrigins: []string{"https://app.example.com"},
		AllowMethods: []string{"GET", "PUT"}, Credentials: true}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	alb := moto.NewALB(t, "attrs-alb")
	web := moto.AddGroup(t, &alb, awstest.Group{Name: "web", Port: 8080, Targets: []netip.AddrPort{ap}})
	listener := moto.AddListener(t, alb, "HTTPS", 443, awstest.Forward(web))
	moto.SetListenerAttributes(t, listener, map[string]string{"routing.http.response.access_control_allow_origin.header_value": "*"})
	path := writeConfig(t, `targets:
  - discover:
      aws:
        region: `+awstest.Region+`
        load_balancer: attrs-alb
    lb: {disabled: true}
    policy:
      origins: [https://app.example.com]
      methods: [GET, PUT]
      credentials: true
`)
	code, out, stderr := runCLI("audit", "--config", path, "--format", "json")
	var rep diff.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("audit: exit %d, output is not JSON: %v\nstdout: %s\nstderr: %s", code, err, out, stderr)
	}
	if code != exitClean {
		t.Errorf("audit: exit %d, want %d; stderr:\n%s", code, exitClean, stderr)
	}
	var found bool
	for _, f := range rep.Findings {
		if f.Kind != diff.KindConfigCORSHeaders {
			continue
		}
		found = true
		if f.Severity != diff.SeverityWarning || !strings.Contains(f.Message, "ALB listener "+listener+" (HTTPS:443)") ||
			!strings.Contains(f.Message, "routing.http.response.access_control_allow_origin.header_value=*") {
			t.Errorf("%s: %s", f.Severity, f.Message)
		}
	}
	if !found {
		t.Errorf("no config-cors-headers finding: %+v", rep.Findings)
	}
}

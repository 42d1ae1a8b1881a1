package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
	"github.com/corsaudit/corsaudit/providers/gcp/gcptest"
)

// gcpFleet lays out a global backend service "shop-backend" with two zonal
// GCE_VM_IP_PORT NEGs (blue: shop-1..3, green: shop-4..5) in the fake compute
// API. Every endpoint is a labserver on 127.0.0.1; shop-5 runs an older CORS
// config. It returns the config file path.
func gcpFleet(t *testing.T) (string, *gcptest.Server) {
	t.Helper()
	return gcpFleetOf(t, true)
}

// gcpFleetOf is gcpFleet, with shop-5 on the older config when drift.
func gcpFleetOf(t *testing.T, drift bool) (string, *gcptest.Server) {
	t.Helper()
	current := labserver.Behavior{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "PUT"},
		AllowHeaders: []string{"Content-Type", "X-Request-Id"}, Credentials: true, MaxAge: 600}
	older := labserver.Behavior{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "POST"},
		AllowHeaders: []string{"Content-Type"}, Credentials: true, MaxAge: 600}

	const project = "shop-project"
	f := gcptest.NewServer(t, project)
	svcPath := "global/backendServices/shop-backend"
	blue, green := "zones/europe-west1-b/networkEndpointGroups/shop-blue", "zones/europe-west1-c/networkEndpointGroups/shop-green"
	svc := f.BackendService(svcPath, "HTTP", "http", blue, green)
	for _, neg := range []string{blue, green} {
		f.Put(neg, gcptest.Obj{"name": neg[strings.LastIndex(neg, "/")+1:], "networkEndpointType": "GCE_VM_IP_PORT", "defaultPort": 80})
	}
	servers := map[string]*labserver.Server{}
	for i := 1; i <= 5; i++ {
		id := fmt.Sprintf("shop-%d", i)
		b := current
		if i == 5 && drift {
			b = older
		}
		b.ID = id
		s := labserver.New(b)
		servers[id] = s
		srv := httptest.NewServer(s)
		t.Cleanup(srv.Close)
		host, port, err := net.SplitHostPort(srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		p, _ := strconv.Atoi(port)
		neg := blue
		if i > 3 {
			neg = green
		}
		f.Add(neg+"/listNetworkEndpoints", gcptest.Obj{"networkEndpoint": gcptest.Obj{"ipAddress": host, "port": p, "instance": id}})
		state := "HEALTHY"
		if i == 4 {
			state = "UNHEALTHY"
		}
		f.Health(svcPath, neg, gcptest.Obj{"ipAddress": host, "port": p, "instance": f.SelfLink("zones/x/instances/" + id), "healthState": state})
	}
	// The public URL comes from the fake's forwarding rule; the LB is not
	// sampled, so it is never dialled.
	f.Frontend("global", svc, false, "127.0.0.1", "8080-8080")
	t.Cleanup(func() {
		for id, s := range servers {
			if st := s.Stats(); st.Unsafe != 0 || st.Cookies != 0 || st.Authorization != 0 {
				t.Errorf("instance %s received %d unsafe actual requests, %d cookies, %d Authorization headers",
					id, st.Unsafe, st.Cookies, st.Authorization)
			}
		}
	})

	cfg := `targets:
  - discover:
      gcp:
        project: ` + project + `
        backend_service: shop-backend
        endpoint: ` + f.URL() + `
    lb: {disabled: true}
    policy:
      origins: [https://app.example.com]
      methods: [GET, PUT]
      headers: [X-Request-Id]
      credentials: true
`
	path := writeConfig(t, cfg)
	return path, f
}

// TestGCPDiscover: `corsaudit discover` against the fake lists every
// backend with its group, zone, port and health.
func TestGCPDiscover(t *testing.T) {
	path, _ := gcpFleet(t)
	targets := discoverJSON(t, path)
	if len(targets) != 1 || targets[0].Name != "shop-backend" || targets[0].URL != "http://127.0.0.1:8080/" {
		t.Fatalf("targets = %+v, want shop-backend at http://127.0.0.1:8080/", targets)
	}
	ins := targets[0].Instances
	if len(ins) != 5 {
		t.Fatalf("instances = %+v, want 5", ins)
	}
	for i, in := range ins {
		wantGroup, wantZone, wantHealth := "shop-blue", "europe-west1-b", "healthy"
		if i >= 3 {
			wantGroup, wantZone = "shop-green", "europe-west1-c"
		}
		if i == 3 {
			wantHealth = "unhealthy"
		}
		_, port, err := net.SplitHostPort(in.Addr)
		if in.ID != fmt.Sprintf("shop-%d", i+1) || err != nil || port == "" || !strings.HasPrefix(in.Addr, "127.0.0.1:") ||
			in.Group != wantGroup || in.Zone != wantZone || in.Health != wantHealth || in.Scheme != "http" || in.Pool != "shop-backend" {
			t.Errorf("instance %d = %+v, want shop-%d at 127.0.0.1:port in %s/%s, %s, pool shop-backend", i, in, i+1, wantGroup, wantZone, wantHealth)
		}
	}

	code, table, stderr := runCLI("discover", "--config", path)
	if code != exitClean {
		t.Fatalf("discover (table): exit %d\nstderr: %s", code, stderr)
	}
	for _, want := range []string{"shop-backend", "shop-green", "europe-west1-c", "unhealthy", ins[4].Addr} {
		if !strings.Contains(table, want) {
			t.Errorf("discover table lacks %q:\n%s", want, table)
		}
	}
}

// TestGCPAuditReportsDrift: `corsaudit audit` over the GCP-discovered fleet
// reports the one instance on the older CORS config, and only it.
func TestGCPAuditReportsDrift(t *testing.T) {
	path, _ := gcpFleet(t)
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
		if fd.Target != "shop-backend" || !slices.Equal(fd.Instances, []string{"shop-5"}) {
			t.Errorf("verdict drift on %s %v, want shop-backend [shop-5]", fd.Target, fd.Instances)
		}
	}
	if drifts == 0 {
		t.Errorf("no verdict-drift finding; findings: %+v", rep.Findings)
	}
}

// TestGCPConfigFindings: the backend service sets an
// Access-Control-Allow-Origin in customResponseHeaders, has Cloud CDN on
// with a cache key without the Origin, and Identity-Aware Proxy without
// allowHttpOptions. `corsaudit audit` reports each as a config finding
// naming the backend service; the IAP one is an error (exit 1: every
// preflight is sent to the login).
func TestGCPConfigFindings(t *testing.T) {
	path, f := gcpFleet(t)
	svcPath := "global/backendServices/shop-backend"
	svc := f.Object(svcPath)
	svc["customResponseHeaders"] = []string{"Access-Control-Allow-Origin: *"}
	svc["enableCDN"] = true
	svc["cdnPolicy"] = gcptest.Obj{"cacheMode": "CACHE_ALL_STATIC"}
	svc["iap"] = gcptest.Obj{"enabled": true}
	f.Put(svcPath, svc)
	f.IAPSettings("projects/shop-project/iap_web/compute/services/shop-backend", false)
	code, out, stderr := runCLI("audit", "--config", path, "--format", "json")
	var rep diff.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("audit: exit %d, output is not JSON: %v\nstdout: %s\nstderr: %s", code, err, out, stderr)
	}
	if code != exitFindings {
		t.Errorf("audit: exit %d, want %d; stderr:\n%s", code, exitFindings, stderr)
	}
	want := map[diff.Kind]string{
		diff.KindConfigCORSHeaders:    "customResponseHeaders: Access-Control-Allow-Origin: *",
		diff.KindConfigCacheKey:       "cdnPolicy.cacheMode=CACHE_ALL_STATIC",
		diff.KindConfigPreflightLogin: "accessSettings.corsSettings.allowHttpOptions=false",
	}
	for _, fd := range rep.Findings {
		w, ok := want[fd.Kind]
		if !ok {
			continue
		}
		delete(want, fd.Kind)
		if !strings.Contains(fd.Message, "backend service projects/shop-project/global/backendServices/shop-backend") || !strings.Contains(fd.Message, w) {
			t.Errorf("%s: %s; want the backend service and %q", fd.Kind, fd.Message, w)
		}
		if fd.Kind == diff.KindConfigPreflightLogin && fd.Severity != diff.SeverityError {
			t.Errorf("%s is a %s, want an error", fd.Kind, fd.Severity)
		}
	}
	for k := range want {
		t.Errorf("no %s finding: %+v", k, rep.Findings)
	}
}

// TestGCPUnreadIAPSettingsExitCode: a role without iap.webServices.getSettings
// (roles/compute.viewer) on a clean fleet with IAP enabled: discovery goes
// on, the report says what it could not read, and the cron job still sees
// exit 0 (exit 1 only at --fail-on info).
func TestGCPUnreadIAPSettingsExitCode(t *testing.T) {
	path, f := gcpFleetOf(t, false)
	svcPath := "global/backendServices/shop-backend"
	svc := f.Object(svcPath)
	svc["iap"] = gcptest.Obj{"enabled": true}
	f.Put(svcPath, svc)
	f.SetError("iap:projects/shop-project/iap_web/compute/services/shop-backend",
		gcptest.Error{Code: 403, Reason: "forbidden", Message: "Permission 'iap.webServices.getSettings' denied"})
	for _, tc := range []struct {
		failOn string
		code   int
	}{{"error", exitClean}, {"info", exitFindings}} {
		code, out, stderr := runCLI("audit", "--config", path, "--format", "json", "--fail-on", tc.failOn)
		var rep diff.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("audit: exit %d, output is not JSON: %v\nstderr: %s", code, err, stderr)
		}
		if code != tc.code {
			t.Errorf("--fail-on %s: exit %d, want %d; stderr:\n%s", tc.failOn, code, tc.code, stderr)
		}
		var unread []diff.Finding
		for _, fd := range rep.Findings {
			if fd.Kind == diff.KindConfigUnread {
				unread = append(unread, fd)
			} else if fd.Severity != diff.SeverityInfo {
				t.Errorf("--fail-on %s: unexpected %s %s: %s", tc.failOn, fd.Severity, fd.Kind, fd.Message)
			}
		}
		if len(unread) != 1 || !strings.Contains(unread[0].Message, "iap.webServices.getSettings") || rep.Summary.Instances == 0 {
			t.Errorf("--fail-on %s: config-unread findings %+v, %d instances; want one naming the permission, the fleet audited", tc.failOn, unread, rep.Summary.Instances)
		}
	}
}

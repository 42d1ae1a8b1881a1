package main

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
	"github.com/corsaudit/corsaudit/providers/gcp/gcptest"
)

const gcpProject = "shop-project"

// gcpService adds a global backend service named name to the fake, with
// one zonal GCE_VM_IP_PORT NEG (name-neg) whose endpoints are labservers
// name-1... on loopback hosts base+"1", base+"2"... (behaviours[i] for the
// i-th, all healthy), and returns its self link and instances.
func gcpService(t *testing.T, f *gcptest.Server, name, base string, behaviours ...labserver.Behavior) (string, []*poolInstance) {
	t.Helper()
	svcPath := "global/backendServices/" + name
	neg := "zones/europe-west1-b/networkEndpointGroups/" + name + "-neg"
	link := f.BackendService(svcPath, "HTTP", "http", neg)
	f.Put(neg, gcptest.Obj{"name": name + "-neg", "networkEndpointType": "GCE_VM_IP_PORT", "defaultPort": 80})
	var out []*poolInstance
	for i, b := range behaviours {
		id := fmt.Sprintf("%s-%d", name, i+1)
		in := servePool(t, name, fmt.Sprintf("%s%d", base, i+1), id, b)
		host, port := in.Addr.Addr().String(), int(in.Addr.Port())
		f.Add(neg+"/listNetworkEndpoints", gcptest.Obj{"networkEndpoint": gcptest.Obj{"ipAddress": host, "port": port, "instance": id}})
		f.Health(svcPath, neg, gcptest.Obj{"ipAddress": host, "port": port, "instance": f.SelfLink("zones/europe-west1-b/instances/" + id),
			"healthState": "HEALTHY"})
		out = append(out, in)
	}
	return link, out
}

// gcpFrontends adds the shop's two frontends for URL map um: an HTTP one
// on the loopback load balancer's own address and port (sampled), and an
// HTTPS one on 34.120.0.1:443 (never dialled).
func gcpFrontends(f *gcptest.Server, lb *loopbackLB, um string) {
	port := lb.URL[strings.LastIndexByte(lb.URL, ':')+1:]
	f.ForwardingRule("global", "shop-http", "127.0.0.1", port+"-"+port, f.TargetProxy("global", "shop-http-proxy", false, um))
	f.ForwardingRule("global", "shop-https", "34.120.0.1", "443-443", f.TargetProxy("global", "shop-https-proxy", true, um))
}

// gcpRoutedFleet lays out URL map "shop" in the fake:
//
//	host api.example.com -> path matcher apihost: everything to api
//	host *               -> path matcher site:
//	                          /api/*    -> api
//	                          /api/v1/* -> legacy   (longest match wins)
//	                          /static/* -> backend bucket assets
//	                          default   -> web
//
// api has three instances (the second on apiDrifted when driftOne),
// legacy and web two each with CORS of their own. Behind forwarding rules
// shop-http (the loopback load balancer, routing the same way) and
// shop-https (34.120.0.1:443).
func gcpRoutedFleet(t *testing.T, driftOne bool) (*gcptest.Server, []*poolInstance, *loopbackLB) {
	t.Helper()
	f := gcptest.NewServer(t, gcpProject)
	api := []labserver.Behavior{apiCORS, apiCORS, apiCORS}
	if driftOne {
		api[1] = apiDrifted
	}
	apiLink, all := gcpService(t, f, "api", "127.0.2.1", api...)
	legacyLink, legacy := gcpService(t, f, "legacy", "127.0.2.2", adminCORS, adminCORS)
	webLink, web := gcpService(t, f, "web", "127.0.2.3", webCORS, webCORS)
	all = append(append(all, legacy...), web...)
	um := f.URLMap("global", "shop", gcptest.Obj{"defaultService": webLink,
		"hostRules": []gcptest.Obj{gcptest.HostRule("apihost", "api.example.com"), gcptest.HostRule("site", "*")},
		"pathMatchers": []gcptest.Obj{
			{"name": "apihost", "defaultService": apiLink},
			{"name": "site", "defaultService": webLink, "pathRules": []gcptest.Obj{
				gcptest.PathRule(apiLink, "/api/*"),
				gcptest.PathRule(f.BackendBucket("assets"), "/static/*"),
				gcptest.PathRule(legacyLink, "/api/v1/*"),
			}},
		}})
	lb := startLB(t, all, func(r *http.Request) (string, int) {
		switch {
		case strings.EqualFold(r.Host, "api.example.com"):
			return "api", 0
		case strings.HasPrefix(r.URL.Path, "/api/v1/"):
			return "legacy", 0
		case strings.HasPrefix(r.URL.Path, "/api/"):
			return "api", 0
		case strings.HasPrefix(r.URL.Path, "/static/"):
			return "", http.StatusOK // the bucket
		}
		return "web", 0
	})
	gcpFrontends(f, lb, um)
	return f, all, lb
}

// gcpTarget is a target of the GCP fake's project.
func gcpTarget(f *gcptest.Server, name, service, url, paths, lb string) string {
	return fmt.Sprintf(`  - name: %s
    url: %s
    paths: %s
    discover:
      gcp: {project: %s, backend_service: %s, endpoint: %s}
    direct: {scheme: http}
    lb: %s
    policy:
      origins: [https://app.example.com]
      methods: [GET, PUT]
      headers: [X-Request-Id]
      credentials: true
`, name, url, paths, gcpProject, service, f.URL(), lb)
}

// TestGCPURLMapRouted: issue 21 end to end through the CLI against the
// compute fake. The api instances are compared only on the paths the URL
// map sends them: /api/cart on any host (longest match: /api/v1/cart goes
// to legacy), everything on api.example.com (host selection); the paths
// served by another backend service or a bucket are unaudited-route
// warnings naming the URL map rule, and nothing is sent there. The clean
// fleet exits 0; the one drifted api instance is the only one named (exit
// 1).
func TestGCPURLMapRouted(t *testing.T) {
	for _, tc := range []struct {
		desc     string
		drift    bool
		wantCode int
	}{
		{desc: "api consistent", wantCode: exitClean},
		{desc: "one api instance drifts", drift: true, wantCode: exitFindings},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			f, all, lb := gcpRoutedFleet(t, tc.drift)
			cfg := writeConfig(t, "targets:\n"+
				gcpTarget(f, "site", "api", lb.URL+"/api/cart", "[/api/cart, /api/v1/cart, /static/app.js, /]", "{instance_header: X-Instance-Id}")+
				gcpTarget(f, "api-host", "api", "https://api.example.com/v1/cart", "[/v1/cart, /]", "{disabled: true}"))
			// discover: only api's instances, each path and host routed by
			// the rule the URL map applies.
			code, inv, stderr := inventoryJSON(t, cfg)
			if code != exitClean || len(inv.Targets) != 2 {
				t.Fatalf("discover: exit %d, %d targets, want 0 and 2\nstderr:\n%s", code, len(inv.Targets), stderr)
			}
			for _, tg := range inv.Targets {
				if len(tg.Instances) != 3 || tg.Instances[0].Pool != "api" || len(tg.LeftOut) != 0 {
					t.Errorf("%s: instances %+v, left out %v: want api's three", tg.Name, tg.Instances, tg.LeftOut)
				}
				for _, e := range tg.Routing {
					want := map[string]string{
						"site /api/cart":      "url map shop: host rule *, path matcher site, path rule /api/* -> forward to api",
						"site /api/v1/cart":   "url map shop: host rule *, path matcher site, path rule /api/v1/* -> forward to legacy",
						"site /static/app.js": "url map shop: host rule *, path matcher site, path rule /static/* -> backend-bucket: backend bucket assets",
						"site /":              "url map shop: host rule *, path matcher site, default -> forward to web",
						"api-host /v1/cart":   "url map shop: host rule api.example.com, path matcher apihost, default -> forward to api",
						"api-host /":          "url map shop: host rule api.example.com, path matcher apihost, default -> forward to api",
					}[tg.Name+" "+e.Path]
					if got := e.Rule + " -> " + e.Describe(); got != want {
						t.Errorf("%s: %s %s (%s) routed %q, want %q", tg.Name, e.Method, e.Path, e.Step, got, want)
					}
				}
			}

			code, rep, stderr := auditJSON(t, "audit", "--config", cfg)
			if code != tc.wantCode {
				t.Errorf("audit: exit %d, want %d\nfindings:\n%s\nstderr:\n%s", code, tc.wantCode, findingLines(rep.Findings), stderr)
			}
			t.Logf("findings:\n%s", findingLines(rep.Findings))
			unaudited := map[string]string{}
			drifts := 0
			for _, fd := range rep.Findings {
				// A printed curl line is pasted: never an unsafe method.
				if m := regexp.MustCompile(` -X '?(PUT|DELETE|PATCH|POST)'? `).FindString(fd.Reproduce); m != "" {
					t.Errorf("%s on %s: the curl line sends%s: %s", fd.Kind, fd.Path, m, fd.Reproduce)
				}
				switch fd.Kind {
				case diff.KindUnauditedRoute:
					if fd.Target != "site" || fd.Severity != diff.SeverityWarning || unaudited[fd.Path] != "" {
						t.Errorf("unaudited-route %s %s on %s: want one warning per path, on site", fd.Severity, fd.Path, fd.Target)
					}
					unaudited[fd.Path] = fd.Message
					continue
				case diff.KindVerdictDrift, diff.KindHeaderDrift, diff.KindSplit:
					drifts++
				}
				if fd.Severity == diff.SeverityInfo {
					continue
				}
				named := slices.DeleteFunc(slices.Clone(fd.Instances), func(id string) bool { return id == "lb" && fd.Kind == diff.KindLBMismatch })
				if !tc.drift || !slices.Equal(named, []string{"api-2"}) {
					t.Errorf("finding %s %s on %s %v path %q: want none, or api-2 alone", fd.Kind, fd.Severity, fd.Target, fd.Instances, fd.Path)
				}
			}
			if (drifts > 0) != tc.drift {
				t.Errorf("%d drift findings, want them only when api-2 drifts:\n%s", drifts, findingLines(rep.Findings))
			}
			for path, rule := range map[string]string{
				"/api/v1/cart":   "GET, OPTIONS and PUT /api/v1/cart to pool legacy, but no instance of that pool was discovered: those answers are not audited (add the pool's source under discover:); rule: url map shop: host rule *, path matcher site, path rule /api/v1/*",
				"/static/app.js": "GET, OPTIONS and PUT /static/app.js to backend-bucket (backend bucket assets): a backend bucket answers, not an instance, so nothing there is audited; rule: url map shop: host rule *, path matcher site, path rule /static/*",
				"/":              "GET, OPTIONS and PUT / to pool web, but no instance of that pool was discovered: those answers are not audited (add the pool's source under discover:); rule: url map shop: host rule *, path matcher site, default",
			} {
				if !strings.Contains(unaudited[path], rule) {
					t.Errorf("unaudited-route on %s = %q, want one naming %q", path, unaudited[path], rule)
				}
			}
			if len(unaudited) != 3 {
				t.Errorf("unaudited-route on %d paths, want 3: %v", len(unaudited), unaudited)
			}
			// api: /api/cart (site), /v1/cart and / (api.example.com);
			// legacy and web were sent nothing, directly or through the
			// load balancer.
			want := map[string][]string{"api": {"/", "/api/cart", "/v1/cart"}}
			if got := pathsByPool(all); !mapsEqual(got, want) {
				t.Errorf("paths sent per pool = %v, want %v", got, want)
			}
			if lb.Sent("api") == 0 || lb.Sent("legacy") != 0 || lb.Sent("web") != 0 || lb.Answered() != 0 {
				t.Errorf("load balancer forwarded api %d, legacy %d, web %d, answered %d itself; want api only",
					lb.Sent("api"), lb.Sent("legacy"), lb.Sent("web"), lb.Answered())
			}
			for _, in := range all {
				if in.Pool == "api" && in.Stats().Preflights == 0 {
					t.Errorf("%s received no preflight", in.Addr)
				}
			}
		})
	}
}

// gcpSplitFleet lays out a weighted split: URL map "split" sends /v2/* 90/10
// to backend services api-blue (three instances) and api-green (two, the
// second on green2), /v3/* to api-green alone, everything else to
// api-blue; the loopback load balancer sends every tenth /v2/ request to
// green.
func gcpSplitFleet(t *testing.T, green2 labserver.Behavior) (*gcptest.Server, []*poolInstance, *loopbackLB) {
	t.Helper()
	f := gcptest.NewServer(t, gcpProject)
	blueLink, all := gcpService(t, f, "api-blue", "127.0.3.1", apiCORS, apiCORS, apiCORS)
	greenLink, green := gcpService(t, f, "api-green", "127.0.3.2", apiCORS, green2)
	all = append(all, green...)
	um := f.URLMap("global", "split", gcptest.Obj{"defaultService": blueLink,
		"hostRules": []gcptest.Obj{gcptest.HostRule("m", "*")},
		"pathMatchers": []gcptest.Obj{{"name": "m", "defaultService": blueLink, "routeRules": []gcptest.Obj{
			{"priority": 10, "matchRules": []gcptest.Obj{{"prefixMatch": "/v2/"}}, "routeAction": gcptest.Weighted(blueLink, 90, greenLink, 10)},
			{"priority": 20, "matchRules": []gcptest.Obj{{"prefixMatch": "/v3/"}}, "service": greenLink},
		}}}})
	var mu sync.Mutex
	n := 0
	lb := startLB(t, all, func(r *http.Request) (string, int) {
		if strings.HasPrefix(r.URL.Path, "/v3/") {
			return "api-green", 0
		}
		if !strings.HasPrefix(r.URL.Path, "/v2/") {
			return "api-blue", 0
		}
		mu.Lock()
		defer mu.Unlock()
		n++
		if n%10 == 0 {
			return "api-green", 0
		}
		return "api-blue", 0
	})
	gcpFrontends(f, lb, um)
	return f, all, lb
}

// TestGCPWeightedSplitGate: two backend services of a weighted split,
// discovered from one (backend_service: api-blue), are gated as blue and
// green through the CLI: exit 0 when green answers as blue does, exit 1
// naming the drifted green instance when it does not. Only /v2/ reaches
// green; /v1/ is blue's alone. A path only green serves (/v3/) fails the
// gate: there is nothing to compare green with.
func TestGCPWeightedSplitGate(t *testing.T) {
	for _, tc := range []struct {
		desc     string
		green2   labserver.Behavior
		paths    string
		wantCode int
		wantErr  []string
	}{
		{desc: "green answers as blue does", green2: apiCORS, paths: "[/v2/cart, /v1/cart]", wantCode: exitClean, wantErr: []string{"gate: PASS"}},
		{desc: "a green instance drifts", green2: apiDrifted, paths: "[/v2/cart, /v1/cart]", wantCode: exitFindings, wantErr: []string{"gate: FAIL", "api-green-2"}},
		{desc: "a path only green serves", green2: apiCORS, paths: "[/v2/cart, /v3/cart]", wantCode: exitFindings,
			wantErr: []string{"gate: FAIL", `candidate group "api-green" answers it, no instance of the baseline group "api-blue" does (routed: GET: url map split: host rule *, path matcher m, route rule priority 20 -> forward to api-green): nothing to compare with`}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			f, all, lb := gcpSplitFleet(t, tc.green2)
			cfg := writeConfig(t, "targets:\n"+gcpTarget(f, "shop", "api-blue", lb.URL+"/v2/cart", tc.paths, "{instance_header: X-Instance-Id}"))
			code, rep, stderr := auditJSON(t, "gate", "--config", cfg, "--baseline", "api-blue", "--candidate", "api-green")
			if code != tc.wantCode {
				t.Errorf("gate: exit %d, want %d\nfindings:\n%s\nstderr:\n%s", code, tc.wantCode, findingLines(rep.Findings), stderr)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			t.Logf("findings:\n%s\nstderr:\n%s", findingLines(rep.Findings), stderr)
			for _, fd := range rep.Findings {
				if fd.Severity == diff.SeverityInfo {
					continue
				}
				named := slices.DeleteFunc(slices.Clone(fd.Instances), func(id string) bool { return id == "lb" && fd.Kind == diff.KindLBMismatch })
				if tc.green2.AllowMethods[1] == "PUT" || !slices.Equal(named, []string{"api-green-2"}) || fd.Path != "/v2/cart" {
					t.Errorf("finding %s %s %v path %q: want none, or api-green-2 alone on /v2/cart", fd.Kind, fd.Severity, fd.Instances, fd.Path)
				}
			}
			want := map[string][]string{"api-blue": {"/v1/cart", "/v2/cart"}, "api-green": {"/v2/cart"}}
			if strings.Contains(tc.paths, "/v3/") {
				want = map[string][]string{"api-blue": {"/v2/cart"}, "api-green": {"/v2/cart", "/v3/cart"}}
			}
			if got := pathsByPool(all); !mapsEqual(got, want) {
				t.Errorf("paths sent per pool = %v, want %v", got, want)
			}
		})
	}
}

// TestGCPServiceServesNoPath: a configured backend service to which the
// URL map sends none of the target's paths is a config error (exit 2),
// from audit and discover alike, naming what serves each path.
func TestGCPServiceServesNoPath(t *testing.T) {
	f, all, lb := gcpRoutedFleet(t, false)
	cfg := writeConfig(t, "targets:\n"+gcpTarget(f, "site", "legacy", lb.URL+"/api/cart", "[/api/cart, /static/app.js, /]", "{instance_header: X-Instance-Id}"))
	for _, args := range [][]string{{"audit", "--config", cfg}, {"discover", "--config", cfg}, {"discover", "--config", cfg, "--format", "json"}} {
		code, _, stderr := runCLI(args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d\nstderr:\n%s", args, code, exitUsage, stderr)
		}
		for _, w := range []string{
			"none of the probed requests", "instances discovered in legacy",
			"GET /api/cart: url map shop: host rule *, path matcher site, path rule /api/* -> forward to api",
			"GET /static/app.js: url map shop: host rule *, path matcher site, path rule /static/* -> backend-bucket",
			"GET /: url map shop: host rule *, path matcher site, default -> forward to web",
		} {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", args, w, stderr)
			}
		}
		t.Logf("%v: %s", args, stderr)
	}
	if got := pathsByPool(all); len(got) != 0 || lb.Sent("api")+lb.Sent("legacy")+lb.Sent("web")+lb.Answered() != 0 {
		t.Errorf("requests were sent: %v, through the load balancer %d", got, lb.Sent("api")+lb.Sent("legacy")+lb.Sent("web")+lb.Answered())
	}
}

// TestGCPRoutedShards: the URL-map-routed target through discover
// --output, two shards and merge finds what the single audit finds, and
// the shards, like the single run, send nothing to the services that
// were not discovered, through the load balancer or directly.
func TestGCPRoutedShards(t *testing.T) {
	f, all, lb := gcpRoutedFleet(t, true)
	cfg := writeConfig(t, "targets:\n"+
		gcpTarget(f, "site", "api", lb.URL+"/api/cart", "[/api/cart, /api/v1/cart, /static/app.js, /]", "{instance_header: X-Instance-Id}"))
	summary := func(rep diff.Report) []string {
		var out []string
		for _, fd := range rep.Findings {
			out = append(out, fmt.Sprintf("%s %s %v %s", fd.Kind, fd.Severity, fd.Instances, fd.Path))
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	code, single, stderr := auditJSON(t, "audit", "--config", cfg)
	if code != exitFindings {
		t.Fatalf("audit: exit %d, want 1\nstderr:\n%s", code, stderr)
	}
	dir := t.TempDir()
	inv := dir + "/fleet.json"
	if code, _, stderr := runCLI("discover", "--config", cfg, "--output", inv); code != exitClean {
		t.Fatalf("discover --output: exit %d\nstderr:\n%s", code, stderr)
	}
	var shards []string
	for k := range 2 {
		out := fmt.Sprintf("%s/shard-%d.json", dir, k)
		if code, _, stderr := runCLI("audit", "--inventory", inv, "--shard", fmt.Sprintf("%d/2", k), "--output", out); code != exitClean {
			t.Fatalf("shard %d/2: exit %d\nstderr:\n%s", k, code, stderr)
		}
		shards = append(shards, out)
	}
	code, merged, stderr := auditJSON(t, append([]string{"merge"}, shards...)...)
	if code != exitFindings {
		t.Errorf("merge: exit %d, want 1 as the single run\nstderr:\n%s", code, stderr)
	}
	if s, m := summary(single), summary(merged); !slices.Equal(s, m) {
		t.Errorf("merged findings differ from the single run's:\nsingle %q\nmerged %q", s, m)
	}
	if got := pathsByPool(all); !mapsEqual(got, map[string][]string{"api": {"/api/cart"}}) || lb.Sent("legacy")+lb.Sent("web")+lb.Answered() != 0 {
		t.Errorf("paths sent per pool %v; through the load balancer legacy %d, web %d, answered %d: want /api/cart to api only",
			got, lb.Sent("legacy"), lb.Sent("web"), lb.Answered())
	}
}

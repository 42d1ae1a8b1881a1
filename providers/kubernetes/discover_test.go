package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"

	"github.com/corsaudit/corsaudit/discovery"
)

// rollout is a Service "shop" in the middle of a Deployment rollout: the
// old ReplicaSet (3 pods, one terminating but still serving) and the new
// one (2 pods, one not ready yet, its named target port resolved to
// another number), pod a dual-stack. versions, when set, labels the old
// and new pods with app.kubernetes.io/version and track.
func rollout(versions bool) []runtime.Object {
	oldL, newL := map[string]string{}, map[string]string{}
	if versions {
		oldL = map[string]string{"app.kubernetes.io/version": "1.4.0", "track": "stable"}
		newL = map[string]string{"app.kubernetes.io/version": "1.5.0", "track": "canary"}
	}
	other := testPod("shop", "7d9f8c6b5", "x", nil)
	other.Namespace = "staging"
	return []runtime.Object{
		testService("shop"),
		testPod("shop", "7d9f8c6b5", "a", oldL), testPod("shop", "7d9f8c6b5", "b", oldL), testPod("shop", "7d9f8c6b5", "c", oldL),
		testPod("shop", "5c4d3b2a1", "d", newL), testPod("shop", "5c4d3b2a1", "e", newL),
		other,
		testSlice("shop-v4a", "shop", discoveryv1.AddressTypeIPv4, 8080,
			testEndpoint("10.0.1.1", "shop-7d9f8c6b5-a", "eu-west-1a", ready),
			testEndpoint("10.0.1.2", "shop-7d9f8c6b5-b", "eu-west-1b", ready),
			testEndpoint("10.0.1.3", "shop-7d9f8c6b5-c", "eu-west-1a", terminatingServing)),
		testSlice("shop-v4b", "shop", discoveryv1.AddressTypeIPv4, 8081,
			testEndpoint("10.0.2.1", "shop-5c4d3b2a1-d", "eu-west-1a", ready),
			testEndpoint("10.0.2.2", "shop-5c4d3b2a1-e", "eu-west-1b", notReady)),
		testSlice("shop-v6", "shop", discoveryv1.AddressTypeIPv6, 8080,
			testEndpoint("fd00::1", "shop-7d9f8c6b5-a", "eu-west-1a", ready)),
		testSlice("other-v4", "other", discoveryv1.AddressTypeIPv4, 8080,
			testEndpoint("10.0.9.9", "other-1", "eu-west-1a", ready)),
	}
}

// brief is an instance in one line: id addr group health [skipped].
func brief(in discovery.Instance) string {
	s := fmt.Sprintf("%s %s %s %s", in.ID, in.Addr, in.Group, in.Health)
	if in.Skip != "" {
		s += " skipped"
	}
	return s
}

func briefs(ins []discovery.Instance) []string {
	var out []string
	for _, in := range ins {
		out = append(out, brief(in))
	}
	return out
}

func discoverWith(t *testing.T, cfg Config, api clusterAPI) (discovery.Target, error) {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	p := newProvider(cfg, api)
	p.source = "kubeconfig test, context test"
	got, err := p.Discover(context.Background())
	if err != nil {
		return discovery.Target{}, err
	}
	if len(got) != 1 {
		t.Fatalf("%d targets, want 1", len(got))
	}
	return got[0], nil
}

// TestDiscoverService: a Service's pods from its EndpointSlices, grouped
// by the version label, else by ReplicaSet; terminating and not-ready
// endpoints listed, not probed; a dual-stack pod once, on IPv4.
func TestDiscoverService(t *testing.T) {
	for _, tc := range []struct {
		desc     string
		versions bool
		label    string
		want     []string
	}{
		{"groups from the ReplicaSets (pod-template-hash)", false, "", []string{
			"shop-5c4d3b2a1-d 10.0.2.1:8081 shop-5c4d3b2a1 healthy",
			"shop-5c4d3b2a1-e 10.0.2.2:8081 shop-5c4d3b2a1 unhealthy skipped",
			"shop-7d9f8c6b5-a 10.0.1.1:8080 shop-7d9f8c6b5 healthy",
			"shop-7d9f8c6b5-b 10.0.1.2:8080 shop-7d9f8c6b5 healthy",
			"shop-7d9f8c6b5-c 10.0.1.3:8080 shop-7d9f8c6b5 draining skipped",
		}},
		{"groups from app.kubernetes.io/version", true, "", []string{
			"shop-5c4d3b2a1-d 10.0.2.1:8081 1.5.0 healthy",
			"shop-5c4d3b2a1-e 10.0.2.2:8081 1.5.0 unhealthy skipped",
			"shop-7d9f8c6b5-a 10.0.1.1:8080 1.4.0 healthy",
			"shop-7d9f8c6b5-b 10.0.1.2:8080 1.4.0 healthy",
			"shop-7d9f8c6b5-c 10.0.1.3:8080 1.4.0 draining skipped",
		}},
		{"groups from group_label", true, "track", []string{
			"shop-5c4d3b2a1-d 10.0.2.1:8081 canary healthy",
			"shop-5c4d3b2a1-e 10.0.2.2:8081 canary unhealthy skipped",
			"shop-7d9f8c6b5-a 10.0.1.1:8080 stable healthy",
			"shop-7d9f8c6b5-b 10.0.1.2:8080 stable healthy",
			"shop-7d9f8c6b5-c 10.0.1.3:8080 stable draining skipped",
		}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			api, cs, _ := newFake(rollout(tc.versions))
			tg, err := discoverWith(t, Config{Namespace: "prod", Service: "shop", Port: "http", GroupLabel: tc.label}, api)
			if err != nil {
				t.Fatal(err)
			}
			if got := briefs(tg.Instances); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("instances:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if tg.Name != "shop" || tg.URL != "" || tg.Router != nil {
				t.Errorf("target %q %q router %v: want shop, no URL, no router", tg.Name, tg.URL, tg.Router)
			}
			a := tg.Instances[2]
			if a.Pool != "shop" || a.Zone != "eu-west-1a" || a.Scheme != "http" || a.Labels["node"] != "node-eu-west-1a" || a.Labels["namespace"] != "prod" {
				t.Errorf("instance %+v: want pool shop, zone eu-west-1a, http, node and namespace labels", a)
			}
			for _, in := range tg.Instances {
				if strings.Contains(in.ID, "-c") && !strings.Contains(in.Skip, "terminating") ||
					strings.Contains(in.ID, "-e") && !strings.Contains(in.Skip, "not ready") {
					t.Errorf("%s: skip %q", in.ID, in.Skip)
				}
			}
			readOnly(t, cs.Actions())
		})
	}
}

// readOnly fails on any call that is not a get or a list, or that
// Permissions (what the example Role grants) does not list.
func readOnly(t *testing.T, actions []k8stesting.Action) {
	t.Helper()
	if len(actions) == 0 {
		t.Error("no call recorded")
	}
	for _, a := range actions {
		p := Permission{Group: a.GetResource().Group, Resource: a.GetResource().Resource, Verb: a.GetVerb()}
		if (p.Verb != "get" && p.Verb != "list") || !slices.Contains(Permissions, p) {
			t.Errorf("call %+v: the provider only reads, and only what Permissions lists", p)
		}
	}
}

// TestDiscoverPagination: lists follow continue tokens, page by page, and
// find what one page would.
func TestDiscoverPagination(t *testing.T) {
	api, _, _ := newFake(rollout(true))
	whole, err := discoverWith(t, Config{Namespace: "prod", Service: "shop", Port: "http"}, api)
	if err != nil {
		t.Fatal(err)
	}
	api, cs, _ := newFake(rollout(true))
	var slices, pods []metav1.ListOptions
	paginate(cs, "endpointslices", 2, &slices)
	paginate(cs, "pods", 2, &pods)
	paged, err := discoverWith(t, Config{Namespace: "prod", Service: "shop", Port: "http"}, api)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(briefs(paged.Instances), briefs(whole.Instances)) {
		t.Errorf("paged:\n%s\nwhole:\n%s", strings.Join(briefs(paged.Instances), "\n"), strings.Join(briefs(whole.Instances), "\n"))
	}
	// 3 slices of shop in pages of 2, 5 pods of shop in pages of 2.
	if len(slices) != 2 || len(pods) != 3 {
		t.Fatalf("%d endpointslices and %d pods list calls, want 2 and 3", len(slices), len(pods))
	}
	if slices[0].Limit != pageSize || slices[0].Continue != "" || slices[1].Continue != "k8stest:2" ||
		slices[0].LabelSelector != "kubernetes.io/service-name=shop" {
		t.Errorf("endpointslices calls %+v", slices)
	}
	if pods[0].LabelSelector != "app=shop" || pods[2].Continue != "k8stest:4" {
		t.Errorf("pods calls %+v", pods)
	}
}

// TestDiscoverContinueLoop: a server repeating its continue token is an
// error, not an endless loop.
func TestDiscoverContinueLoop(t *testing.T) {
	api, cs, _ := newFake(rollout(false))
	cs.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &corev1.PodList{ListMeta: metav1.ListMeta{Continue: "again"}}, nil
	})
	_, err := discoverWith(t, Config{Namespace: "prod", Service: "shop", Port: "http"}, api)
	if err == nil || !strings.Contains(err.Error(), "list pods in namespace prod: the API server returned the same continue token twice") {
		t.Fatalf("err = %v", err)
	}
}

// TestDiscoverIngress: an Ingress with host and path rules to two
// Services: both Services' pods, each in its pool, and a Router that sends
// each path to its Service.
func TestDiscoverIngress(t *testing.T) {
	objs := rollout(false)
	cart := testService("cart")
	objs = append(objs, cart, testPod("cart", "aaaa", "1", nil),
		testSlice("cart-1", "cart", discoveryv1.AddressTypeIPv4, 9000, testEndpoint("10.0.3.1", "cart-aaaa-1", "eu-west-1c", ready)))
	ing := testIngress([]string{"api.example.com"}, map[string][]ingPath{"api.example.com": {{"/", "Prefix", "shop"}, {"/cart", "Prefix", "cart"}}})
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"api.example.com"}}}
	ing.Annotations[nginxAnnotation+"backend-protocol"] = "HTTPS"
	objs = append(objs, ing)
	api, cs, _ := newFake(objs)
	tg, err := discoverWith(t, Config{Namespace: "prod", Ingress: "shop"}, api)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Name != "shop" || tg.URL != "https://api.example.com/" || tg.Router == nil {
		t.Fatalf("target %q %q router %v", tg.Name, tg.URL, tg.Router)
	}
	pools := map[string][]string{}
	for _, in := range tg.Instances {
		pools[in.Pool] = append(pools[in.Pool], in.ID)
		if in.Scheme != "https" {
			t.Errorf("%s: scheme %q, want https (backend-protocol HTTPS)", in.ID, in.Scheme)
		}
	}
	if len(pools["shop"]) != 5 || !reflect.DeepEqual(pools["cart"], []string{"cart-aaaa-1"}) || len(pools) != 2 {
		t.Errorf("pools %v: want shop's 5 pods and cart-aaaa-1", pools)
	}
	for path, want := range map[string]string{"/cart/items": "cart", "/cartx": "shop", "/": "shop"} {
		u, _ := url.Parse("https://api.example.com" + path)
		r := tg.Router.Route(discovery.Request{Method: "GET", URL: u, Header: http.Header{}})
		if len(r) != 1 || !r[0].Forwards(want) {
			t.Errorf("%s routed %+v, want to %s", path, r, want)
		}
	}
	readOnly(t, cs.Actions())
}

// httpRouteObject builds an unstructured HTTPRoute from YAML.
func testHTTPRoute(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestDiscoverHTTPRoute: an HTTPRoute splitting 90/10 between a stable and
// a canary Service: both Services' pods, with their weights and version
// groups (the blue and green of a gate), and the weighted Router.
func TestDiscoverHTTPRoute(t *testing.T) {
	var objs []runtime.Object
	for _, s := range []struct {
		name, version, ip string
	}{{"shop-stable", "1.4.0", "10.0.1."}, {"shop-canary", "1.5.0", "10.0.2."}} {
		svc := testService(s.name)
		svc.Spec.Ports = svc.Spec.Ports[:1]
		svc.Spec.Ports[0].Port = 8080
		objs = append(objs, svc)
		var eps []discoveryv1.Endpoint
		for i := 1; i <= 2; i++ {
			p := testPod(s.name, "abc", fmt.Sprint(i), map[string]string{"app.kubernetes.io/version": s.version})
			objs = append(objs, p)
			eps = append(eps, testEndpoint(s.ip+fmt.Sprint(i), p.Name, "eu-west-1a", ready))
		}
		objs = append(objs, testSlice(s.name+"-1", s.name, discoveryv1.AddressTypeIPv4, 8080, eps...))
	}
	route := testHTTPRoute(t, `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: prod}
spec:
  parentRefs: [{name: web}]
  hostnames: [api.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs:
    - {name: shop-stable, port: 8080, weight: 90}
    - {name: shop-canary, port: 8080, weight: 10}
`)
	api, cs, dyn := newFake(objs, route)
	tg, err := discoverWith(t, Config{Namespace: "prod", HTTPRoute: "shop"}, api)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"shop-stable-abc-1 10.0.1.1:8080 1.4.0 healthy 90 shop-stable",
		"shop-stable-abc-2 10.0.1.2:8080 1.4.0 healthy 90 shop-stable",
		"shop-canary-abc-1 10.0.2.1:8080 1.5.0 healthy 10 shop-canary",
		"shop-canary-abc-2 10.0.2.2:8080 1.5.0 healthy 10 shop-canary",
	}
	var got []string
	for _, in := range tg.Instances {
		got = append(got, fmt.Sprintf("%s %d %s", brief(in), in.Weight, in.Pool))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("instances:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if tg.Name != "shop" || tg.URL != "" || tg.Router == nil {
		t.Fatalf("target %q %q router %v", tg.Name, tg.URL, tg.Router)
	}
	u, _ := url.Parse("https://api.example.com/api/cart")
	r := tg.Router.Route(discovery.Request{Method: "OPTIONS", URL: u, Header: http.Header{}})
	if len(r) != 1 || fmt.Sprint(r[0].Pools) != fmt.Sprint([]discovery.Pool{{Name: "shop-stable", Weight: 90}, {Name: "shop-canary", Weight: 10}}) ||
		r[0].Rule != "httproute shop: rule 1, match PathPrefix /api" {
		t.Errorf("route %+v", r)
	}
	readOnly(t, cs.Actions())
	readOnly(t, dyn.Actions())
}

// TestDiscoverPodInTwoPools: a pod behind two Services of one Ingress is
// one instance per pool, named <pod>@<pool>.
func TestDiscoverPodInTwoPools(t *testing.T) {
	objs := rollout(false)
	all := testService("all")
	all.Spec.Selector = map[string]string{"app": "shop"}
	objs = append(objs, all, testSlice("all-1", "all", discoveryv1.AddressTypeIPv4, 8080,
		testEndpoint("10.0.1.1", "shop-7d9f8c6b5-a", "eu-west-1a", ready)))
	objs = append(objs, testIngress([]string{"api.example.com"}, map[string][]ingPath{"api.example.com": {{"/", "Prefix", "shop"}, {"/all", "Prefix", "all"}}}))
	api, _, _ := newFake(objs)
	tg, err := discoverWith(t, Config{Namespace: "prod", Ingress: "shop"}, api)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, in := range tg.Instances {
		if _, dup := ids[in.ID]; dup {
			t.Errorf("id %s twice", in.ID)
		}
		ids[in.ID] = in.Pool
	}
	if ids["shop-7d9f8c6b5-a@shop"] != "shop" || ids["shop-7d9f8c6b5-a@all"] != "all" || ids["shop-7d9f8c6b5-b"] != "shop" {
		t.Errorf("ids %v", ids)
	}
}

// TestDiscoverErrors: what is missing or refused is named in Kubernetes
// terms.
func TestDiscoverErrors(t *testing.T) {
	forbidden := func(resource, group string) k8stesting.ReactionFunc {
		return func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: group, Resource: resource}, "",
				errors.New(`User "system:serviceaccount:ci:corsaudit" cannot list resource "`+resource+`" in API group "`+group+`" in the namespace "prod"`))
		}
	}
	for _, tc := range []struct {
		desc  string
		cfg   Config
		react func(*fake.Clientset)
		kind  error
		want  string
	}{
		{"missing service", Config{Namespace: "prod", Service: "nope"}, nil, ErrNotFound,
			`kubernetes: get services nope in namespace prod: not found (no service "nope" in namespace prod)`},
		{"missing ingress", Config{Namespace: "prod", Ingress: "nope"}, nil, ErrNotFound,
			`kubernetes: get ingresses.networking.k8s.io nope in namespace prod: not found (no ingress "nope" in namespace prod)`},
		{"missing httproute", Config{Namespace: "prod", HTTPRoute: "nope"}, nil, ErrNotFound,
			`kubernetes: get httproutes.gateway.networking.k8s.io nope in namespace prod: not found (no httproute "nope" in namespace prod)`},
		{"service of an ingress missing", Config{Namespace: "prod", Ingress: "broken"}, nil, ErrNotFound,
			`kubernetes: get services gone in namespace prod: not found (no service "gone" in namespace prod)`},
		{"service port missing", Config{Namespace: "prod", Service: "shop", Port: "grpc"}, nil, nil,
			`kubernetes: service shop in namespace prod has no port grpc (it has http (80), metrics (9090))`},
		{"several ports, none chosen", Config{Namespace: "prod", Service: "shop"}, nil, nil,
			`kubernetes: service shop in namespace prod has several ports: set port: (it has http (80), metrics (9090))`},
		{"endpointslices forbidden", Config{Namespace: "prod", Service: "shop", Port: "80"},
			func(cs *fake.Clientset) {
				cs.PrependReactor("list", "endpointslices", forbidden("endpointslices", "discovery.k8s.io"))
			}, ErrForbidden,
			`kubernetes: list endpointslices.discovery.k8s.io in namespace prod: forbidden (RBAC must allow verb "list" on resource "endpointslices" in API group discovery.k8s.io in namespace prod`},
		{"pods forbidden", Config{Namespace: "prod", Service: "shop", Port: "80"},
			func(cs *fake.Clientset) { cs.PrependReactor("list", "pods", forbidden("pods", "")) }, ErrForbidden,
			`RBAC must allow verb "list" on resource "pods" in API group "" (core) in namespace prod, see examples/kubernetes/rbac.yaml; the API server said "pods is forbidden: User \"system:serviceaccount:ci:corsaudit\" cannot list`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			objs := rollout(false)
			broken := testIngress([]string{"api.example.com"}, map[string][]ingPath{"api.example.com": {{"/", "Prefix", "shop"}, {"/x", "Prefix", "gone"}}})
			broken.Name = "broken"
			api, cs, _ := newFake(append(objs, broken))
			if tc.react != nil {
				tc.react(cs)
			}
			_, err := discoverWith(t, tc.cfg, api)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant it to contain %s", err, tc.want)
			}
			if tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Errorf("errors.Is(err, %v) is false", tc.kind)
			}
		})
	}
}

// TestDiscoverExternalName: an ExternalName Service has no pods.
func TestDiscoverExternalName(t *testing.T) {
	svc := testService("ext")
	svc.Spec.Type, svc.Spec.ExternalName = corev1.ServiceTypeExternalName, "api.partner.example"
	api, _, _ := newFake([]runtime.Object{svc})
	_, err := discoverWith(t, Config{Namespace: "prod", Service: "ext", Port: "http"}, api)
	if err == nil || !strings.Contains(err.Error(), `service ext in namespace prod is of type ExternalName ("api.partner.example")`) {
		t.Fatalf("err = %v", err)
	}
}

// TestDiscoverCallTimeout: a call that hangs is cut at call_timeout and
// reported as such; the caller's own cancellation is not a timeout.
func TestDiscoverCallTimeout(t *testing.T) {
	api, cs, _ := newFake(rollout(false))
	cs.PrependReactor("get", "services", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, context.DeadlineExceeded
	})
	_, err := discoverWith(t, Config{Namespace: "prod", Service: "shop", Port: "http", CallTimeout: time.Second}, api)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "timed out (after 1s; raise call_timeout or check the API server (kubeconfig test, context test))") {
		t.Fatalf("err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = explain(ctx, callSpec{Permission: getServices, namespace: "prod", name: "shop"}, time.Second, "x", context.Canceled)
	if errors.Is(err, ErrTimeout) || errors.Is(err, ErrUnreachable) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v", err)
	}
}

// TestErrorsPrintable: bytes from the network reach an error message
// quoted when they could drive a terminal.
func TestErrorsPrintable(t *testing.T) {
	for _, tc := range []struct {
		desc string
		err  error
		want string
	}{
		{"plain", errors.New("dial tcp: connection refused"), "kubernetes: get services shop in namespace prod: dial tcp: connection refused"},
		{"escape", errors.New("x509: certificate is valid for \x1b[2Jevil"), `kubernetes: get services shop in namespace prod: "x509: certificate is valid for \x1b[2Jevil"`},
		{"bidi", errors.New("name \u202egnp.exe"), `kubernetes: get services shop in namespace prod: "name \u202egnp.exe"`},
	} {
		e := &APIError{Op: "get services shop in namespace prod", Err: tc.err}
		if got := e.Error(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.desc, got, tc.want)
		}
	}
}

// TestPodGroup: the group label, else the ReplicaSet, else the
// pod-template-hash, else a StatefulSet's or DaemonSet's revision.
func TestPodGroup(t *testing.T) {
	for _, tc := range []struct {
		desc   string
		labels map[string]string
		owner  string
		want   string
	}{
		{"group label", map[string]string{"app.kubernetes.io/version": "1.5.0", "pod-template-hash": "abc"}, "shop-abc", "1.5.0"},
		{"ReplicaSet", map[string]string{"pod-template-hash": "abc"}, "shop-abc", "shop-abc"},
		{"hash without its ReplicaSet", map[string]string{"pod-template-hash": "abc"}, "other", "abc"},
		{"StatefulSet revision", map[string]string{"controller-revision-hash": "db-6d8b7f9c5"}, "", "db-6d8b7f9c5"},
		{"nothing", map[string]string{"app": "shop"}, "", ""},
	} {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: tc.labels}}
		if tc.owner != "" {
			pod.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: tc.owner}}
		}
		if got := podGroup(pod, DefaultGroupLabel); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.desc, got, tc.want)
		}
	}
}

// TestPortScheme: a Service port's appProtocol, else its name, says https.
func TestPortScheme(t *testing.T) {
	for _, tc := range []struct {
		name, appProtocol, want string
	}{
		{"http", "", "http"},
		{"https", "", "https"},
		{"https-web", "", "https"},
		{"web", "", "http"},
		{"web", "https", "https"},
		{"https", "http", "http"},
		{"web", "kubernetes.io/h2c", "http"},
		{"web", "kubernetes.io/wss", "https"},
	} {
		p := corev1.ServicePort{Name: tc.name}
		if tc.appProtocol != "" {
			p.AppProtocol = ptr(tc.appProtocol)
		}
		if got := portScheme(p); got != tc.want {
			t.Errorf("port %s appProtocol %q: %s, want %s", tc.name, tc.appProtocol, got, tc.want)
		}
	}
}

// TestHostileEndpoints: addresses and ports the API server would not
// accept are listed, not dialled.
func TestHostileEndpoints(t *testing.T) {
	svc := testService("shop")
	bad := testSlice("shop-bad", "shop", discoveryv1.AddressTypeIPv4, 8080,
		testEndpoint("evil.example.com", "p1", "a", ready), testEndpoint("fd00::1", "p2", "a", ready), testEndpoint("10.0.0.1 ;rm", "p3", "a", ready))
	zero := testSlice("shop-zero", "shop", discoveryv1.AddressTypeIPv4, 0, testEndpoint("10.0.0.2", "p4", "a", ready))
	api, _, _ := newFake([]runtime.Object{svc, bad, zero})
	tg, err := discoverWith(t, Config{Namespace: "prod", Service: "shop", Port: "http"}, api)
	if err != nil {
		t.Fatal(err)
	}
	if len(tg.Instances) != 4 {
		t.Fatalf("%d instances, want 4", len(tg.Instances))
	}
	for _, in := range tg.Instances {
		if in.Probeable() || in.Addr != "" || in.Skip == "" {
			t.Errorf("%s: addr %q skip %q: want listed, not dialled", in.ID, in.Addr, in.Skip)
		}
	}
}

package kubernetes

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/providers/kubernetes/k8stest"
)

// These tests drive the real client: a kubeconfig file, client-go's REST
// and dynamic clients, HTTP to a loopback API server, JSON decoding.

// serve puts objects into a k8stest server.
func serve(t *testing.T, objs []runtime.Object) *k8stest.Server {
	t.Helper()
	s := k8stest.NewServer(t)
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Service:
			s.AddService(o)
		case *corev1.Pod:
			s.AddPod(o)
		case *discoveryv1.EndpointSlice:
			s.AddEndpointSlice(o)
		case *networkingv1.Ingress:
			s.AddIngress(o)
		default:
			t.Fatalf("k8stest serves no %T", o)
		}
	}
	return s
}

// discoverReal builds the provider as the registry does (New with a
// decoded section) and runs Discover.
func discoverReal(t *testing.T, cfg Config) (discovery.Target, error) {
	t.Helper()
	p, err := New(func(out any) error {
		*out.(*Config) = cfg
		return nil
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	got, err := p.Discover(context.Background())
	if err != nil {
		return discovery.Target{}, err
	}
	if len(got) != 1 {
		t.Fatalf("%d targets", len(got))
	}
	return got[0], nil
}

// noInCluster keeps the environment of a pod out of a test.
func noInCluster(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
}

// TestRealClientService: a Service found through the real client, its
// namespace from the kubeconfig's context, every list paginated; the same
// instances as through the fake clientset, in flat calls.
func TestRealClientService(t *testing.T) {
	noInCluster(t)
	s := serve(t, rollout(true))
	s.PageSize = 2
	tg, err := discoverReal(t, Config{Kubeconfig: s.Kubeconfig(t, "prod"), Service: "shop", Port: "http"})
	if err != nil {
		t.Fatal(err)
	}
	api, _, _ := newFake(rollout(true))
	want, err := discoverWith(t, Config{Namespace: "prod", Service: "shop", Port: "http"}, api)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tg.Instances, want.Instances) {
		t.Errorf("real client:\n%s\nfake clientset:\n%s", strings.Join(briefs(tg.Instances), "\n"), strings.Join(briefs(want.Instances), "\n"))
	}
	if c := s.Calls(); !reflect.DeepEqual(c, map[string]int{"get services": 1, "list endpointslices": 2, "list pods": 3}) {
		t.Errorf("calls %v, want 1 get services and pages of 2: 2 endpointslices, 3 pods", c)
	}
}

// TestRealClientRoutes: an Ingress (typed, networking.k8s.io/v1) and an
// HTTPRoute (dynamic client) read from the API server.
func TestRealClientRoutes(t *testing.T) {
	noInCluster(t)
	objs := append(rollout(false), testIngress([]string{"api.example.com"}, map[string][]ingPath{"api.example.com": {{"/api", "Prefix", "shop"}}}))
	s := serve(t, objs)
	kc := s.Kubeconfig(t, "prod")
	tg, err := discoverReal(t, Config{Kubeconfig: kc, Ingress: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	if tg.URL != "http://api.example.com/api" || len(tg.Instances) != 5 || tg.Router == nil {
		t.Errorf("ingress target %q, %d instances, router %v", tg.URL, len(tg.Instances), tg.Router)
	}
	s.AddHTTPRoute("prod", "shop", testHTTPRoute(t, `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: prod}
spec:
  rules:
  - backendRefs: [{name: shop, port: 80}]
`).Object)
	tg, err = discoverReal(t, Config{Kubeconfig: kc, HTTPRoute: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tg.Instances) != 5 || tg.Instances[0].Pool != "shop" || tg.Router == nil {
		t.Errorf("httproute target: %d instances, pool %q, router %v", len(tg.Instances), tg.Instances[0].Pool, tg.Router)
	}
}

// TestRealClientErrors: the API server's Status errors, decoded by the real
// client, and a server that cannot be reached, explained.
func TestRealClientErrors(t *testing.T) {
	noInCluster(t)
	for _, tc := range []struct {
		desc  string
		setup func(*k8stest.Server)
		cfg   Config
		kind  error
		want  []string
	}{
		{"403 on endpointslices", func(s *k8stest.Server) {
			s.Fail("/apis/discovery.k8s.io/v1/namespaces/prod/endpointslices", http.StatusForbidden)
		}, Config{Service: "shop", Port: "http"}, ErrForbidden, []string{
			`kubernetes: list endpointslices.discovery.k8s.io in namespace prod: forbidden (RBAC must allow verb "list" on resource "endpointslices" in API group discovery.k8s.io in namespace prod`,
			`User \"system:serviceaccount:ci:corsaudit\" cannot list resource`}},
		{"403 on the service", func(s *k8stest.Server) {
			s.Fail("/api/v1/namespaces/prod/services/shop", http.StatusForbidden)
		}, Config{Service: "shop", Port: "http"}, ErrForbidden, []string{`RBAC must allow verb "get" on resource "services" in API group "" (core) in namespace prod`}},
		{"missing service", nil, Config{Service: "nope"}, ErrNotFound,
			[]string{`kubernetes: get services nope in namespace prod: not found (no service "nope" in namespace prod)`}},
		{"other namespace", nil, Config{Namespace: "staging", Service: "shop"}, ErrNotFound,
			[]string{`no service "shop" in namespace staging`}},
		{"Gateway API not installed", nil, Config{HTTPRoute: "shop"}, ErrNotFound,
			[]string{"does not serve httproutes.gateway.networking.k8s.io; is its CRD installed?"}},
		{"401", func(s *k8stest.Server) {
			s.Fail("/api/v1/namespaces/prod/services/shop", http.StatusUnauthorized)
		}, Config{Service: "shop", Port: "http"}, ErrUnauthenticated, []string{"the API server rejected the credentials of kubeconfig", ", context k8stest"}},
		{"missing context", nil, Config{Context: "prod-cluster", Service: "shop"}, nil, []string{"kubernetes: kubeconfig ", `context "prod-cluster" does not exist`}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			s := serve(t, rollout(false))
			if tc.setup != nil {
				tc.setup(s)
			}
			cfg := tc.cfg
			cfg.Kubeconfig = s.Kubeconfig(t, "prod")
			_, err := discoverReal(t, cfg)
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to contain %s", err, w)
				}
			}
			if tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Errorf("errors.Is(%v, %v) is false", err, tc.kind)
			}
		})
	}
}

// TestRealClientUnreachable: an API server that does not answer is named
// with the kubeconfig and context used.
func TestRealClientUnreachable(t *testing.T) {
	noInCluster(t)
	s := k8stest.NewServer(t)
	kc := s.Kubeconfig(t, "prod")
	url := s.URL()
	// Closed, its port refuses connections.
	s.Close()
	_, err := discoverReal(t, Config{Kubeconfig: kc, Service: "shop"})
	for _, w := range []string{"kubernetes: get services shop in namespace prod: cannot reach the API server (kubeconfig " + kc + ", context k8stest (API server " + url + ")",
		"connection refused"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("err = %v\nwant it to contain %s", err, w)
		}
	}
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("errors.Is(%v, ErrUnreachable) is false", err)
	}
}

// TestKubeconfigSelection: kubeconfig: wins over $KUBECONFIG and the
// in-cluster account; $KUBECONFIG is read when kubeconfig: is empty; in a
// pod (KUBERNETES_SERVICE_HOST) without either, the service account is
// used; a context without namespace means default.
func TestKubeconfigSelection(t *testing.T) {
	s := serve(t, rollout(false))
	kc := s.Kubeconfig(t, "prod")
	t.Run("explicit kubeconfig in a pod", func(t *testing.T) {
		t.Setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
		t.Setenv("KUBERNETES_SERVICE_PORT", "443")
		if _, err := discoverReal(t, Config{Kubeconfig: kc, Service: "shop", Port: "http"}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("KUBECONFIG", func(t *testing.T) {
		t.Setenv("KUBERNETES_SERVICE_HOST", "")
		t.Setenv("KUBECONFIG", kc)
		if _, err := discoverReal(t, Config{Service: "shop", Port: "http"}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("in-cluster", func(t *testing.T) {
		if _, err := os.Stat("/var/run/secrets/kubernetes.io/serviceaccount/token"); err == nil {
			t.Skip("running in a pod: its service account would be used")
		}
		t.Setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
		t.Setenv("KUBERNETES_SERVICE_PORT", "1")
		t.Setenv("KUBECONFIG", kc)
		_, err := discoverReal(t, Config{Service: "shop", Port: "http"})
		if err == nil || !strings.Contains(err.Error(), "kubernetes: in-cluster service account: open /var/run/secrets/kubernetes.io/serviceaccount/token") {
			t.Fatalf("err = %v, want the in-cluster account tried", err)
		}
	})
	t.Run("no kubeconfig anywhere", func(t *testing.T) {
		noInCluster(t)
		t.Setenv("HOME", t.TempDir())
		_, err := discoverReal(t, Config{Service: "shop", Port: "http"})
		if err == nil || !strings.Contains(err.Error(), "kubernetes: no kubeconfig found (kubeconfig ") || !strings.Contains(err.Error(), "set kubeconfig: or $KUBECONFIG") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("context without namespace", func(t *testing.T) {
		noInCluster(t)
		_, err := discoverReal(t, Config{Kubeconfig: s.Kubeconfig(t, ""), Service: "shop", Port: "http"})
		if err == nil || !strings.Contains(err.Error(), `no service "shop" in namespace default`) {
			t.Fatalf("err = %v, want the default namespace", err)
		}
	})
}

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

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/labserver"
	"github.com/corsaudit/corsaudit/providers/kubernetes/k8stest"
)

// k8sFleet serves, from a loopback Kubernetes API server, a Service "shop"
// in namespace prod during a rollout: ReplicaSet shop-7d9f8c6b5 (pods a, b,
// c) and shop-5c4d3b2a1 (pods d, e, and f terminating). Every pod is a
// labserver on 127.0.0.1, each in its own EndpointSlice (its named target
// port resolves to its own port); pod d runs an older CORS config. Lists
// come in pages of 2. The config reaches the API server through a
// kubeconfig file. It returns the config path.
func k8sFleet(t *testing.T) string {
	t.Helper()
	current := labserver.Behavior{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "PUT"},
		AllowHeaders: []string{"Content-Type", "X-Request-Id"}, Credentials: true, MaxAge: 600}
	older := labserver.Behavior{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "POST"},
		AllowHeaders: []string{"Content-Type"}, Credentials: true, MaxAge: 600}
	api := k8stest.NewServer(t)
	api.PageSize = 2
	api.AddService(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "prod"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "shop"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("web")}}}})
	servers := map[string]*labserver.Server{}
	for i, name := range []string{"7d9f8c6b5-a", "7d9f8c6b5-b", "7d9f8c6b5-c", "5c4d3b2a1-d", "5c4d3b2a1-e", "5c4d3b2a1-f"} {
		hash, _, _ := strings.Cut(name, "-")
		pod := "shop-" + name
		b := current
		if strings.HasSuffix(name, "-d") {
			b = older
		}
		b.ID = pod
		s := labserver.New(b)
		servers[pod] = s
		srv := httptest.NewServer(s)
		t.Cleanup(srv.Close)
		host, portText, err := net.SplitHostPort(srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		port, _ := strconv.Atoi(portText)
		api.AddPod(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: pod, Namespace: "prod",
			Labels:          map[string]string{"app": "shop", "pod-template-hash": hash},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "shop-" + hash}}}})
		terminating := strings.HasSuffix(name, "-f")
		api.AddEndpointSlice(&discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: fmt.Sprintf("shop-%d", i), Namespace: "prod", Labels: map[string]string{discoveryv1.LabelServiceName: "shop"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptrTo("http"), Port: ptrTo(int32(port))}},
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{host}, Zone: ptrTo("eu-west-1a"),
				TargetRef:  &corev1.ObjectReference{Kind: "Pod", Name: pod, Namespace: "prod"},
				Conditions: discoveryv1.EndpointConditions{Ready: ptrTo(!terminating), Serving: ptrTo(true), Terminating: ptrTo(terminating)}}},
		})
	}
	t.Cleanup(func() {
		for id, s := range servers {
			if st := s.Stats(); st.Unsafe != 0 || st.Cookies != 0 || st.Authorization != 0 {
				t.Errorf("pod %s received %d unsafe actual requests, %d cookies, %d Authorization headers",
					id, st.Unsafe, st.Cookies, st.Authorization)
			}
		}
		if st := servers["shop-5c4d3b2a1-f"].Stats(); st.Preflights != 0 || len(st.Actual) != 0 {
			t.Errorf("the terminating pod received %d preflights and actual requests %v", st.Preflights, st.Actual)
		}
	})
	return writeConfig(t, `targets:
  - url: http://api.example.com/cart
    discover:
      kubernetes:
        kubeconfig: `+api.Kubeconfig(t, "prod")+`
        service: shop
        port: http
    lb: {disabled: true}
    policy:
      origins: [https://app.example.com]
      methods: [GET, PUT]
      headers: [X-Request-Id]
      credentials: true
`)
}

func ptrTo[T any](v T) *T { return &v }

// TestKubernetesDiscover: `corsaudit discover` through a kubeconfig lists
// every pod of the Service by name, grouped by ReplicaSet, the
// terminating one not probed.
func TestKubernetesDiscover(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	path := k8sFleet(t)
	targets := discoverJSON(t, path)
	if len(targets) != 1 || targets[0].Name != "shop" || targets[0].URL != "http://api.example.com/cart" {
		t.Fatalf("targets = %+v, want shop at http://api.example.com/cart", targets)
	}
	var got []string
	for _, in := range targets[0].Instances {
		if !in.IsLoopback() {
			t.Fatalf("instance %s at %q: not loopback", in.ID, in.Addr)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s %v", in.ID, in.Group, in.Pool, in.Health, in.Probeable()))
	}
	want := []string{
		"shop-5c4d3b2a1-d shop-5c4d3b2a1 shop healthy true",
		"shop-5c4d3b2a1-e shop-5c4d3b2a1 shop healthy true",
		"shop-5c4d3b2a1-f shop-5c4d3b2a1 shop draining false",
		"shop-7d9f8c6b5-a shop-7d9f8c6b5 shop healthy true",
		"shop-7d9f8c6b5-b shop-7d9f8c6b5 shop healthy true",
		"shop-7d9f8c6b5-c shop-7d9f8c6b5 shop healthy true",
	}
	if !slices.Equal(got, want) {
		t.Errorf("instances:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestKubernetesAuditReportsDrift: `corsaudit audit` over the pods
// discovered through the API server names the one drifted pod, exit 1;
// the gate between the two ReplicaSets fails on it too.
func TestKubernetesAuditReportsDrift(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	path := k8sFleet(t)
	code, out, stderr := runCLI("audit", "--config", path, "--format", "json")
	var rep diff.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("audit: exit %d, output is not JSON: %v\nstdout: %s\nstderr: %s", code, err, out, stderr)
	}
	if code != exitFindings {
		t.Errorf("audit: exit %d, want %d (findings); stderr:\n%s", code, exitFindings, stderr)
	}
	drifts, skipped := 0, 0
	for _, fd := range rep.Findings {
		switch fd.Kind {
		case "verdict-drift":
			drifts++
			if fd.Target != "shop" || !slices.Equal(fd.Instances, []string{"shop-5c4d3b2a1-d"}) {
				t.Errorf("verdict drift on %s %v, want shop [shop-5c4d3b2a1-d]", fd.Target, fd.Instances)
			}
		case diff.KindSkipped:
			skipped++
			if !slices.Equal(fd.Instances, []string{"shop-5c4d3b2a1-f"}) {
				t.Errorf("skipped %v, want the terminating pod", fd.Instances)
			}
		}
	}
	if drifts == 0 || skipped != 1 {
		t.Errorf("%d verdict-drift and %d skipped findings, want some and 1: %+v", drifts, skipped, rep.Findings)
	}
	code, _, stderr = runCLI("gate", "--config", path, "--baseline", "shop-7d9f8c6b5", "--candidate", "shop-5c4d3b2a1", "--format", "json")
	if code != exitFindings {
		t.Errorf("gate new ReplicaSet vs old: exit %d, want %d; stderr:\n%s", code, exitFindings, stderr)
	}
}

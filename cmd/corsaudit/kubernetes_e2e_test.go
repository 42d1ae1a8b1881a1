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
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
	"github.com/corsaudit/corsaudit/providers/kubernetes/k8stest"
)

// Behaviours of the pods: the current CORS config and an older one
// (POST instead of PUT, no X-Request-Id).
var (
	k8sCurrent = labserver.Behavior{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "PUT"},
		AllowHeaders: []string{"Content-Type", "X-Request-Id"}, Credentials: true, MaxAge: 600}
	k8sOlder = labserver.Behavior{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "POST"},
		AllowHeaders: []string{"Content-Type"}, Credentials: true, MaxAge: 600}
)

// k8sService adds to the API server a Service (selector app=<name>, port
// http to the named target port web) and, for each pod name
// ("<hash>-<suffix>"), a pod of ReplicaSet <name>-<hash> that is a
// labserver on 127.0.0.1 with the behaviour of pods[name], each in its own
// EndpointSlice (its target port resolves to its own port); a name ending
// in -f is terminating. The labservers are checked at cleanup: no unsafe
// actual request, no cookie or Authorization, nothing to a terminating pod.
func k8sService(t *testing.T, api *k8stest.Server, name string, pods map[string]labserver.Behavior) {
	t.Helper()
	api.AddService(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "prod"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": name},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("web")}}}})
	servers := map[string]*labserver.Server{}
	for suffix, b := range pods {
		hash, _, _ := strings.Cut(suffix, "-")
		pod := name + "-" + suffix
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
			Labels:          map[string]string{"app": name, "pod-template-hash": hash},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: name + "-" + hash}}}})
		terminating := strings.HasSuffix(suffix, "-f")
		api.AddEndpointSlice(&discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: pod, Namespace: "prod", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptrTo("http"), Port: ptrTo(int32(port))}},
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{host}, Zone: ptrTo("eu-west-1a"),
				TargetRef:  &corev1.ObjectReference{Kind: "Pod", Name: pod, Namespace: "prod"},
				Conditions: discoveryv1.EndpointConditions{Ready: ptrTo(!terminating), Serving: ptrTo(true), Terminating: ptrTo(terminating)}}},
		})
	}
	t.Cleanup(func() {
		for id, s := range servers {
			st := s.Stats()
			if st.Unsafe != 0 || st.Cookies != 0 || st.Authorization != 0 {
				t.Errorf("pod %s received %d unsafe actual requests, %d cookies, %d Authorization headers",
					id, st.Unsafe, st.Cookies, st.Authorization)
			}
			if strings.HasSuffix(id, "-f") && (st.Preflights != 0 || len(st.Actual) != 0) {
				t.Errorf("the terminating pod %s received %d preflights and actual requests %v", id, st.Preflights, st.Actual)
			}
		}
	})
}

const k8sPolicy = `    lb: {disabled: true}
    policy:
      origins: [https://app.example.com]
      methods: [GET, PUT]
      headers: [X-Request-Id]
      credentials: true
`

// k8sFleet serves, from a loopback Kubernetes API server (lists in pages
// of 2), a Service "shop" in namespace prod during a rollout: ReplicaSet
// shop-7d9f8c6b5 (pods a, b, c) and shop-5c4d3b2a1 (pods d, e, and f
// terminating); pod d runs the older CORS config. The config reaches the
// API server through a kubeconfig file. It returns the config path.
func k8sFleet(t *testing.T) string {
	t.Helper()
	api := k8stest.NewServer(t)
	api.PageSize = 2
	k8sService(t, api, "shop", map[string]labserver.Behavior{"7d9f8c6b5-a": k8sCurrent, "7d9f8c6b5-b": k8sCurrent, "7d9f8c6b5-c": k8sCurrent,
		"5c4d3b2a1-d": k8sOlder, "5c4d3b2a1-e": k8sCurrent, "5c4d3b2a1-f": k8sCurrent})
	return writeConfig(t, `targets:
  - url: http://api.example.com/cart
    discover:
      kubernetes:
        kubeconfig: `+api.Kubeconfig(t, "prod")+`
        service: shop
        port: http
`+k8sPolicy)
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

// TestKubernetesIngressRouted: an Ingress sends /api to Service api and
// everything else to Service web, whose two pods run the older config.
// Compared together the six pods would split 3 to 3; routed, each probe
// reaches only its Service's pods: one drift, the api pod on the older
// config, and nothing between the Services.
func TestKubernetesIngressRouted(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	api := k8stest.NewServer(t)
	k8sService(t, api, "api", map[string]labserver.Behavior{"aaaa-1": k8sCurrent, "aaaa-2": k8sCurrent, "aaaa-3": k8sCurrent, "aaaa-4": k8sOlder})
	k8sService(t, api, "web", map[string]labserver.Behavior{"bbbb-1": k8sOlder, "bbbb-2": k8sOlder})
	prefix := networkingv1.PathTypePrefix
	path := func(p, svc string) networkingv1.HTTPIngressPath {
		return networkingv1.HTTPIngressPath{Path: p, PathType: &prefix, Backend: networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Name: "http"}}}}
	}
	api.AddIngress(&networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "prod"},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "api.example.com",
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{path("/api", "api"), path("/", "web")}}}}}}})
	cfg := writeConfig(t, `targets:
  - discover:
      kubernetes:
        kubeconfig: `+api.Kubeconfig(t, "prod")+`
        ingress: shop
    paths: [/api/cart, /home]
`+k8sPolicy)

	code, out, stderr := runCLI("discover", "--config", cfg)
	if code != exitClean {
		t.Fatalf("discover: exit %d\nstderr: %s", code, stderr)
	}
	for _, want := range []string{"http://api.example.com/api", "ingress shop: host api.example.com, path /api (Prefix)",
		"ingress shop: host api.example.com, path / (Prefix)", "api-aaaa-4", "web-bbbb-2"} {
		if !strings.Contains(out, want) {
			t.Errorf("discover lacks %q:\n%s", want, out)
		}
	}

	code, out, stderr = runCLI("audit", "--config", cfg, "--format", "json")
	var rep diff.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("audit: exit %d, output is not JSON: %v\nstdout: %s\nstderr: %s", code, err, out, stderr)
	}
	if code != exitFindings {
		t.Errorf("audit: exit %d, want %d; stderr:\n%s", code, exitFindings, stderr)
	}
	drifts := 0
	for _, fd := range rep.Findings {
		switch fd.Kind {
		case "verdict-drift", "header-drift":
			drifts++
			if !slices.Equal(fd.Instances, []string{"api-aaaa-4"}) {
				t.Errorf("%s on %v, want only api-aaaa-4 (the web pods serve another route)", fd.Kind, fd.Instances)
			}
		case "split":
			t.Errorf("split %v: the pods of two routes were compared", fd.Instances)
		}
	}
	if drifts == 0 {
		t.Errorf("no drift finding: %+v", rep.Findings)
	}
}

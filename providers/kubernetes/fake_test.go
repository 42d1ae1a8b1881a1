package kubernetes

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/corsaudit/corsaudit/providers/kubernetes/k8stest"
)

// fakeAPI is clusterAPI over client-go's fake clientset and fake dynamic
// client: the calls restAPI makes, on the typed and dynamic clients tests
// can fill and fail.
type fakeAPI struct {
	cs  kubernetes.Interface
	dyn dynamic.Interface
}

func (f fakeAPI) GetService(ctx context.Context, ns, name string) (*corev1.Service, error) {
	return f.cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
}

func (f fakeAPI) ListEndpointSlices(ctx context.Context, ns string, opts metav1.ListOptions) (*discoveryv1.EndpointSliceList, error) {
	return f.cs.DiscoveryV1().EndpointSlices(ns).List(ctx, opts)
}

func (f fakeAPI) ListPods(ctx context.Context, ns string, opts metav1.ListOptions) (*corev1.PodList, error) {
	return f.cs.CoreV1().Pods(ns).List(ctx, opts)
}

func (f fakeAPI) GetIngress(ctx context.Context, ns, name string) (*networkingv1.Ingress, error) {
	return f.cs.NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{})
}

func (f fakeAPI) GetHTTPRoute(ctx context.Context, ns, name string) (*unstructured.Unstructured, error) {
	return f.dyn.Resource(httpRouteResource).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
}

// newFake holds objects in a fake clientset (typed) and a fake dynamic
// client (HTTPRoutes, as unstructured objects).
func newFake(objs []runtime.Object, routes ...*unstructured.Unstructured) (fakeAPI, *fake.Clientset, *dynamicfake.FakeDynamicClient) {
	cs := fake.NewClientset(objs...)
	var dobjs []runtime.Object
	for _, r := range routes {
		dobjs = append(dobjs, r)
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{httpRouteResource: "HTTPRouteList"}, dobjs...)
	return fakeAPI{cs: cs, dyn: dyn}, cs, dyn
}

// paginate makes the fake clientset's lists of resource honour limit and
// continue (the fake ignores them), serving at most pageMax items a page. It
// records the options of each call.
func paginate(cs *fake.Clientset, resource string, pageMax int, seen *[]metav1.ListOptions) {
	cs.PrependReactor("list", resource, func(a k8stesting.Action) (bool, runtime.Object, error) {
		la := a.(k8stesting.ListActionImpl)
		opts := la.ListOptions
		*seen = append(*seen, opts)
		obj, err := cs.Tracker().List(la.GetResource(), la.GetKind(), la.GetNamespace(), opts)
		if err != nil {
			return true, nil, err
		}
		sel, err := labels.Parse(opts.LabelSelector)
		if err != nil {
			return true, nil, err
		}
		limit := pageMax
		if opts.Limit > 0 && int(opts.Limit) < limit {
			limit = int(opts.Limit)
		}
		switch l := obj.(type) {
		case *discoveryv1.EndpointSliceList:
			l.Items, l.Continue, err = k8stest.Page(l.Items, func(o discoveryv1.EndpointSlice) map[string]string { return o.Labels }, sel, opts.Continue, limit)
		case *corev1.PodList:
			l.Items, l.Continue, err = k8stest.Page(l.Items, func(o corev1.Pod) map[string]string { return o.Labels }, sel, opts.Continue, limit)
		}
		if err != nil {
			return true, nil, err
		}
		return true, obj, nil
	})
}

// Test objects.

func ptr[T any](v T) *T { return &v }

// testService is a Service in prod selecting app=<name>, port http 80 to
// named container port web, plus a metrics port.
func testService(name string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "prod"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": name}, Ports: []corev1.ServicePort{
			{Name: "http", Port: 80, TargetPort: intstr.FromString("web")},
			{Name: "metrics", Port: 9090, TargetPort: intstr.FromInt32(9090)},
		}}}
}

// testPod is a pod of a Deployment's ReplicaSet <app>-<hash>, with extra
// labels.
func testPod(app, hash, suffix string, extra map[string]string) *corev1.Pod {
	l := map[string]string{"app": app, "pod-template-hash": hash}
	for k, v := range extra {
		l[k] = v
	}
	rs := app + "-" + hash
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: rs + "-" + suffix, Namespace: "prod", Labels: l,
		OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: rs, APIVersion: "apps/v1"}}}}
}

// endpoint states.
type state int

const (
	ready state = iota
	notReady
	terminating        // terminating, no longer serving
	terminatingServing // terminating, still serving
)

func testEndpoint(ip, pod, zone string, s state) discoveryv1.Endpoint {
	c := discoveryv1.EndpointConditions{Ready: ptr(true), Serving: ptr(true), Terminating: ptr(false)}
	switch s {
	case notReady:
		c = discoveryv1.EndpointConditions{Ready: ptr(false), Serving: ptr(false), Terminating: ptr(false)}
	case terminating:
		c = discoveryv1.EndpointConditions{Ready: ptr(false), Serving: ptr(false), Terminating: ptr(true)}
	case terminatingServing:
		c = discoveryv1.EndpointConditions{Ready: ptr(false), Serving: ptr(true), Terminating: ptr(true)}
	}
	ep := discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: c, NodeName: ptr("node-" + zone)}
	if zone != "" {
		ep.Zone = ptr(zone)
	}
	if pod != "" {
		ep.TargetRef = &corev1.ObjectReference{Kind: "Pod", Name: pod, Namespace: "prod"}
	}
	return ep
}

// testSlice is an EndpointSlice of service with ports http (the pods'
// port) and metrics.
func testSlice(name, service string, family discoveryv1.AddressType, port int32, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "prod",
		Labels: map[string]string{discoveryv1.LabelServiceName: service}},
		AddressType: family, Endpoints: eps,
		Ports: []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(port)}, {Name: ptr("metrics"), Port: ptr(int32(9090))}}}
}

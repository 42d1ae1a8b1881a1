package kubernetes

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// pageSize is the items asked for per list page (kubectl's chunk size).
const pageSize = 500

// httpRouteResource is the Gateway API HTTPRoute, read with the dynamic
// client.
var httpRouteResource = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}

// clusterAPI is every call the provider makes: gets and lists, nothing
// that writes. Lists return one page; the caller follows Continue.
type clusterAPI interface {
	GetService(ctx context.Context, ns, name string) (*corev1.Service, error)
	ListEndpointSlices(ctx context.Context, ns string, opts metav1.ListOptions) (*discoveryv1.EndpointSliceList, error)
	ListPods(ctx context.Context, ns string, opts metav1.ListOptions) (*corev1.PodList, error)
	GetIngress(ctx context.Context, ns, name string) (*networkingv1.Ingress, error)
	GetHTTPRoute(ctx context.Context, ns, name string) (*unstructured.Unstructured, error)
}

// restAPI implements clusterAPI with client-go's REST client (one per API
// group, JSON, a scheme of just these groups) and its dynamic client.
type restAPI struct {
	core, discovery, networking rest.Interface
	dynamic                     dynamic.Interface
	// namespace is the context's (or the pod's, in-cluster), "" if none.
	namespace string
	// source says where the connection settings came from, for errors.
	source string
}

// newRESTAPI builds the clients from the kubeconfig or the in-cluster
// service account. It reads files but makes no call.
func newRESTAPI(c Config) (*restAPI, error) {
	cfg, ns, source, err := loadConfig(c)
	if err != nil {
		return nil, err
	}
	cfg.UserAgent = "corsaudit"
	// The API server's warnings are not corsaudit's output.
	cfg.WarningHandler = rest.NoWarnings{}
	// Paginated lists of large namespaces: 200 pages for 100,000 pods.
	cfg.QPS, cfg.Burst = 20, 40

	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, discoveryv1.AddToScheme, networkingv1.AddToScheme} {
		if err := add(scheme); err != nil {
			return nil, fmt.Errorf("kubernetes: scheme: %w", err)
		}
	}
	codecs := serializer.NewCodecFactory(scheme)
	a := &restAPI{namespace: ns, source: source}
	for _, g := range []struct {
		client  *rest.Interface
		gv      schema.GroupVersion
		apiPath string
	}{
		{&a.core, corev1.SchemeGroupVersion, "/api"},
		{&a.discovery, discoveryv1.SchemeGroupVersion, "/apis"},
		{&a.networking, networkingv1.SchemeGroupVersion, "/apis"},
	} {
		gc := rest.CopyConfig(cfg)
		gv := g.gv
		gc.GroupVersion = &gv
		gc.APIPath = g.apiPath
		gc.ContentType = runtime.ContentTypeJSON
		gc.NegotiatedSerializer = codecs.WithoutConversion()
		rc, err := rest.RESTClientFor(gc)
		if err != nil {
			return nil, fmt.Errorf("kubernetes: %s client (%s): %w", gv, source, err)
		}
		*g.client = rc
	}
	if a.dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, fmt.Errorf("kubernetes: dynamic client (%s): %w", source, err)
	}
	return a, nil
}

// loadConfig finds the connection settings: in-cluster when
// KUBERNETES_SERVICE_HOST is set and neither kubeconfig nor context is
// given, else the kubeconfig (the configured file, else $KUBECONFIG, else
// ~/.kube/config) at the configured or current context. It returns the
// namespace of that context and a description of the source.
func loadConfig(c Config) (*rest.Config, string, string, error) {
	if c.Kubeconfig == "" && c.Context == "" && os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		const source = "in-cluster service account"
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, "", "", fmt.Errorf("kubernetes: %s: %w", source, err)
		}
		return cfg, inClusterNamespace(), source + " (API server " + cfg.Host + ")", nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = c.Kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: c.Context})
	files := c.Kubeconfig
	if files == "" {
		files = strings.Join(rules.GetLoadingPrecedence(), string(filepath.ListSeparator))
	}
	source := "kubeconfig " + files
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, "", "", fmt.Errorf("kubernetes: %s: %w", source, err)
	}
	context := c.Context
	if context == "" {
		context = raw.CurrentContext
	}
	if context != "" {
		source += ", context " + context
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, "", "", fmt.Errorf("kubernetes: no kubeconfig found (%s) and not running in a cluster: set kubeconfig: or $KUBECONFIG", source)
		}
		return nil, "", "", fmt.Errorf("kubernetes: %s: %w", source, err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", "", fmt.Errorf("kubernetes: %s: namespace: %w", source, err)
	}
	return cfg, ns, source + " (API server " + cfg.Host + ")", nil
}

// inClusterNamespace is the pod's namespace: $POD_NAMESPACE (the downward
// API), else the service account's, else "".
func inClusterNamespace() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// listRequest adds a list's options as query parameters (the fields the
// provider sets).
func listRequest(r *rest.Request, opts metav1.ListOptions) *rest.Request {
	if opts.LabelSelector != "" {
		r = r.Param("labelSelector", opts.LabelSelector)
	}
	if opts.Limit > 0 {
		r = r.Param("limit", strconv.FormatInt(opts.Limit, 10))
	}
	if opts.Continue != "" {
		r = r.Param("continue", opts.Continue)
	}
	return r
}

func (a *restAPI) GetService(ctx context.Context, ns, name string) (*corev1.Service, error) {
	out := &corev1.Service{}
	return out, a.core.Get().Namespace(ns).Resource("services").Name(name).Do(ctx).Into(out)
}

func (a *restAPI) ListEndpointSlices(ctx context.Context, ns string, opts metav1.ListOptions) (*discoveryv1.EndpointSliceList, error) {
	out := &discoveryv1.EndpointSliceList{}
	return out, listRequest(a.discovery.Get().Namespace(ns).Resource("endpointslices"), opts).Do(ctx).Into(out)
}

func (a *restAPI) ListPods(ctx context.Context, ns string, opts metav1.ListOptions) (*corev1.PodList, error) {
	out := &corev1.PodList{}
	return out, listRequest(a.core.Get().Namespace(ns).Resource("pods"), opts).Do(ctx).Into(out)
}

func (a *restAPI) GetIngress(ctx context.Context, ns, name string) (*networkingv1.Ingress, error) {
	out := &networkingv1.Ingress{}
	return out, a.networking.Get().Namespace(ns).Resource("ingresses").Name(name).Do(ctx).Into(out)
}

func (a *restAPI) GetHTTPRoute(ctx context.Context, ns, name string) (*unstructured.Unstructured, error) {
	return a.dynamic.Resource(httpRouteResource).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
}

package k8stest

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Token is the bearer token of the kubeconfig the server writes; requests
// without it are answered 401.
const Token = "k8stest-token"

// Server serves objects put into it under the API paths the provider
// reads.
type Server struct {
	t   testing.TB
	srv *httptest.Server
	// PageSize caps the items of a list page (0: the client's limit).
	PageSize int

	mu       sync.Mutex
	services map[string]*corev1.Service
	slices   map[string][]discoveryv1.EndpointSlice // by namespace
	pods     map[string][]corev1.Pod                // by namespace
	ingress  map[string]*networkingv1.Ingress
	routes   map[string]map[string]any
	fail     map[string]int // path -> HTTP status of a Status error
	calls    map[string]int // "list endpointslices" -> count
}

// NewServer starts a server on 127.0.0.1, closed with the test.
func NewServer(t testing.TB) *Server {
	s := &Server{t: t, services: map[string]*corev1.Service{}, slices: map[string][]discoveryv1.EndpointSlice{},
		pods: map[string][]corev1.Pod{}, ingress: map[string]*networkingv1.Ingress{}, routes: map[string]map[string]any{},
		fail: map[string]int{}, calls: map[string]int{}}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// Close stops the server (it is also closed with the test).
func (s *Server) Close() { s.srv.Close() }

// URL is the server's base URL.
func (s *Server) URL() string { return s.srv.URL }

// Kubeconfig writes a kubeconfig for the server into a temporary directory:
// cluster (its CA the server's certificate), user (Token) and context
// named "k8stest", the context's namespace ns. It returns the file's path.
func (s *Server) Kubeconfig(t testing.TB, ns string) string {
	t.Helper()
	ca := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw}))
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: k8stest
  cluster: {server: %q, certificate-authority-data: %s}
users:
- name: k8stest
  user: {token: %q}
contexts:
- name: k8stest
  context: {cluster: k8stest, user: k8stest, namespace: %q}
current-context: k8stest
`, s.srv.URL, ca, Token, ns)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func key(ns, name string) string { return ns + "/" + name }

// AddService, AddEndpointSlice, AddPod, AddIngress and AddHTTPRoute put
// objects into the server (their namespace set).
func (s *Server) AddService(o *corev1.Service) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.services[key(o.Namespace, o.Name)] = o
}

func (s *Server) AddEndpointSlice(o *discoveryv1.EndpointSlice) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slices[o.Namespace] = append(s.slices[o.Namespace], *o)
}

func (s *Server) AddPod(o *corev1.Pod) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pods[o.Namespace] = append(s.pods[o.Namespace], *o)
}

func (s *Server) AddIngress(o *networkingv1.Ingress) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ingress[key(o.Namespace, o.Name)] = o
}

// AddHTTPRoute adds an HTTPRoute as the JSON object the API serves.
func (s *Server) AddHTTPRoute(ns, name string, obj map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes[key(ns, name)] = obj
}

// Fail answers every request to path (without query) with a Status error
// of that HTTP code (401, 403, 404, 500).
func (s *Server) Fail(path string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[path] = code
}

// Calls is the number of requests per "verb resource" ("list pods").
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

var (
	getRE  = regexp.MustCompile(`^/(?:api/v1|apis/(networking\.k8s\.io|gateway\.networking\.k8s\.io)/v1)/namespaces/([^/]+)/(services|ingresses|httproutes)/([^/]+)$`)
	listRE = regexp.MustCompile(`^/(?:api/v1|apis/discovery\.k8s\.io/v1)/namespaces/([^/]+)/(pods|endpointslices)$`)
)

// groupOf is the API group of each resource served, for checking paths.
var groupOf = map[string]string{"services": "", "ingresses": "networking.k8s.io", "httproutes": "gateway.networking.k8s.io"}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		s.t.Errorf("k8stest: %s %s: the provider only reads", r.Method, r.URL.Path)
		s.status(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "only GET", "", "")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+Token {
		s.status(w, http.StatusUnauthorized, metav1.StatusReasonUnauthorized, "Unauthorized", "", "")
		return
	}
	if a := r.Header.Get("Accept"); !strings.Contains(a, "application/json") {
		s.t.Errorf("k8stest: %s: Accept %q, want JSON", r.URL.Path, a)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := getRE.FindStringSubmatch(r.URL.Path); m != nil && groupOf[m[3]] == m[1] {
		s.calls["get "+m[3]]++
		if code, ok := s.fail[r.URL.Path]; ok {
			s.failWith(w, code, "get", m[3], m[1], m[2], m[4])
			return
		}
		var obj any
		var found bool
		switch m[3] {
		case "services":
			var o *corev1.Service
			if o, found = s.services[key(m[2], m[4])]; found {
				o.APIVersion, o.Kind = "v1", "Service"
				obj = o
			}
		case "ingresses":
			var o *networkingv1.Ingress
			if o, found = s.ingress[key(m[2], m[4])]; found {
				o.APIVersion, o.Kind = "networking.k8s.io/v1", "Ingress"
				obj = o
			}
		case "httproutes":
			if len(s.routes) == 0 {
				// No route at all: the Gateway API CRDs are not installed.
				s.status(w, http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource", "", "")
				return
			}
			obj, found = s.routes[key(m[2], m[4])]
		}
		if !found {
			s.status(w, http.StatusNotFound, metav1.StatusReasonNotFound, fmt.Sprintf("%s %q not found", m[3], m[4]), m[4], m[3])
			return
		}
		s.json(w, obj)
		return
	}
	m := listRE.FindStringSubmatch(r.URL.Path)
	if m == nil || (m[2] == "pods") != strings.HasPrefix(r.URL.Path, "/api/v1/") {
		s.status(w, http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource", "", "")
		return
	}
	ns, resource := m[1], m[2]
	s.calls["list "+resource]++
	if code, ok := s.fail[r.URL.Path]; ok {
		group := ""
		if resource == "endpointslices" {
			group = "discovery.k8s.io"
		}
		s.failWith(w, code, "list", resource, group, ns, "")
		return
	}
	q := r.URL.Query()
	sel, err := labels.Parse(q.Get("labelSelector"))
	if err != nil {
		s.status(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, err.Error(), "", "")
		return
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	if s.PageSize > 0 && (limit == 0 || s.PageSize < limit) {
		limit = s.PageSize
	}
	token := q.Get("continue")
	meta := func(next string) metav1.ListMeta { return metav1.ListMeta{Continue: next, ResourceVersion: "1"} }
	switch resource {
	case "endpointslices":
		items, next, err := Page(s.slices[ns], func(o discoveryv1.EndpointSlice) map[string]string { return o.Labels }, sel, token, limit)
		if err != nil {
			s.status(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, err.Error(), "", "")
			return
		}
		s.json(w, &discoveryv1.EndpointSliceList{TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSliceList"},
			ListMeta: meta(next), Items: items})
	case "pods":
		items, next, err := Page(s.pods[ns], func(o corev1.Pod) map[string]string { return o.Labels }, sel, token, limit)
		if err != nil {
			s.status(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, err.Error(), "", "")
			return
		}
		s.json(w, &corev1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"}, ListMeta: meta(next), Items: items})
	}
}

// Page is how the server pages a list: the items whose labels sel
// matches, from the one the continue token names ("": the first), at most
// limit of them (0: all), and the token of the next page ("" after the
// last). Tokens are "k8stest:<index>".
func Page[T any](all []T, labelsOf func(T) map[string]string, sel labels.Selector, token string, limit int) ([]T, string, error) {
	start := 0
	if token != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(token, "k8stest:"))
		if err != nil || !strings.HasPrefix(token, "k8stest:") || n < 0 {
			return nil, "", fmt.Errorf("bad continue token %q", token)
		}
		start = n
	}
	var items []T
	for _, it := range all {
		if sel.Matches(labels.Set(labelsOf(it))) {
			items = append(items, it)
		}
	}
	start = min(start, len(items))
	end := len(items)
	if limit > 0 && start+limit < end {
		end = start + limit
	}
	next := ""
	if end < len(items) {
		next = "k8stest:" + strconv.Itoa(end)
	}
	return items[start:end], next, nil
}

func (s *Server) json(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.t.Errorf("k8stest: encode: %v", err)
	}
}

// failWith answers the Status the API server sends for code.
func (s *Server) failWith(w http.ResponseWriter, code int, verb, resource, group, ns, name string) {
	gr := resource
	if group != "" {
		gr += "." + group
	}
	switch code {
	case http.StatusForbidden:
		s.status(w, code, metav1.StatusReasonForbidden, fmt.Sprintf(`%s is forbidden: User "system:serviceaccount:ci:corsaudit" cannot %s resource %q in API group %q in the namespace %q`,
			gr, verb, resource, group, ns), name, resource)
	case http.StatusNotFound:
		s.status(w, code, metav1.StatusReasonNotFound, fmt.Sprintf("%s %q not found", gr, name), name, resource)
	case http.StatusUnauthorized:
		s.status(w, code, metav1.StatusReasonUnauthorized, "Unauthorized", "", "")
	default:
		s.status(w, code, metav1.StatusReasonInternalError, "Internal error occurred: k8stest", "", "")
	}
}

func (s *Server) status(w http.ResponseWriter, code int, reason metav1.StatusReason, msg, name, kind string) {
	st := metav1.Status{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: metav1.StatusFailure,
		Message: msg, Reason: reason, Code: int32(code)}
	if name != "" {
		st.Details = &metav1.StatusDetails{Name: name, Kind: kind}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if err := json.NewEncoder(w).Encode(&st); err != nil {
		s.t.Errorf("k8stest: encode: %v", err)
	}
}

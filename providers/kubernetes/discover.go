package kubernetes

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/corsaudit/corsaudit/discovery"
)

// discoverer runs one Discover.
type discoverer struct {
	cfg Config
	api clusterAPI
	// ns is the namespace of the Service or route.
	ns string
	// source says which kubeconfig and context the client uses.
	source string
}

// backendRef is a Service (and port) a route sends requests to, as the
// route writes it.
type backendRef struct {
	Namespace string
	Name      string
	// Port is the Service port's name or number as written; "" for a
	// service target without port: (the Service's only port).
	Port string
}

func (b backendRef) String() string {
	s := "service " + b.Name
	if b.Port != "" {
		s += " port " + b.Port
	}
	return s
}

// routes is what a route (Ingress, HTTPRoute) tells Discover: the Services
// it sends requests to, and how to build its Router once each backend has
// its pool name.
type routes interface {
	backends() []backendRef
	router(poolOf map[backendRef]string) discovery.Router
	// weightOf is a pool's share in the first weighted split naming it
	// (0: none).
	weightOf(poolOf map[backendRef]string, pool string) int
	// backendScheme is how the route's proxy reaches the pods when the
	// route says so ("https", "http"), else "" (the Service port says).
	backendScheme() string
}

// call runs f with the per-call timeout inside ctx and explains its error.
func (d *discoverer) call(ctx context.Context, c callSpec, f func(ctx context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, d.cfg.CallTimeout)
	defer cancel()
	if err := f(cctx); err != nil {
		return explain(ctx, c, d.cfg.CallTimeout, d.source, err)
	}
	return nil
}

func (d *discoverer) run(ctx context.Context) (discovery.Target, error) {
	var t discovery.Target
	var rs routes
	var refs []backendRef
	switch {
	case d.cfg.Service != "":
		t.Name = d.cfg.Service
		refs = []backendRef{{Namespace: d.ns, Name: d.cfg.Service, Port: d.cfg.Port}}
	case d.cfg.Ingress != "":
		var ing *networkingv1.Ingress
		err := d.call(ctx, callSpec{Permission: getIngresses, namespace: d.ns, name: d.cfg.Ingress,
			notFound: fmt.Sprintf("no ingress %q in namespace %s", d.cfg.Ingress, d.ns)},
			func(ctx context.Context) (err error) {
				ing, err = d.api.GetIngress(ctx, d.ns, d.cfg.Ingress)
				return err
			})
		if err != nil {
			return t, err
		}
		ir, err := parseIngress(ing, d.ns)
		if err != nil {
			return t, err
		}
		t.Name, t.URL, rs = d.cfg.Ingress, ir.publicURL(), ir
	case d.cfg.HTTPRoute != "":
		var raw map[string]any
		err := d.call(ctx, callSpec{Permission: getHTTPRoutes, namespace: d.ns, name: d.cfg.HTTPRoute,
			notFound: fmt.Sprintf("no httproute %q in namespace %s", d.cfg.HTTPRoute, d.ns)},
			func(ctx context.Context) error {
				u, err := d.api.GetHTTPRoute(ctx, d.ns, d.cfg.HTTPRoute)
				if err == nil {
					raw = u.Object
				}
				return err
			})
		if err != nil {
			return t, err
		}
		hr, err := parseHTTPRoute(raw, d.cfg.HTTPRoute, d.ns)
		if err != nil {
			return t, err
		}
		t.Name, rs = d.cfg.HTTPRoute, hr
	}
	if rs != nil {
		refs = rs.backends()
	}
	pools, poolOf, err := d.resolve(ctx, refs)
	if err != nil {
		return t, err
	}
	t.Instances = []discovery.Instance{}
	for _, p := range pools {
		if rs != nil {
			p.weight = rs.weightOf(poolOf, p.name)
			if scheme := rs.backendScheme(); scheme != "" {
				p.scheme = scheme
			}
		}
		t.Instances = append(t.Instances, poolInstances(p, d.cfg.GroupLabel)...)
	}
	uniqueIDs(t.Instances)
	if rs != nil {
		t.Router = rs.router(poolOf)
	}
	return t, nil
}

// service is one Service read for Discover, with its EndpointSlices and
// the group of each of its pods.
type service struct {
	svc    *corev1.Service
	slices []discoveryv1.EndpointSlice
	// groups maps a pod name to its group.
	groups map[string]string
}

// pool is one Service port a load balancer forwards to, with what is
// needed to list its instances.
type pool struct {
	name   string
	s      *service
	port   corev1.ServicePort
	scheme string
	weight int
}

// resolve reads each distinct Service of refs (get, list its
// EndpointSlices, list its pods) and returns one pool per distinct
// Service port, in the order refs first name them, and the pool name of
// every backendRef.
func (d *discoverer) resolve(ctx context.Context, refs []backendRef) ([]*pool, map[backendRef]string, error) {
	services := map[[2]string]*service{}
	type resolved struct {
		ref  backendRef
		key  [3]string // namespace, name, port name or number
		s    *service
		port corev1.ServicePort
	}
	var all []resolved
	for _, ref := range refs {
		k := [2]string{ref.Namespace, ref.Name}
		s, ok := services[k]
		if !ok {
			var err error
			if s, err = d.service(ctx, ref); err != nil {
				return nil, nil, err
			}
			services[k] = s
		}
		port, err := servicePort(s.svc, ref)
		if err != nil {
			return nil, nil, err
		}
		id := port.Name
		if id == "" {
			id = strconv.Itoa(int(port.Port))
		}
		all = append(all, resolved{ref: ref, key: [3]string{ref.Namespace, ref.Name, id}, s: s, port: port})
	}
	// A Service reached on one port is its own pool, named after it
	// (namespace/name when it is not in the route's namespace); on several
	// ports, one pool per port (name:port).
	ports := map[[2]string]map[string]bool{}
	for _, r := range all {
		k := [2]string{r.key[0], r.key[1]}
		if ports[k] == nil {
			ports[k] = map[string]bool{}
		}
		ports[k][r.key[2]] = true
	}
	byKey := map[[3]string]*pool{}
	var pools []*pool
	poolOf := map[backendRef]string{}
	for _, r := range all {
		p, ok := byKey[r.key]
		if !ok {
			name := r.ref.Name
			if r.ref.Namespace != d.ns {
				name = r.ref.Namespace + "/" + name
			}
			if len(ports[[2]string{r.key[0], r.key[1]}]) > 1 {
				name += ":" + r.key[2]
			}
			p = &pool{name: name, s: r.s, port: r.port, scheme: portScheme(r.port)}
			byKey[r.key] = p
			pools = append(pools, p)
		}
		poolOf[r.ref] = p.name
	}
	return pools, poolOf, nil
}

// service gets a Service, lists its EndpointSlices and the groups of its
// pods.
func (d *discoverer) service(ctx context.Context, ref backendRef) (*service, error) {
	s := &service{groups: map[string]string{}}
	err := d.call(ctx, callSpec{Permission: getServices, namespace: ref.Namespace, name: ref.Name,
		notFound: fmt.Sprintf("no service %q in namespace %s", ref.Name, ref.Namespace)},
		func(ctx context.Context) (err error) {
			s.svc, err = d.api.GetService(ctx, ref.Namespace, ref.Name)
			return err
		})
	if err != nil {
		return nil, err
	}
	if s.svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil, fmt.Errorf("kubernetes: service %s in namespace %s is of type ExternalName (%q): it has no pods to audit", ref.Name, ref.Namespace, s.svc.Spec.ExternalName)
	}
	sel := discoveryv1.LabelServiceName + "=" + ref.Name
	err = d.list(ctx, callSpec{Permission: listEndpointSlice, namespace: ref.Namespace}, sel,
		func(ctx context.Context, opts metav1.ListOptions) (string, error) {
			page, err := d.api.ListEndpointSlices(ctx, ref.Namespace, opts)
			if err != nil {
				return "", err
			}
			s.slices = append(s.slices, page.Items...)
			return page.Continue, nil
		})
	if err != nil {
		return nil, err
	}
	if len(s.svc.Spec.Selector) == 0 {
		// Endpoints managed by hand: no pods to group by.
		return s, nil
	}
	err = d.list(ctx, callSpec{Permission: listPods, namespace: ref.Namespace}, labels.SelectorFromSet(s.svc.Spec.Selector).String(),
		func(ctx context.Context, opts metav1.ListOptions) (string, error) {
			page, err := d.api.ListPods(ctx, ref.Namespace, opts)
			if err != nil {
				return "", err
			}
			for i := range page.Items {
				if g := podGroup(&page.Items[i], d.cfg.GroupLabel); g != "" {
					s.groups[page.Items[i].Name] = g
				}
			}
			return page.Continue, nil
		})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// list pages through a list call: each page is one call with its own
// timeout; page returns the continue token.
func (d *discoverer) list(ctx context.Context, c callSpec, selector string, page func(context.Context, metav1.ListOptions) (string, error)) error {
	opts := metav1.ListOptions{LabelSelector: selector, Limit: pageSize}
	for {
		var next string
		err := d.call(ctx, c, func(ctx context.Context) (err error) {
			next, err = page(ctx, opts)
			return err
		})
		if err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		if next == opts.Continue {
			return fmt.Errorf("kubernetes: %s: the API server returned the same continue token twice", c.op())
		}
		opts.Continue = next
	}
}

// servicePort finds the port ref names: by name or number, or the
// Service's only port when ref names none.
func servicePort(svc *corev1.Service, ref backendRef) (corev1.ServicePort, error) {
	ports := svc.Spec.Ports
	if ref.Port == "" {
		if len(ports) == 1 {
			return ports[0], nil
		}
	} else {
		for _, p := range ports {
			if p.Name == ref.Port || (isNumber(ref.Port) && strconv.Itoa(int(p.Port)) == ref.Port) {
				return p, nil
			}
		}
	}
	var have []string
	for _, p := range ports {
		s := strconv.Itoa(int(p.Port))
		if p.Name != "" {
			s = p.Name + " (" + s + ")"
		}
		have = append(have, s)
	}
	what := "has no port " + ref.Port
	if ref.Port == "" {
		what = "has several ports: set port:"
	}
	if len(have) == 0 {
		return corev1.ServicePort{}, fmt.Errorf("kubernetes: service %s in namespace %s has no ports", ref.Name, ref.Namespace)
	}
	return corev1.ServicePort{}, fmt.Errorf("kubernetes: service %s in namespace %s %s (it has %s)", ref.Name, ref.Namespace, what, strings.Join(have, ", "))
}

// portScheme is how the pods of a Service port are dialled: https when its
// appProtocol or name says so (the Service API's and Istio's
// conventions), else http, as ingress controllers and Gateways do by
// default.
func portScheme(p corev1.ServicePort) string {
	proto := strings.ToLower(p.Name)
	if p.AppProtocol != nil {
		proto = strings.ToLower(*p.AppProtocol)
	}
	if proto == "https" || strings.HasPrefix(proto, "https-") || proto == "kubernetes.io/wss" {
		return "https"
	}
	return "http"
}

// podGroup is a pod's group: its groupLabel, else its ReplicaSet (the
// owner named <deployment>-<pod-template-hash>), else its
// pod-template-hash, else the revision of its StatefulSet or DaemonSet
// (controller-revision-hash, "<name>-<hash>"); "" when none says.
func podGroup(pod *corev1.Pod, groupLabel string) string {
	if v := pod.Labels[groupLabel]; v != "" {
		return v
	}
	hash := pod.Labels["pod-template-hash"]
	if hash == "" {
		return pod.Labels["controller-revision-hash"]
	}
	for _, o := range pod.OwnerReferences {
		if o.Kind == "ReplicaSet" && strings.HasSuffix(o.Name, "-"+hash) {
			return o.Name
		}
	}
	return hash
}

// poolInstances maps the EndpointSlices of a pool's Service to instances:
// one per endpoint (a pod) serving the pool's port, named by its pod. A
// pod listed in slices of both address families is one instance, dialled
// on its IPv4 address; a pod listed twice (slices are eventually
// consistent) keeps its ready entry.
func poolInstances(p *pool, groupLabel string) []discovery.Instance {
	type entry struct {
		in   discovery.Instance
		rank int
	}
	byID := map[string]*entry{}
	var order []string
	for _, sl := range p.s.slices {
		port, ok := slicePort(sl, p.port.Name)
		for _, ep := range sl.Endpoints {
			if len(ep.Addresses) == 0 {
				continue
			}
			in := discovery.Instance{Pool: p.name, Scheme: p.scheme, Weight: p.weight,
				Labels: map[string]string{"namespace": p.s.svc.Namespace, "service": p.s.svc.Name}}
			addr := ep.Addresses[0]
			in.ID = addr
			if ep.TargetRef != nil && ep.TargetRef.Kind == "Pod" && ep.TargetRef.Name != "" {
				in.ID = ep.TargetRef.Name
				in.Group = p.s.groups[ep.TargetRef.Name]
			}
			if in.Group == "" {
				in.Group = p.name
			}
			if ep.Zone != nil {
				in.Zone = *ep.Zone
			}
			if ep.NodeName != nil {
				in.Labels["node"] = *ep.NodeName
			}
			in.Health, in.HealthReason, in.Skip = endpointHealth(ep.Conditions)
			switch {
			case sl.AddressType == discoveryv1.AddressTypeFQDN:
				in.Skip = "FQDN endpoint (" + addr + "), not a pod address"
			case !ok:
				in.Skip = "its EndpointSlice has no port " + portLabel(p.port)
			default:
				// What the API server validates, checked again: an IP of
				// the slice's family and a port, dialable.
				a := joinHostPort(addr, port)
				ip, err := netip.ParseAddr(addr)
				switch {
				case err != nil || ip.Is4() != (sl.AddressType == discoveryv1.AddressTypeIPv4):
					in.Skip = fmt.Sprintf("address %q of its EndpointSlice is not an %s address", addr, sl.AddressType)
				case discovery.CheckAddr(a) != nil:
					in.Skip = "not dialable: " + discovery.CheckAddr(a).Error()
				default:
					in.Addr = a
					if in.ID == addr {
						in.ID = in.Addr
					}
				}
			}
			rank := 0
			if in.Skip == "" {
				rank += 2
			}
			if sl.AddressType == discoveryv1.AddressTypeIPv4 {
				rank++
			}
			if e, dup := byID[in.ID]; dup {
				if rank > e.rank {
					*e = entry{in, rank}
				}
				continue
			}
			byID[in.ID] = &entry{in, rank}
			order = append(order, in.ID)
		}
	}
	sort.Strings(order)
	out := make([]discovery.Instance, 0, len(order))
	for _, id := range order {
		out = append(out, byID[id].in)
	}
	return out
}

// slicePort is the port number an EndpointSlice gives the Service port
// named name ("" for an unnamed single port): EndpointSlice ports carry
// the Service port's name and the pods' resolved target port.
func slicePort(sl discoveryv1.EndpointSlice, name string) (int32, bool) {
	for _, p := range sl.Ports {
		n := ""
		if p.Name != nil {
			n = *p.Name
		}
		if n == name && p.Port != nil {
			return *p.Port, true
		}
	}
	return 0, false
}

func portLabel(p corev1.ServicePort) string {
	if p.Name != "" {
		return p.Name
	}
	return strconv.Itoa(int(p.Port))
}

func joinHostPort(host string, port int32) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(int(port))
	}
	return host + ":" + strconv.Itoa(int(port))
}

// endpointHealth maps an endpoint's conditions (discovery.k8s.io/v1
// EndpointConditions) to a health, its reason and, for an endpoint that
// gets no new traffic, why it is not probed. The API says a nil ready is
// unknown and "should be interpreted as ready"; serving is ready
// regardless of terminating.
func endpointHealth(c discoveryv1.EndpointConditions) (health, reason, skip string) {
	ready := c.Ready == nil || *c.Ready
	serving := ready
	if c.Serving != nil {
		serving = *c.Serving
	}
	terminating := c.Terminating != nil && *c.Terminating
	switch {
	case terminating && serving:
		return discovery.HealthDraining, "terminating, still serving", "terminating (draining): the Service sends it no new requests"
	case terminating:
		return discovery.HealthDraining, "terminating", "terminating: the Service sends it no new requests"
	case !ready:
		return discovery.HealthUnhealthy, "not ready", "not ready: the Service sends it no requests"
	case c.Ready == nil:
		return discovery.HealthHealthy, "ready unknown, counted as ready", ""
	}
	return discovery.HealthHealthy, "", ""
}

// uniqueIDs renames the instances of a pod that serves several pools (two
// Services select it, or a route reaches its Service on two ports):
// "<pod>@<pool>", so each ID names one instance.
func uniqueIDs(ins []discovery.Instance) {
	seen := map[string]int{}
	for _, in := range ins {
		seen[in.ID]++
	}
	for i := range ins {
		if seen[ins[i].ID] > 1 {
			ins[i].ID += "@" + ins[i].Pool
		}
	}
}

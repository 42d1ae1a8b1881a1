package kubernetes

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/corsaudit/corsaudit/discovery"
)

// Ingress routing, as the Ingress API documents it
// (https://kubernetes.io/docs/concepts/services-networking/ingress/):
//
//   - A rule's host is exact, or a wildcard "*.foo.com" that matches one
//     DNS label ("bar.foo.com", not "baz.bar.foo.com" nor "foo.com"); a
//     rule without host matches every host ("Hostname wildcards").
//   - pathType Exact matches the path exactly, case-sensitively; Prefix
//     matches element by element on "/" ("/foo/bar" matches "/foo/bar/baz",
//     not "/foo/barbaz"; a trailing "/" is ignored); ImplementationSpecific
//     is up to the controller: matched here as Prefix, and said so in the
//     route's note ("Path types" and its examples table).
//   - Several matching paths: the longest wins, then Exact over Prefix
//     ("Multiple matches"); a request no rule matches goes to the Ingress's
//     defaultBackend, else to the controller's default backend.
//
// Which rules a request is matched against when hosts overlap is not in the
// API: like ingress-nginx (nginx server_name: exact, then wildcard, then the
// default server) and GKE (URL map host rules), the rules of the exact host
// are used, else those of the wildcard host, else the rules without host;
// paths are not matched across those tiers. The AWS Load Balancer
// Controller orders its listener rules by the Ingress's own order instead:
// a route through an Ingress of class alb says so in its note.
//
// ingress-nginx's own behaviour is modelled where it answers requests
// itself, for an Ingress of an nginx class or with nginx.ingress.kubernetes.io
// annotations (rootfs/etc/nginx/template/nginx.tmpl in kubernetes/ingress-nginx):
//
//   - enable-cors: an OPTIONS request from an origin in cors-allow-origin
//     (default "*") is answered 204 by the controller, which also sets the
//     CORS headers of every answer to such an origin (template "CORS",
//     buildCorsOriginRegex); other origins reach the pods. The route says
//     so in its note but stays a forward: the controller's answer carries
//     CORS headers, unlike a fixed response, and sampling through the load
//     balancer observes it.
//   - ssl-redirect (default true for a host in tls:) and
//     force-ssl-redirect: an http request is redirected to https with 308.
//     The CORS 204 comes first: nginx's `return` runs in the rewrite phase
//     before the redirect (rewrite_by_lua).

// ingressBackend is where an Ingress path (or the default backend) sends
// requests.
type ingressBackend struct {
	// ref is the Service; resource, when set, names a resource backend
	// ("StorageBucket static-assets"): not a Service.
	ref      backendRef
	resource string
}

type ingressPath struct {
	path    string
	typ     string // Exact, Prefix, ImplementationSpecific
	backend ingressBackend
}

type ingressRule struct {
	host  string // "" any host, "*.foo.com" wildcard
	paths []ingressPath
}

// ingressRoutes is an Ingress read for routing.
type ingressRoutes struct {
	name  string
	rules []ingressRule
	def   *ingressBackend
	tls   []string // hosts in tls:
	// class is the ingress class ("nginx", "alb"), "" when unset.
	class string
	nginx *nginxBehaviour
}

// nginxBehaviour is what ingress-nginx answers itself.
type nginxBehaviour struct {
	cors bool
	// corsAny: cors-allow-origin is "*" (every origin); else corsOrigin
	// matches the allowed origins as the controller's regex does.
	corsAny     bool
	corsOrigin  *regexp.Regexp
	corsOrigins string
	sslRedirect bool // for hosts in tls:
	forceSSL    bool // every host
	// backendProtocol is the backend-protocol annotation, upper case
	// (HTTP, HTTPS, GRPC, GRPCS, …), "" when unset.
	backendProtocol string
}

const nginxAnnotation = "nginx.ingress.kubernetes.io/"

// parseIngress reads an Ingress's rules, default backend and the
// ingress-nginx annotations corsaudit models.
func parseIngress(ing *networkingv1.Ingress, ns string) (*ingressRoutes, error) {
	r := &ingressRoutes{name: ing.Name}
	backend := func(b networkingv1.IngressBackend, where string) (ingressBackend, error) {
		switch {
		case b.Service != nil:
			port := b.Service.Port.Name
			if port == "" {
				port = strconv.Itoa(int(b.Service.Port.Number))
			}
			if b.Service.Port.Name == "" && b.Service.Port.Number == 0 {
				port = ""
			}
			return ingressBackend{ref: backendRef{Namespace: ns, Name: b.Service.Name, Port: port}}, nil
		case b.Resource != nil:
			return ingressBackend{resource: b.Resource.Kind + " " + b.Resource.Name}, nil
		}
		return ingressBackend{}, fmt.Errorf("kubernetes: ingress %s: %s has neither service nor resource", ing.Name, where)
	}
	if ing.Spec.DefaultBackend != nil {
		b, err := backend(*ing.Spec.DefaultBackend, "defaultBackend")
		if err != nil {
			return nil, err
		}
		r.def = &b
	}
	for i, rule := range ing.Spec.Rules {
		ir := ingressRule{host: strings.ToLower(rule.Host)}
		if rule.HTTP != nil {
			for j, p := range rule.HTTP.Paths {
				b, err := backend(p.Backend, fmt.Sprintf("rules[%d].http.paths[%d].backend", i, j))
				if err != nil {
					return nil, err
				}
				typ := string(networkingv1.PathTypeImplementationSpecific)
				if p.PathType != nil {
					typ = string(*p.PathType)
				}
				ir.paths = append(ir.paths, ingressPath{path: p.Path, typ: typ, backend: b})
			}
		}
		r.rules = append(r.rules, ir)
	}
	for _, t := range ing.Spec.TLS {
		for _, h := range t.Hosts {
			r.tls = append(r.tls, strings.ToLower(h))
		}
	}
	if ing.Spec.IngressClassName != nil {
		r.class = *ing.Spec.IngressClassName
	} else {
		r.class = ing.Annotations["kubernetes.io/ingress.class"]
	}
	r.nginx = parseNginx(ing.Annotations, r.class)
	return r, nil
}

// corsOriginRE is ingress-nginx's check of one cors-allow-origin entry
// (internal/ingress/annotations/cors/main.go); entries that fail it are
// skipped by the controller.
var corsOriginRE = regexp.MustCompile(`^([a-z]+://(\*\.)?[A-Za-z0-9\-.]*(:\d+)?|\*|null)?$`)

// parseNginx reads the ingress-nginx annotations, nil when the Ingress is
// not for ingress-nginx.
func parseNginx(ann map[string]string, class string) *nginxBehaviour {
	nginx := strings.Contains(class, "nginx")
	for k := range ann {
		if strings.HasPrefix(k, nginxAnnotation) {
			nginx = true
		}
	}
	if !nginx {
		return nil
	}
	n := &nginxBehaviour{cors: ann[nginxAnnotation+"enable-cors"] == "true",
		sslRedirect:     ann[nginxAnnotation+"ssl-redirect"] != "false",
		forceSSL:        ann[nginxAnnotation+"force-ssl-redirect"] == "true",
		backendProtocol: strings.ToUpper(ann[nginxAnnotation+"backend-protocol"])}
	origins, set := ann[nginxAnnotation+"cors-allow-origin"]
	if !set {
		n.corsAny = true
		return n
	}
	// buildCorsOriginRegex: "(origin)|(origin)…" matched case-insensitively
	// against the whole Origin header's end ($http_origin ~* (…)$), each
	// origin quoted, its first "*" one DNS label.
	var alts []string
	for _, o := range strings.Split(origins, ",") {
		o = strings.TrimSpace(o)
		switch {
		case o == "":
		case o == "*":
			n.corsAny = true
			return n
		case corsOriginRE.MatchString(o):
			alts = append(alts, "("+strings.Replace(regexp.QuoteMeta(o), `\*`, `[A-Za-z0-9\-]+`, 1)+")")
		}
	}
	n.corsOrigins = origins
	if len(alts) > 0 {
		n.corsOrigin = regexp.MustCompile("(?i)(" + strings.Join(alts, "|") + ")$")
	}
	return n
}

func (r *ingressRoutes) backends() []backendRef {
	var out []backendRef
	add := func(b ingressBackend) {
		if b.resource == "" {
			out = append(out, b.ref)
		}
	}
	for _, rule := range r.rules {
		for _, p := range rule.paths {
			add(p.backend)
		}
	}
	if r.def != nil {
		add(*r.def)
	}
	return out
}

func (r *ingressRoutes) weightOf(map[backendRef]string, string) int { return 0 }

// backendScheme: ingress-nginx reaches the pods over TLS when its
// backend-protocol annotation is HTTPS or GRPCS, in clear for HTTP or GRPC.
func (r *ingressRoutes) backendScheme() string {
	if r.nginx == nil {
		return ""
	}
	switch r.nginx.backendProtocol {
	case "HTTPS", "GRPCS":
		return "https"
	case "HTTP", "GRPC":
		return "http"
	}
	return ""
}

// publicURL is the URL of the Ingress's first host rule with its first
// Exact or Prefix path, https when the host is in tls:; "" when every rule
// is for any host or a wildcard.
func (r *ingressRoutes) publicURL() string {
	for _, rule := range r.rules {
		if rule.host == "" || strings.HasPrefix(rule.host, "*.") {
			continue
		}
		scheme := "http"
		if r.hasTLS(rule.host) {
			scheme = "https"
		}
		path := "/"
		for _, p := range rule.paths {
			if p.typ == string(networkingv1.PathTypeExact) || p.typ == string(networkingv1.PathTypePrefix) {
				path = p.path
				break
			}
		}
		return (&url.URL{Scheme: scheme, Host: rule.host, Path: path}).String()
	}
	return ""
}

func (r *ingressRoutes) hasTLS(host string) bool {
	for _, h := range r.tls {
		if h == host || (strings.HasPrefix(h, "*.") && wildcardLabel(h, host)) {
			return true
		}
	}
	return false
}

func (r *ingressRoutes) router(poolOf map[backendRef]string) discovery.Router {
	return &ingressRouter{r: r, poolOf: poolOf}
}

// ingressRouter answers where an Ingress sends a request.
type ingressRouter struct {
	r      *ingressRoutes
	poolOf map[backendRef]string
}

// wildcardLabel reports whether host matches "*.suffix" with exactly one
// DNS label in place of the "*".
func wildcardLabel(pattern, host string) bool {
	suffix := pattern[1:] // ".foo.com"
	label, ok := strings.CutSuffix(host, suffix)
	return ok && label != "" && !strings.Contains(label, ".")
}

// ingressPrefixMatch is the Prefix path type: element-wise, a trailing
// "/" of either ignored.
func ingressPrefixMatch(prefix, path string) bool {
	p := strings.TrimSuffix(prefix, "/")
	return p == "" || path == p || strings.HasPrefix(path, p+"/")
}

// Route implements discovery.Router.
func (ir *ingressRouter) Route(req discovery.Request) []discovery.Route {
	host := strings.ToLower(req.URL.Hostname())
	path := req.URL.Path
	if path == "" {
		path = "/"
	}
	route, notes := ir.match(ir.r.hostTier(host), path)
	if ir.r.class == "alb" {
		notes = append(notes, "class alb: the AWS Load Balancer Controller orders listener rules as the Ingress lists them, not by path length; the aws provider reads the ALB's actual rules")
	}
	if n := ir.r.nginx; n != nil && route.Action == discovery.ActionForward {
		notes = ir.r.nginxRoute(n, req, host, &route, notes)
	}
	route.Note = strings.Join(notes, "; ")
	return []discovery.Route{route}
}

// hostTier is the tier of rules (indexes in r.rules) the host selects:
// those naming it, else those whose wildcard covers it, else those for
// any host.
func (r *ingressRoutes) hostTier(host string) []int {
	var tier []int
	for _, want := range []func(string) bool{
		func(h string) bool { return h == host },
		func(h string) bool { return strings.HasPrefix(h, "*.") && wildcardLabel(h, host) },
		func(h string) bool { return h == "" },
	} {
		for i, rule := range r.rules {
			if want(rule.host) {
				tier = append(tier, i)
			}
		}
		if len(tier) > 0 {
			break
		}
	}
	return tier
}

// match routes path by the best path of the rules of tier (the longest,
// then Exact over Prefix, then the first), else the default backend, else
// nothing: the route and its notes.
func (ir *ingressRouter) match(tier []int, path string) (discovery.Route, []string) {
	r := ir.r
	best, bestRule := -1, -1
	var bestPath ingressPath
	for _, i := range tier {
		for _, p := range r.rules[i].paths {
			match := p.path == path
			if p.typ != string(networkingv1.PathTypeExact) {
				match = ingressPrefixMatch(p.path, path)
			}
			if !match {
				continue
			}
			// Longest path, then Exact over Prefix, then the first.
			score := len(p.path) * 2
			if p.typ == string(networkingv1.PathTypeExact) {
				score++
			}
			if score > best {
				best, bestRule, bestPath = score, i, p
			}
		}
	}
	var notes []string
	switch {
	case bestRule >= 0:
		hostDesc := "any host"
		if h := r.rules[bestRule].host; h != "" {
			hostDesc = "host " + h
		}
		p := bestPath.path
		if p == "" {
			p = "/"
		}
		route := ir.to(bestPath.backend, fmt.Sprintf("ingress %s: %s, path %s (%s)", r.name, hostDesc, p, bestPath.typ))
		if bestPath.typ == string(networkingv1.PathTypeImplementationSpecific) {
			notes = append(notes, "pathType ImplementationSpecific matched as Prefix; the ingress controller decides (ingress-nginx with use-regex: a regular expression)")
		}
		return route, notes
	case r.def != nil:
		return ir.to(*r.def, "ingress "+r.name+": default backend"), nil
	}
	return discovery.Route{Rule: "ingress " + r.name + ": no rule matches", Action: discovery.ActionNone,
		Detail: "the ingress controller's default backend answers (ingress-nginx: 404)"}, nil
}

// nginxRoute applies what ingress-nginx does before a forward: answer a
// CORS preflight itself, redirect to https, or set the CORS headers. It
// may make route a redirect, and returns notes with its own added.
func (r *ingressRoutes) nginxRoute(n *nginxBehaviour, req discovery.Request, host string, route *discovery.Route, notes []string) []string {
	origin := req.Header.Get("Origin")
	corsOK := n.cors && (n.corsAny || (n.corsOrigin != nil && origin != "" && n.corsOrigin.MatchString(origin)))
	switch {
	case corsOK && req.Method == "OPTIONS":
		// The controller answers with CORS headers of its own: not a
		// fixed response without them (which every preflight fails),
		// so the route stays a forward, audited at the pods and
		// sampled through the load balancer, where the controller's
		// answer shows (lb-mismatch when it differs).
		acao := origin
		if n.corsAny {
			acao = "*"
		}
		notes = append(notes, "ingress-nginx enable-cors answers this OPTIONS itself (204, Access-Control-Allow-Origin: "+acao+
			"): through the load balancer browsers get the controller's answer, not the pods'")
	case req.URL.Scheme == "http" && (n.forceSSL || (n.sslRedirect && r.hasTLS(host))):
		// lua force_ssl_redirect: https://$host, the https port
		// (443 assumed), the request URI.
		loc := *req.URL
		loc.Scheme, loc.Host = "https", req.URL.Hostname()
		if strings.Contains(loc.Host, ":") {
			loc.Host = "[" + loc.Host + "]"
		}
		route.Action, route.Pools = discovery.ActionRedirect, nil
		route.Detail = "308 to " + loc.String() + " (ingress-nginx ssl-redirect)"
	case corsOK:
		notes = append(notes, "ingress-nginx enable-cors sets the CORS headers of this answer, over the app's")
	case n.cors:
		notes = append(notes, "ingress-nginx enable-cors: this origin is not in cors-allow-origin "+strconv.Quote(n.corsOrigins)+", the app answers")
	}
	return notes
}

// to is the route to an Ingress backend.
func (ir *ingressRouter) to(b ingressBackend, rule string) discovery.Route {
	if b.resource != "" {
		return discovery.Route{Rule: rule, Action: discovery.ActionNone, Detail: "resource backend " + b.resource + ": not a Service, no pod answers"}
	}
	return discovery.Route{Rule: rule, Action: discovery.ActionForward, Pools: []discovery.Pool{{Name: ir.poolOf[b.ref]}}}
}

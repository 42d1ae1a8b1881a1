package gcptest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// SelfLinkBase is how the real API spells resource URLs; the client never
// dials them.
const SelfLinkBase = "https://www.googleapis.com/compute/v1/projects/"

// Obj is one JSON object of the compute REST API (camelCase fields).
type Obj = map[string]any

// Error is an error envelope the fake answers with.
type Error struct {
	Code    int    // HTTP status
	Reason  string // errors[0].reason: forbidden, notFound, accessNotConfigured...
	Message string
}

// Server serves the compute v1 REST paths the provider uses, from
// in-memory resources keyed by their path under projects/<project>/, e.g.
// "global/backendServices/shop" or "zones/z/instanceGroups/blue". It checks
// what it receives (methods, page sizes, filters, no credentials) and counts
// calls.
type Server struct {
	t       testing.TB
	url     string
	project string
	// pageSize caps the items per page (0: the client's maxResults).
	pageSize int

	mu sync.Mutex
	// objects answers GETs of single resources.
	objects map[string]Obj
	// lists holds collections (see Add).
	lists map[string][]Obj
	// errs answers a path (without query) with an error envelope.
	errs map[string]Error
	// block, when set, holds every request until the client gives up.
	block bool
	// calls counts requests by "METHOD path-pattern".
	calls map[string]int
	total int
}

// NewServer starts a fake for project on loopback; it stops when the test
// ends.
func NewServer(t testing.TB, project string) *Server {
	f := &Server{t: t, project: project, objects: map[string]Obj{}, lists: map[string][]Obj{},
		errs: map[string]Error{}, calls: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// URL is the endpoint to configure (http://127.0.0.1:port).
func (f *Server) URL() string { return f.url }

// SetPageSize caps the items per page (0: the client's maxResults).
func (f *Server) SetPageSize(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pageSize = n
}

// SetBlock makes every request wait until the client gives up.
func (f *Server) SetBlock(b bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.block = b
}

// SetError answers requests for path (under projects/<project>/, without
// query; "iap:" and the resource name for the IAP settings of a resource)
// with the API's error envelope.
func (f *Server) SetError(path string, e Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[path] = e
}

// Calls returns a copy of the request counts by "METHOD path-pattern".
func (f *Server) Calls() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.calls)
}

// SelfLink is the resource URL of path, as the API spells it.
func (f *Server) SelfLink(path string) string { return SelfLinkBase + f.project + "/" + path }

// Put stores a single resource at path (e.g. "zones/z/networkEndpointGroups/n")
// with its selfLink, and returns it.
func (f *Server) Put(path string, o Obj) Obj {
	f.mu.Lock()
	defer f.mu.Unlock()
	o["selfLink"] = f.SelfLink(path)
	f.objects[path] = o
	return o
}

// Object is the resource stored at path (nil when none is): change it and
// Put it back.
func (f *Server) Object(path string) Obj {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.objects[path]
}

// Add appends items to a collection: "zones/z/instances", "global/urlMaps",
// "regions/r/forwardingRules", "zones/z/instanceGroups/g/listInstances"
// (members), "zones/z/networkEndpointGroups/n/listNetworkEndpoints", or
// "<backend service path>/getHealth|<group path>" (health statuses).
func (f *Server) Add(list string, items ...Obj) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists[list] = append(f.lists[list], items...)
}

// CallCount returns the number of requests whose pattern contains s, and
// the total.
func (f *Server) CallCount(s string) (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k, v := range f.calls {
		if strings.Contains(k, s) {
			n += v
		}
	}
	return n, f.total
}

var (
	// Patterns replace names by {} for counting.
	patternRE = regexp.MustCompile(`(zones|regions|backendServices|instanceGroups|networkEndpointGroups)/[^/]+`)
	// filterRE is the only filter shape the provider sends.
	filterRE = regexp.MustCompile(`^name eq "(.*)"$`)
)

func (f *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/v1/"), ":iapSettings"); ok && r.Method == http.MethodGet {
		f.serveIAP(w, r, name)
		return
	}
	prefix := "/compute/v1/projects/" + f.project + "/"
	path := strings.TrimPrefix(r.URL.Path, prefix)
	f.mu.Lock()
	f.calls[r.Method+" "+patternRE.ReplaceAllString(path, "$1/{}")]++
	f.total++
	block := f.block
	fe, hasErr := f.errs[path]
	f.mu.Unlock()

	if block {
		<-r.Context().Done()
		return
	}
	if !strings.HasPrefix(r.URL.Path, prefix) {
		f.fail(w, Error{Code: 404, Reason: "notFound", Message: "The resource '" + r.URL.Path + "' was not found"})
		return
	}
	if got := r.Header.Get("Authorization"); got != "" {
		f.t.Errorf("fake compute: %s %s sent credentials %q to an http:// endpoint", r.Method, path, got)
	}
	if hasErr {
		f.fail(w, fe)
		return
	}
	if mr := r.URL.Query().Get("maxResults"); mr != "" {
		if n, err := strconv.Atoi(mr); err != nil || n < 1 || n > 500 {
			f.t.Errorf("fake compute: %s maxResults=%q, want 1-500", path, mr)
		}
	}
	parts := strings.Split(path, "/")
	last := parts[len(parts)-1]
	// global/<collection> or zones|regions/<scope>/<collection>
	isCollection := (parts[0] == "global" && len(parts) == 2) || (parts[0] != "global" && len(parts) == 3)
	switch {
	case r.Method == http.MethodPost && last == "getHealth":
		var body struct {
			Group string `json:"group"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Group == "" {
			f.t.Errorf("fake compute: getHealth body: group missing (%v)", err)
		}
		group := strings.TrimPrefix(body.Group, SelfLinkBase+f.project+"/")
		f.mu.Lock()
		hs := f.lists[path+"|"+group]
		f.mu.Unlock()
		writeJSON(w, Obj{"kind": "compute#backendServiceGroupHealth", "healthStatus": hs})
	case r.Method == http.MethodPost && (last == "listInstances" || last == "listNetworkEndpoints"):
		f.page(w, r, path, nil)
	case r.Method == http.MethodGet && isCollection:
		// A collection: global/urlMaps, zones/z/instances...
		var keep func(Obj) bool
		if flt := r.URL.Query().Get("filter"); flt != "" {
			m := filterRE.FindStringSubmatch(flt)
			if m == nil {
				f.fail(w, Error{Code: 400, Reason: "invalid", Message: "Invalid value for field 'filter': '" + flt + "'"})
				return
			}
			re, err := regexp.Compile("^(?:" + m[1] + ")$")
			if err != nil {
				f.fail(w, Error{Code: 400, Reason: "invalid", Message: err.Error()})
				return
			}
			keep = func(o Obj) bool { return re.MatchString(fmt.Sprint(o["name"])) }
		}
		f.page(w, r, path, keep)
	case r.Method == http.MethodGet:
		f.mu.Lock()
		o, ok := f.objects[path]
		f.mu.Unlock()
		if !ok {
			f.fail(w, Error{Code: 404, Reason: "notFound", Message: fmt.Sprintf("The resource 'projects/%s/%s' was not found", f.project, path)})
			return
		}
		writeJSON(w, o)
	default:
		f.t.Errorf("fake compute: unexpected %s %s", r.Method, path)
		f.fail(w, Error{Code: 400, Reason: "badRequest", Message: "unexpected request"})
	}
}

// IAPSettings stores the IAP settings of a backend service (the IAP API's
// resource name, projects/P/iap_web/compute/services/S): whether they let
// OPTIONS through (accessSettings.corsSettings.allowHttpOptions).
func (f *Server) IAPSettings(name string, allowHTTPOptions bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := Obj{"name": name, "accessSettings": Obj{"corsSettings": Obj{"allowHttpOptions": allowHTTPOptions}}}
	if !allowHTTPOptions {
		o["accessSettings"] = Obj{} // the API leaves unset settings out
	}
	f.objects["iap:"+name] = o
}

// serveIAP answers GET /v1/{name}:iapSettings of the IAP API.
func (f *Server) serveIAP(w http.ResponseWriter, r *http.Request, name string) {
	f.mu.Lock()
	f.calls["GET iap/{}:iapSettings"]++
	f.total++
	o, ok := f.objects["iap:"+name]
	e, failed := f.errs["iap:"+name]
	f.mu.Unlock()
	if failed {
		f.fail(w, e)
		return
	}
	if got := r.Header.Get("Authorization"); got != "" {
		f.t.Errorf("fake iap: GET %s sent credentials %q to an http:// endpoint", name, got)
	}
	if !ok {
		f.fail(w, Error{Code: 404, Reason: "notFound", Message: "IAP settings of " + name + " not found"})
		return
	}
	writeJSON(w, o)
}

// page answers one page of a list: items, nextPageToken (an offset).
func (f *Server) page(w http.ResponseWriter, r *http.Request, path string, keep func(Obj) bool) {
	f.mu.Lock()
	var items []Obj
	for _, o := range f.lists[path] {
		if keep == nil || keep(o) {
			items = append(items, o)
		}
	}
	size := f.pageSize
	f.mu.Unlock()
	if mr, err := strconv.Atoi(r.URL.Query().Get("maxResults")); err == nil && (size == 0 || mr < size) {
		size = mr
	}
	if size == 0 {
		size = 500
	}
	start := 0
	if tok := r.URL.Query().Get("pageToken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n > len(items) {
			f.fail(w, Error{Code: 400, Reason: "invalid", Message: "Invalid page token"})
			return
		}
		start = n
	}
	end := min(start+size, len(items))
	resp := Obj{"kind": "compute#list", "id": "projects/" + f.project + "/" + path, "items": items[start:end],
		"selfLink": f.SelfLink(path)}
	if end < len(items) {
		resp["nextPageToken"] = strconv.Itoa(end)
	}
	writeJSON(w, resp)
}

// fail writes the API's error envelope.
func (f *Server) fail(w http.ResponseWriter, e Error) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(e.Code)
	json.NewEncoder(w).Encode(Obj{"error": Obj{"code": e.Code, "message": e.Message,
		"errors": []Obj{{"message": e.Message, "domain": "global", "reason": e.Reason}}}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	json.NewEncoder(w).Encode(v)
}

// The builders below lay out a project the way the API reports it.

// VM adds an instance to its zone's list.
func (f *Server) VM(zone, name, networkIP, natIP, status string) string {
	nic := Obj{"name": "nic0", "networkIP": networkIP, "network": f.SelfLink("global/networks/default")}
	if natIP != "" {
		nic["accessConfigs"] = []Obj{{"kind": "compute#accessConfig", "type": "ONE_TO_ONE_NAT", "name": "External NAT", "natIP": natIP}}
	}
	link := f.SelfLink("zones/" + zone + "/instances/" + name)
	f.Add("zones/"+zone+"/instances", Obj{"kind": "compute#instance", "name": name, "status": status, "selfLink": link,
		"zone": f.SelfLink("zones/" + zone), "machineType": f.SelfLink("zones/" + zone + "/machineTypes/e2-small"),
		"networkInterfaces": []Obj{nic}})
	return link
}

// BackendService adds a backend service (path "global/backendServices/x"
// or "regions/r/backendServices/x") with groups as backends.
func (f *Server) BackendService(path, protocol, portName string, groups ...string) string {
	var backends []Obj
	for _, g := range groups {
		backends = append(backends, Obj{"group": f.SelfLink(g), "balancingMode": "UTILIZATION", "capacityScaler": 1})
	}
	name := path[strings.LastIndex(path, "/")+1:]
	return f.Put(path, Obj{"kind": "compute#backendService", "name": name, "protocol": protocol, "portName": portName,
		"backends": backends, "healthChecks": []string{f.SelfLink("global/healthChecks/hc")}})["selfLink"].(string)
}

// GroupMember adds an instance (by self link) to an instance group
// listing with its named ports.
func (f *Server) GroupMember(group, vmLink, status string, ports map[string]int) {
	var nps []Obj
	names := make([]string, 0, len(ports))
	for n := range ports {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		nps = append(nps, Obj{"name": n, "port": ports[n]})
	}
	f.Add(group+"/listInstances", Obj{"instance": vmLink, "status": status, "namedPorts": nps})
}

// Health adds a getHealth status of a group of a backend service.
func (f *Server) Health(service, group string, h Obj) {
	f.Add(service+"/getHealth|"+group, h)
}

// Frontend lays out one load balancer in scope "global" or "regions/r":
// forwarding rule lb-rule (ip, portRange) -> target proxy lb-proxy (HTTPS
// or HTTP) -> URL map lb-map, whose host rule "*" sends every path to
// service except /static/* (backend bucket assets) and /other/* (backend
// service other); plus a URL map other-map for another service and a
// forwarding rule to a proxy not listed.
func (f *Server) Frontend(scope, service string, https bool, ip, portRange string) {
	other := f.SelfLink(scope + "/backendServices/other")
	f.URLMap(scope, "other-map", Obj{"defaultService": other})
	um := f.URLMap(scope, "lb-map", Obj{"defaultService": other,
		"hostRules": []Obj{HostRule("api", "*")},
		"pathMatchers": []Obj{{"name": "api", "defaultService": service, "pathRules": []Obj{
			PathRule(f.BackendBucket("assets"), "/static/*"), PathRule(other, "/other/*")}}}})
	proxy := f.TargetProxy(scope, "lb-proxy", https, um)
	f.ForwardingRule(scope, "unrelated", "192.0.2.1", "80-80", f.SelfLink(scope+"/targetHttpProxies/x"))
	f.ForwardingRule(scope, "lb-rule", ip, portRange, proxy)
}

// URLMap adds a URL map (scope "global" or "regions/r") with the given
// fields (defaultService, hostRules, pathMatchers...) and returns its self
// link.
func (f *Server) URLMap(scope, name string, fields Obj) string {
	m := Obj{"kind": "compute#urlMap", "name": name, "selfLink": f.SelfLink(scope + "/urlMaps/" + name)}
	maps.Copy(m, fields)
	f.Add(scope+"/urlMaps", m)
	return m["selfLink"].(string)
}

// TargetProxy adds an HTTPS (https set) or HTTP target proxy using urlMap
// and returns its self link.
func (f *Server) TargetProxy(scope, name string, https bool, urlMap string) string {
	kind := "targetHttpProxies"
	if https {
		kind = "targetHttpsProxies"
	}
	link := f.SelfLink(scope + "/" + kind + "/" + name)
	f.Add(scope+"/"+kind, Obj{"name": name, "selfLink": link, "urlMap": urlMap})
	return link
}

// ForwardingRule adds a forwarding rule sending ip:portRange to target.
func (f *Server) ForwardingRule(scope, name, ip, portRange, target string) {
	f.Add(scope+"/forwardingRules", Obj{"name": name, "IPAddress": ip, "IPProtocol": "TCP", "portRange": portRange,
		"target": target, "loadBalancingScheme": "EXTERNAL_MANAGED", "selfLink": f.SelfLink(scope + "/forwardingRules/" + name)})
}

// BackendBucket is the self link of a global backend bucket (the provider
// never reads buckets, only names them).
func (f *Server) BackendBucket(name string) string {
	return f.SelfLink("global/backendBuckets/" + name)
}

// HostRule is a URL map host rule: hosts -> path matcher.
func HostRule(pathMatcher string, hosts ...string) Obj {
	return Obj{"hosts": hosts, "pathMatcher": pathMatcher}
}

// PathRule is a path matcher's path rule: paths -> service (a backend
// service or bucket link).
func PathRule(service string, paths ...string) Obj {
	return Obj{"paths": paths, "service": service}
}

// Weighted is a route action splitting traffic over backend services:
// service link, weight, service link, weight...
func Weighted(pairs ...any) Obj {
	var ws []Obj
	for i := 0; i+1 < len(pairs); i += 2 {
		ws = append(ws, Obj{"backendService": pairs[i], "weight": pairs[i+1]})
	}
	return Obj{"weightedBackendServices": ws}
}

// Package gcptest is a fake of the Compute Engine v1 REST API for tests: the
// paths, JSON shapes (camelCase fields, items, nextPageToken) and error
// envelopes of the API reference, for the calls the gcp provider makes. It
// serves on loopback, checks what it receives and counts calls.
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
// query) with the API's error envelope.
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

// Frontend routes url map -> proxy -> forwarding rule to a backend service,
// in scope "global" or "regions/r".
func (f *Server) Frontend(scope, service string, https bool, ip, portRange string) {
	um := f.SelfLink(scope + "/urlMaps/lb-map")
	f.Add(scope+"/urlMaps",
		Obj{"name": "other-map", "selfLink": f.SelfLink(scope + "/urlMaps/other-map"),
			"defaultService": f.SelfLink(scope + "/backendServices/other")},
		Obj{"name": "lb-map", "selfLink": um, "defaultService": f.SelfLink(scope + "/backendServices/other"),
			"pathMatchers": []Obj{{"name": "api", "defaultService": f.SelfLink(scope + "/backendServices/other"),
				"pathRules": []Obj{{"paths": []string{"/api/*"}, "service": service}}}}})
	kind := "targetHttpProxies"
	if https {
		kind = "targetHttpsProxies"
	}
	proxy := f.SelfLink(scope + "/" + kind + "/lb-proxy")
	f.Add(scope+"/"+kind, Obj{"name": "lb-proxy", "selfLink": proxy, "urlMap": um})
	f.Add(scope+"/forwardingRules",
		Obj{"name": "unrelated", "IPAddress": "192.0.2.1", "portRange": "80-80", "target": f.SelfLink(scope + "/targetHttpProxies/x")},
		Obj{"name": "lb-rule", "IPAddress": ip, "IPProtocol": "TCP", "portRange": portRange, "target": proxy,
			"loadBalancingScheme": "EXTERNAL_MANAGED"})
}

package gcp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// selfLinkBase is how the real API spells resource URLs; the client never
// dials them.
const selfLinkBase = "https://www.googleapis.com/compute/v1/projects/"

// obj is one JSON object of the compute REST API (camelCase fields).
type obj = map[string]any

// fakeError is an error envelope the fake answers with.
type fakeError struct {
	code    int
	reason  string
	message string
}

// fakeCompute serves the compute v1 REST paths the provider uses, from
// in-memory resources keyed by their path under projects/<project>/, e.g.
// "global/backendServices/shop" or "zones/z/instanceGroups/blue". It checks
// what it receives (methods, page sizes, filters, no credentials) and counts
// calls.
type fakeCompute struct {
	t       *testing.T
	project string
	// pageSize caps the items per page (0: the client's maxResults).
	pageSize int

	mu sync.Mutex
	// objects answers GETs of single resources.
	objects map[string]obj
	// lists holds collections: "zones/z/instances", "global/urlMaps",
	// "zones/z/instanceGroups/g/listInstances" (members),
	// "zones/z/networkEndpointGroups/n/listNetworkEndpoints",
	// "<backend service path>/getHealth|<group path>" (health statuses).
	lists map[string][]obj
	// errs answers a path (without query) with an error envelope.
	errs map[string]fakeError
	// block, when set, holds every request until the client gives up.
	block bool
	// calls counts requests by "METHOD path-pattern".
	calls map[string]int
	total int
}

func newFakeCompute(t *testing.T, project string) *fakeCompute {
	return &fakeCompute{t: t, project: project, objects: map[string]obj{}, lists: map[string][]obj{},
		errs: map[string]fakeError{}, calls: map[string]int{}}
}

// start serves the fake on loopback and returns its endpoint.
func (f *fakeCompute) start() string {
	srv := httptest.NewServer(f)
	f.t.Cleanup(srv.Close)
	return srv.URL
}

func (f *fakeCompute) selfLink(path string) string { return selfLinkBase + f.project + "/" + path }

func (f *fakeCompute) put(path string, o obj) obj {
	f.mu.Lock()
	defer f.mu.Unlock()
	o["selfLink"] = f.selfLink(path)
	f.objects[path] = o
	return o
}

func (f *fakeCompute) add(list string, items ...obj) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists[list] = append(f.lists[list], items...)
}

// callCount returns the number of requests whose pattern contains s, and
// the total.
func (f *fakeCompute) callCount(s string) (int, int) {
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

func (f *fakeCompute) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
		f.fail(w, fakeError{code: 404, reason: "notFound", message: "The resource '" + r.URL.Path + "' was not found"})
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
		group := strings.TrimPrefix(body.Group, selfLinkBase+f.project+"/")
		f.mu.Lock()
		hs := f.lists[path+"|"+group]
		f.mu.Unlock()
		writeJSON(w, obj{"kind": "compute#backendServiceGroupHealth", "healthStatus": hs})
	case r.Method == http.MethodPost && (last == "listInstances" || last == "listNetworkEndpoints"):
		f.page(w, r, path, nil)
	case r.Method == http.MethodGet && isCollection:
		// A collection: global/urlMaps, zones/z/instances...
		var keep func(obj) bool
		if flt := r.URL.Query().Get("filter"); flt != "" {
			m := filterRE.FindStringSubmatch(flt)
			if m == nil {
				f.fail(w, fakeError{code: 400, reason: "invalid", message: "Invalid value for field 'filter': '" + flt + "'"})
				return
			}
			re, err := regexp.Compile("^(?:" + m[1] + ")$")
			if err != nil {
				f.fail(w, fakeError{code: 400, reason: "invalid", message: err.Error()})
				return
			}
			keep = func(o obj) bool { return re.MatchString(fmt.Sprint(o["name"])) }
		}
		f.page(w, r, path, keep)
	case r.Method == http.MethodGet:
		f.mu.Lock()
		o, ok := f.objects[path]
		f.mu.Unlock()
		if !ok {
			f.fail(w, fakeError{code: 404, reason: "notFound",
				message: fmt.Sprintf("The resource 'projects/%s/%s' was not found", f.project, path)})
			return
		}
		writeJSON(w, o)
	default:
		f.t.Errorf("fake compute: unexpected %s %s", r.Method, path)
		f.fail(w, fakeError{code: 400, reason: "badRequest", message: "unexpected request"})
	}
}

// page answers one page of a list: items, nextPageToken (an offset).
func (f *fakeCompute) page(w http.ResponseWriter, r *http.Request, path string, keep func(obj) bool) {
	f.mu.Lock()
	var items []obj
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
			f.fail(w, fakeError{code: 400, reason: "invalid", message: "Invalid page token"})
			return
		}
		start = n
	}
	end := min(start+size, len(items))
	resp := obj{"kind": "compute#list", "id": "projects/" + f.project + "/" + path, "items": items[start:end],
		"selfLink": f.selfLink(path)}
	if end < len(items) {
		resp["nextPageToken"] = strconv.Itoa(end)
	}
	writeJSON(w, resp)
}

// fail writes the API's error envelope.
func (f *fakeCompute) fail(w http.ResponseWriter, e fakeError) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(e.code)
	json.NewEncoder(w).Encode(obj{"error": obj{"code": e.code, "message": e.message,
		"errors": []obj{{"message": e.message, "domain": "global", "reason": e.reason}}}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	json.NewEncoder(w).Encode(v)
}

// The builders below lay out a project the way the API reports it.

// vm adds an instance to its zone's list.
func (f *fakeCompute) vm(zone, name, networkIP, natIP, status string) string {
	nic := obj{"name": "nic0", "networkIP": networkIP, "network": f.selfLink("global/networks/default")}
	if natIP != "" {
		nic["accessConfigs"] = []obj{{"kind": "compute#accessConfig", "type": "ONE_TO_ONE_NAT", "name": "External NAT", "natIP": natIP}}
	}
	link := f.selfLink("zones/" + zone + "/instances/" + name)
	f.add("zones/"+zone+"/instances", obj{"kind": "compute#instance", "name": name, "status": status, "selfLink": link,
		"zone": f.selfLink("zones/" + zone), "machineType": f.selfLink("zones/" + zone + "/machineTypes/e2-small"),
		"networkInterfaces": []obj{nic}})
	return link
}

// backendService adds a backend service (path "global/backendServices/x"
// or "regions/r/backendServices/x") with groups as backends.
func (f *fakeCompute) backendService(path, protocol, portName string, groups ...string) string {
	var backends []obj
	for _, g := range groups {
		backends = append(backends, obj{"group": f.selfLink(g), "balancingMode": "UTILIZATION", "capacityScaler": 1})
	}
	name := path[strings.LastIndex(path, "/")+1:]
	return f.put(path, obj{"kind": "compute#backendService", "name": name, "protocol": protocol, "portName": portName,
		"backends": backends, "healthChecks": []string{f.selfLink("global/healthChecks/hc")}})["selfLink"].(string)
}

// groupMember adds an instance (by self link) to an instance group
// listing with its named ports.
func (f *fakeCompute) groupMember(group, vmLink, status string, ports map[string]int) {
	var nps []obj
	names := make([]string, 0, len(ports))
	for n := range ports {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		nps = append(nps, obj{"name": n, "port": ports[n]})
	}
	f.add(group+"/listInstances", obj{"instance": vmLink, "status": status, "namedPorts": nps})
}

// health adds a getHealth status of a group of a backend service.
func (f *fakeCompute) health(service, group string, h obj) {
	f.add(service+"/getHealth|"+group, h)
}

// frontend routes url map -> proxy -> forwarding rule to a backend service,
// in scope "global" or "regions/r".
func (f *fakeCompute) frontend(scope, service string, https bool, ip, portRange string) {
	um := f.selfLink(scope + "/urlMaps/lb-map")
	f.add(scope+"/urlMaps",
		obj{"name": "other-map", "selfLink": f.selfLink(scope + "/urlMaps/other-map"),
			"defaultService": f.selfLink(scope + "/backendServices/other")},
		obj{"name": "lb-map", "selfLink": um, "defaultService": f.selfLink(scope + "/backendServices/other"),
			"pathMatchers": []obj{{"name": "api", "defaultService": f.selfLink(scope + "/backendServices/other"),
				"pathRules": []obj{{"paths": []string{"/api/*"}, "service": service}}}}})
	kind := "targetHttpProxies"
	if https {
		kind = "targetHttpsProxies"
	}
	proxy := f.selfLink(scope + "/" + kind + "/lb-proxy")
	f.add(scope+"/"+kind, obj{"name": "lb-proxy", "selfLink": proxy, "urlMap": um})
	f.add(scope+"/forwardingRules",
		obj{"name": "unrelated", "IPAddress": "192.0.2.1", "portRange": "80-80", "target": f.selfLink(scope + "/targetHttpProxies/x")},
		obj{"name": "lb-rule", "IPAddress": ip, "IPProtocol": "TCP", "portRange": portRange, "target": proxy,
			"loadBalancingScheme": "EXTERNAL_MANAGED"})
}

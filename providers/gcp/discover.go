package gcp

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"cloud.google.com/go/compute/apiv1/computepb"

	"github.com/corsaudit/corsaudit/discovery"
)

// maxFilterLen keeps an instances list filter (and so the request URL,
// about 8 KiB at most) short; longer name lists are split over several calls.
const maxFilterLen = 3000

// discoverer runs one Discover.
type discoverer struct {
	cfg Config
	api computeAPI
}

// call runs f with the per-call timeout inside ctx and explains its error.
func (d *discoverer) call(ctx context.Context, c callSpec, f func(ctx context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, d.cfg.CallTimeout)
	defer cancel()
	if c.project == "" {
		c.project = d.cfg.Project
	}
	if err := f(cctx); err != nil {
		return explain(ctx, c, d.cfg.CallTimeout, err)
	}
	return nil
}

// regional returns the permission name of the regional variant of a global
// resource's permission (compute.backendServices.get ->
// compute.regionBackendServices.get) when the config names a region.
func (d *discoverer) regional(perm string) string {
	if d.cfg.Region == "" {
		return perm
	}
	rest := strings.TrimPrefix(perm, "compute.")
	return "compute.region" + strings.ToUpper(rest[:1]) + rest[1:]
}

// member is one instance found in a group, before its address is known.
type member struct {
	inst discovery.Instance
	// vm is the instance's resource, when there is one.
	vm resourceRef
	// ip is the endpoint's own IP (NEG), port the port to dial.
	ip   string
	port int
	// status is the VM status from the group listing, when given.
	status string
}

func (d *discoverer) run(ctx context.Context) (discovery.Target, error) {
	name := d.cfg.BackendService
	notFound := fmt.Sprintf("no global backend service %q in project %s; set region: for a regional one", name, d.cfg.Project)
	if d.cfg.Region != "" {
		notFound = fmt.Sprintf("no backend service %q in region %s of project %s", name, d.cfg.Region, d.cfg.Project)
	}
	var bs *computepb.BackendService
	err := d.call(ctx, callSpec{op: "get backend service " + name, permission: d.regional("compute.backendServices.get"),
		notFound: notFound},
		func(ctx context.Context) (err error) {
			bs, err = d.api.GetBackendService(ctx, d.cfg.Project, d.cfg.Region, name)
			return err
		})
	if err != nil {
		return discovery.Target{}, err
	}
	portName := bs.GetPortName()
	if portName == "" {
		portName = "http"
	}
	scheme := schemeFor(bs.GetProtocol())
	var members []member
	for _, b := range bs.GetBackends() {
		ref, ok := parseRef(b.GetGroup())
		labels := backendLabels(bs, b)
		var ms []member
		switch {
		case ok && ref.Collection == "instanceGroups":
			ms, err = d.instanceGroup(ctx, ref, portName, labels)
		case ok && ref.Collection == "networkEndpointGroups" && ref.Zone != "":
			ms, err = d.neg(ctx, ref, labels)
		default:
			ms = []member{{inst: discovery.Instance{ID: lastSegment(b.GetGroup()), Group: lastSegment(b.GetGroup()),
				Labels: labels, Health: discovery.HealthUnknown,
				Skip: "backend kind not supported (zonal and regional instance groups, zonal GCE_VM_IP_PORT NEGs are)"}}}
		}
		if err != nil {
			return discovery.Target{}, err
		}
		if err := d.health(ctx, b.GetGroup(), ms); err != nil {
			return discovery.Target{}, err
		}
		members = append(members, ms...)
	}
	vms, err := d.lookupInstances(ctx, members)
	if err != nil {
		return discovery.Target{}, err
	}
	url, weight, err := d.publicURL(ctx, bs.GetSelfLink())
	if err != nil {
		return discovery.Target{}, err
	}
	out := make([]discovery.Instance, 0, len(members))
	for _, m := range members {
		in := finishInstance(m, vms, d.cfg.Address)
		in.Scheme = scheme
		if weight > 0 {
			in.Weight = weight
		}
		out = append(out, in)
	}
	return discovery.Target{Name: bs.GetName(), URL: url, Instances: out}, nil
}

// schemeFor is the direct-access scheme for a backend service protocol.
func schemeFor(protocol string) string {
	switch protocol {
	case "HTTPS", "HTTP2":
		return "https"
	}
	return "http"
}

// backendLabels are the facts every instance of a backend carries.
func backendLabels(bs *computepb.BackendService, b *computepb.Backend) map[string]string {
	l := map[string]string{"backend_service": bs.GetName()}
	if m := b.GetBalancingMode(); m != "" {
		l["balancing_mode"] = m
	}
	if b.CapacityScaler != nil {
		l["capacity_scaler"] = strconv.FormatFloat(float64(b.GetCapacityScaler()), 'g', 3, 32)
	}
	return l
}

// instanceGroup lists a zonal or regional instance group's members.
func (d *discoverer) instanceGroup(ctx context.Context, ref resourceRef, portName string, labels map[string]string) ([]member, error) {
	var items []*computepb.InstanceWithNamedPorts
	kind := "zonal-instance-group"
	if ref.Region != "" {
		kind = "regional-instance-group"
	}
	err := d.call(ctx, callSpec{op: "list instances of instance group " + ref.Name, permission: "compute.instanceGroups.list",
		project: ref.Project}, func(ctx context.Context) (err error) {
		items, err = d.api.ListGroupInstances(ctx, ref.Project, ref.Zone, ref.Region, ref.Name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return mapGroupMembers(items, ref, kind, portName, labels), nil
}

// mapGroupMembers turns an instance group listing into members; the port is
// the named port matching the backend service's portName.
func mapGroupMembers(items []*computepb.InstanceWithNamedPorts, group resourceRef, kind, portName string, labels map[string]string) []member {
	out := make([]member, 0, len(items))
	for _, it := range items {
		vm, _ := parseRef(it.GetInstance())
		m := member{vm: vm, status: it.GetStatus(), inst: discovery.Instance{ID: vm.Name, Group: group.Name, Zone: vm.Zone,
			Labels: withLabel(labels, "kind", kind)}}
		for _, np := range it.GetNamedPorts() {
			if np.GetName() == portName {
				m.port = int(np.GetPort())
				break
			}
		}
		if m.port == 0 {
			m.inst.Skip = fmt.Sprintf("instance group %s has no named port %q (the backend service's portName)", group.Name, portName)
		}
		out = append(out, m)
	}
	return out
}

func withLabel(l map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(l)+1)
	for a, b := range l {
		out[a] = b
	}
	out[k] = v
	return out
}

// neg lists a zonal network endpoint group's endpoints.
func (d *discoverer) neg(ctx context.Context, ref resourceRef, labels map[string]string) ([]member, error) {
	var neg *computepb.NetworkEndpointGroup
	err := d.call(ctx, callSpec{op: "get network endpoint group " + ref.Name, permission: "compute.networkEndpointGroups.get",
		project: ref.Project}, func(ctx context.Context) (err error) {
		neg, err = d.api.GetNEG(ctx, ref.Project, ref.Zone, ref.Name)
		return err
	})
	if err != nil {
		return nil, err
	}
	if t := neg.GetNetworkEndpointType(); t != "GCE_VM_IP_PORT" {
		return []member{{inst: discovery.Instance{ID: ref.Name, Group: ref.Name, Zone: ref.Zone, Health: discovery.HealthUnknown,
			Labels: withLabel(labels, "kind", "neg"),
			Skip:   fmt.Sprintf("network endpoint group type %s not supported (GCE_VM_IP_PORT is)", t)}}}, nil
	}
	var eps []*computepb.NetworkEndpointWithHealthStatus
	err = d.call(ctx, callSpec{op: "list endpoints of network endpoint group " + ref.Name,
		permission: "compute.networkEndpointGroups.get", project: ref.Project}, func(ctx context.Context) (err error) {
		eps, err = d.api.ListNEGEndpoints(ctx, ref.Project, ref.Zone, ref.Name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return mapNEGEndpoints(eps, neg, ref, labels), nil
}

// mapNEGEndpoints turns NEG endpoints into members: the endpoint's port or
// the NEG's default port, the endpoint's IP or (later) the instance's
// primary IP.
func mapNEGEndpoints(eps []*computepb.NetworkEndpointWithHealthStatus, neg *computepb.NetworkEndpointGroup, ref resourceRef, labels map[string]string) []member {
	out := make([]member, 0, len(eps))
	for _, ep := range eps {
		ne := ep.GetNetworkEndpoint()
		m := member{ip: ne.GetIpAddress(), port: int(ne.GetPort()),
			inst: discovery.Instance{Group: ref.Name, Zone: ref.Zone, Labels: withLabel(labels, "kind", "neg")}}
		if m.port == 0 {
			m.port = int(neg.GetDefaultPort())
		}
		if vm := ne.GetInstance(); vm != "" {
			if r, ok := parseRef(vm); ok {
				m.vm = r
			} else {
				// A bare instance name: the VM is in the NEG's zone.
				m.vm = resourceRef{Project: ref.Project, Zone: ref.Zone, Collection: "instances", Name: vm}
			}
			m.inst.ID = m.vm.Name
		} else {
			m.inst.ID = net.JoinHostPort(m.ip, strconv.Itoa(m.port))
		}
		if m.port == 0 {
			m.inst.Skip = fmt.Sprintf("network endpoint group %s: endpoint without port and no default port", ref.Name)
		}
		out = append(out, m)
	}
	return out
}

// health asks getHealth about one group and fills in its members' health.
func (d *discoverer) health(ctx context.Context, groupURL string, ms []member) error {
	if len(ms) == 0 || (len(ms) == 1 && ms[0].vm.Name == "" && ms[0].ip == "") {
		return nil // nothing to ask about (an unsupported backend)
	}
	var hs []*computepb.HealthStatus
	err := d.call(ctx, callSpec{op: "get health of " + lastSegment(groupURL) + " in backend service " + d.cfg.BackendService,
		permission: d.regional("compute.backendServices.get")}, func(ctx context.Context) (err error) {
		hs, err = d.api.GetHealth(ctx, d.cfg.Project, d.cfg.Region, d.cfg.BackendService, groupURL)
		return err
	})
	if err != nil {
		return err
	}
	applyHealth(ms, hs)
	return nil
}

// applyHealth matches health statuses to members by ip:port (endpoints),
// then by instance. A member getHealth does not mention is unknown.
func applyHealth(ms []member, hs []*computepb.HealthStatus) {
	byEndpoint := map[string]*computepb.HealthStatus{}
	byVM := map[string]*computepb.HealthStatus{}
	for _, h := range hs {
		if h.GetIpAddress() != "" && h.Port != nil {
			byEndpoint[net.JoinHostPort(h.GetIpAddress(), strconv.Itoa(int(h.GetPort())))] = h
		}
		if r, ok := parseRef(h.GetInstance()); ok {
			byVM[r.key()] = h
		}
	}
	for i := range ms {
		m := &ms[i]
		var h *computepb.HealthStatus
		if m.ip != "" {
			h = byEndpoint[net.JoinHostPort(m.ip, strconv.Itoa(m.port))]
		}
		if h == nil && m.vm.Name != "" {
			h = byVM[m.vm.key()]
		}
		if h == nil {
			m.inst.Health, m.inst.HealthReason = discovery.HealthUnknown, "not reported by getHealth"
			continue
		}
		m.inst.Health = mapHealth(h.GetHealthState())
		if !strings.EqualFold(m.inst.Health, h.GetHealthState()) {
			m.inst.HealthReason = h.GetHealthState() // TIMEOUT, UNKNOWN...: say what GCP said
		}
	}
}

// mapHealth maps a getHealth healthState onto the discovery constants.
func mapHealth(state string) string {
	switch strings.ToUpper(state) {
	case "HEALTHY":
		return discovery.HealthHealthy
	case "UNHEALTHY", "TIMEOUT":
		return discovery.HealthUnhealthy
	case "DRAINING":
		return discovery.HealthDraining
	}
	return discovery.HealthUnknown
}

// lookupInstances lists the members' VMs, per zone, with a filter on their
// names: one call per zone (per few hundred names), never one per instance.
func (d *discoverer) lookupInstances(ctx context.Context, ms []member) (map[string]*computepb.Instance, error) {
	byZone := map[[2]string]map[string]bool{}
	for _, m := range ms {
		if m.vm.Name == "" || m.vm.Zone == "" {
			continue
		}
		if m.ip != "" && d.cfg.Address == AddressInternal {
			continue // the endpoint's own IP is dialled
		}
		k := [2]string{m.vm.Project, m.vm.Zone}
		if byZone[k] == nil {
			byZone[k] = map[string]bool{}
		}
		byZone[k][m.vm.Name] = true
	}
	zones := make([][2]string, 0, len(byZone))
	for k := range byZone {
		zones = append(zones, k)
	}
	sort.Slice(zones, func(i, j int) bool { return zones[i][0]+"/"+zones[i][1] < zones[j][0]+"/"+zones[j][1] })
	out := map[string]*computepb.Instance{}
	for _, z := range zones {
		names := make([]string, 0, len(byZone[z]))
		for n := range byZone[z] {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, filter := range nameFilters(names, maxFilterLen) {
			var vms []*computepb.Instance
			err := d.call(ctx, callSpec{op: "list instances in zone " + z[1], permission: "compute.instances.list", project: z[0]},
				func(ctx context.Context) (err error) {
					vms, err = d.api.ListInstances(ctx, z[0], z[1], filter)
					return err
				})
			if err != nil {
				return nil, err
			}
			for _, vm := range vms {
				out[resourceRef{Project: z[0], Zone: z[1], Collection: "instances", Name: vm.GetName()}.key()] = vm
			}
		}
	}
	return out, nil
}

// nameFilters builds list filters matching exactly the given names:
// `name eq "prefix(a|b)"`, where the value is an RE2 regexp matched against
// the whole field and prefix is the names' common prefix (instances of a
// managed group share their base name). Each filter stays under about max
// characters.
func nameFilters(names []string, max int) []string {
	if len(names) == 0 {
		return nil
	}
	prefix := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	head := `name eq "` + regexp.QuoteMeta(prefix) + `(`
	var out []string
	var cur []string
	size := len(head)
	flush := func() {
		if len(cur) > 0 {
			out = append(out, head+strings.Join(cur, "|")+`)"`)
		}
		cur, size = nil, len(head)
	}
	for _, name := range names {
		q := regexp.QuoteMeta(name[len(prefix):])
		if len(cur) > 0 && size+len(q)+1 > max {
			flush()
		}
		cur = append(cur, q)
		size += len(q) + 1
	}
	flush()
	return out
}

// finishInstance picks the member's address (the endpoint IP, the VM's
// networkIP or natIP) and explains why when there is none.
func finishInstance(m member, vms map[string]*computepb.Instance, mode string) discovery.Instance {
	in := m.inst
	var vm *computepb.Instance
	if m.vm.Name != "" {
		vm = vms[m.vm.key()]
		if vm != nil {
			if in.Labels == nil {
				in.Labels = map[string]string{}
			}
			if mt := lastSegment(vm.GetMachineType()); mt != "" {
				in.Labels["machine_type"] = mt
			}
			if m.status == "" {
				m.status = vm.GetStatus()
			}
		}
	}
	if in.Skip != "" {
		return in
	}
	ip := ""
	switch {
	case mode == AddressInternal && m.ip != "":
		ip = m.ip
	case vm != nil:
		ip = vmIP(vm, mode)
		if ip == "" {
			in.Skip = fmt.Sprintf("instance %s has no %s IP", vm.GetName(), mode)
		}
	case m.vm.Name != "":
		in.Skip = fmt.Sprintf("instance %s not found in zone %s", m.vm.Name, m.vm.Zone)
	default:
		in.Skip = "endpoint has no instance to take an external IP from"
	}
	if in.Skip != "" {
		return in
	}
	in.Addr = net.JoinHostPort(ip, strconv.Itoa(m.port))
	if m.status != "" && m.status != "RUNNING" {
		in.Skip = "instance status " + m.status
	}
	return in
}

// vmIP is the primary interface's networkIP (internal) or first natIP
// (external).
func vmIP(vm *computepb.Instance, mode string) string {
	nics := vm.GetNetworkInterfaces()
	if len(nics) == 0 {
		return ""
	}
	if mode == AddressExternal {
		for _, ac := range nics[0].GetAccessConfigs() {
			if ac.GetNatIP() != "" {
				return ac.GetNatIP()
			}
		}
		return ""
	}
	return nics[0].GetNetworkIP()
}

// resourceRef is a parsed compute resource URL:
// .../projects/P/(zones/Z|regions/R|global)/collection/name.
type resourceRef struct {
	Project, Zone, Region, Collection, Name string
}

// key identifies the resource whatever host or API version its URL used.
func (r resourceRef) key() string {
	scope := "global"
	switch {
	case r.Zone != "":
		scope = "zones/" + r.Zone
	case r.Region != "":
		scope = "regions/" + r.Region
	}
	return "projects/" + r.Project + "/" + scope + "/" + r.Collection + "/" + r.Name
}

// parseRef parses a resource URL or a partial path starting at projects/.
func parseRef(u string) (resourceRef, bool) {
	i := strings.Index(u, "projects/")
	if i < 0 {
		return resourceRef{}, false
	}
	p := strings.Split(strings.TrimSuffix(u[i:], "/"), "/")
	var r resourceRef
	switch {
	case len(p) == 5 && p[2] == "global":
		r = resourceRef{Project: p[1], Collection: p[3], Name: p[4]}
	case len(p) == 6 && p[2] == "zones":
		r = resourceRef{Project: p[1], Zone: p[3], Collection: p[4], Name: p[5]}
	case len(p) == 6 && p[2] == "regions":
		r = resourceRef{Project: p[1], Region: p[3], Collection: p[4], Name: p[5]}
	default:
		return resourceRef{}, false
	}
	return r, r.Project != "" && r.Name != ""
}

// sameResource compares two resource URLs by their projects/... path.
func sameResource(a, b string) bool {
	ra, okA := parseRef(a)
	rb, okB := parseRef(b)
	return okA && okB && ra.key() == rb.key()
}

func lastSegment(u string) string {
	u = strings.TrimSuffix(u, "/")
	return u[strings.LastIndex(u, "/")+1:]
}

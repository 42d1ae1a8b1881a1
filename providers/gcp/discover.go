package gcp

import (
	"context"
	"fmt"
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
	bs, err := d.backendService(ctx, resourceRef{Project: d.cfg.Project, Region: d.cfg.Region, Collection: "backendServices",
		Name: name}, notFound)
	if err != nil {
		return discovery.Target{}, err
	}
	lb, err := d.loadBalancers(ctx, bs.GetSelfLink())
	if err != nil {
		return discovery.Target{}, err
	}
	services := []*computepb.BackendService{bs}
	for _, p := range lb.partners {
		ref, ok := parseRef(p)
		if !ok {
			continue
		}
		ps, err := d.backendService(ctx, ref, fmt.Sprintf("backend service %s shares a weighted split with %s in a URL map but does not exist",
			ref.Name, name))
		if err != nil {
			return discovery.Target{}, err
		}
		services = append(services, ps)
	}
	// With a weighted split across backend services, each side is a group,
	// so a gate compares blue and green services (--baseline shop-blue
	// --candidate shop-green); the instance group or NEG stays a label.
	byService := len(services) > 1
	var members []member
	for _, s := range services {
		ms, err := d.serviceMembers(ctx, s)
		if err != nil {
			return discovery.Target{}, err
		}
		scheme := schemeFor(s.GetProtocol())
		for i := range ms {
			in := &ms[i].inst
			in.Pool, in.Scheme = s.GetName(), scheme
			if w := lb.weights[s.GetName()]; w > 0 {
				in.Weight = w
			}
			if byService {
				in.Labels = withLabel(in.Labels, "group", in.Group)
				in.Group = s.GetName()
			}
		}
		members = append(members, ms...)
	}
	facts, err := d.serviceFacts(ctx, services)
	if err != nil {
		return discovery.Target{}, err
	}
	vms, err := d.lookupInstances(ctx, members)
	if err != nil {
		return discovery.Target{}, err
	}
	out := make([]discovery.Instance, 0, len(members))
	for _, m := range members {
		out = append(out, finishInstance(m, vms, d.cfg.Address))
	}
	t := discovery.Target{Name: bs.GetName(), URL: lb.url, Instances: out, Facts: facts}
	if lb.router != nil {
		t.Router = lb.router
	}
	return t, nil
}

// backendService gets one backend service.
func (d *discoverer) backendService(ctx context.Context, ref resourceRef, notFound string) (*computepb.BackendService, error) {
	var bs *computepb.BackendService
	perm := "compute.backendServices.get"
	if ref.Region != "" {
		perm = "compute.regionBackendServices.get"
	}
	err := d.call(ctx, callSpec{op: "get backend service " + ref.Name, permission: perm, notFound: notFound, project: ref.Project},
		func(ctx context.Context) (err error) {
			bs, err = d.api.GetBackendService(ctx, ref.Project, ref.Region, ref.Name)
			return err
		})
	return bs, err
}

// serviceMembers lists the members of every backend of a backend service,
// with their health.
func (d *discoverer) serviceMembers(ctx context.Context, bs *computepb.BackendService) ([]member, error) {
	svc, ok := parseRef(bs.GetSelfLink())
	if !ok {
		svc = resourceRef{Project: d.cfg.Project, Region: d.cfg.Region, Collection: "backendServices", Name: bs.GetName()}
	}
	portName := bs.GetPortName()
	if portName == "" {
		portName = "http"
	}
	var members []member
	for _, b := range bs.GetBackends() {
		ref, ok := parseRef(b.GetGroup())
		labels := backendLabels(bs, b)
		var ms []member
		var err error
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
			return nil, err
		}
		if err := d.health(ctx, svc, b.GetGroup(), ms); err != nil {
			return nil, err
		}
		members = append(members, ms...)
	}
	return members, nil
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

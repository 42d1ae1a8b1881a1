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

package gcp

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"cloud.google.com/go/compute/apiv1/computepb"

	"github.com/corsaudit/corsaudit/discovery"
)

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

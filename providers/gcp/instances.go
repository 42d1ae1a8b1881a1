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

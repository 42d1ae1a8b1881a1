package gcp

import (
	"context"
	"net"
	"strconv"
	"strings"

	"cloud.google.com/go/compute/apiv1/computepb"

	"github.com/corsaudit/corsaudit/discovery"
)

// health asks getHealth about one group and fills in its members' health.
func (d *discoverer) health(ctx context.Context, svc resourceRef, groupURL string, ms []member) error {
	if len(ms) == 0 || (len(ms) == 1 && ms[0].vm.Name == "" && ms[0].ip == "") {
		return nil // nothing to ask about (an unsupported backend)
	}
	var hs []*computepb.HealthStatus
	perm := "compute.backendServices.get"
	if svc.Region != "" {
		perm = "compute.regionBackendServices.get"
	}
	err := d.call(ctx, callSpec{op: "get health of " + lastSegment(groupURL) + " in backend service " + svc.Name,
		permission: perm, project: svc.Project}, func(ctx context.Context) (err error) {
		hs, err = d.api.GetHealth(ctx, svc.Project, svc.Region, svc.Name, groupURL)
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

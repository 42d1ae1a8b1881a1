package aws

import (
	"net"
	"sort"
	"strconv"
	"strings"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/corsaudit/corsaudit/discovery"
)

// groupRef is one target group reached by a forward action.
type groupRef struct {
	ARN string
	// Weight is the group's weight in a forward action that splits traffic
	// between several groups; Weighted says whether such an action was seen.
	Weight   int
	Weighted bool
}

// forwardedGroups lists the target groups that actions forward to, in
// order. A forward action with a ForwardConfig naming two or more groups is
// weighted; one naming a single group, or the plain TargetGroupArn form,
// sends that rule's whole traffic to the group and is not weighted. Other
// action types (redirect, fixed-response, authenticate-*) forward nowhere.
func forwardedGroups(actions []elbtypes.Action) []groupRef {
	var out []groupRef
	for _, a := range actions {
		if a.Type != elbtypes.ActionTypeEnumForward {
			continue
		}
		if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
			tgs := a.ForwardConfig.TargetGroups
			for _, t := range tgs {
				if t.TargetGroupArn == nil {
					continue
				}
				r := groupRef{ARN: *t.TargetGroupArn}
				if len(tgs) > 1 && t.Weight != nil {
					r.Weight, r.Weighted = int(*t.Weight), true
				}
				out = append(out, r)
			}
			continue
		}
		if a.TargetGroupArn != nil {
			out = append(out, groupRef{ARN: *a.TargetGroupArn})
		}
	}
	return out
}

// mergeGroups dedupes group references by ARN, keeping the order of first
// appearance. A group's weight is the one of the first weighted forward
// action that names it; 0 (not weighted) when none does.
func mergeGroups(refs []groupRef) []groupRef {
	idx := map[string]int{}
	var out []groupRef
	for _, r := range refs {
		i, seen := idx[r.ARN]
		if !seen {
			idx[r.ARN] = len(out)
			out = append(out, r)
			continue
		}
		if !out[i].Weighted && r.Weighted {
			out[i].Weight, out[i].Weighted = r.Weight, true
		}
	}
	return out
}

// sortRules orders rules as the load balancer evaluates them: by numeric
// priority, the default rule last.
func sortRules(rules []elbtypes.Rule) {
	prio := func(r elbtypes.Rule) int {
		if (r.IsDefault != nil && *r.IsDefault) || r.Priority == nil || *r.Priority == "default" {
			return int(^uint(0) >> 1)
		}
		n, err := strconv.Atoi(*r.Priority)
		if err != nil {
			return int(^uint(0)>>1) - 1
		}
		return n
	}
	sort.SliceStable(rules, func(i, j int) bool { return prio(rules[i]) < prio(rules[j]) })
}

// targetGroup is what the mapper needs of a target group.
type targetGroup struct {
	ARN      string
	Name     string
	Type     elbtypes.TargetTypeEnum
	Port     int
	Protocol elbtypes.ProtocolEnum
	groupRef
}

// newTargetGroup combines a described target group with how it is reached.
func newTargetGroup(tg elbtypes.TargetGroup, ref groupRef) targetGroup {
	g := targetGroup{ARN: deref(tg.TargetGroupArn), Name: deref(tg.TargetGroupName), Type: tg.TargetType,
		Protocol: tg.Protocol, groupRef: ref}
	if tg.Port != nil {
		g.Port = int(*tg.Port)
	}
	return g
}

// ec2Instance is what the mapper needs of an EC2 instance.
type ec2Instance struct {
	PrivateIP string
	PublicIP  string
	Zone      string
	Type      string
	State     string
}

// newEC2Instance extracts the fields the mapper uses.
func newEC2Instance(in ec2types.Instance) ec2Instance {
	e := ec2Instance{PrivateIP: deref(in.PrivateIpAddress), PublicIP: deref(in.PublicIpAddress), Type: string(in.InstanceType)}
	if in.Placement != nil {
		e.Zone = deref(in.Placement.AvailabilityZone)
	}
	if in.State != nil {
		e.State = string(in.State.Name)
	}
	return e
}

// healthOf maps an ELB target health state onto discovery's states.
func healthOf(s elbtypes.TargetHealthStateEnum) string {
	switch s {
	case elbtypes.TargetHealthStateEnumHealthy:
		return discovery.HealthHealthy
	case elbtypes.TargetHealthStateEnumUnhealthy:
		return discovery.HealthUnhealthy
	case elbtypes.TargetHealthStateEnumDraining, elbtypes.TargetHealthStateEnumUnhealthyDraining:
		return discovery.HealthDraining
	case elbtypes.TargetHealthStateEnumUnused:
		return discovery.HealthUnused
	case elbtypes.TargetHealthStateEnumUnavailable:
		return discovery.HealthUnavailable
	case elbtypes.TargetHealthStateEnumInitial:
		return discovery.HealthInitial
	default:
		return discovery.HealthUnknown
	}
}

// mapTarget turns one registered target into an instance. instances holds
// the EC2 instances found (for `instance` targets); address is
// AddressPrivate or AddressPublic. Unused and unavailable targets are listed
// but skipped; draining ones are probed and labelled; lambda and alb
// targets cannot be dialled and are skipped.
func mapTarget(g targetGroup, d elbtypes.TargetHealthDescription, instances map[string]ec2Instance, address string) discovery.Instance {
	id := ""
	var port int
	zone := ""
	if d.Target != nil {
		id = deref(d.Target.Id)
		if d.Target.Port != nil {
			port = int(*d.Target.Port)
		}
		if z := deref(d.Target.AvailabilityZone); z != "all" {
			zone = z
		}
	}
	if port == 0 {
		port = g.Port
	}
	in := discovery.Instance{ID: id, Group: g.Name, Pool: g.Name, Weight: g.Weight, Zone: zone, Health: discovery.HealthUnknown,
		Labels: map[string]string{"target_group_arn": g.ARN, "target_type": string(g.Type)}}
	if g.Weighted {
		in.Labels["forward_weight"] = strconv.Itoa(g.Weight)
	}
	reason := ""
	if d.TargetHealth != nil {
		reason = string(d.TargetHealth.Reason)
		in.Health = healthOf(d.TargetHealth.State)
		in.HealthReason = reason
		if desc := deref(d.TargetHealth.Description); desc != "" {
			in.Labels["health_description"] = desc
		}
	}
	if in.Health == discovery.HealthDraining {
		in.Labels["draining"] = "true"
	}
	switch g.Type {
	case elbtypes.TargetTypeEnumLambda:
		in.Skip = "lambda target: not probeable"
		return in
	case elbtypes.TargetTypeEnumAlb:
		in.Skip = "alb target: not probeable (audit that load balancer as its own target)"
		return in
	}
	in.Scheme = "http"
	if g.Protocol == elbtypes.ProtocolEnumHttps || g.Protocol == elbtypes.ProtocolEnumTls {
		in.Scheme = "https"
	}
	host := ""
	switch g.Type {
	case elbtypes.TargetTypeEnumIp:
		host = id
		in.ID = net.JoinHostPort(id, strconv.Itoa(port))
	default: // instance
		e, ok := instances[id]
		if !ok {
			in.Skip = "instance not returned by ec2:DescribeInstances (terminated?)"
			break
		}
		if in.Zone == "" {
			in.Zone = e.Zone
		}
		if e.Type != "" {
			in.Labels["instance_type"] = e.Type
		}
		if e.State != "" {
			in.Labels["instance_state"] = e.State
		}
		host = e.PrivateIP
		if address == AddressPublic {
			host = e.PublicIP
		}
		if host == "" {
			in.Skip = "no " + address + " IP address"
		}
	}
	if host != "" && port > 0 {
		in.Addr = net.JoinHostPort(host, strconv.Itoa(port))
	}
	if in.Skip == "" {
		switch in.Health {
		case discovery.HealthUnused, discovery.HealthUnavailable:
			in.Skip = in.Health
			if reason != "" {
				in.Skip += ": " + reason
			}
		}
	}
	if in.Skip == "" && in.Addr == "" {
		in.Skip = "no port known for the target"
	}
	return in
}

// isDNSName reports whether a load_balancer value is a DNS name rather
// than a name (load balancer names have no dots).
func isDNSName(s string) bool { return strings.Contains(s, ".") }

// normalizeDNSName lowercases a DNS name and drops a trailing dot and a
// "dualstack." prefix (the name Route 53 alias records use).
func normalizeDNSName(s string) string {
	s = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
	return strings.TrimPrefix(s, "dualstack.")
}

// regionOfDNSName extracts the region of an ELB DNS name
// (name-123.eu-west-1.elb.amazonaws.com), or "".
func regionOfDNSName(s string) string {
	labels := strings.Split(normalizeDNSName(s), ".")
	for i := 1; i+1 < len(labels); i++ {
		if labels[i+1] == "elb" {
			return labels[i]
		}
	}
	return ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

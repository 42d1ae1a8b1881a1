package aws

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/corsaudit/corsaudit/discovery"
)

// Page sizes: the API maxima, so that calls grow with the number of load
// balancers, rules and target groups only by hundreds.
const (
	elbPageSize = 400
	// ec2Batch instance ids go into one DescribeInstances filter.
	ec2Batch = 100
)

// Discover walks load balancer -> listeners -> rules -> target groups ->
// target health -> EC2 instances and returns one target for the load
// balancer: every instance of every forwarded target group, its Pool the
// group's name, and the Router built from the rules read here (which group
// serves each request; see rules.go). API calls: 1 DescribeLoadBalancers
// (or one per 400 load balancers when matching a DNS name), 1
// DescribeListeners, 1 DescribeRules per HTTP(S) listener, 1
// DescribeTargetGroups, 1 DescribeTargetHealth per target group, 1
// DescribeInstances per 100 distinct instances (more pages only beyond the
// API's page sizes). Routing a request calls nothing.
func (p *Provider) Discover(ctx context.Context) ([]discovery.Target, error) {
	if err := p.init(ctx); err != nil {
		return nil, err
	}
	lb, err := p.findLoadBalancer(ctx)
	if err != nil {
		return nil, err
	}
	lbName := deref(lb.LoadBalancerName)
	listeners, err := p.listeners(ctx, lb)
	if err != nil {
		return nil, err
	}
	rules, err := p.rules(ctx, lb, listeners)
	if err != nil {
		return nil, err
	}
	facts, err := p.listenerFacts(ctx, lb, listeners)
	if err != nil {
		return nil, err
	}
	refs := forwarded(listeners, rules)
	if len(refs) == 0 {
		return nil, fmt.Errorf("aws: load balancer %s forwards to no target group (its rules only redirect or answer fixed responses)", lbName)
	}
	groups, names, err := p.targetGroups(ctx, lb, refs)
	if err != nil {
		return nil, err
	}
	health := make([][]elbtypes.TargetHealthDescription, len(groups))
	var ids []string
	seen := map[string]bool{}
	for i, g := range groups {
		out, err := p.clients.ELB.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: sdkaws.String(g.ARN)})
		if err != nil {
			return nil, classify("elasticloadbalancing:DescribeTargetHealth", "describe target health of "+g.Name, err)
		}
		health[i] = out.TargetHealthDescriptions
		if g.Type != elbtypes.TargetTypeEnumInstance && g.Type != "" {
			continue
		}
		for _, d := range out.TargetHealthDescriptions {
			if d.Target != nil && d.Target.Id != nil && !seen[*d.Target.Id] {
				seen[*d.Target.Id] = true
				ids = append(ids, *d.Target.Id)
			}
		}
	}
	instances, err := p.describeInstances(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []discovery.Instance
	for i, g := range groups {
		var mapped []discovery.Instance
		for _, d := range health[i] {
			mapped = append(mapped, mapTarget(g, d, instances, p.cfg.Address))
		}
		sort.Slice(mapped, func(a, b int) bool { return mapped[a].ID < mapped[b].ID })
		out = append(out, mapped...)
	}
	return []discovery.Target{{Name: lbName, URL: publicURL(lb, listeners, p.cfg.ListenerPort), Instances: out,
		Router: newRouter(lbName, listeners, rules, names, p.cfg.ListenerPort != 0), Facts: facts}}, nil
}

// corsAttributePrefix starts the listener attributes with which an ALB
// puts fixed CORS headers on every response it sends
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/header-modification.html).
const corsAttributePrefix = "routing.http.response.access_control_"

// listenerFacts reads the attributes of every HTTP(S) listener (one
// DescribeListenerAttributes each) and says, per listener, the CORS
// headers it sets itself. A listener whose attributes cannot be read (the
// permission, added after the rest of the IAM policy, not granted) is a
// FactUnread naming the reason: the audit goes on without it rather than
// failing discovery.
func (p *Provider) listenerFacts(ctx context.Context, lb elbtypes.LoadBalancer, listeners []elbtypes.Listener) ([]discovery.FrontFact, error) {
	var out []discovery.FrontFact
	for _, l := range listeners {
		if !hasRules(l) {
			continue
		}
		what := fmt.Sprintf("%s:%d", l.Protocol, sdkaws.ToInt32(l.Port))
		res, err := p.clients.ELB.DescribeListenerAttributes(ctx, &elbv2.DescribeListenerAttributesInput{ListenerArn: l.ListenerArn})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			err = classify("elasticloadbalancing:DescribeListenerAttributes", fmt.Sprintf("describe attributes of listener %s:%d", deref(lb.LoadBalancerName), sdkaws.ToInt32(l.Port)), err)
			out = append(out, discovery.FrontFact{Kind: discovery.FactUnread,
				Resource: fmt.Sprintf("the attributes of ALB listener %s (%s)", deref(l.ListenerArn), what), Settings: []string{err.Error()}})
			continue
		}
		if f, ok := corsAttributes(deref(l.ListenerArn), what, res.Attributes); ok {
			out = append(out, f)
		}
	}
	return out, nil
}

// corsAttributes is the fact that the listener arn (protocol:port what)
// sets CORS headers, from its attributes: each
// routing.http.response.access_control_* attribute with a value, sorted.
func corsAttributes(arn, what string, attrs []elbtypes.ListenerAttribute) (discovery.FrontFact, bool) {
	var settings []string
	for _, a := range attrs {
		k, v := deref(a.Key), deref(a.Value)
		if strings.HasPrefix(k, corsAttributePrefix) && v != "" {
			settings = append(settings, k+"="+v)
		}
	}
	if len(settings) == 0 {
		return discovery.FrontFact{}, false
	}
	sort.Strings(settings)
	return discovery.FrontFact{Kind: discovery.FactCORSHeaders, Resource: fmt.Sprintf("ALB listener %s (%s)", arn, what),
		Settings: settings}, true
}

// publicURL is the load balancer's URL through a listener that serves it:
// the chosen one when listener_port is set, else the first of an HTTPS
// listener on 443, any HTTPS listener, an HTTP listener on 80, any HTTP
// listener (listeners are sorted by port), so that the router finds the
// listener the URL names; https://<DNS name> when none fits.
func publicURL(lb elbtypes.LoadBalancer, listeners []elbtypes.Listener, port int) string {
	host := strings.TrimSuffix(deref(lb.DNSName), ".")
	scheme := func(l elbtypes.Listener) string {
		if p := l.Protocol; p == elbtypes.ProtocolEnumHttp || p == elbtypes.ProtocolEnumTcp {
			return "http"
		}
		return "https"
	}
	// rank orders the listeners a default URL may name; 4: none of them.
	rank := func(l elbtypes.Listener) int {
		switch p, n := l.Protocol, sdkaws.ToInt32(l.Port); {
		case scheme(l) == "https" && n == 443:
			return 0
		case p == elbtypes.ProtocolEnumHttps:
			return 1
		case p == elbtypes.ProtocolEnumHttp && n == 80:
			return 2
		case p == elbtypes.ProtocolEnumHttp:
			return 3
		}
		return 4
	}
	pick, best := -1, 4
	for i, l := range listeners {
		if port != 0 {
			pick = i // listener_port: the one listener read
			break
		}
		if r := rank(l); r < best {
			pick, best = i, r
		}
	}
	if pick < 0 {
		return "https://" + host
	}
	l := listeners[pick]
	s, p := scheme(l), int(sdkaws.ToInt32(l.Port))
	if (s == "https" && p != 443) || (s == "http" && p != 80) {
		host += ":" + strconv.Itoa(p)
	}
	return s + "://" + host
}

// findLoadBalancer finds the configured load balancer by ARN, DNS name or
// name.
func (p *Provider) findLoadBalancer(ctx context.Context) (elbtypes.LoadBalancer, error) {
	want := strings.TrimSpace(p.cfg.LoadBalancer)
	notFound := func(err error) error {
		hint := fmt.Sprintf("check the name and the region (searched %s; set discover.aws.region or AWS_REGION)", p.region)
		if r := regionOfDNSName(want); isDNSName(want) && r != "" && r != p.region {
			hint = fmt.Sprintf("wrong region: the DNS name is in %s but %s was searched; set discover.aws.region: %s", r, p.region, r)
		}
		if err != nil {
			return fmt.Errorf("aws: %w: %q: %s: %w", ErrLoadBalancerNotFound, want, hint, err)
		}
		return fmt.Errorf("aws: %w: %q: %s", ErrLoadBalancerNotFound, want, hint)
	}
	in := &elbv2.DescribeLoadBalancersInput{PageSize: sdkaws.Int32(elbPageSize)}
	match := func(elbtypes.LoadBalancer) bool { return true }
	switch {
	case strings.HasPrefix(want, "arn:"):
		in.LoadBalancerArns = []string{want}
	case isDNSName(want):
		dns := normalizeDNSName(want)
		match = func(lb elbtypes.LoadBalancer) bool { return normalizeDNSName(deref(lb.DNSName)) == dns }
	default:
		in.Names = []string{want}
	}
	pg := elbv2.NewDescribeLoadBalancersPaginator(p.clients.ELB, in)
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			if isCode(err, "LoadBalancerNotFound") {
				return elbtypes.LoadBalancer{}, notFound(err)
			}
			return elbtypes.LoadBalancer{}, classify("elasticloadbalancing:DescribeLoadBalancers", "describe load balancer "+want, err)
		}
		for _, lb := range page.LoadBalancers {
			if match(lb) {
				return lb, nil
			}
		}
	}
	return elbtypes.LoadBalancer{}, notFound(nil)
}

// listeners returns the load balancer's listeners sorted by port, only the
// configured one when listener_port is set.
func (p *Provider) listeners(ctx context.Context, lb elbtypes.LoadBalancer) ([]elbtypes.Listener, error) {
	var all []elbtypes.Listener
	pg := elbv2.NewDescribeListenersPaginator(p.clients.ELB, &elbv2.DescribeListenersInput{
		LoadBalancerArn: lb.LoadBalancerArn, PageSize: sdkaws.Int32(elbPageSize)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, classify("elasticloadbalancing:DescribeListeners", "describe listeners of "+deref(lb.LoadBalancerName), err)
		}
		all = append(all, page.Listeners...)
	}
	port := func(l elbtypes.Listener) int {
		if l.Port == nil {
			return 0
		}
		return int(*l.Port)
	}
	sort.SliceStable(all, func(i, j int) bool { return port(all[i]) < port(all[j]) })
	if p.cfg.ListenerPort == 0 {
		if len(all) == 0 {
			return nil, fmt.Errorf("aws: load balancer %s has no listener", deref(lb.LoadBalancerName))
		}
		return all, nil
	}
	var ports []string
	for _, l := range all {
		if port(l) == p.cfg.ListenerPort {
			return []elbtypes.Listener{l}, nil
		}
		ports = append(ports, strconv.Itoa(port(l)))
	}
	return nil, fmt.Errorf("aws: load balancer %s has no listener on port %d (listener_port; its listeners: %s)",
		deref(lb.LoadBalancerName), p.cfg.ListenerPort, strings.Join(ports, ", "))
}

// rules reads the rules of every HTTP(S) listener, by listener ARN: one
// DescribeRules each (more pages only beyond 400 rules). Other listeners
// (TCP, TLS, UDP) have no rules, only default actions.
func (p *Provider) rules(ctx context.Context, lb elbtypes.LoadBalancer, listeners []elbtypes.Listener) (map[string][]elbtypes.Rule, error) {
	out := map[string][]elbtypes.Rule{}
	for _, l := range listeners {
		if !hasRules(l) {
			continue
		}
		pg := elbv2.NewDescribeRulesPaginator(p.clients.ELB, &elbv2.DescribeRulesInput{
			ListenerArn: l.ListenerArn, PageSize: sdkaws.Int32(elbPageSize)})
		for pg.HasMorePages() {
			page, err := pg.NextPage(ctx)
			if err != nil {
				return nil, classify("elasticloadbalancing:DescribeRules", fmt.Sprintf("describe rules of listener %s:%d", deref(lb.LoadBalancerName), sdkaws.ToInt32(l.Port)), err)
			}
			out[deref(l.ListenerArn)] = append(out[deref(l.ListenerArn)], page.Rules...)
		}
	}
	return out, nil
}

// hasRules reports whether a listener routes by rules (HTTP and HTTPS).
func hasRules(l elbtypes.Listener) bool {
	return l.Protocol == elbtypes.ProtocolEnumHttp || l.Protocol == elbtypes.ProtocolEnumHttps
}

// forwarded lists the target groups the listeners forward to: every rule of
// an HTTP(S) listener (the default rule included) in priority order, the
// default actions of other listeners.
func forwarded(listeners []elbtypes.Listener, rules map[string][]elbtypes.Rule) []groupRef {
	var refs []groupRef
	for _, l := range listeners {
		if !hasRules(l) {
			refs = append(refs, forwardedGroups(l.DefaultActions)...)
			continue
		}
		sorted := slices.Clone(rules[deref(l.ListenerArn)])
		sortRules(sorted)
		for _, r := range sorted {
			refs = append(refs, forwardedGroups(r.Actions)...)
		}
	}
	return mergeGroups(refs)
}

// targetGroups describes the forwarded groups, in forward order, keeping
// only the configured names when target_groups is set. names holds the name
// of every forwarded group (the router's pools), kept or not.
func (p *Provider) targetGroups(ctx context.Context, lb elbtypes.LoadBalancer, refs []groupRef) ([]targetGroup, map[string]string, error) {
	described := map[string]elbtypes.TargetGroup{}
	describe := func(in *elbv2.DescribeTargetGroupsInput) error {
		pg := elbv2.NewDescribeTargetGroupsPaginator(p.clients.ELB, in)
		for pg.HasMorePages() {
			page, err := pg.NextPage(ctx)
			if err != nil {
				if isCode(err, "TargetGroupNotFound") {
					return nil
				}
				return classify("elasticloadbalancing:DescribeTargetGroups", "describe target groups of "+deref(lb.LoadBalancerName), err)
			}
			for _, tg := range page.TargetGroups {
				described[deref(tg.TargetGroupArn)] = tg
			}
		}
		return nil
	}
	if err := describe(&elbv2.DescribeTargetGroupsInput{LoadBalancerArn: lb.LoadBalancerArn, PageSize: sdkaws.Int32(elbPageSize)}); err != nil {
		return nil, nil, err
	}
	var missing []string
	for _, r := range refs {
		if _, ok := described[r.ARN]; !ok {
			missing = append(missing, r.ARN)
		}
	}
	if len(missing) > 0 {
		if err := describe(&elbv2.DescribeTargetGroupsInput{TargetGroupArns: missing}); err != nil {
			return nil, nil, err
		}
	}
	var out []targetGroup
	names := map[string]string{}
	forwardedNames := map[string]bool{}
	for _, r := range refs {
		tg, ok := described[r.ARN]
		if !ok {
			return nil, nil, fmt.Errorf("aws: target group %s is forwarded to by %s but cannot be described", r.ARN, deref(lb.LoadBalancerName))
		}
		g := newTargetGroup(tg, r)
		names[g.ARN] = g.Name
		forwardedNames[g.Name] = true
		out = append(out, g)
	}
	if len(p.cfg.TargetGroups) == 0 {
		return out, names, nil
	}
	keep := map[string]bool{}
	var unknown []string
	for _, n := range p.cfg.TargetGroups {
		keep[n] = true
		if !forwardedNames[n] {
			unknown = append(unknown, strconv.Quote(n))
		}
	}
	if len(unknown) > 0 {
		var known []string
		for _, g := range out {
			known = append(known, g.Name)
		}
		return nil, nil, fmt.Errorf("aws: target_groups: %s not forwarded to by %s (its target groups: %s)",
			strings.Join(unknown, ", "), deref(lb.LoadBalancerName), strings.Join(known, ", "))
	}
	// target_groups restricts which pools are audited; the router still
	// routes over every group (names), so a kept group is compared only on
	// the routes that reach it.
	kept := out[:0]
	for _, g := range out {
		if keep[g.Name] {
			kept = append(kept, g)
		}
	}
	return kept, names, nil
}

// describeInstances looks up instances by id, ec2Batch ids per call. It
// filters on instance-id rather than passing InstanceIds, so a terminated
// instance is simply absent instead of failing its whole batch.
func (p *Provider) describeInstances(ctx context.Context, ids []string) (map[string]ec2Instance, error) {
	out := make(map[string]ec2Instance, len(ids))
	for start := 0; start < len(ids); start += ec2Batch {
		batch := ids[start:min(start+ec2Batch, len(ids))]
		pg := ec2.NewDescribeInstancesPaginator(p.clients.EC2, &ec2.DescribeInstancesInput{
			Filters:    []ec2types.Filter{{Name: sdkaws.String("instance-id"), Values: batch}},
			MaxResults: sdkaws.Int32(1000),
		})
		for pg.HasMorePages() {
			page, err := pg.NextPage(ctx)
			if err != nil {
				return nil, classify("ec2:DescribeInstances", fmt.Sprintf("describe %d instances", len(batch)), err)
			}
			for _, r := range page.Reservations {
				for _, in := range r.Instances {
					out[deref(in.InstanceId)] = newEC2Instance(in)
				}
			}
		}
	}
	return out, nil
}

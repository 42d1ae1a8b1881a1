package gcp

import (
	"context"
	"errors"
	"fmt"
	"strings"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	iap "google.golang.org/api/iap/v1"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/protobuf/proto"
)

// pageSize is the largest page the compute API returns.
const pageSize = 500

// The seams in front of the compute clients, one small interface per call.
// Regional variants are chosen by a non-empty region argument. List calls
// return every page.

type backendServiceGetter interface {
	GetBackendService(ctx context.Context, project, region, name string) (*computepb.BackendService, error)
}

type healthGetter interface {
	GetHealth(ctx context.Context, project, region, service, groupURL string) ([]*computepb.HealthStatus, error)
}

type groupInstancesLister interface {
	// ListGroupInstances lists a zonal (zone set) or regional (region set)
	// instance group's members with their named ports.
	ListGroupInstances(ctx context.Context, project, zone, region, group string) ([]*computepb.InstanceWithNamedPorts, error)
}

type negGetter interface {
	GetNEG(ctx context.Context, project, zone, name string) (*computepb.NetworkEndpointGroup, error)
}

type negEndpointsLister interface {
	ListNEGEndpoints(ctx context.Context, project, zone, name string) ([]*computepb.NetworkEndpointWithHealthStatus, error)
}

type instancesLister interface {
	ListInstances(ctx context.Context, project, zone, filter string) ([]*computepb.Instance, error)
}

type urlMapsLister interface {
	ListURLMaps(ctx context.Context, project, region string) ([]*computepb.UrlMap, error)
}

type targetProxiesLister interface {
	// ListTargetProxies lists the HTTPS (https set) or HTTP target proxies.
	ListTargetProxies(ctx context.Context, project, region string, https bool) ([]targetProxy, error)
}

type forwardingRulesLister interface {
	ListForwardingRules(ctx context.Context, project, region string) ([]*computepb.ForwardingRule, error)
}

type iapSettingsGetter interface {
	// GetIAPSettings says whether the IAP settings of resource name let
	// OPTIONS requests through (accessSettings.corsSettings.allowHttpOptions).
	GetIAPSettings(ctx context.Context, name string) (allowHTTPOptions bool, err error)
}

// computeAPI is every call the provider makes.
type computeAPI interface {
	iapSettingsGetter
	backendServiceGetter
	healthGetter
	groupInstancesLister
	negGetter
	negEndpointsLister
	instancesLister
	urlMapsLister
	targetProxiesLister
	forwardingRulesLister
}

// targetProxy is an HTTP or HTTPS target proxy.
type targetProxy struct {
	SelfLink string
	URLMap   string
	HTTPS    bool
}

// restAPI implements computeAPI with the compute apiv1 REST clients.
type restAPI struct {
	bs       *compute.BackendServicesClient
	rbs      *compute.RegionBackendServicesClient
	ig       *compute.InstanceGroupsClient
	rig      *compute.RegionInstanceGroupsClient
	neg      *compute.NetworkEndpointGroupsClient
	inst     *compute.InstancesClient
	um       *compute.UrlMapsClient
	rum      *compute.RegionUrlMapsClient
	thp      *compute.TargetHttpProxiesClient
	rthp     *compute.RegionTargetHttpProxiesClient
	thsp     *compute.TargetHttpsProxiesClient
	rthsp    *compute.RegionTargetHttpsProxiesClient
	gfr      *compute.GlobalForwardingRulesClient
	fr       *compute.ForwardingRulesClient
	iap      *iap.Service
	closeAll []func() error
}

// clientOptions: the endpoint override (the REST clients append
// /compute/v1/projects/... to it), without authentication for http://.
func clientOptions(endpoint string) []option.ClientOption {
	var opts []option.ClientOption
	if endpoint != "" {
		opts = append(opts, option.WithEndpoint(strings.TrimSuffix(endpoint, "/")))
		if strings.HasPrefix(endpoint, "http://") {
			opts = append(opts, option.WithoutAuthentication())
		}
	}
	return opts
}

// newRESTAPI creates the REST clients. Creating them finds the Application
// Default Credentials but makes no call.
func newRESTAPI(ctx context.Context, endpoint string) (*restAPI, error) {
	opts := clientOptions(endpoint)
	a := &restAPI{}
	var err error
	if a.bs, err = compute.NewBackendServicesRESTClient(ctx, opts...); err != nil {
		return nil, a.fail("backend services", err)
	}
	a.closeAll = append(a.closeAll, a.bs.Close)
	if a.rbs, err = compute.NewRegionBackendServicesRESTClient(ctx, opts...); err != nil {
		return nil, a.fail("region backend services", err)
	}
	a.closeAll = append(a.closeAll, a.rbs.Close)
	if a.ig, err = compute.NewInstanceGroupsRESTClient(ctx, opts...); err != nil {
		return nil, a.fail("instance groups", err)
	}
	a.closeAll = append(a.closeAll, a.ig.Close)
	if a.rig, err = compute.NewRegionInstanceGroupsRESTClient(ctx, opts...); err != nil {
		return nil, a.fail("region instance groups", err)
	}
	a.closeAll = append(a.closeAll, a.rig.Close)
	if a.neg, err = compute.NewNetworkEndpointGroupsRESTClient(ctx, opts...); err != nil {
		return nil, a.fail("network endpoint groups", err)
	}
	a.closeAll = append(a.closeAll, a.neg.Close)
	if a.inst, err = compute.NewInstancesRESTClient(ctx, opts...); err != nil {
		return nil, a.fail("instances", err)
	}
	a.closeAll = append(a.closeAll, a.inst.Close)
	if a.um, err = compute.NewUrlMapsRESTClient(ctx, opts...); err != nil {
		return nil, a.fail("url maps", err)
	}
	a.closeAll = append(a.closeAll, a.um.Close)
	if a.rum, err = compute.NewRegionUrlMapsRESTClient(ctx, opts...); err != nil {
		return nil, a.fail("region url maps", err)
	}
	a.closeAll = append(a.closeAll, a.rum.Close)
	if a.thp, err = compute.NewTargetHttpProxiesRESTClient(ctx, opts...); err != nil {
		return nil, a.fail("target http proxies", err)
	}
	a.closeAll = append(a.closeAll, a.thp.Close)
	if a.rthp, err = compute.NewRegionTargetHttpProxiesRESTClient(ctx, opts...); err != nil {
		return nil, a.fail("region target http proxies", err)
	}
	a.closeAll = append(a.closeAll, a.rthp.Close)
	if a.thsp, err = compute.NewTargetHttpsProxiesRESTClient(ctx, opts...); err != nil {
		return nil, a.fail("target https proxies", err)
	}
	a.closeAll = append(a.closeAll, a.thsp.Close)
	if a.rthsp, err = compute.NewRegionTargetHttpsProxiesRESTClient(ctx, opts...); err != nil {
		return nil, a.fail("region target https proxies", err)
	}
	a.closeAll = append(a.closeAll, a.rthsp.Close)
	if a.gfr, err = compute.NewGlobalForwardingRulesRESTClient(ctx, opts...); err != nil {
		return nil, a.fail("global forwarding rules", err)
	}
	a.closeAll = append(a.closeAll, a.gfr.Close)
	if a.fr, err = compute.NewForwardingRulesRESTClient(ctx, opts...); err != nil {
		return nil, a.fail("forwarding rules", err)
	}
	a.closeAll = append(a.closeAll, a.fr.Close)
	// The IAP settings API (iap.googleapis.com; the endpoint override too,
	// for tests and emulators): read only for services with IAP enabled.
	if a.iap, err = iap.NewService(ctx, opts...); err != nil {
		return nil, a.fail("iap", err)
	}
	return a, nil
}

// fail closes the clients made so far and names the one that failed.
func (a *restAPI) fail(name string, err error) error {
	a.Close()
	return fmt.Errorf("gcp: create %s client: %w", name, err)
}

// Close closes every client.
func (a *restAPI) Close() error {
	var errs []error
	for _, c := range a.closeAll {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// collect drains a compute iterator.
func collect[T any](next func() (T, error)) ([]T, error) {
	var out []T
	for {
		v, err := next()
		if errors.Is(err, iterator.Done) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

func (a *restAPI) GetBackendService(ctx context.Context, project, region, name string) (*computepb.BackendService, error) {
	if region != "" {
		return a.rbs.Get(ctx, &computepb.GetRegionBackendServiceRequest{Project: project, Region: region, BackendService: name})
	}
	return a.bs.Get(ctx, &computepb.GetBackendServiceRequest{Project: project, BackendService: name})
}

func (a *restAPI) GetHealth(ctx context.Context, project, region, service, groupURL string) ([]*computepb.HealthStatus, error) {
	ref := &computepb.ResourceGroupReference{Group: proto.String(groupURL)}
	var h *computepb.BackendServiceGroupHealth
	var err error
	if region != "" {
		h, err = a.rbs.GetHealth(ctx, &computepb.GetHealthRegionBackendServiceRequest{Project: project, Region: region,
			BackendService: service, ResourceGroupReferenceResource: ref})
	} else {
		h, err = a.bs.GetHealth(ctx, &computepb.GetHealthBackendServiceRequest{Project: project,
			BackendService: service, ResourceGroupReferenceResource: ref})
	}
	if err != nil {
		return nil, err
	}
	return h.GetHealthStatus(), nil
}

func (a *restAPI) ListGroupInstances(ctx context.Context, project, zone, region, group string) ([]*computepb.InstanceWithNamedPorts, error) {
	all := proto.String("ALL")
	if region != "" {
		it := a.rig.ListInstances(ctx, &computepb.ListInstancesRegionInstanceGroupsRequest{Project: project, Region: region,
			InstanceGroup: group, MaxResults: proto.Uint32(pageSize),
			RegionInstanceGroupsListInstancesRequestResource: &computepb.RegionInstanceGroupsListInstancesRequest{InstanceState: all}})
		return collect(it.Next)
	}
	it := a.ig.ListInstances(ctx, &computepb.ListInstancesInstanceGroupsRequest{Project: project, Zone: zone,
		InstanceGroup: group, MaxResults: proto.Uint32(pageSize),
		InstanceGroupsListInstancesRequestResource: &computepb.InstanceGroupsListInstancesRequest{InstanceState: all}})
	return collect(it.Next)
}

func (a *restAPI) GetNEG(ctx context.Context, project, zone, name string) (*computepb.NetworkEndpointGroup, error) {
	return a.neg.Get(ctx, &computepb.GetNetworkEndpointGroupRequest{Project: project, Zone: zone, NetworkEndpointGroup: name})
}

func (a *restAPI) ListNEGEndpoints(ctx context.Context, project, zone, name string) ([]*computepb.NetworkEndpointWithHealthStatus, error) {
	it := a.neg.ListNetworkEndpoints(ctx, &computepb.ListNetworkEndpointsNetworkEndpointGroupsRequest{Project: project,
		Zone: zone, NetworkEndpointGroup: name, MaxResults: proto.Uint32(pageSize),
		NetworkEndpointGroupsListEndpointsRequestResource: &computepb.NetworkEndpointGroupsListEndpointsRequest{}})
	return collect(it.Next)
}

func (a *restAPI) ListInstances(ctx context.Context, project, zone, filter string) ([]*computepb.Instance, error) {
	req := &computepb.ListInstancesRequest{Project: project, Zone: zone, MaxResults: proto.Uint32(pageSize)}
	if filter != "" {
		req.Filter = proto.String(filter)
	}
	return collect(a.inst.List(ctx, req).Next)
}

func (a *restAPI) ListURLMaps(ctx context.Context, project, region string) ([]*computepb.UrlMap, error) {
	if region != "" {
		return collect(a.rum.List(ctx, &computepb.ListRegionUrlMapsRequest{Project: project, Region: region,
			MaxResults: proto.Uint32(pageSize)}).Next)
	}
	return collect(a.um.List(ctx, &computepb.ListUrlMapsRequest{Project: project, MaxResults: proto.Uint32(pageSize)}).Next)
}

func (a *restAPI) ListTargetProxies(ctx context.Context, project, region string, https bool) ([]targetProxy, error) {
	var out []targetProxy
	switch {
	case https:
		var ps []*computepb.TargetHttpsProxy
		var err error
		if region != "" {
			ps, err = collect(a.rthsp.List(ctx, &computepb.ListRegionTargetHttpsProxiesRequest{Project: project,
				Region: region, MaxResults: proto.Uint32(pageSize)}).Next)
		} else {
			ps, err = collect(a.thsp.List(ctx, &computepb.ListTargetHttpsProxiesRequest{Project: project,
				MaxResults: proto.Uint32(pageSize)}).Next)
		}
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			out = append(out, targetProxy{SelfLink: p.GetSelfLink(), URLMap: p.GetUrlMap(), HTTPS: true})
		}
	default:
		var ps []*computepb.TargetHttpProxy
		var err error
		if region != "" {
			ps, err = collect(a.rthp.List(ctx, &computepb.ListRegionTargetHttpProxiesRequest{Project: project,
				Region: region, MaxResults: proto.Uint32(pageSize)}).Next)
		} else {
			ps, err = collect(a.thp.List(ctx, &computepb.ListTargetHttpProxiesRequest{Project: project,
				MaxResults: proto.Uint32(pageSize)}).Next)
		}
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			out = append(out, targetProxy{SelfLink: p.GetSelfLink(), URLMap: p.GetUrlMap()})
		}
	}
	return out, nil
}

func (a *restAPI) GetIAPSettings(ctx context.Context, name string) (bool, error) {
	s, err := a.iap.V1.GetIapSettings(name).Context(ctx).Do()
	if err != nil {
		return false, err
	}
	return s.AccessSettings != nil && s.AccessSettings.CorsSettings != nil && s.AccessSettings.CorsSettings.AllowHttpOptions, nil
}

func (a *restAPI) ListForwardingRules(ctx context.Context, project, region string) ([]*computepb.ForwardingRule, error) {
	if region != "" {
		return collect(a.fr.List(ctx, &computepb.ListForwardingRulesRequest{Project: project, Region: region,
			MaxResults: proto.Uint32(pageSize)}).Next)
	}
	return collect(a.gfr.List(ctx, &computepb.ListGlobalForwardingRulesRequest{Project: project,
		MaxResults: proto.Uint32(pageSize)}).Next)
}

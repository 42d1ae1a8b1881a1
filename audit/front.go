package audit

import (
	"context"
	"net"
	"net/url"
	"slices"
)

// Front is one layer in front of the instances (a CDN, a cache, a load
// balancer), as TargetSpec.Fronts lists them, outermost first: the same
// probes go through each, so that a finding names the first layer whose
// answers differ from the layer behind it.
type Front struct {
	// Name names the layer in findings ("cdn", "lb").
	Name string `json:"name"`
	// URL, when set, is where the layer is reached: its scheme and host
	// (the Host header and TLS SNI); requests keep the probes' paths.
	URL string `json:"url,omitempty"`
	// Address, when set, is the host:port dialled instead of the public
	// URL's host, with the public Host header and TLS SNI (as instances
	// are). A name is resolved once and the samples are spread over every
	// address it resolves to (each ALB node, each anycast address).
	Address string `json:"address,omitempty"`
}

// lbLayer is the name of the one layer of a target without fronts: its
// load balancer, reached at the public URL.
const lbLayer = "lb"

// LookupHost resolves a host name to addresses, as net.Resolver.LookupHost
// does (Options.LookupHost: tests resolve to loopback addresses only).
type LookupHost func(ctx context.Context, host string) ([]string, error)

// FrontSamples is what the samples through one front behind the first
// showed (TargetResult.Fronts).
type FrontSamples struct {
	// Name is the front's (Front.Name).
	Name string `json:"name"`
	// Addrs are the addresses its samples were spread over (empty: the
	// front's URL host, dialled as a browser would).
	Addrs []string `json:"addrs,omitempty"`
	// LB[p] are the samples of probe p through this front.
	LB [][]Observation `json:"lb"`
}

// Layer is one front as the comparison reads it: its name and samples.
type Layer struct {
	Name    string
	Samples [][]Observation
}

// Layers are the target's fronts, outermost first, with their samples:
// the load balancer alone (lbLayer) when no front is configured. The
// first layer's samples are LB.
func (r *TargetResult) Layers() []Layer {
	first := lbLayer
	if len(r.Spec.Fronts) > 0 {
		first = r.Spec.Fronts[0].Name
	}
	out := []Layer{{Name: first, Samples: r.LB}}
	for _, f := range r.Fronts {
		out = append(out, Layer{Name: f.Name, Samples: f.LB})
	}
	return out
}

// frontPlan is how the engine reaches one layer: the addresses its
// samples are spread over, and the URL they request.
type frontPlan struct {
	name string
	// url is the public URL, or the front's scheme and host with the
	// public URL's path.
	url *url.URL
	// addrs are the addresses dialled (nil: url's host, as a browser
	// dials it).
	addrs []string
}

// fronts are the layers of spec: its Fronts, else the load balancer at
// the public URL u. Address fronts are resolved with lookup (nil: the
// system resolver); a name that does not resolve is dialled as it is,
// so its samples fail as a browser's would.
func fronts(ctx context.Context, spec TargetSpec, u *url.URL, lookup LookupHost) []frontPlan {
	if len(spec.Fronts) == 0 {
		return []frontPlan{{name: lbLayer, url: u}}
	}
	if lookup == nil {
		lookup = net.DefaultResolver.LookupHost
	}
	out := make([]frontPlan, 0, len(spec.Fronts))
	for _, f := range spec.Fronts {
		fp := frontPlan{name: f.Name, url: u}
		switch {
		case f.URL != "":
			if fu, err := url.Parse(f.URL); err == nil && fu.Host != "" {
				v := *u
				v.Scheme, v.Host = fu.Scheme, fu.Host
				fp.url = &v
			}
		case f.Address != "":
			fp.addrs = resolve(ctx, f.Address, lookup)
		}
		out = append(out, fp)
	}
	return out
}

// resolve is every address host:port resolves to, sorted (addr itself
// when its host is an IP address or does not resolve).
func resolve(ctx context.Context, addr string, lookup LookupHost) []string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || net.ParseIP(host) != nil {
		return []string{addr}
	}
	ips, err := lookup(ctx, host)
	if err != nil || len(ips) == 0 {
		return []string{addr}
	}
	var out []string
	for _, ip := range ips {
		if a := net.JoinHostPort(ip, port); !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// sampleRoute is where sample k of a layer goes: its address (index into
// addrs) and whether it is sent over HTTP/1.1 only. Samples cycle through
// the addresses; over https every other round of them is HTTP/1.1, so
// that answers over HTTP/2 (what browsers use when the front offers it)
// can be compared with answers over HTTP/1.1 on every address.
func sampleRoute(k, addrs int, https bool) (addr int, http1 bool) {
	if addrs < 1 {
		addrs = 1
	}
	return k % addrs, https && (k/addrs)%2 == 1
}

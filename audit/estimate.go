package audit

import (
	"math"

	"github.com/corsaudit/corsaudit/audit/cors"
)

// SamplesFor is how many LB samples per probe give a high chance of reaching
// every one of n instances when the LB picks uniformly at random: the
// coupon-collector bound n*ln(n/eps) with eps = 1% (probability that some
// instance is never reached), at least 8, capped at 256 so that large fleets
// stay bounded (round-robin LBs need only n).
func SamplesFor(n int) int {
	if n <= 1 {
		return 8
	}
	s := int(math.Ceil(float64(n) * math.Log(float64(n)/0.01)))
	return min(max(s, 8), 256)
}

// lbProbes counts the probes that are also sampled through the LB
// (Probe.Sampled).
func lbProbes(probes []Probe) int {
	n := 0
	for _, p := range probes {
		if p.Sampled() {
			n++
		}
	}
	return n
}

// lbSamples is how many times each sampled probe of spec goes through the
// load balancer, probeable instances being behind it: LB.Samples, else
// SamplesFor(probeable).
func (s TargetSpec) lbSamples(probeable int) int {
	if s.LB.Samples > 0 {
		return s.LB.Samples
	}
	return SamplesFor(probeable)
}

// probeable counts the instances of spec that are probed.
func (s TargetSpec) probeable() int {
	n := 0
	for _, in := range s.Target.Instances {
		if in.Probeable() {
			n++
		}
	}
	return n
}

// Work is what Run does, counted before it starts: for one target
// (WorkOf) or summed over several (Estimate). It is the one count of the
// log lines and of the progress bar (Options.Progress), in fetches: a
// fetch is one probe run once as a browser runs fetch() (its preflight and
// actual request, or the one step a routed probe is), against one
// instance or once through the load balancer; a cache check counts as
// one. Through every layer in front (TargetSpec.Fronts), each layer
// counts.
type Work struct {
	// Instances are the probeable instances.
	Instances int
	// Probes are the probes of the plans (each target's counted once).
	Probes int
	// Direct are the fetches sent to instances: every probe to every
	// probeable instance whose pool answers it.
	Direct int
	// ThroughLB are the fetches sent through load balancers and the
	// other fronts: every sampled probe (Probe.Sampled) once per sample,
	// through each layer.
	ThroughLB int
	// CacheChecks are the orders of the cache probe matrix (CacheMatrix)
	// through each layer: three requests each (the revalidation two),
	// none when Options.NoCache.
	CacheChecks int
	// Requests is an upper bound on the requests sent: per fetch its
	// probe's (a preflight and an actual request, one for a probe of one
	// step), three per cache check.
	Requests int
}

// Fetches is the total of the progress bar.
func (w Work) Fetches() int { return w.Direct + w.ThroughLB + w.CacheChecks }

// add adds o to w.
func (w *Work) add(o Work) {
	w.Instances += o.Instances
	w.Probes += o.Probes
	w.Direct += o.Direct
	w.ThroughLB += o.ThroughLB
	w.CacheChecks += o.CacheChecks
	w.Requests += o.Requests
}

// WorkOf is what Run does for spec with opt: acting as browser opt.Browser
// (which decides which probes the cache checks use), with the cache probe
// matrix unless opt.NoCache.
func WorkOf(spec TargetSpec, opt Options) Work {
	b := opt.Browser
	if b == "" {
		b = cors.Chromium
	}
	n := spec.probeable()
	t := routesOf(spec.Probes, spec.Target.Instances)
	w := Work{Instances: n, Probes: len(spec.Probes), Direct: t.fetches(n), Requests: t.requests(spec.Probes, n)}
	if spec.LB.Disabled {
		return w
	}
	samples := spec.lbSamples(n)
	layers := max(len(spec.Fronts), 1)
	for _, p := range spec.Probes {
		if p.Sampled() {
			w.ThroughLB += layers * samples
			w.Requests += layers * samples * p.maxRequests()
		}
	}
	if !opt.NoCache {
		w.CacheChecks = layers * len(CacheMatrix(spec.Probes, func(p int) bool { return spec.Probes[p].Sampled() }, b))
		w.Requests += 3 * w.CacheChecks
	}
	return w
}

// Estimate is WorkOf summed over specs.
func Estimate(specs []TargetSpec, opt Options) Work {
	var total Work
	for _, s := range specs {
		total.add(WorkOf(s, opt))
	}
	return total
}

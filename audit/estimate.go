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

// LBProbes counts the probes that are also sampled through the LB.
func LBProbes(probes []Probe) int {
	n := 0
	for _, p := range probes {
		if !IsAdversarial(p.Class) {
			n++
		}
	}
	return n
}

// lbSamples is how many times each LB probe of spec goes through the load
// balancer, probeable instances being behind it: LB.Samples, else
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
// fetch is one probe run as a browser runs fetch() once (its preflight and
// actual request), against one instance or once through the load
// balancer; a cache check counts as one.
type Work struct {
	// Instances are the probeable instances.
	Instances int
	// Probes are the probes of the plans (each target's counted once).
	Probes int
	// Direct are the fetches sent to instances: every probe to every
	// probeable instance.
	Direct int
	// ThroughLB are the fetches sent through load balancers: every probe
	// but the adversarial ones, once per sample.
	ThroughLB int
	// CacheChecks are the cache checks: two requests each, one origin
	// then another, through the load balancer.
	CacheChecks int
}

// Fetches is the total of the progress bar.
func (w Work) Fetches() int { return w.Direct + w.ThroughLB + w.CacheChecks }

// Requests is an upper bound on the requests sent: a preflight and an
// actual request per fetch, two per cache check.
func (w Work) Requests() int { return 2 * w.Fetches() }

// WorkOf is what Run does for spec, acting as browser b (which decides
// which probes the cache checks use).
func WorkOf(spec TargetSpec, b cors.Browser) Work {
	n := spec.probeable()
	w := Work{Instances: n, Probes: len(spec.Probes), Direct: n * len(spec.Probes)}
	if spec.LB.Disabled {
		return w
	}
	w.ThroughLB = spec.lbSamples(n) * LBProbes(spec.Probes)
	w.CacheChecks = len(cacheProbes(spec.Probes, b)) * cacheRounds
	return w
}

// Estimate is WorkOf summed over specs.
func Estimate(specs []TargetSpec, b cors.Browser) Work {
	var total Work
	for _, s := range specs {
		w := WorkOf(s, b)
		total.Instances += w.Instances
		total.Probes += w.Probes
		total.Direct += w.Direct
		total.ThroughLB += w.ThroughLB
		total.CacheChecks += w.CacheChecks
	}
	return total
}

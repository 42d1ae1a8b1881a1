package audit

import "math"

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

// LBProbes counts the probes that are also sampled through the LB
// (Probe.Sampled).
func LBProbes(probes []Probe) int {
	n := 0
	for _, p := range probes {
		if p.Sampled() {
			n++
		}
	}
	return n
}

// Estimate is an upper bound on what Run(ctx, specs, ...) sends: the
// instances it probes and the requests (a preflight and an actual request
// per probe, one for a probe of one step, directly to each probeable
// instance whose pool answers it and through each sample of each layer in
// front, and the cache probe matrix of each layer).
func Estimate(specs []TargetSpec) (instances, requests int) {
	for _, s := range specs {
		n := 0
		for _, in := range s.Target.Instances {
			if in.Probeable() {
				n++
			}
		}
		t := routesOf(s.Probes, s.Target.Instances)
		instances += n
		requests += t.requests(s.Probes, n)
		if !s.LB.Disabled {
			samples := s.LB.Samples
			if samples == 0 {
				samples = SamplesFor(n)
			}
			layers := max(len(s.Fronts), 1)
			for _, p := range s.Probes {
				if p.Sampled() {
					requests += layers * samples * p.maxRequests()
				}
			}
			if LBProbes(s.Probes) > 0 {
				requests += layers * CacheRequests
			}
		}
	}
	return instances, requests
}

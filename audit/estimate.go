package audit

// Estimate is an upper bound on what Run(ctx, specs, ...) sends: the
// instances it probes and the requests (a preflight and an actual request
// per probe, directly to each probeable instance and through each load
// balancer sample).
func Estimate(specs []TargetSpec) (instances, requests int) {
	for _, s := range specs {
		n := 0
		for _, in := range s.Target.Instances {
			if in.Probeable() {
				n++
			}
		}
		instances += n
		requests += n * len(s.Probes) * 2
		if !s.LB.Disabled {
			samples := s.LB.Samples
			if samples == 0 {
				samples = SamplesFor(n)
			}
			requests += samples * LBProbes(s.Probes) * 2
		}
	}
	return instances, requests
}

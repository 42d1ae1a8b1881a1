package lab

import (
	"slices"
	"time"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

// BenchProfile is one workload that .ci/bench measures corsaudit on:
// internal/testinfra/benchfleet serves its fleet and writes the config
// that audits it, internal/testinfra/benchfleet/baseline sends the same
// requests with a bare client. In every profile the 10th, 20th, ... instance drifts.
type BenchProfile struct {
	// Name is what `.ci/bench -profile` and `benchfleet -profile` take.
	Name string
	// Summary says what the fleet answers, for the usage line.
	Summary string
	// Policy is the policy the config audits the fleet with.
	Policy config.Policy
	// Fleet is n instances (instance i drifts when i%10 == 9).
	Fleet func(n int) []Backend
}

// BenchMethods are the methods both profiles' policies allow.
var BenchMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}

// BenchProfiles are the workloads of .ci/bench, the first the default.
// Both plan 16 probes and 17 requests per instance (the bare client
// sends every one; corsaudit skips the actual GET and HEAD whose
// preflight fails):
//
//   - lab: lab.Fleet whose current instances also allow PATCH and
//     OPTIONS; the older ones allow fewer methods and headers and a
//     shorter max-age (corsaudit sends 15 requests to each).
//   - full: every instance answers with the full set of CORS headers (an
//     exact origin, credentials, 7 methods, the one custom request
//     header of the policy, max-age, Vary: Origin, the instance header);
//     the drifting ones allow "GET, POST" only, which fails no preflight
//     of an actual request, so corsaudit sends the 17 requests too.
var BenchProfiles = []BenchProfile{
	{Name: "lab", Summary: "lab fleet (every tenth instance on the older config)",
		Policy: config.Policy{Origins: slices.Clone(PolicyOrigins), Methods: slices.Clone(BenchMethods),
			Headers: slices.Clone(PolicyHeaders), Credentials: true},
		Fleet: labBenchFleet},
	{Name: "full", Summary: "full CORS answers, 7 methods, one custom header (every tenth instance allows GET, POST)",
		Policy: config.Policy{Origins: slices.Clone(PolicyOrigins), Methods: slices.Clone(BenchMethods),
			Headers: []string{fullHeader}, Credentials: true},
		Fleet: fullBenchFleet},
}

// LookupBenchProfile is the profile called name.
func LookupBenchProfile(name string) (BenchProfile, bool) {
	for _, p := range BenchProfiles {
		if p.Name == name {
			return p, true
		}
	}
	return BenchProfile{}, false
}

// fullHeader is the custom request header of the full profile.
const fullHeader = "X-Requested-With"

// labBenchFleet is Fleet whose current instances also allow PATCH and
// OPTIONS, so that they follow the lab profile's policy.
func labBenchFleet(n int) []Backend {
	fleet := Fleet(n, func(i int) bool { return i%10 == 0 })
	for i := range fleet {
		if i%10 != 9 {
			b := &fleet[i].Behavior
			b.AllowMethods = append(slices.Clone(b.AllowMethods), "PATCH", "OPTIONS")
		}
	}
	return fleet
}

// fullBenchFleet is n instances named as Fleet's that answer with every
// CORS header the policy needs; every tenth allows GET and POST only.
func fullBenchFleet(n int) []Backend {
	fleet := Fleet(n, nil)
	for i := range fleet {
		b := labserver.Behavior{ID: fleet[i].Behavior.ID, AllowOrigins: PolicyOrigins,
			AllowMethods: BenchMethods, AllowHeaders: []string{fullHeader}, Credentials: true, MaxAge: 600}
		if i%10 == 9 {
			b.AllowMethods = []string{"GET", "POST"}
		}
		fleet[i].Behavior = b
	}
	return fleet
}

// BenchConfig is the config that audits ins, the instances of p's fleet,
// with p's policy: the drift analysis only, no load balancer, concurrency
// and perInstance requests in flight (0: the defaults').
func BenchConfig(p BenchProfile, ins []Instance, concurrency, perInstance int) config.Config {
	cfg := config.Default()
	if concurrency > 0 {
		cfg.Concurrency = concurrency
	}
	if perInstance > 0 {
		cfg.PerInstance = perInstance
	}
	cfg.Timeout, cfg.Deadline = 5*time.Second, 30*time.Minute
	cfg.Analyses = []string{diff.AnalysisDrift}
	target := Target("fleet", "http://api.example.com"+Path, ins)
	target.LB = config.LB{Disabled: true}
	target.Policy = p.Policy
	cfg.Targets = []config.Target{target}
	return cfg
}

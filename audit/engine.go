package audit

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/discovery"
)

// Direct says how instances are reached directly.
type Direct struct {
	// Scheme is "http" or "https"; empty means the public URL's scheme.
	// An instance's own Scheme wins.
	Scheme             string
	InsecureSkipVerify bool
}

// LB says how the load balancer is sampled.
type LB struct {
	// Disabled skips requests through the load balancer.
	Disabled bool
	// Samples per probe; 0 picks SamplesFor(number of instances).
	Samples int
	// InstanceHeader names a response header carrying the id of the instance
	// that served the request (e.g. X-Instance-Id).
	InstanceHeader string
}

// TargetSpec is one target to audit: its instances, the probes, and how to
// reach both.
type TargetSpec struct {
	Target discovery.Target
	Probes []Probe
	Direct Direct
	LB     LB
	// Auth, when set, is the logged-in user's secret (see Credential).
	Auth *Credential
	// TLS, when set, is the target's TLS configuration (CA, client
	// certificate, verification), for instances and the LB alike.
	TLS *tls.Config
	// LeftOut are the pools whose instances no probe reaches, left out of
	// Target.Instances by RouteTarget.
	LeftOut []PoolCount
	// Fronts, when set, are the layers in front of the instances,
	// outermost first, each sampled with the same probes as the load
	// balancer would be (LB.Samples each) and sent the cache probe
	// matrix; the first one's samples are TargetResult.LB. Empty: the
	// load balancer at the public URL is the one layer.
	Fronts []Front
}

// Options bound and tune a run. Concurrency, PerInstance, Timeout and
// Browser are required: the caller gives complete values (config.Default
// is the one place their defaults are written), and Run refuses options
// without them rather than apply a fallback of its own.
type Options struct {
	// Concurrency bounds requests in flight across all instances.
	Concurrency int
	// PerInstance bounds requests in flight to one instance.
	PerInstance int
	// Timeout bounds one request (inside the caller's deadline).
	Timeout time.Duration
	// Browser selects whose CORS rules decide verdicts.
	Browser cors.Browser
	// Progress, when set, is called after each finished unit of work with
	// the number done and the total. It is called from many goroutines.
	Progress func(done, total int64)
	// OnSend, when set, is told each request as it is sent
	// (FetchOptions.OnSend: secrets as placeholders).
	OnSend func(*SentRequest)
	// TLSConfig is the base TLS configuration (tests trust a test CA here).
	TLSConfig *tls.Config
	// Slots, when set, is the bound of requests in flight that this run
	// shares with others (the exporter's scheduled audits and probes hold
	// one bound between them); its size must be Concurrency. Nil: the run
	// has a bound of Concurrency of its own.
	Slots *semaphore.Weighted
	// Latencies keeps every request's own exchange, with its latency
	// (shard files carry them). Otherwise instances answered alike share
	// one exchange, whose Latency is that of the first request: memory
	// follows the distinct answers, not instances x probes.
	Latencies bool
	// LookupHost resolves the host name of a front's address (nil: the
	// system resolver).
	LookupHost LookupHost
	// NoCache sends no cache probe matrix (the cache analysis is off).
	NoCache bool
	// CacheToken, when set, starts the cache-busting query parameters of
	// the cache probe matrix (empty: a hash of each target's name and URL,
	// the same from run to run).
	CacheToken string
}

// check says which required option is missing: a programming error of
// the caller (config validates what users write), reported before
// anything is sent.
func (o *Options) check() error {
	switch {
	case o.Concurrency < 1:
		return fmt.Errorf("options: concurrency %d must be at least 1", o.Concurrency)
	case o.PerInstance < 1:
		return fmt.Errorf("options: per-instance concurrency %d must be at least 1", o.PerInstance)
	case o.Timeout <= 0:
		return fmt.Errorf("options: timeout %s must be positive", o.Timeout)
	case !slices.Contains(cors.Browsers, o.Browser):
		return fmt.Errorf("options: browser %q is not one of %v", o.Browser, cors.Browsers)
	}
	return nil
}

// job is one unit of scheduled work: all probes of one instance, or one LB
// sample, or one cache check. weight is how many request slots of the global
// bound it holds while it runs.
type job struct {
	weight int64
	run    func(ctx context.Context, tick func())
	// instance, when set, runs instead of run: the probes of instance
	// index of its target (one closure per instance of a large fleet
	// would cost more than the job).
	instance *sender
	index    int
}

// Run audits every target. A failing instance is data, not an error: Run
// returns an error only when ctx ends before the run completes, and then the
// results hold everything observed so far, or when opt lacks a required
// value (nothing is sent, and the results are nil).
//
// Scheduling: each instance is one job that sends its probes with
// PerInstance workers over its own keep-alive connections, closed when the
// instance is done, so a run holds at most Concurrency connections however
// large the fleet. A weighted semaphore bounds requests in flight across all
// jobs to Concurrency (and across runs, when they share opt.Slots).
func Run(ctx context.Context, specs []TargetSpec, opt Options) ([]TargetResult, error) {
	if err := opt.check(); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	results := make([]TargetResult, len(specs))
	var jobs []job
	for i := range specs {
		for _, j := range planTarget(ctx, &results[i], specs[i], &opt) {
			j.weight = min(j.weight, int64(opt.Concurrency))
			jobs = append(jobs, j)
		}
	}
	// The progress total is Estimate's, the count the log lines give: the
	// jobs tick once per fetch it counts.
	total := int64(Estimate(specs, opt).Fetches())
	var done atomic.Int64
	tick := func() {
		n := done.Add(1)
		if opt.Progress != nil {
			opt.Progress(n, total)
		}
	}
	slots := opt.Slots
	if slots == nil {
		slots = semaphore.NewWeighted(int64(opt.Concurrency))
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, j := range jobs {
		if err := slots.Acquire(gctx, j.weight); err != nil {
			break // ctx ended: stop scheduling, keep what was observed
		}
		g.Go(func() error {
			defer slots.Release(j.weight)
			if j.instance != nil {
				j.instance.probeInstance(gctx, j.index, tick)
			} else {
				j.run(gctx, tick)
			}
			return nil
		})
	}
	_ = g.Wait() // jobs never return errors; only ctx ends a run early
	err := ctx.Err()
	for i := range results {
		if err != nil {
			markNotRun(ctx, &results[i])
		}
		results[i].Direct.seal()
	}
	if err != nil {
		return results, fmt.Errorf("audit: run ended early: %w", err)
	}
	return results, nil
}

// planTarget prepares res and returns its jobs: one per probeable instance,
// then the LB samples and cache checks.
func planTarget(ctx context.Context, res *TargetResult, spec TargetSpec, opt *Options) []job {
	res.Spec = spec
	u, err := url.Parse(spec.Target.URL)
	if err != nil || u.Host == "" {
		// Validated by the config layer; an unparsable URL here yields an
		// empty result rather than a panic.
		return nil
	}
	res.URL = u
	insts := spec.Target.Instances
	res.Direct = NewDirectMatrix(insts, len(spec.Probes))
	s := &sender{res: res, opt: opt, instanceHeader: spec.LB.InstanceHeader, intern: newHeaderInterner(),
		memos: make([]probeMemo, len(spec.Probes))}
	verdicts := &verdictCache{m: map[verdictKey]*cors.Verdict{}}
	for p, pr := range spec.Probes {
		s.memos[p] = probeMemo{plan: cors.PlanPreflightFor(opt.Browser, pr.Request()), verdicts: verdicts, probe: p}
	}
	// Every probed instance starts with each probe it answers pending (not
	// done), the others not routed to it: one shared observation per
	// probe, one row of them per pool.
	s.routes = routesOf(spec.Probes, insts)
	pending := make([]uint32, len(spec.Probes))
	for p := range pending {
		pending[p] = res.Direct.intern(Observation{Probe: p, Sample: -1})
	}
	rows := make([][]uint32, len(s.routes.served))
	for k, served := range s.routes.served {
		rows[k] = make([]uint32, len(spec.Probes))
		for p := range rows[k] {
			rows[k][p] = res.Direct.intern(Observation{Probe: p, Sample: -1, NotRun: NotRunNotRouted})
		}
		for _, p := range served {
			rows[k][p] = pending[p]
		}
	}
	var jobs []job
	for i, in := range insts {
		if !in.Probeable() {
			continue
		}
		units := len(spec.Probes)
		if k, ok := s.routes.pool(in.Pool); !ok {
			res.Direct.setRowIDs(i, pending)
		} else {
			res.Direct.setRowIDs(i, rows[k])
			units = len(s.routes.served[k])
		}
		if units == 0 {
			continue
		}
		jobs = append(jobs, job{weight: int64(min(opt.PerInstance, units)), instance: s, index: i})
	}
	if spec.LB.Disabled {
		return jobs
	}
	samples := spec.lbSamples(spec.probeable())
	layers := fronts(ctx, spec, u, opt.LookupHost)
	for l, fp := range layers {
		rows := make([][]Observation, len(spec.Probes))
		if l == 0 {
			res.LB = rows
		} else {
			res.Fronts = append(res.Fronts, FrontSamples{Name: fp.name, Addrs: fp.addrs, LB: rows})
		}
		jobs = append(jobs, s.sampleJobs(fp, rows, samples)...)
	}
	if opt.NoCache {
		return jobs
	}
	return append(jobs, s.cacheJobs(layers)...)
}

// sampleJobs samples every sampled probe through one layer, samples times,
// into rows. Each request goes over a fresh connection, so that load
// balancers that balance per connection (L4, keep-alive pinning) spread
// samples too; samples cycle through the layer's addresses and, over
// https, alternate between HTTP/2 and HTTP/1.1 (sampleRoute).
func (s *sender) sampleJobs(fp frontPlan, rows [][]Observation, samples int) []job {
	spec := &s.res.Spec
	ends := s.layerEndpoints(fp, TransportOptions{DisableKeepAlives: true})
	var jobs []job
	for p, pr := range spec.Probes {
		if !pr.Sampled() {
			continue
		}
		rows[p] = make([]Observation, samples)
		for k := range samples {
			obs := &rows[p][k]
			*obs = Observation{Probe: p, Sample: k}
			a, h1 := sampleRoute(k, len(ends[0]), fp.url.Scheme == "https")
			to := ends[0][a]
			if h1 {
				to = ends[1][a]
			}
			jobs = append(jobs, job{weight: 1, run: func(ctx context.Context, tick func()) {
				s.observe(ctx, to, spec.Probes[p], obs, nil)
				tick()
			}})
		}
	}
	return jobs
}

// layerEndpoints are the endpoints of a layer, one per address:
// [0] offering HTTP/2 over TLS, [1] HTTP/1.1 alone.
func (s *sender) layerEndpoints(fp frontPlan, o TransportOptions) [2][]Endpoint {
	o.Timeout, o.TLSConfig = s.opt.Timeout, s.res.Spec.tlsConfig(s.opt)
	addrs := fp.addrs
	if len(addrs) == 0 {
		addrs = []string{""}
	}
	var out [2][]Endpoint
	for _, a := range addrs {
		out[0] = append(out[0], NewEndpoint(fp.url, a, "", o))
		h1 := o
		h1.HTTP1Only = true
		out[1] = append(out[1], NewEndpoint(fp.url, a, "", h1))
	}
	return out
}

// directScheme is the scheme spoken to an instance: its own, else the
// target's (empty: the public URL's).
func directScheme(instanceScheme, scheme string) string {
	if instanceScheme != "" {
		return instanceScheme
	}
	return scheme
}

// sender sends the requests of one target.
type sender struct {
	res            *TargetResult
	opt            *Options
	instanceHeader string

	// intern shares the header sets that thousands of instances send and
	// answer alike.
	intern *headerInterner
	// memos[p] is probe p's plan and verdicts, shared by every instance.
	memos []probeMemo
	// routes says which probes the instances of each pool answer.
	routes routeTable
}

// fetchOptions are the options of every fetch of this target; health is
// the instance's (nil through the load balancer).
func (s *sender) fetchOptions(health *instanceHealth) FetchOptions {
	return FetchOptions{Browser: s.opt.Browser, Timeout: s.opt.Timeout, InstanceHeader: s.instanceHeader,
		Secret: s.res.Spec.Auth, Sent: &s.res.Requests, OnSend: s.opt.OnSend, health: health, intern: s.intern,
		IgnoreMixedContent: true, share: !s.opt.Latencies}
}

// probeInstance sends the probes of instance i with PerInstance workers
// over the instance's own keep-alive connections, closed when it is done.
// The workers take the next probe from a shared counter, and the job's own
// goroutine is one of them: no goroutine feeds them, so handing a probe to
// a worker switches no goroutine.
func (s *sender) probeInstance(ctx context.Context, i int, tick func()) {
	// The instance's requests hang off its own context: thousands of them
	// at a time as children of the run's context contend for its lock.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	spec, opt := &s.res.Spec, s.opt
	in := &spec.Target.Instances[i]
	to := NewEndpoint(s.res.URL, in.Addr, directScheme(in.Scheme, spec.Direct.Scheme), TransportOptions{InsecureSkipVerify: spec.Direct.InsecureSkipVerify,
		Timeout: opt.Timeout, MaxConnsPerHost: opt.PerInstance, TLSConfig: spec.tlsConfig(opt)})
	defer to.Client.CloseIdleConnections()
	health := &instanceHealth{}
	probes := s.routes.probesOf(in.Pool)
	var next atomic.Int64
	work := func() {
		for ctx.Err() == nil {
			k := int(next.Add(1) - 1)
			if k >= len(probes) {
				return
			}
			p := probes[k]
			obs := Observation{Probe: p, Sample: -1}
			s.observe(ctx, to, spec.Probes[p], &obs, health)
			s.res.Direct.Set(i, p, obs)
			tick()
		}
	}
	var wg sync.WaitGroup
	for range min(opt.PerInstance, len(probes)) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}

// observe acts as the browser for pr and records what happened in obs.
func (s *sender) observe(ctx context.Context, to Endpoint, pr Probe, obs *Observation, health *instanceHealth) {
	fo := s.fetchOptions(health)
	fo.memo = &s.memos[obs.Probe]
	fo.Step = pr.Step
	fo.Credential = s.res.Spec.Auth.forProbe(pr)
	f := ActAsBrowser(ctx, to.at(pr.Path), pr.Request(), fo)
	obs.Preflight, obs.Actual, obs.verdict, obs.Done, obs.NotRun = f.Preflight, f.Actual, f.decided, f.Done, f.NotRun
	obs.connectTo = to.ConnectTo
}

// markNotRun says why every observation of res that did not complete was
// not run, once ctx ended the run before it got to them.
func markNotRun(ctx context.Context, res *TargetResult) {
	why := notRunReason(ctx)
	for _, row := range res.LB {
		for i := range row {
			if !row[i].Done && row[i].NotRun == "" {
				row[i].NotRun = why
			}
		}
	}
	res.Direct.remap(func(o Observation) Observation {
		if !o.Done && o.NotRun == "" {
			o.NotRun = why
		}
		return o
	})
}

package diff

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/discovery"
)

// The analyses (the config's checks:), named by audit, which owns them.
const (
	AnalysisDrift     = audit.AnalysisDrift
	AnalysisLB        = audit.AnalysisLB
	AnalysisCache     = audit.AnalysisCache
	AnalysisMisconfig = audit.AnalysisMisconfig
)

// Options choose what the differ compares against.
type Options struct {
	// Baseline, when set, makes the majority of this group's instances the
	// reference instead of the majority of all instances.
	Baseline string
	// Candidate, when set, restricts drift findings to this group.
	Candidate string
	// Policy makes each probe's expectation (from the declared policy) the
	// reference: every instance that decides otherwise is a
	// policy-violation, and no majority is computed.
	Policy bool
	// Analyses enabled (nil: every one of audit.Analyses).
	Analyses []string
	// Browser is whose requests the findings from the load balancer's
	// routes reproduce (RouteFindings); empty: Chromium's.
	Browser cors.Browser
	// Timeout is the run's per-request timeout: the --max-time of the
	// reproduce lines of findings no recorded request backs (routes).
	Timeout time.Duration
	// FlagAdvice: the run was set up with command-line flags (an ad hoc
	// audit), so findings name the flag to change (--direct-scheme http),
	// not the config key (direct.scheme: http).
	FlagAdvice bool
}

// setting is how the user changes a setting in this run: its flag with
// FlagAdvice, else its config key.
func (o Options) setting(key, flag string) string {
	if o.FlagAdvice {
		return flag
	}
	return key
}

func (o Options) enabled(analysis string) bool {
	return o.Analyses == nil || slices.Contains(o.Analyses, analysis)
}

// lbRow is the row of the load balancer in a cell.
const lbRow = -1

// cell is one (instance row, probe) of the report matrix; row lbRow is the
// load balancer.
type cell struct{ row, probe int }

// checked is what one check found: its findings and the cells it marks as
// drifting. Checks return it; Compare merges them, so no check depends on
// another having run.
type checked struct {
	findings []Finding
	drift    []cell
}

func (r *checked) add(fs ...Finding) { r.findings = append(r.findings, fs...) }

func (r *checked) mark(p int, rows ...int) {
	for _, i := range rows {
		r.drift = append(r.drift, cell{i, p})
	}
}

func (r *checked) merge(o checked) {
	r.findings = append(r.findings, o.findings...)
	r.drift = append(r.drift, o.drift...)
}

// comparison is the read-only state shared by the checks of one target.
type comparison struct {
	res *audit.TargetResult
	opt Options
	// sigs[k] is the signature of the target's distinct observation k
	// (res.Direct.Outcome; computed once; the zero signature for those
	// that did not answer): thousands of instances answer alike.
	sigs []signature
	// classes names, per pool, the probes its instances answer (nil when
	// the probes are not routed): instances of one class are compared
	// with one another where a check compares whole instances.
	classes map[string]string
	// preNames caches preflightHeaderNames.
	preNames map[string]bool
	// cacheFound caches cacheDefects.
	cacheFound *[]cacheDefect
	// rows is the row of each instance id LB samples name (-1: none).
	rows map[string]int
}

// routeClass is the probes instance i answers, as a key: instances with
// the same key serve the same routes ("" for all when nothing is routed).
func (c *comparison) routeClass(i int) string {
	if c.classes == nil {
		return ""
	}
	return c.classes[c.inst(i).Pool]
}

// sig is the signature of instance i's answer to probe p.
func (c *comparison) sig(i, p int) signature { return c.sigs[c.res.Direct.Outcome(i, p)] }

func newComparison(res *audit.TargetResult, opt Options) *comparison {
	c := &comparison{res: res, opt: opt}
	if slices.ContainsFunc(res.Spec.Probes, audit.Probe.Routed) {
		c.classes = map[string]string{}
		for _, in := range res.Spec.Target.Instances {
			if _, ok := c.classes[in.Pool]; ok {
				continue
			}
			key := make([]byte, len(res.Spec.Probes))
			for p, pr := range res.Spec.Probes {
				if pr.Serves(in.Pool) {
					key[p] = 1
				}
			}
			c.classes[in.Pool] = string(key)
		}
	}
	d := res.Direct
	if d == nil {
		return c
	}
	c.sigs = make([]signature, d.Outcomes())
	done := make([]bool, len(c.sigs))
	seen := canonicalMemo{}
	for i := range d.Instances() {
		if !d.Probed(i) {
			continue
		}
		for p := range res.Spec.Probes {
			k := d.Outcome(i, p)
			if done[k] {
				continue
			}
			done[k] = true
			if o := d.At(i, p); answered(o) {
				c.sigs[k] = seen.signatureOf(o)
			}
		}
	}
	return c
}

// Compare turns a target's observations into its report section and its
// findings.
func Compare(res *audit.TargetResult, opt Options) (TargetReport, []Finding) {
	c := newComparison(res, opt)
	var all checked
	if opt.enabled(AnalysisLB) {
		all.add(RouteFindings(&res.Spec, res.URL, opt.Browser, opt.Timeout)...)
	}
	all.merge(c.skipped())
	all.merge(c.unreachable())
	if opt.enabled(AnalysisDrift) {
		for p := range res.Spec.Probes {
			if !c.leftToMisconfig(p) {
				all.merge(c.drift(p))
			}
		}
	}
	all.merge(c.invalidHeaders())
	if opt.enabled(AnalysisCache) {
		all.merge(c.varyMissing())
		all.merge(c.cacheMatrix())
	}
	if opt.enabled(AnalysisLB) {
		all.merge(c.lb())
	}
	if opt.enabled(AnalysisMisconfig) {
		all.merge(c.misconfig())
	}
	if opt.enabled(AnalysisDrift) {
		all.merge(c.errorsWithoutCORS())
	}
	all.add(c.configFindings(all.findings)...)
	fs := c.finish(all.findings)
	return c.targetReport(all.drift), fs
}

// finish fills each finding's target and default severity, folds the
// findings that share a cause (group), completes them (Finding.Normalize) and sorts
// them.
func (c *comparison) finish(fs []Finding) []Finding {
	for k := range fs {
		fs[k].Target = c.spec().Target.Name
		fs[k].Probes = fs[k].AllProbes()
		if fs[k].Severity == "" {
			fs[k].Severity = fs[k].Kind.DefaultSeverity()
		}
	}
	fs = c.group(fs)
	for k := range fs {
		fs[k].Normalize()
	}
	sortFindings(fs)
	return fs
}

func (c *comparison) spec() *audit.TargetSpec { return &c.res.Spec }

func (c *comparison) inst(i int) discovery.Instance { return c.res.Spec.Target.Instances[i] }

// answered reports whether the observation is an answer: requests were
// sent, the observation completed, and every request sent got an HTTP
// response. An observation that sent nothing observed nothing.
func answered(o audit.Observation) bool {
	return o.Done && o.Err() == audit.ErrNone && (o.Preflight != nil || o.Actual != nil)
}

// failed reports whether requests were sent and one got no HTTP response.
func failed(o audit.Observation) bool { return o.Done && o.Err() != audit.ErrNone }

// answering is the instances (of group, when not "") that answered probe p.
func (c *comparison) answering(p int, group string) []int {
	var idx []int
	d := c.res.Direct
	for i := range d.Instances() {
		if d.Probed(i) && answered(d.At(i, p)) && (group == "" || c.inst(i).Group == group) {
			idx = append(idx, i)
		}
	}
	return idx
}

func (c *comparison) probeRef(p int) *ProbeRef {
	ref := probeRef(c.spec().Probes[p], c.res.URL)
	return &ref
}

func (c *comparison) ids(idx []int) []string {
	out := make([]string, len(idx))
	for k, i := range idx {
		out[k] = c.inst(i).ID
	}
	return out
}

// namedInMessage is how many instances a finding's message names; the
// finding's instances list has them all.
const namedInMessage = 10

// idList names the instances idx in a message: "web-1, web-2, web-3", or
// the first ten and how many more ("web-1, ..., web-10 and 9990 more"),
// so that a finding about 100,000 instances is still one readable line.
func (c *comparison) idList(idx []int) string {
	if len(idx) <= namedInMessage {
		return strings.Join(c.ids(idx), ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(c.ids(idx[:namedInMessage]), ", "), len(idx)-namedInMessage)
}

func (c *comparison) groups(idx []int) []string {
	var out []string
	for _, i := range idx {
		if g := c.inst(i).Group; g != "" && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	sort.Strings(out)
	return out
}

// group is a set of items sharing a key.
type group[T any] struct {
	key   string
	items []T
}

// groupBy groups items by key, groups in first-seen order.
func groupBy[T any](items []T, key func(T) string) []group[T] {
	var out []group[T]
	at := map[string]int{}
	for _, it := range items {
		k := key(it)
		n, ok := at[k]
		if !ok {
			n = len(out)
			at[k] = n
			out = append(out, group[T]{key: k})
		}
		out[n].items = append(out[n].items, it)
	}
	return out
}

// largestFirst orders groups by size, largest first, keeping first-seen
// order among equals.
func largestFirst[T any](gs []group[T]) []group[T] {
	sort.SliceStable(gs, func(a, b int) bool { return len(gs[a].items) > len(gs[b].items) })
	return gs
}

// majority is the group holding a strict majority of n items, or nil.
func majority[T any](gs []group[T], n int) *group[T] {
	for k := range gs {
		if 2*len(gs[k].items) > n {
			return &gs[k]
		}
	}
	return nil
}

package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/plural"
)

// errIncomplete is wrapped by the error of a run whose report is partial
// (discovery failed for a target, the deadline passed, interrupted).
var errIncomplete = errors.New("run incomplete")

// Options are what a run needs besides the config.
type Options struct {
	// Diff says how to compare (Checks nil: the config's checks).
	Diff diff.Options
	// Log receives discovery errors, plan notes and the request estimate.
	Log io.Writer
	// Progress, when set, is called as requests complete.
	Progress func(done, total int64)
	// Sent, when set, is told each request as it is sent, secrets shown
	// as their placeholders (`audit --verbose`).
	Sent func(*audit.SentRequest)
	// Version is written in the report.
	Version string
	// Select, when set, is called after discovery and before any probe:
	// it may narrow the targets, or stop the run by returning an error
	// (Run returns that error as is, and no report).
	Select func([]audit.TargetSpec) ([]audit.TargetSpec, error)
	// Slots, when set, is a bound of requests in flight shared with other
	// runs (audit.Options.Slots); its size must be cfg.Concurrency.
	Slots *semaphore.Weighted
}

// Audit discovers, plans, probes and compares the targets of b, within
// b.Config.Deadline. b is built once by the caller (config.Build: secrets
// read, certificates loaded, providers made) and may be a subset of its
// config's targets (config.Built.Only: the exporter audits one at a time);
// nothing here reads a file or a variable. The report is nil only when
// nothing could run: b was built for discovery only, a plan is over
// MaxProbes, or Select refused. Otherwise the report is returned, with an
// error wrapping errIncomplete when it is partial.
func Audit(ctx context.Context, b *config.Built, opt Options) (*diff.Report, error) {
	if err := canProbe(b); err != nil {
		return nil, err
	}
	return run(ctx, time.Now(), b.Config, b.Targets, opt)
}

// canProbe refuses a config built without its secrets and certificates:
// probing with it would send no credential where a browser sends one.
func canProbe(b *config.Built) error {
	if !b.Probes() {
		return errors.New("pipeline: the config was built for discovery only (config.BuildDiscovery): build it with Build to probe")
	}
	return nil
}

// run is Audit once cfg is built into built (tests give providers of
// their own).
func run(ctx context.Context, start time.Time, cfg *config.Config, built []config.BuiltTarget, opt Options) (*diff.Report, error) {
	log := opt.Log
	if log == nil {
		log = io.Discard
	}
	if opt.Diff.Analyses == nil {
		opt.Diff.Analyses = cfg.Analyses
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Deadline)
	defer cancel()

	var problems []string
	specs, from, err := discover(ctx, built)
	if err != nil {
		problems = append(problems, "discovery: "+err.Error())
		fmt.Fprintf(log, "corsaudit: discovery: %v\n", err)
	}
	if err := plan(specs, from, cfg.MaxProbes, opt.Diff.Analyses, cfg.AuditOptions().Browser, log); err != nil {
		return nil, err
	}
	if opt.Select != nil {
		if specs, err = opt.Select(specs); err != nil {
			return nil, err
		}
	}
	aopt := cfg.AuditOptions()
	aopt.NoCache = !slices.Contains(opt.Diff.Analyses, diff.AnalysisCache)
	for _, s := range specs {
		fmt.Fprintf(log, "corsaudit: %s: %s\n", s.Target.Name, describeWork(audit.WorkOf(s, aopt), onPaths(s.Probes)))
	}
	fmt.Fprintf(log, "corsaudit: auditing %s, %s\n", plural.Count(len(specs), "target"), describeTotal(audit.Estimate(specs, aopt)))

	aopt.Progress = opt.Progress
	aopt.OnSend = opt.Sent
	aopt.Slots = opt.Slots
	results, err := audit.Run(ctx, specs, aopt)
	if err != nil {
		problems = append(problems, partialReason(ctx, cfg.Deadline, results))
	}
	rep := compare(results, opt.Diff, opt.Version, cfg)
	rep.StartedAt = start.UTC()
	rep.Duration = time.Since(start).Seconds()
	rep.Incomplete = strings.Join(problems, "; ")
	rep.Summarize()
	if rep.Incomplete != "" {
		return rep, fmt.Errorf("%w: %s", errIncomplete, rep.Incomplete)
	}
	return rep, nil
}

// plan fills in each spec's probes from its target's policy (from[i] is
// specs[i]'s), adversarial origins when the misconfig check is on, and
// routes them with the target's router (audit.RouteTarget): the pools no
// probe reaches are left out, with a log line.
func plan(specs []audit.TargetSpec, from []config.BuiltTarget, maxProbes int, checks []string, browser cors.Browser, log io.Writer) error {
	for i := range specs {
		probes, dropped, err := audit.PlanTarget(from[i].Policy, hostOf(specs[i].Target.URL),
			slices.Contains(checks, audit.AnalysisMisconfig), maxProbes)
		if err != nil {
			return fmt.Errorf("target %s: %w", specs[i].Target.Name, err)
		}
		if dropped > 0 {
			fmt.Fprintf(log, "corsaudit: %s: max_probes %d leaves out %d adversarial origins\n", specs[i].Target.Name, maxProbes, dropped)
		}
		// The same plan on every path: CORS is often configured per route.
		specs[i].Probes = audit.PerPath(probes, from[i].Paths)
		if err := audit.RouteTarget(&specs[i], browser); err != nil {
			return fmt.Errorf("target %s: %w", specs[i].Target.Name, err)
		}
		for _, lo := range specs[i].LeftOut {
			fmt.Fprintf(log, "corsaudit: %s: %s\n", specs[i].Target.Name, LeftOutNote(lo))
		}
		if w := MixedContentWarning(specs[i].Target.Name, specs[i].Target.URL, from[i].Policy.Origins); w != "" {
			fmt.Fprintf(log, "corsaudit: %s\n", w)
		}
	}
	return nil
}

// compare runs the differ over every target's results: the one place a
// report's targets, findings and request count are made, for a single run
// and for merged shards alike. The caller sets timing, Incomplete and
// calls Summarize.
func compare(results []audit.TargetResult, opt diff.Options, version string, cfg *config.Config) *diff.Report {
	rep := &diff.Report{Tool: "corsaudit", Version: version, Browser: string(cfg.AuditOptions().Browser),
		FailOn: diff.FailOn(cfg.FailOn)}
	opt.Browser, opt.Timeout = cors.Browser(rep.Browser), cfg.Timeout
	for i := range results {
		if results[i].URL == nil {
			continue
		}
		tr, fs := diff.Compare(&results[i], opt)
		rep.Targets = append(rep.Targets, tr)
		rep.Findings = append(rep.Findings, fs...)
		rep.Summary.Requests += int(results[i].Requests)
	}
	return rep
}

// partialReason says in plain words why the run stopped early and what it did
// not run: per instance, how many probes were not run and how many were
// sent and not answered before the run stopped; and how many load
// balancer samples. Observations cut off are never timeouts.
func partialReason(ctx context.Context, deadline time.Duration, results []audit.TargetResult) string {
	msg := "interrupted"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		msg = fmt.Sprintf("the deadline (%s) passed", deadline)
	}
	msg += " before the audit finished: the report is partial"
	isCut := func(o audit.Observation) bool {
		return !o.Done && (o.NotRun == audit.NotRunDeadline || o.NotRun == audit.NotRunInterrupted)
	}
	var notRun, unanswered []string
	lb := 0
	for _, r := range results {
		for i := range r.Direct.Instances() {
			cut, waiting := 0, 0
			for _, o := range r.Direct.Each(i) {
				switch {
				case isCut(o):
					cut++
				case o.Unanswered():
					waiting++
				}
			}
			id, of := r.Spec.Target.Instances[i].ID, plural.Count(len(r.Spec.Probes), "probe")
			if cut > 0 {
				notRun = append(notRun, fmt.Sprintf("%s %d of %s", id, cut, of))
			}
			if waiting > 0 {
				unanswered = append(unanswered, fmt.Sprintf("%s %d of %s", id, waiting, of))
			}
		}
		for _, row := range r.LB {
			for _, o := range row {
				if isCut(o) || o.Unanswered() {
					lb++
				}
			}
		}
	}
	list := func(parts []string) string {
		const show = 10
		l := strings.Join(parts[:min(len(parts), show)], ", ")
		if len(parts) > show {
			l += fmt.Sprintf(" and %d more", len(parts)-show)
		}
		return l
	}
	if len(unanswered) > 0 {
		msg += fmt.Sprintf("; sent and not answered before the run stopped on %s: %s", plural.Count(len(unanswered), "instance"), list(unanswered))
	}
	if len(notRun) > 0 {
		msg += fmt.Sprintf("; not run on %s: %s", plural.Count(len(notRun), "instance"), list(notRun))
	}
	if lb > 0 {
		msg += fmt.Sprintf("; %s not run or not answered", plural.Count(lb, "load balancer sample"))
	}
	return msg
}

// onPaths is " on N paths" when the probes go to more than one path.
// describeWork is one target's line: its instances and probes, and the
// fetches they make, which the progress bar counts ("12 instances, 20
// probes: 414 fetches (240 direct, 160 through the LB, 6 cache checks)").
func describeWork(w audit.Work, paths string) string {
	s := fmt.Sprintf("%s, %s%s: %s", plural.Count(w.Instances, "instance"), plural.Count(w.Probes, "probe"), paths,
		plural.Count(w.Fetches(), "fetch"))
	return s + fmt.Sprintf(" (%d direct, %d through the LB, %s)", w.Direct, w.ThroughLB, plural.Count(w.CacheChecks, "cache check"))
}

// describeTotal is the run's line: the instances, and the fetches the
// progress bar counts to ("18 instances, 620 fetches, up to 1240 requests").
func describeTotal(w audit.Work) string {
	return fmt.Sprintf("%s, %s, up to %s", plural.Count(w.Instances, "instance"), plural.Count(w.Fetches(), "fetch"),
		plural.Count(w.Requests, "request"))
}

func onPaths(probes []audit.Probe) string {
	var paths []string
	for _, p := range probes {
		if !slices.Contains(paths, p.Path) {
			paths = append(paths, p.Path)
		}
	}
	if len(paths) < 2 {
		return ""
	}
	return fmt.Sprintf(" on %d paths", len(paths))
}

func hostOf(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Host
	}
	return ""
}

// LeftOutNote says that a pool's instances are not audited, and why.
func LeftOutNote(lo audit.PoolCount) string {
	are := "are"
	if lo.Instances == 1 {
		are = "is"
	}
	return fmt.Sprintf("pool %s serves none of the probed requests (the load balancer routes them elsewhere): its %s %s not audited",
		lo.Pool, plural.Count(lo.Instances, "instance"), are)
}

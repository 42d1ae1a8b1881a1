package exporter

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/pipeline"
)

// Options are what an Exporter needs besides its first config.
type Options struct {
	// Load reads and builds the config again for a reload (the file,
	// variables and flags; config.Build); nil: reloads are refused.
	Load func() (*config.Built, error)
	// Log receives structured records (nil: discarded).
	Log *slog.Logger
	// Version is written in reports.
	Version string
	// ProbeConcurrency bounds /probe audits in flight; a scrape over it
	// waits within its timeout, then gets 503.
	ProbeConcurrency int
}

// DefaultProbeConcurrency is ProbeConcurrency's default (the --probe-concurrency flag's).
const DefaultProbeConcurrency = 4

// Exporter schedules the audits of a config's targets and serves their
// results. Its methods are safe for concurrent use.
type Exporter struct {
	opt    Options
	log    *slog.Logger
	probes chan struct{} // /probe audits in flight

	mu      sync.Mutex
	gen     *generation
	targets map[string]*target // by label, the current config's only
	// runCtx is Run's context (nil before Run): loops start under it.
	runCtx context.Context
	// stopLoops ends the current config's schedule.
	stopLoops context.CancelFunc
	loops     sync.WaitGroup
	// reloadOK and reloadAt describe the last load of the config.
	reloadOK bool
	reloadAt time.Time
}

// generation is one loaded config and what every audit of its targets
// shares: the built targets (secrets read, clients made) and the bound of
// requests in flight.
type generation struct {
	run   *config.Built
	slots *semaphore.Weighted
}

// target is one configured target: its run lock and latest results. It
// outlives reloads that keep its label.
type target struct {
	name string
	// running holds a token while an audit of the target runs (scheduled
	// or probed): never two at once.
	running chan struct{}

	// Guarded by Exporter.mu.
	gen         *generation
	built       config.BuiltTarget // as built in gen
	last        *diff.Report
	lastSuccess time.Time
	attempt     attempt
}

// attempt is how the last scheduled audit of a target ended.
type attempt struct {
	done     bool
	ended    time.Time
	duration float64
	complete bool
	up       bool
	err      string
}

// New returns an exporter for the config built as b (config.Build, once
// per load); Run starts the schedule.
func New(b *config.Built, opt Options) (*Exporter, error) {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.ProbeConcurrency < 1 {
		return nil, fmt.Errorf("exporter: probe concurrency %d must be at least 1", opt.ProbeConcurrency)
	}
	gen, err := newGeneration(b)
	if err != nil {
		return nil, err
	}
	e := &Exporter{opt: opt, log: opt.Log, probes: make(chan struct{}, opt.ProbeConcurrency),
		targets: map[string]*target{}, reloadOK: true, reloadAt: time.Now()}
	e.apply(gen)
	return e, nil
}

// newGeneration makes a generation of the config built as b, whose
// targets' labels tell them apart (they name the targets in metrics and
// /probe).
func newGeneration(b *config.Built) (*generation, error) {
	seen := map[string]int{}
	for _, t := range b.Targets {
		if i, dup := seen[t.Label]; dup {
			return nil, fmt.Errorf("config: targets[%d] and targets[%d] are both called %q: give each a name", i, t.Index, t.Label)
		}
		seen[t.Label] = t.Index
	}
	return &generation{run: b, slots: semaphore.NewWeighted(int64(b.Config.Concurrency))}, nil
}

// apply makes gen the current config: targets it no longer has are
// dropped, the others keep their results; with Run going, the schedule
// restarts (each target is audited at once, then at its phase).
func (e *Exporter) apply(gen *generation) {
	e.mu.Lock()
	defer e.mu.Unlock()
	targets := make(map[string]*target, len(gen.run.Targets))
	for _, b := range gen.run.Targets {
		t := e.targets[b.Label]
		if t == nil {
			t = &target{name: b.Label, running: make(chan struct{}, 1)}
		}
		t.gen, t.built = gen, b
		targets[b.Label] = t
	}
	e.gen, e.targets = gen, targets
	if e.runCtx != nil {
		e.startLoopsLocked()
	}
}

// Reload reads the config again (Options.Load) and applies it. A config
// that does not load or build is refused: the current one stays, and the
// error is logged and counted (corsaudit_config_last_reload_successful).
func (e *Exporter) Reload() error {
	err := e.reload()
	e.mu.Lock()
	e.reloadOK = err == nil
	if err == nil {
		e.reloadAt = time.Now()
	}
	e.mu.Unlock()
	if err != nil {
		e.log.Error("config reload refused, the current config stays", "err", err.Error())
		return err
	}
	e.log.Info("config reloaded", "targets", len(e.currentNames()))
	return nil
}

func (e *Exporter) reload() error {
	if e.opt.Load == nil {
		return errors.New("config: reload: no way to load the config")
	}
	b, err := e.opt.Load()
	if err != nil {
		return err
	}
	gen, err := newGeneration(b)
	if err != nil {
		return err
	}
	e.apply(gen)
	return nil
}

// Run audits every target now and then every interval, at a phase of the
// interval derived from its name, until ctx ends; it returns once every
// audit has stopped. Call it once.
func (e *Exporter) Run(ctx context.Context) {
	e.mu.Lock()
	e.runCtx = ctx
	e.startLoopsLocked()
	e.mu.Unlock()
	<-ctx.Done()
	e.mu.Lock()
	e.runCtx = nil // a reload from now on starts no loop
	e.stopLoops()
	e.mu.Unlock()
	e.loops.Wait()
}

// startLoopsLocked ends the current schedule and starts one loop per
// target of e.gen. A loop of the previous schedule may still be auditing:
// the target's run lock keeps the new loop waiting for it, and its result,
// from an older config, is dropped.
func (e *Exporter) startLoopsLocked() {
	if e.stopLoops != nil {
		e.stopLoops()
	}
	ctx, cancel := context.WithCancel(e.runCtx)
	e.stopLoops = cancel
	gen := e.gen
	for _, b := range gen.run.Targets {
		t := e.targets[b.Label]
		e.loops.Go(func() { e.loop(ctx, gen, b, t) })
	}
}

// loop is the schedule of target t, built as b under gen.
func (e *Exporter) loop(ctx context.Context, gen *generation, b config.BuiltTarget, t *target) {
	interval := gen.run.Config.Interval
	phase := phaseOf(t.name, interval)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		e.scheduled(ctx, gen, b, t)
		timer.Reset(time.Until(nextRun(time.Now(), interval, phase)))
	}
}

// phaseOf is a target's offset within each interval: a hash of its name,
// so that targets spread over the interval and a target runs at the same
// times after a restart.
func phaseOf(name string, interval time.Duration) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(name))
	return time.Duration(h.Sum64() % uint64(interval))
}

// nextRun is the first time after now at phase within the interval
// (intervals counted from the zero time). A run that overran its interval
// waits for the next one: missed runs are skipped, never stacked.
func nextRun(now time.Time, interval, phase time.Duration) time.Time {
	return now.Add(-phase).Truncate(interval).Add(phase + interval)
}

// scheduled runs one scheduled audit of t and records it, unless ctx
// ended (a reload or shutdown cut it short) or t moved to a newer config.
func (e *Exporter) scheduled(ctx context.Context, gen *generation, b config.BuiltTarget, t *target) {
	if !t.lock(ctx) {
		return
	}
	defer t.unlock()
	if ctx.Err() != nil {
		return
	}
	start := time.Now()
	rep, err := e.audit(ctx, gen, b, gen.run.Config.Deadline)
	if ctx.Err() != nil {
		return
	}
	ended := time.Now()
	a := attempt{done: true, ended: ended, duration: ended.Sub(start).Seconds(), complete: err == nil && rep != nil,
		up: rep != nil && len(rep.Targets) > 0}
	if err != nil {
		a.err = err.Error()
	}
	e.mu.Lock()
	if t.gen == gen {
		t.attempt = a
		if a.complete {
			t.last, t.lastSuccess = rep, ended
		}
	}
	e.mu.Unlock()
	attrs := []any{"target", t.name, "duration_seconds", round(a.duration), "complete", a.complete}
	if rep != nil {
		attrs = append(attrs, "instances", rep.Summary.Instances, "findings", rep.Summary.Findings)
	}
	if err != nil {
		e.log.Warn("audit did not complete", append(attrs, "err", a.err)...)
		return
	}
	e.log.Info("audit", attrs...)
}

func round(s float64) float64 { return float64(int64(s*1000)) / 1000 }

// audit runs one audit of b within deadline, sharing gen's bound of
// requests in flight.
func (e *Exporter) audit(ctx context.Context, gen *generation, b config.BuiltTarget, deadline time.Duration) (*diff.Report, error) {
	run := gen.run.Only(b)
	cfg := *run.Config
	cfg.Deadline = deadline
	run.Config = &cfg
	return pipeline.Audit(ctx, run, pipeline.Options{
		Log: newLineLog(e.log.With("target", b.Label)), Version: e.opt.Version, Slots: gen.slots})
}

// lock waits for t's run lock until ctx ends.
func (t *target) lock(ctx context.Context) bool {
	select {
	case t.running <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (t *target) unlock() { <-t.running }

// currentNames are the current config's target labels, in config order.
func (e *Exporter) currentNames() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, len(e.gen.run.Targets))
	for i, b := range e.gen.run.Targets {
		names[i] = b.Label
	}
	return names
}

// waiting lists the targets whose first scheduled audit has not ended.
func (e *Exporter) waiting() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var names []string
	for _, b := range e.gen.run.Targets {
		if !e.targets[b.Label].attempt.done {
			names = append(names, b.Label)
		}
	}
	return names
}

// latest is the merged report of every target's last complete audit, in
// config order; its Incomplete says which targets have none yet or whose
// last audit did not complete. Nil when no target has a complete audit.
func (e *Exporter) latest() (*diff.Report, error) {
	e.mu.Lock()
	var reports []*diff.Report
	var notes []string
	for _, b := range e.gen.run.Targets {
		t := e.targets[b.Label]
		switch {
		case t.last == nil && !t.attempt.done:
			notes = append(notes, fmt.Sprintf("target %s: not audited yet", t.name))
		case t.last == nil:
			notes = append(notes, fmt.Sprintf("target %s: no audit has completed (the last: %s)", t.name, t.attempt.err))
		case !t.attempt.complete && t.attempt.ended.After(t.lastSuccess):
			notes = append(notes, fmt.Sprintf("target %s: the last audit, at %s, did not complete (%s); this is the audit of %s",
				t.name, t.attempt.ended.UTC().Format(time.RFC3339), t.attempt.err, t.lastSuccess.UTC().Format(time.RFC3339)))
		}
		if t.last != nil {
			reports = append(reports, t.last)
		}
	}
	e.mu.Unlock()
	if len(reports) == 0 {
		return nil, nil
	}
	merged, err := diff.MergeReports(reports...)
	if err != nil {
		return nil, err
	}
	merged.Version = e.opt.Version
	if len(notes) > 0 {
		merged.Incomplete = strings.Join(slices.Concat(splitNonEmpty(merged.Incomplete), notes), "; ")
	}
	return merged, nil
}

func splitNonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

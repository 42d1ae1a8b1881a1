package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/diff"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// discoverAll runs every target's provider and applies the config's name and
// URL. A provider error is recorded per target; the other targets go on.
func discoverAll(ctx context.Context, built []builtTarget) ([]audit.TargetSpec, []builtTarget, error) {
	var specs []audit.TargetSpec
	var used []builtTarget
	var errs []error
	for i, b := range built {
		found, err := b.provider.Discover(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("targets[%d] (%s): %w", i, targetLabel(b.cfg, i), err))
			continue
		}
		for _, t := range found {
			if b.cfg.Name != "" {
				t.Name = b.cfg.Name
				if len(found) > 1 {
					t.Name = b.cfg.Name + "/" + t.Name
				}
			}
			if b.cfg.URL != "" {
				t.URL = b.cfg.URL
			}
			if t.Name == "" {
				t.Name = targetLabel(b.cfg, i)
			}
			if t.URL == "" {
				errs = append(errs, fmt.Errorf("targets[%d] (%s): no url given and the provider found none", i, t.Name))
				continue
			}
			specs = append(specs, audit.TargetSpec{Target: t,
				Direct: audit.Direct{Scheme: b.cfg.Direct.Scheme, InsecureSkipVerify: b.cfg.Direct.InsecureSkipVerify},
				LB:     audit.LB{Samples: b.cfg.LB.Samples, InstanceHeader: b.cfg.LB.InstanceHeader, Disabled: b.cfg.LB.Disabled}})
			used = append(used, b)
		}
	}
	return specs, used, errors.Join(errs...)
}

func targetLabel(t TargetConfig, i int) string {
	if t.Name != "" {
		return t.Name
	}
	if u, err := url.Parse(t.URL); err == nil && u.Host != "" {
		return u.Host
	}
	return fmt.Sprintf("target-%d", i+1)
}

// auditRun is one audit: config, comparison options and where logs go.
type auditRun struct {
	cfg     *Config
	built   []builtTarget
	diffOpt diff.Options
	log     io.Writer
	// progress, when set, receives a progress bar (a terminal).
	progress io.Writer
}

// errIncomplete wraps why a run produced only a partial report.
var errIncomplete = errors.New("run incomplete")

// run discovers, probes and compares. It always returns a report; the error
// (wrapping errIncomplete) says the report is partial.
func (a *auditRun) run(ctx context.Context) (*diff.Report, error) {
	start := time.Now()
	browser, _ := cors.ParseBrowser(a.cfg.Browser)
	rep := &diff.Report{Tool: "corsaudit", Version: version, Browser: string(browser), StartedAt: start.UTC()}
	if a.diffOpt.Checks == nil {
		a.diffOpt.Checks = a.cfg.Checks
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.Deadline)
	defer cancel()

	var problems []string
	specs, used, err := discoverAll(ctx, a.built)
	if err != nil {
		problems = append(problems, "discovery: "+err.Error())
		fmt.Fprintf(a.log, "corsaudit: discovery: %v\n", err)
	}
	instances, requests := 0, 0
	for i := range specs {
		probes, err := planProbes(used[i].policy, specs[i].Target.URL, a.diffOpt.Checks, a.cfg.MaxProbes, a.log)
		if err != nil {
			return nil, usageError(fmt.Errorf("target %s: %w", specs[i].Target.Name, err))
		}
		specs[i].Probes = probes
		n := 0
		for _, in := range specs[i].Target.Instances {
			if in.Probeable() {
				n++
			}
		}
		instances += n
		requests += n * len(probes) * 2
		if !specs[i].LB.Disabled {
			s := specs[i].LB.Samples
			if s == 0 {
				s = audit.SamplesFor(n)
			}
			requests += s * audit.LBProbes(probes) * 2
		}
		fmt.Fprintf(a.log, "corsaudit: %s: %d instances, %d probes\n", specs[i].Target.Name, n, len(probes))
	}
	fmt.Fprintf(a.log, "corsaudit: auditing %d targets, %d instances, up to %d requests\n", len(specs), instances, requests)

	opt := audit.Options{Concurrency: a.cfg.Concurrency, PerInstance: a.cfg.PerInstance, Timeout: a.cfg.Timeout, Browser: browser}
	var bar *progressBar
	if a.progress != nil {
		bar = newProgressBar(a.progress)
		opt.Progress = bar.update
	}
	results, err := audit.Run(ctx, specs, opt)
	if bar != nil {
		bar.finish()
	}
	if err != nil {
		problems = append(problems, err.Error())
	}
	for i := range results {
		if results[i].URL == nil {
			continue
		}
		tr, fs := diff.Compare(&results[i], a.diffOpt)
		rep.Targets = append(rep.Targets, tr)
		rep.Findings = append(rep.Findings, fs...)
		rep.Summary.Requests += int(results[i].Requests)
	}
	rep.Duration = time.Since(start).Seconds()
	rep.Incomplete = strings.Join(problems, "; ")
	rep.Summarize()
	if rep.Incomplete != "" {
		return rep, fmt.Errorf("%w: %s", errIncomplete, rep.Incomplete)
	}
	return rep, nil
}

// planProbes builds a target's probes: the policy plan, plus adversarial
// origins when the misconfig check is on. A plan larger than maxProbes is
// cut from the end (the adversarial list is ordered most telling first)
// and said so; the policy plan itself is never cut.
func planProbes(pol audit.Policy, targetURL string, checks []string, maxProbes int, log io.Writer) ([]audit.Probe, error) {
	probes := audit.Plan(pol)
	if len(probes) > maxProbes {
		return nil, fmt.Errorf("the policy alone needs %d probes, more than --max-probes %d (fewer origins or methods, or raise the bound)", len(probes), maxProbes)
	}
	if slices.Contains(checks, diff.CheckMisconfig) {
		host := ""
		if u, err := url.Parse(targetURL); err == nil {
			host = u.Host
		}
		adv := audit.AdversarialProbes(pol, host, audit.RandomLabel())
		if room := maxProbes - len(probes); len(adv) > room {
			fmt.Fprintf(log, "corsaudit: --max-probes %d leaves room for %d of %d adversarial origins\n", maxProbes, room, len(adv))
			adv = adv[:room]
		}
		probes = append(probes, adv...)
	}
	for i := range probes {
		probes[i].ID = fmt.Sprintf("p%d", i+1)
	}
	return probes, nil
}

// progressBar draws "probing [=====>    ] 1234/5000" on a terminal.
type progressBar struct {
	mu   sync.Mutex
	w    io.Writer
	last time.Time
}

func newProgressBar(w io.Writer) *progressBar { return &progressBar{w: w} }

func (b *progressBar) update(done, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if done != total && time.Since(b.last) < 100*time.Millisecond {
		return
	}
	b.last = time.Now()
	const width = 30
	filled := int(float64(width) * float64(done) / float64(max(total, 1)))
	fmt.Fprintf(b.w, "\rprobing [%s%s] %d/%d", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), done, total)
}

func (b *progressBar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	fmt.Fprint(b.w, "\r\033[K")
}

package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/plural"
)

// ShardOptions are what a shard run needs besides the inventory and config.
type ShardOptions struct {
	// Log receives the request estimate.
	Log io.Writer
	// Progress, when set, is called as requests complete.
	Progress func(done, total int64)
	// Sent, when set, is told each request as it is sent, secrets shown
	// as their placeholder (audit --verbose).
	Sent func(*audit.SentRequest)
	// Version is written in the shard.
	Version string
}

// ParseShard reads "K/N" (K from 0 to N-1, as Kubernetes'
// JOB_COMPLETION_INDEX counts).
func ParseShard(s string) (k, n int, err error) {
	if _, err := fmt.Sscanf(s, "%d/%d", &k, &n); err != nil || fmt.Sprintf("%d/%d", k, n) != s {
		return 0, 0, fmt.Errorf("shard: %q is not K/N (e.g. 0/3, K from 0 to N-1)", s)
	}
	if n < 1 || k < 0 || k >= n {
		return 0, 0, fmt.Errorf("shard: %q: K must be from 0 to %d", s, n-1)
	}
	return k, n, nil
}

// AuditShard probes shard k of n of the inventory under b (its config,
// built once by the caller: inv.ParseConfig, then config.Build), within
// its deadline: its share of every target's instances, and the load
// balancer of the targets it owns (see Assign). The shard is nil only when
// k/n is invalid or b was built for discovery only; the error wraps
// errIncomplete when the shard is partial.
func AuditShard(ctx context.Context, inv *Inventory, b *config.Built, k, n int, opt ShardOptions) (*Shard, error) {
	if n < 1 || k < 0 || k >= n {
		return nil, fmt.Errorf("shard: %d/%d: K must be from 0 to N-1", k, n)
	}
	if err := canProbe(b); err != nil {
		return nil, err
	}
	cfg := b.Config
	start := time.Now()
	text, err := ConfigYAML(cfg)
	if err != nil {
		return nil, err
	}
	log := opt.Log
	if log == nil {
		log = io.Discard
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Deadline)
	defer cancel()

	a := assign(inv, n)
	specs, index := a.ShardSpecs(inv, k)
	for t := range specs {
		// Credentials and TLS come from this run's config, never from the
		// inventory file.
		for _, bt := range b.Targets {
			if bt.Index == inv.Targets[t].ConfigTarget {
				specs[t].Auth, specs[t].TLS = bt.Auth, bt.TLS
			}
		}
	}
	aopt := cfg.AuditOptions()
	fmt.Fprintf(log, "corsaudit: shard %d/%d: %s, %s\n", k, n, plural.Count(len(specs), "target"), describeTotal(audit.Estimate(specs, aopt)))
	aopt.Progress = opt.Progress
	aopt.OnSend = opt.Sent
	aopt.Latencies = true // the shard file carries each request's
	results, runErr := audit.Run(ctx, specs, aopt)

	var problems []string
	if inv.Incomplete != "" {
		problems = append(problems, inv.Incomplete)
	}
	if runErr != nil {
		problems = append(problems, fmt.Sprintf("shard %d/%d: %s", k, n, partialReason(ctx, cfg.Deadline, results)))
	}
	s := &Shard{FileKind: FileKindShard, Format: FormatVersion, Version: opt.Version, Shard: k, Shards: n,
		ConfigFingerprint: fingerprint([]byte(text)), Config: text, InventoryFingerprint: inv.Fingerprint(),
		Incomplete: joinNew(problems), RunTime: diff.RunTime{StartedAt: start.UTC()}, Targets: []shardTarget{}}
	var enc encoder
	for t := range results {
		r := &results[t]
		st := shardTarget{Name: inv.Targets[t].Name, Rows: []shardRow{}, Requests: r.Requests}
		if a.Owner[t] == k {
			it := inv.Targets[t]
			st.Inventory = &it
			for _, row := range r.LB {
				st.LB = append(st.LB, enc.observations(row))
			}
			for _, c := range r.Cache {
				st.Cache = append(st.Cache, shardCachePair{CacheCase: c.CacheCase, FirstAnswer: enc.exchange(c.FirstAnswer),
					SecondAnswer: enc.exchange(c.SecondAnswer), Fresh: enc.exchange(c.Fresh)})
			}
			for _, f := range r.Fronts {
				sf := shardFront{Name: f.Name, Addrs: f.Addrs}
				for _, row := range f.LB {
					sf.LB = append(sf.LB, enc.observations(row))
				}
				st.Fronts = append(st.Fronts, sf)
			}
		}
		for j := range r.Direct.Instances() {
			row := r.Direct.Row(j)
			st.Rows = append(st.Rows, shardRow{Index: index[t][j], Instance: r.Spec.Target.Instances[j].ID,
				Observations: enc.observations(row)})
		}
		s.Targets = append(s.Targets, st)
	}
	s.Requests, s.Answers, s.Verdicts = enc.requests.list, enc.answers.list, enc.verdicts.list
	s.Duration = time.Since(start).Seconds()
	if s.Incomplete != "" {
		return s, fmt.Errorf("%w: %s", errIncomplete, s.Incomplete)
	}
	return s, nil
}

// joinNew joins the distinct reasons, in order.
func joinNew(reasons []string) string {
	out := ""
	seen := map[string]bool{}
	for _, r := range reasons {
		if r == "" || seen[r] {
			continue
		}
		seen[r] = true
		if out != "" {
			out += "; "
		}
		out += r
	}
	return out
}

// errShardMismatch is wrapped by MergeShards' errors about shards that do
// not belong together: other configs or inventories, overlapping or
// missing shards.
var errShardMismatch = errors.New("shards do not belong together")

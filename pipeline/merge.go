package pipeline

import (
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
)

// NamedShard is a shard and where it was read from (for messages).
type NamedShard struct {
	Name  string
	Shard *Shard
}

// MergeShards checks that the shards are the N shards of one inventory
// under one config, rebuilds every target's observations over the whole
// inventory, and runs the differ over them exactly as Run does: the report
// is the one a single run over the whole fleet gives, apart from timing
// fields. It also returns the shards' config (its fail_on decides the exit
// code as for a single run). Errors about shards that do not belong
// together wrap errShardMismatch.
func MergeShards(shards []NamedShard) (*diff.Report, *config.Config, error) {
	if len(shards) == 0 {
		return nil, nil, fmt.Errorf("merge: %w: no shards", errShardMismatch)
	}
	if err := checkBelong(shards); err != nil {
		return nil, nil, err
	}
	first := shards[0].Shard
	cfg, err := config.Parse([]byte(first.Config), shards[0].Name+" (config)")
	if err != nil {
		return nil, nil, fmt.Errorf("merge: %s: %w", shards[0].Name, err)
	}
	// The same shard number twice, or one missing, is caught by
	// checkBelong; here every shard has its place.
	byNumber := make([]NamedShard, first.Shards)
	for _, s := range shards {
		byNumber[s.Shard.Shard] = s
	}
	inv := &Inventory{}
	for t := range first.Targets {
		owner := byNumber[t%first.Shards]
		it := owner.Shard.Targets[t].Inventory
		if it == nil {
			return nil, nil, fmt.Errorf("merge: %s: %w: target %q has no inventory entry on its owner shard", owner.Name, errShardMismatch, first.Targets[t].Name)
		}
		inv.Targets = append(inv.Targets, *it)
	}
	// The owners' entries are the inventory every shard ran from, checked
	// as an inventory read from a file is.
	inv.ConfigFingerprint = first.ConfigFingerprint
	if inv.Fingerprint() != first.InventoryFingerprint {
		return nil, nil, fmt.Errorf("merge: %w: the targets' inventory entries are not the inventory the shards were run from (edited by hand?)", errShardMismatch)
	}
	err = inv.check()
	if err == nil {
		err = inv.checkConfig(cfg)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("merge: %s: inventory: %w", shards[0].Name, err)
	}
	results := make([]audit.TargetResult, len(inv.Targets))
	for t, it := range inv.Targets {
		r := &results[t]
		r.Spec = it.Spec()
		if config.ShowURL(it.URL) != it.URL {
			_, err := config.TargetURL(it.URL)
			return nil, nil, fmt.Errorf("merge: target %q: url: %w", it.Name, err)
		}
		if r.URL, err = url.Parse(it.URL); err != nil || r.URL.Host == "" {
			r.URL = nil
			continue
		}
		r.Direct = audit.NewDirectMatrix(r.Spec.Target.Instances, len(r.Spec.Probes))
	}
	var creds []*audit.Credential
	for _, t := range cfg.Targets {
		if c := t.Auth.Placeholder(); c != nil {
			creds = append(creds, c)
		}
	}
	var start, end time.Time
	var problems []string
	a := assign(inv, first.Shards)
	for _, ns := range byNumber {
		s := ns.Shard
		if err := fill(results, a, s, creds); err != nil {
			return nil, nil, fmt.Errorf("merge: %s: %w", ns.Name, err)
		}
		if start.IsZero() || s.StartedAt.Before(start) {
			start = s.StartedAt
		}
		if e := s.Ended(); e.After(end) {
			end = e
		}
		problems = append(problems, strings.Split(s.Incomplete, "; ")...)
	}
	for t, it := range inv.Targets {
		for i, in := range it.Instances {
			if a.Of[t][i] >= 0 && results[t].URL != nil && !results[t].Direct.Probed(i) {
				return nil, nil, fmt.Errorf("merge: %w: shard %d/%d has no observations of target %q instance %q",
					errShardMismatch, a.Of[t][i], a.Shards, it.Name, in.ID)
			}
		}
	}
	rep := compare(results, diff.Options{Analyses: cfg.Analyses}, first.Version, cfg)
	rep.StartedAt = start
	rep.Duration = end.Sub(start).Seconds()
	rep.Incomplete = joinNew(problems)
	rep.Summarize()
	return rep, cfg, nil
}

// fill places shard s's observations into results; creds are the
// credentials of the config (newDecoder).
func fill(results []audit.TargetResult, a assignment, s *Shard, creds []*audit.Credential) error {
	d, err := newDecoder(s, creds)
	if err != nil {
		return err
	}
	for t, st := range s.Targets {
		r := &results[t]
		r.Requests += st.Requests
		if r.URL == nil {
			continue
		}
		for _, row := range st.Rows {
			insts := r.Spec.Target.Instances
			if row.Index < 0 || row.Index >= len(insts) || insts[row.Index].ID != row.Instance {
				return fmt.Errorf("target %q: instance %q (index %d) is not in the inventory", st.Name, row.Instance, row.Index)
			}
			if a.Of[t][row.Index] != s.Shard {
				return fmt.Errorf("%w: target %q: instance %q belongs to shard %d/%d, not %d", errShardMismatch, st.Name, row.Instance, a.Of[t][row.Index], a.Shards, s.Shard)
			}
			if len(row.Observations) != len(r.Spec.Probes) {
				return fmt.Errorf("target %q: instance %q has %d observations for %d probes", st.Name, row.Instance, len(row.Observations), len(r.Spec.Probes))
			}
			obs, err := d.observations(row.Observations, row.Instance, -1)
			if err != nil {
				return fmt.Errorf("target %q: instance %q: %w", st.Name, row.Instance, err)
			}
			r.Direct.SetRow(row.Index, obs)
		}
		if a.Owner[t] != s.Shard {
			continue
		}
		for p, row := range st.LB {
			obs, err := d.observations(row, "", p)
			if err != nil {
				return fmt.Errorf("target %q: load balancer: %w", st.Name, err)
			}
			r.LB = append(r.LB, obs)
		}
		for _, c := range st.Cache {
			pair := audit.CachePair{CacheCase: c.CacheCase}
			if pair.FirstAnswer, err = d.exchange(c.FirstAnswer); err != nil {
				return fmt.Errorf("target %q: cache: %w", st.Name, err)
			}
			if pair.SecondAnswer, err = d.exchange(c.SecondAnswer); err != nil {
				return fmt.Errorf("target %q: cache: %w", st.Name, err)
			}
			if pair.Fresh, err = d.exchange(c.Fresh); err != nil {
				return fmt.Errorf("target %q: cache: %w", st.Name, err)
			}
			r.Cache = append(r.Cache, pair)
		}
		for _, f := range st.Fronts {
			fs := audit.FrontSamples{Name: f.Name, Addrs: f.Addrs}
			for p, row := range f.LB {
				obs, err := d.observations(row, "", p)
				if err != nil {
					return fmt.Errorf("target %q: front %q: %w", st.Name, f.Name, err)
				}
				fs.LB = append(fs.LB, obs)
			}
			r.Fronts = append(r.Fronts, fs)
		}
	}
	return nil
}

// checkBelong checks that the shards are shards 0..N-1 of one inventory
// under one config, each once, naming the first difference.
func checkBelong(shards []NamedShard) error {
	first := shards[0]
	seen := map[int]string{}
	for _, ns := range shards {
		s := ns.Shard
		switch {
		case s.ConfigFingerprint != first.Shard.ConfigFingerprint:
			return fmt.Errorf("merge: %w: %s and %s were run with different configs: %s", errShardMismatch,
				first.Name, ns.Name, strings.Join(configDifferences(first.Shard.Config, s.Config, 3), "; "))
		case s.InventoryFingerprint != first.Shard.InventoryFingerprint:
			return fmt.Errorf("merge: %w: %s and %s were run from different inventories (discover once, then run every shard from the same file)",
				errShardMismatch, first.Name, ns.Name)
		case s.Shards != first.Shard.Shards:
			return fmt.Errorf("merge: %w: %s is shard %d/%d but %s is shard %d/%d", errShardMismatch,
				first.Name, first.Shard.Shard, first.Shard.Shards, ns.Name, s.Shard, s.Shards)
		case s.Shard < 0 || s.Shard >= s.Shards:
			return fmt.Errorf("merge: %w: %s: shard %d/%d is out of range", errShardMismatch, ns.Name, s.Shard, s.Shards)
		case len(s.Targets) != len(first.Shard.Targets):
			return fmt.Errorf("merge: %w: %s has %d targets, %s has %d", errShardMismatch, first.Name, len(first.Shard.Targets), ns.Name, len(s.Targets))
		}
		if prev, dup := seen[s.Shard]; dup {
			return fmt.Errorf("merge: %w: overlapping shards: %s and %s are both shard %d/%d", errShardMismatch, prev, ns.Name, s.Shard, s.Shards)
		}
		seen[s.Shard] = ns.Name
	}
	// Every shard number was seen once and is below N: N shards are
	// missing N - len(seen); name the first few (the loop stops after at
	// most len(seen) + 5 numbers, whatever N the files say).
	n := first.Shard.Shards
	if absent := n - len(seen); absent > 0 {
		var missing []string
		for k := 0; k < n && len(missing) < 5; k++ {
			if _, ok := seen[k]; !ok {
				missing = append(missing, fmt.Sprintf("%d/%d", k, n))
			}
		}
		list := strings.Join(missing, ", ")
		if absent > len(missing) {
			list += fmt.Sprintf(" and %d more", absent-len(missing))
		}
		return fmt.Errorf("merge: %w: missing shard(s) %s: the merged report would leave out their instances", errShardMismatch, list)
	}
	return nil
}

// configDifferences names up to max settings that differ between two
// configs given as YAML, as "path: a vs b".
func configDifferences(a, b string, max int) []string {
	var va, vb any
	if yaml.Unmarshal([]byte(a), &va) != nil || yaml.Unmarshal([]byte(b), &vb) != nil {
		return []string{"the configs differ"}
	}
	var out []string
	walkDiff("", va, vb, &out)
	if len(out) == 0 {
		return []string{"the configs differ"}
	}
	if len(out) > max {
		out = append(out[:max], fmt.Sprintf("and %d more", len(out)-max))
	}
	return out
}

func walkDiff(path string, a, b any, out *[]string) {
	ma, aok := a.(map[string]any)
	mb, bok := b.(map[string]any)
	if aok && bok {
		var keys []string
		for k := range ma {
			keys = append(keys, k)
		}
		for k := range mb {
			if _, ok := ma[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			walkDiff(p, ma[k], mb[k], out)
		}
		return
	}
	la, aok := a.([]any)
	lb, bok := b.([]any)
	if aok && bok && len(la) == len(lb) {
		for i := range la {
			walkDiff(fmt.Sprintf("%s[%d]", path, i), la[i], lb[i], out)
		}
		return
	}
	if !reflect.DeepEqual(a, b) {
		*out = append(*out, fmt.Sprintf("%s: %s vs %s", path, flow(a), flow(b)))
	}
}

// flow writes a decoded YAML value on one line ("(none)" when absent).
func flow(v any) string {
	switch v := v.(type) {
	case nil:
		return "(none)"
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = flow(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + flow(v[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	default:
		return fmt.Sprint(v)
	}
}

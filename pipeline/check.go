package pipeline

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/corsaudit/corsaudit/audit"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/internal/plural"
)

// Inventory and shard files are read, not trusted: every count, index,
// URL, address and probe is checked on read, with the field path in the
// error, so that an edited file is a usage error rather than a panic,
// memory in proportion to a number in the file, probes of something else
// than the config says, or a report that passes with nothing audited.
// What the config owns (a static target's instances, a target's URL,
// direct and lb settings) must be the config's, which the config
// fingerprint covers; what discovery found (the instances of aws, gcp and
// dns targets) is taken as written: see docs/scale.md.

// maxSamples bounds the load balancer samples per probe an inventory may
// ask for (audit.SamplesFor gives at most 256).
const maxSamples = 10_000

// maxFacts bounds the facts of a target, and the settings of a fact, an
// inventory may carry (a provider gives a few per listener or service).
const maxFacts = 1000

// check checks what an inventory says on its own: at least one target,
// and each target's fields.
func (inv *Inventory) check() error {
	if len(inv.Targets) == 0 {
		msg := "targets: none: an inventory lists at least one target"
		if inv.Incomplete != "" {
			msg += " (" + inv.Incomplete + ")"
		}
		return fmt.Errorf("%s", msg)
	}
	for i := range inv.Targets {
		if err := inv.Targets[i].check(fmt.Sprintf("targets[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

// check checks an inventory target's own fields; path names it.
func (t *InventoryTarget) check(path string) error {
	if _, err := config.TargetURL(t.URL); err != nil {
		return fmt.Errorf("%s.url: %w", path, err)
	}
	if t.ConfigTarget < 0 {
		return fmt.Errorf("%s.config_target: %d is not a target of the config", path, t.ConfigTarget)
	}
	ids := make(map[string]int, len(t.Instances))
	for i, in := range t.Instances {
		p := fmt.Sprintf("%s.instances[%d]", path, i)
		if in.ID == "" {
			return fmt.Errorf("%s.id: empty", p)
		}
		if j, dup := ids[in.ID]; dup {
			return fmt.Errorf("%s.id: %q already used by instances[%d]", p, in.ID, j)
		}
		ids[in.ID] = i
		if in.Addr != "" {
			if err := discovery.CheckAddr(in.Addr); err != nil {
				return fmt.Errorf("%s.addr: %w", p, err)
			}
		}
		if err := discovery.CheckScheme(in.Scheme); err != nil {
			return fmt.Errorf("%s.scheme: %w", p, err)
		}
	}
	if len(t.Probes) == 0 {
		return fmt.Errorf("%s.probes: none: every target has at least one probe", path)
	}
	probeIDs := make(map[string]int, len(t.Probes))
	for j, p := range t.Probes {
		if err := p.Check(); err != nil {
			return fmt.Errorf("%s.probes[%d].%w", path, j, err)
		}
		if k, dup := probeIDs[p.ID]; dup {
			return fmt.Errorf("%s.probes[%d].id: %q already used by probes[%d]", path, j, p.ID, k)
		}
		probeIDs[p.ID] = j
	}
	if err := discovery.CheckScheme(t.Direct.Scheme); err != nil {
		return fmt.Errorf("%s.direct.scheme: %w", path, err)
	}
	if t.LB.Samples < 0 || t.LB.Samples > maxSamples {
		return fmt.Errorf("%s.lb.samples: %d is not from 0 to %d", path, t.LB.Samples, maxSamples)
	}
	if len(t.Facts) > maxFacts {
		return fmt.Errorf("%s.facts: %d, more than %d", path, len(t.Facts), maxFacts)
	}
	for j, f := range t.Facts {
		p := fmt.Sprintf("%s.facts[%d]", path, j)
		switch f.Kind {
		case discovery.FactCORSHeaders, discovery.FactCacheKey, discovery.FactPreflightLogin:
		default:
			return fmt.Errorf("%s.kind: %q is not a kind of fact", p, f.Kind)
		}
		if f.Resource == "" || len(f.Settings) == 0 || len(f.Settings) > maxFacts {
			return fmt.Errorf("%s: a fact names its resource and from 1 to %d settings", p, maxFacts)
		}
	}
	for j, f := range t.Fronts {
		p := fmt.Sprintf("%s.fronts[%d]", path, j)
		switch {
		case f.Name == "":
			return fmt.Errorf("%s.name: empty", p)
		case (f.URL == "") == (f.Address == ""):
			return fmt.Errorf("%s: one of url and address is required", p)
		case f.URL != "":
			if _, err := config.TargetURL(f.URL); err != nil {
				return fmt.Errorf("%s.url: %w", p, err)
			}
		default:
			if err := discovery.CheckAddr(f.Address); err != nil {
				return fmt.Errorf("%s.address: %w", p, err)
			}
		}
	}
	return nil
}

// configFronts are a config target's fronts as the audit takes them.
func configFronts(fs []config.Front) []audit.Front {
	var out []audit.Front
	for _, f := range fs {
		out = append(out, audit.Front{Name: f.Name, URL: f.URL, Address: f.Address})
	}
	return out
}

// checkConfig checks the inventory's targets against the config they were
// discovered from: each names one of its targets, keeps that target's URL,
// direct and lb settings and max_probes, and a static target's instances
// are the ones the config lists.
func (inv *Inventory) checkConfig(cfg *config.Config) error {
	for i := range inv.Targets {
		t := &inv.Targets[i]
		path := fmt.Sprintf("targets[%d]", i)
		if t.ConfigTarget >= len(cfg.Targets) {
			return fmt.Errorf("%s.config_target: %d is not a target of the config (%d targets)", path, t.ConfigTarget, len(cfg.Targets))
		}
		ct := &cfg.Targets[t.ConfigTarget]
		cpath := fmt.Sprintf("targets[%d]", t.ConfigTarget)
		if ct.URL != "" && t.URL != ct.URL {
			return fmt.Errorf("%s.url: %q is not the config's %s.url (%q)", path, t.URL, cpath, ct.URL)
		}
		if t.Direct != (inventoryDirect{Scheme: ct.Direct.Scheme, InsecureSkipVerify: ct.Direct.InsecureSkipVerify}) {
			return fmt.Errorf("%s.direct: not the config's %s.direct", path, cpath)
		}
		if t.LB != (inventoryLB{Disabled: ct.LB.Disabled, Samples: ct.LB.Samples, InstanceHeader: ct.LB.InstanceHeader}) {
			return fmt.Errorf("%s.lb: not the config's %s.lb", path, cpath)
		}
		if !slices.Equal(t.Fronts, configFronts(ct.Fronts)) {
			return fmt.Errorf("%s.fronts: not the config's %s.fronts", path, cpath)
		}
		if n := cfg.MaxProbes * max(1, len(ct.Paths)); len(t.Probes) > n {
			return fmt.Errorf("%s.probes: more than the config's max_probes (%d) on each of %d paths", path, cfg.MaxProbes, max(1, len(ct.Paths)))
		}
		listed, ok := cfg.ListedInstances(t.ConfigTarget)
		if !ok {
			continue
		}
		if err := checkListed(t, listed, path, cpath); err != nil {
			return err
		}
	}
	return nil
}

// checkListed checks the instances of an inventory target against the
// ones its config lists: the same instances in the same order, but for
// the pools routing left out (LeftOut counts them) and the pool and weight
// routing assigns.
func checkListed(t *InventoryTarget, listed []discovery.Instance, path, cpath string) error {
	leftOut := 0
	for _, lo := range t.LeftOut {
		leftOut += lo.Instances
	}
	if len(t.Instances)+leftOut != len(listed) {
		return fmt.Errorf("%s.instances: %s (and %d in pools left out), the config lists %d in %s.discover (edited by hand?)",
			path, plural.Count(len(t.Instances), "instance"), leftOut, len(listed), cpath)
	}
	next := 0
	for j, in := range t.Instances {
		for next < len(listed) && listed[next].ID != in.ID {
			next++
		}
		if next == len(listed) || !sameInstance(in, listed[next]) {
			what := "an instance the config does not list"
			if l, found := findInstance(listed, in.ID); found {
				what = fmt.Sprintf("not what the config lists (%s at %s)", l.ID, l.Addr)
			}
			return fmt.Errorf("%s.instances[%d]: %s at %s is %s: the instances of a static target are the config's",
				path, j, in.ID, in.Addr, what)
		}
		next++
	}
	return nil
}

func findInstance(list []discovery.Instance, id string) (discovery.Instance, bool) {
	for _, in := range list {
		if in.ID == id {
			return in, true
		}
	}
	return discovery.Instance{}, false
}

// sameInstance says whether a and b are the same instance, field by field
// but for the pool and weight routing assigns (no labels and empty labels
// alike: JSON leaves both out).
func sameInstance(a, b discovery.Instance) bool {
	return a.ID == b.ID && a.Addr == b.Addr && a.Scheme == b.Scheme && a.Group == b.Group &&
		a.Zone == b.Zone && a.Health == b.Health && a.HealthReason == b.HealthReason &&
		a.Skip == b.Skip && maps.Equal(a.Labels, b.Labels)
}

// check checks what a shard says on its own: its number, config
// fingerprint and timing, and in every target each index into the shard's
// interned requests, answers and verdicts, each row's instance index, and
// the load balancer samples and cache pairs against the probes of the
// target's inventory entry (which the owner shard, the only one with
// samples, carries).
func (s *Shard) check() error {
	switch {
	case s.Shards < 1:
		return fmt.Errorf("shards: %d is not a number of shards", s.Shards)
	case s.Shard < 0 || s.Shard >= s.Shards:
		return fmt.Errorf("shard: %d is not from 0 to %d", s.Shard, s.Shards-1)
	case fingerprint([]byte(s.Config)) != s.ConfigFingerprint:
		return fmt.Errorf("config_fingerprint does not match its config (edited by hand?)")
	case s.Duration < 0 || math.IsNaN(s.Duration) || math.IsInf(s.Duration, 0):
		return fmt.Errorf("duration_seconds: %v is negative", s.Duration)
	case len(s.Targets) == 0:
		return fmt.Errorf("targets: none: a shard holds every target of its inventory")
	}
	for t := range s.Targets {
		if err := s.checkTarget(&s.Targets[t], fmt.Sprintf("targets[%d]", t)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Shard) checkTarget(st *shardTarget, path string) error {
	if st.Requests < 0 {
		return fmt.Errorf("%s.requests_sent: %d is negative", path, st.Requests)
	}
	probes, instances := -1, -1 // unknown without the inventory entry
	if st.Inventory != nil {
		if err := st.Inventory.check(path + ".inventory"); err != nil {
			return err
		}
		probes, instances = len(st.Inventory.Probes), len(st.Inventory.Instances)
	}
	rows := make(map[int]int, len(st.Rows))
	for r, row := range st.Rows {
		p := fmt.Sprintf("%s.rows[%d]", path, r)
		if row.Index < 0 || instances >= 0 && row.Index >= instances {
			return fmt.Errorf("%s.index: %d out of range%s", p, row.Index, of(instances, "instance"))
		}
		if _, dup := rows[row.Index]; dup {
			return fmt.Errorf("%s: instance %q listed twice", p, row.Instance)
		}
		rows[row.Index] = r
		if probes >= 0 && len(row.Observations) != probes {
			return fmt.Errorf("%s.observations: %d for %d probes", p, len(row.Observations), probes)
		}
		for k := range row.Observations {
			if err := s.checkObservation(&row.Observations[k], fmt.Sprintf("%s.observations[%d]", p, k)); err != nil {
				return err
			}
		}
	}
	if st.Inventory == nil {
		if len(st.LB) > 0 || len(st.Cache) > 0 || len(st.Fronts) > 0 {
			return fmt.Errorf("%s.lb: load balancer samples without the target's inventory entry (not the owner shard)", path)
		}
		return nil
	}
	if len(st.LB) > probes {
		return fmt.Errorf("%s.lb: %d rows for %d probes", path, len(st.LB), probes)
	}
	for p, row := range st.LB {
		for k := range row {
			if err := s.checkObservation(&row[k], fmt.Sprintf("%s.lb[%d][%d]", path, p, k)); err != nil {
				return err
			}
		}
	}
	for i, c := range st.Cache {
		p := fmt.Sprintf("%s.cache[%d]", path, i)
		if c.Probe < 0 || c.Probe >= probes {
			return fmt.Errorf("%s.probe: %d out of range%s", p, c.Probe, of(probes, "probe"))
		}
		if c.SecondProbe < 0 || c.SecondProbe >= probes {
			return fmt.Errorf("%s.second_probe: %d out of range%s", p, c.SecondProbe, of(probes, "probe"))
		}
		for _, x := range []struct {
			e    *shardExchange
			name string
		}{{c.FirstAnswer, ".first"}, {c.SecondAnswer, ".second"}, {c.Fresh, ".fresh"}} {
			if err := s.checkExchange(x.e, p+x.name); err != nil {
				return err
			}
		}
	}
	fronts := st.Inventory.Fronts
	if len(st.Fronts) > max(0, len(fronts)-1) {
		return fmt.Errorf("%s.fronts: %d for %d fronts behind the first", path, len(st.Fronts), max(0, len(fronts)-1))
	}
	for i, f := range st.Fronts {
		p := fmt.Sprintf("%s.fronts[%d]", path, i)
		if f.Name != fronts[i+1].Name {
			return fmt.Errorf("%s.name: %q is not the inventory's fronts[%d] (%q)", p, f.Name, i+1, fronts[i+1].Name)
		}
		if len(f.LB) > probes {
			return fmt.Errorf("%s.lb: %d rows for %d probes", p, len(f.LB), probes)
		}
		for q, row := range f.LB {
			for k := range row {
				if err := s.checkObservation(&row[k], fmt.Sprintf("%s.lb[%d][%d]", p, q, k)); err != nil {
					return err
				}
			}
		}
		for j, a := range f.Addrs {
			if err := discovery.CheckAddr(a); err != nil {
				return fmt.Errorf("%s.addrs[%d]: %w", p, j, err)
			}
		}
	}
	return nil
}

func (s *Shard) checkObservation(o *shardObservation, path string) error {
	if o.Verdict < 0 || o.Verdict >= len(s.Verdicts) {
		return fmt.Errorf("%s.verdict: %d out of range%s", path, o.Verdict, of(len(s.Verdicts), "verdict"))
	}
	if err := s.checkExchange(o.Preflight, path+".pre"); err != nil {
		return err
	}
	return s.checkExchange(o.Actual, path+".act")
}

func (s *Shard) checkExchange(x *shardExchange, path string) error {
	switch {
	case x == nil:
		return nil
	case x.Request < 0 || x.Request >= len(s.Requests):
		return fmt.Errorf("%s.req: %d out of range%s", path, x.Request, of(len(s.Requests), "request"))
	case x.Answer < 0 || x.Answer >= len(s.Answers):
		return fmt.Errorf("%s.ans: %d out of range%s", path, x.Answer, of(len(s.Answers), "answer"))
	case x.ConnectTo != "":
		if err := discovery.CheckAddr(x.ConnectTo); err != nil {
			return fmt.Errorf("%s.connect_to: %w", path, err)
		}
	}
	return nil
}

// of is " (n nouns)" for a known count n, "" otherwise.
func of(n int, noun string) string {
	if n < 0 {
		return ""
	}
	return " (" + plural.Count(n, noun) + ")"
}

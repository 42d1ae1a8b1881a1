package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"sort"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/discovery"
)

// Document kinds and the format version of inventories and shards.
const (
	FileKindInventory = "corsaudit-inventory"
	FileKindShard     = "corsaudit-shard"
	FormatVersion     = 1
)

// Inventory is what `corsaudit discover --format json` writes: every
// target with its instances and its probe plan, and the config it came
// from. Shards probe from it; merge checks that every shard used the same
// one (InventoryFingerprint) under the same config (ConfigFingerprint).
type Inventory struct {
	FileKind string `json:"kind"`
	Format   int    `json:"format"`
	Version  string `json:"version,omitempty"`
	// ConfigFingerprint is the SHA-256 of Config.
	ConfigFingerprint string `json:"config_fingerprint"`
	// Config is the effective config (file, variables and flags) as YAML.
	Config string `json:"config"`
	// Incomplete says which targets discovery could not list.
	Incomplete string            `json:"incomplete,omitempty"`
	Targets    []InventoryTarget `json:"targets"`
}

// InventoryTarget is one discovered target and how to audit it.
type InventoryTarget struct {
	Name      string               `json:"name"`
	URL       string               `json:"url"`
	Instances []discovery.Instance `json:"instances"`
	Probes    []audit.Probe        `json:"probes"`
	Direct    inventoryDirect      `json:"direct"`
	LB        inventoryLB          `json:"lb"`
	// Fronts are the config's fronts of the target (audit.TargetSpec.Fronts).
	Fronts []audit.Front `json:"fronts,omitempty"`
	// Facts are what the provider read of the fronts' configuration
	// (discovery.Target.Facts).
	Facts []discovery.FrontFact `json:"facts,omitempty"`
	// ConfigTarget is the index of the config's target it was discovered
	// from: a shard takes the target's auth and TLS settings from there
	// (secrets are read where the shard runs, never written here).
	ConfigTarget int `json:"config_target"`
	// LeftOut are the pools no probe reaches, whose instances are not
	// audited (not in Instances).
	LeftOut []audit.PoolCount `json:"left_out,omitempty"`
	// Routing and Findings say, for reading (an audit recomputes them from
	// Probes), how the load balancer routes each path and step, and what
	// its routes show without a request (diff.RouteFindings).
	Routing  []RoutingEntry `json:"routing,omitempty"`
	Findings []diff.Finding `json:"findings,omitempty"`
}

// RoutingEntry is what the load balancer does with one step of the probed
// requests of one path, and the probes it covers.
type RoutingEntry struct {
	Path   string `json:"path"`
	Method string `json:"method"`
	audit.StepRoute
	Probes []string `json:"probes"`
}

// routing is how the load balancer routes the probes of target at public
// URL u: one entry per path, method, step and route, in plan order (nil
// when the probes are not routed).
func routing(probes []audit.Probe, u *url.URL) []RoutingEntry {
	var out []RoutingEntry
	at := map[string]int{}
	for _, p := range probes {
		for _, r := range p.Routes {
			e := RoutingEntry{Path: audit.PathOf(p, u), Method: r.Method(p), StepRoute: r}
			key := fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%s\x00%v\x00%s\x00%s", e.Path, e.Method, r.Step, r.Rule, r.Action, r.Pools, r.Detail, r.Note)
			n, ok := at[key]
			if !ok {
				n = len(out)
				at[key] = n
				out = append(out, e)
			}
			if !slices.Contains(out[n].Probes, p.ID) {
				out[n].Probes = append(out[n].Probes, p.ID)
			}
		}
	}
	return out
}

// inventoryDirect is audit.Direct as written in an inventory.
type inventoryDirect struct {
	Scheme             string `json:"scheme,omitempty"`
	InsecureSkipVerify bool   `json:"insecure_skip_verify,omitempty"`
}

// inventoryLB is audit.LB as written in an inventory.
type inventoryLB struct {
	Disabled       bool   `json:"disabled,omitempty"`
	Samples        int    `json:"samples,omitempty"`
	InstanceHeader string `json:"instance_header,omitempty"`
}

// Spec is the target as the engine takes it.
func (t InventoryTarget) Spec() audit.TargetSpec {
	probes := slices.Clone(t.Probes)
	audit.MarkUnserved(probes, t.Instances)
	return audit.TargetSpec{
		Target:  discovery.Target{Name: t.Name, URL: t.URL, Instances: t.Instances, Facts: t.Facts},
		Probes:  probes,
		LeftOut: t.LeftOut,
		Direct:  audit.Direct{Scheme: t.Direct.Scheme, InsecureSkipVerify: t.Direct.InsecureSkipVerify},
		LB:      audit.LB{Disabled: t.LB.Disabled, Samples: t.LB.Samples, InstanceHeader: t.LB.InstanceHeader},
		Fronts:  t.Fronts,
	}
}

// inventoryTarget is spec as the inventory writes it, with its routing
// and the findings of its routes for browser b (curl lines bounded by
// the per-request timeout).
func inventoryTarget(s audit.TargetSpec, b cors.Browser, timeout time.Duration) InventoryTarget {
	t := InventoryTarget{Name: s.Target.Name, URL: s.Target.URL, Instances: s.Target.Instances, Probes: s.Probes,
		Direct:  inventoryDirect{Scheme: s.Direct.Scheme, InsecureSkipVerify: s.Direct.InsecureSkipVerify},
		LB:      inventoryLB{Disabled: s.LB.Disabled, Samples: s.LB.Samples, InstanceHeader: s.LB.InstanceHeader},
		LeftOut: s.LeftOut, Fronts: s.Fronts, Facts: s.Target.Facts}
	if u, err := url.Parse(s.Target.URL); err == nil && u.Host != "" {
		t.Routing = routing(s.Probes, u)
		t.Findings = diff.RouteFindings(&s, u, b, timeout)
	}
	return t
}

// ConfigYAML is cfg as YAML (durations with units): what inventories and
// shards carry and fingerprint.
func ConfigYAML(cfg *config.Config) (string, error) {
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("config: %w", err)
	}
	return string(b), nil
}

func fingerprint(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Fingerprint is the SHA-256 of the inventory's config and targets
// (Version and Incomplete left out): two shards with the same fingerprint
// probed the same instances with the same probes.
func (inv *Inventory) Fingerprint() string {
	b, _ := json.Marshal(struct {
		C string            `json:"c"`
		T []InventoryTarget `json:"t"`
	}{inv.ConfigFingerprint, inv.Targets}) // plain data: cannot fail
	return fingerprint(b)
}

// DiscoverInventory discovers the targets of b and plans their probes,
// as Audit does before probing; b may be built for discovery only
// (config.BuildDiscovery: no secret is needed). A target whose discovery
// failed is left out and named in Incomplete; the error wraps
// errIncomplete then. The inventory is nil only when a plan is too large.
func DiscoverInventory(ctx context.Context, b *config.Built, version string, log io.Writer) (*Inventory, error) {
	return discoverInventory(ctx, b.Config, b.Targets, version, log)
}

// discoverInventory is DiscoverInventory once cfg is built into built.
func discoverInventory(ctx context.Context, cfg *config.Config, built []config.BuiltTarget, version string, log io.Writer) (*Inventory, error) {
	if log == nil {
		log = io.Discard
	}
	text, err := ConfigYAML(cfg)
	if err != nil {
		return nil, err
	}
	inv := &Inventory{FileKind: FileKindInventory, Format: FormatVersion, Version: version, Config: text,
		ConfigFingerprint: fingerprint([]byte(text)), Targets: []InventoryTarget{}}
	ctx, cancel := context.WithTimeout(ctx, cfg.Deadline)
	defer cancel()
	specs, from, derr := discover(ctx, built)
	if err := plan(specs, from, cfg.MaxProbes, cfg.Analyses, cfg.AuditOptions().Browser, log); err != nil {
		return nil, err
	}
	for i, s := range specs {
		it := inventoryTarget(s, cfg.AuditOptions().Browser, cfg.Timeout)
		it.ConfigTarget = from[i].Index
		inv.Targets = append(inv.Targets, it)
	}
	if derr != nil {
		inv.Incomplete = "discovery: " + derr.Error()
		return inv, fmt.Errorf("%w: %s", errIncomplete, inv.Incomplete)
	}
	return inv, nil
}

// ReadInventory decodes an inventory and checks its kind and format.
func ReadInventory(r io.Reader) (*Inventory, error) {
	var inv Inventory
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&inv); err != nil {
		return nil, fmt.Errorf("inventory: not a corsaudit inventory: %w", err)
	}
	if inv.FileKind != FileKindInventory {
		return nil, fmt.Errorf("inventory: kind %q is not %s (write one with `corsaudit discover --format json`)", inv.FileKind, FileKindInventory)
	}
	if inv.Format != FormatVersion {
		return nil, fmt.Errorf("inventory: format %d, this corsaudit reads format %d", inv.Format, FormatVersion)
	}
	if fingerprint([]byte(inv.Config)) != inv.ConfigFingerprint {
		return nil, errors.New("inventory: config_fingerprint does not match its config (edited by hand?)")
	}
	if err := inv.check(); err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	return &inv, nil
}

// ParseConfig parses the inventory's config, the config every shard runs
// with, and checks the inventory's targets against it (checkConfig).
func (inv *Inventory) ParseConfig() (*config.Config, error) {
	cfg, err := config.Parse([]byte(inv.Config), "inventory config")
	if err != nil {
		return nil, err
	}
	if err := inv.checkConfig(cfg); err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	return cfg, nil
}

// assignment is how the work of an inventory is split into shards.
type assignment struct {
	// Shards is the number of shards.
	Shards int
	// Owner[t] is the shard that samples target t's load balancer and
	// carries its inventory entry.
	Owner []int
	// Of[t][i] is the shard that probes instance i of target t directly,
	// -1 for instances nobody probes (not probeable).
	Of [][]int
}

// assign splits the inventory into n shards: each target's probeable
// instances, ordered by id, are dealt round-robin, continuing from where
// the previous target stopped, so that shards differ by at most one
// instance overall and within each target; target t's load balancer goes
// to shard t mod n. The split depends only on the inventory.
func assign(inv *Inventory, n int) assignment {
	a := assignment{Shards: n, Owner: make([]int, len(inv.Targets)), Of: make([][]int, len(inv.Targets))}
	next := 0
	for t, tg := range inv.Targets {
		a.Owner[t] = t % n
		a.Of[t] = make([]int, len(tg.Instances))
		var idx []int
		for i, in := range tg.Instances {
			a.Of[t][i] = -1
			if in.Probeable() {
				idx = append(idx, i)
			}
		}
		sort.SliceStable(idx, func(x, y int) bool { return tg.Instances[idx[x]].ID < tg.Instances[idx[y]].ID })
		for _, i := range idx {
			a.Of[t][i] = next
			next = (next + 1) % n
		}
	}
	return a
}

// ShardSpecs is what shard k of a probes: per target, its own instances
// only; the load balancer (with the number of samples a single run would
// take over the whole target) only on the target's owner. index[t][j] is
// the inventory index of the j-th instance of spec t.
func (a assignment) ShardSpecs(inv *Inventory, k int) (specs []audit.TargetSpec, index [][]int) {
	for t, tg := range inv.Targets {
		spec := tg.Spec()
		var ids []int
		probeable := 0
		spec.Target.Instances = nil
		for i, in := range tg.Instances {
			if in.Probeable() {
				probeable++
			}
			if a.Of[t][i] == k {
				spec.Target.Instances = append(spec.Target.Instances, in)
				ids = append(ids, i)
			}
		}
		if a.Owner[t] != k {
			spec.LB.Disabled = true
		} else if spec.LB.Samples <= 0 {
			spec.LB.Samples = audit.SamplesFor(probeable)
		}
		spec.Target.Instances = slices.Clip(spec.Target.Instances)
		specs = append(specs, spec)
		index = append(index, ids)
	}
	return specs, index
}

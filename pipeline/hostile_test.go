package pipeline

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/discovery"
)

// clone deep-copies v through JSON, as a file written and read again.
func clone[T any](t *testing.T, v *T) *T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// readEdited writes inv as a file and reads it back as a shard run would:
// ReadInventory, then ParseConfig.
func readEdited(t *testing.T, inv *Inventory) error {
	t.Helper()
	b, err := json.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadInventory(bytes.NewReader(b))
	if err != nil {
		return err
	}
	_, err = back.ParseConfig()
	return err
}

// TestHostileInventories: an inventory file is validated on read: every
// count, index, URL, address and probe, and what the config owns (its
// static instances, a target's URL, direct and lb settings) must be the
// config's. Each edit is an error naming the field (exit 2), never a run
// that probes something else, panics, or passes with nothing audited.
func TestHostileInventories(t *testing.T) {
	cfg, _ := shardFleet(t)
	good := inventoryOf(t, cfg)
	if err := readEdited(t, good); err != nil {
		t.Fatalf("the inventory as discovered: %v", err)
	}
	for _, tc := range []struct {
		desc string
		edit func(*Inventory)
		want string
	}{
		{"no targets", func(inv *Inventory) { inv.Targets = nil }, "targets: none: an inventory lists at least one target"},
		{"no targets, as an empty list", func(inv *Inventory) { inv.Targets = []InventoryTarget{} }, "targets: none"},
		{"URL that is not one", func(inv *Inventory) { inv.Targets[0].URL = "::garbage" }, `targets[0].url: "::garbage" is not a URL`},
		{"ftp URL", func(inv *Inventory) { inv.Targets[1].URL = "ftp://files.example.com/" }, `targets[1].url: "ftp://files.example.com/" is not an absolute http(s) URL`},
		{"another URL than the config's", func(inv *Inventory) { inv.Targets[0].URL = "http://127.0.0.1:1/v1/cart" },
			`targets[0].url: "http://127.0.0.1:1/v1/cart" is not the config's targets[0].url`},
		{"duplicate instance ids", func(inv *Inventory) { inv.Targets[0].Instances[3].ID = inv.Targets[0].Instances[1].ID },
			`targets[0].instances[3].id: "i01" already used by instances[1]`},
		{"empty instance id", func(inv *Inventory) { inv.Targets[0].Instances[2].ID = "" }, "targets[0].instances[2].id: empty"},
		{"port out of range", func(inv *Inventory) { inv.Targets[1].Instances[0].Addr = "127.0.0.1:99999" },
			`targets[1].instances[0].addr: "127.0.0.1:99999": port "99999" is not a number from 1 to 65535`},
		{"instance scheme ftp", func(inv *Inventory) { inv.Targets[0].Instances[0].Scheme = "ftp" }, `targets[0].instances[0].scheme: "ftp" is not http or https`},
		{"a static address edited", func(inv *Inventory) { inv.Targets[0].Instances[4].Addr = "127.0.0.1:1" },
			`targets[0].instances[4]: i04 at 127.0.0.1:1 is not what the config lists`},
		{"a static instance added", func(inv *Inventory) {
			inv.Targets[1].Instances = append(inv.Targets[1].Instances, discovery.Instance{ID: "a4", Addr: "127.0.0.1:1"})
		}, "targets[1].instances: 4 instances (and 0 in pools left out), the config lists 3"},
		{"a static instance dropped", func(inv *Inventory) { inv.Targets[0].Instances = inv.Targets[0].Instances[1:] },
			"targets[0].instances: 6 instances (and 0 in pools left out), the config lists 7"},
		{"a static instance replaced", func(inv *Inventory) { inv.Targets[1].Instances[2].ID = "a9" },
			"targets[1].instances[2]: a9 at 127.0.0.1:"},
		{"a static instance skipped", func(inv *Inventory) { inv.Targets[0].Instances[4].Skip = "unused" },
			`targets[0].instances[4]: i04 at `},
		{"config_target out of range", func(inv *Inventory) { inv.Targets[0].ConfigTarget = 99 }, "targets[0].config_target: 99 is not a target of the config (2 targets)"},
		{"config_target negative", func(inv *Inventory) { inv.Targets[0].ConfigTarget = -1 }, "targets[0].config_target: -1 is not a target of the config"},
		{"no probes", func(inv *Inventory) { inv.Targets[1].Probes = nil }, "targets[1].probes: none"},
		{"more probes than max_probes", func(inv *Inventory) {
			ps := inv.Targets[0].Probes
			for i := 0; len(ps) <= cfg.MaxProbes; i++ {
				p := ps[i]
				p.ID = "extra" + itoa(i)
				ps = append(ps, p)
			}
			inv.Targets[0].Probes = ps
		}, "probes: more than the config's max_probes (200)"},
		{"a probe header with CR LF", func(inv *Inventory) {
			inv.Targets[0].Probes[0].Headers = []cors.Header{{Name: "X-A", Value: "1\r\nX-B: 2"}}
		}, "targets[0].probes[0].headers[0]: value of X-A"},
		{"a probe path that is a URL", func(inv *Inventory) { inv.Targets[0].Probes[1].Path = "http://evil.example/" }, "targets[0].probes[1].path: "},
		{"duplicate probe ids", func(inv *Inventory) { inv.Targets[0].Probes[2].ID = inv.Targets[0].Probes[1].ID }, "targets[0].probes[2].id: \"p2\" already used by probes[1]"},
		{"TLS verification turned off", func(inv *Inventory) { inv.Targets[0].Direct.InsecureSkipVerify = true },
			"targets[0].direct: not the config's targets[0].direct"},
		{"another direct scheme", func(inv *Inventory) { inv.Targets[0].Direct.Scheme = "https" }, "targets[0].direct: not the config's"},
		{"a billion LB samples", func(inv *Inventory) { inv.Targets[0].LB.Samples = 1_000_000_000 }, "targets[0].lb.samples: 1000000000 is not from 0 to 10000"},
		{"another instance header", func(inv *Inventory) { inv.Targets[0].LB.InstanceHeader = "X-Other" }, "targets[0].lb: not the config's targets[0].lb"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			inv := clone(t, good)
			tc.edit(inv)
			err := readEdited(t, inv)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestHostileShards: a shard file is validated on read, and merged shards
// against each other: every count and index (shards, rows, load balancer
// samples, cache pairs, interned answers) is checked, so that an edited
// file is an error naming the field, never a panic in the differ, memory
// in proportion to a number written in the file, or a pass with nothing
// audited.
func TestHostileShards(t *testing.T) {
	cfg, _ := shardFleet(t)
	inv := inventoryOf(t, cfg)
	// Shard 0 owns target 0 (shop), shard 1 owns target 1 (admin).
	s0, s1 := runShard(t, inv, 0, 2, nil), runShard(t, inv, 1, 2, nil)
	if _, _, err := MergeShards([]NamedShard{s0, s1}); err != nil {
		t.Fatalf("the shards as run: %v", err)
	}
	probes := len(inv.Targets[0].Probes)
	preflighted := slices.IndexFunc(s0.Shard.Targets[0].Rows[0].Observations, func(o shardObservation) bool { return o.Preflight != nil })
	both := func(edit func(*Shard)) func(a, b *Shard) { return func(a, b *Shard) { edit(a); edit(b) } }
	owner := func(edit func(*Shard)) func(a, b *Shard) { return func(a, _ *Shard) { edit(a) } }
	for _, tc := range []struct {
		desc string
		edit func(s0, s1 *Shard)
		want string
	}{
		{"a billion shards", both(func(s *Shard) { s.Shards = 1_000_000_000 }),
			"missing shard(s) 2/1000000000, 3/1000000000, 4/1000000000, 5/1000000000, 6/1000000000 and 999999993 more"},
		{"no shards", both(func(s *Shard) { s.Shards = 0 }), "shards: 0 is not a number of shards"},
		{"shard number negative", owner(func(s *Shard) { s.Shard = -1 }), "shard: -1 is not from 0 to 1"},
		{"no targets", both(func(s *Shard) { s.Targets = []shardTarget{} }), "targets: none"},
		{"more LB rows than probes", owner(func(s *Shard) { s.Targets[0].LB = append(s.Targets[0].LB, s.Targets[0].LB[0]) }),
			"targets[0].lb: " + itoa(probes+1) + " rows for " + itoa(probes) + " probes"},
		{"LB samples on a shard that does not own the target", func(_, s1 *Shard) { s1.Targets[0].LB = [][]shardObservation{{}} },
			"targets[0].lb: load balancer samples without the target's inventory entry (not the owner shard)"},
		{"cache pair of probe 999", owner(func(s *Shard) { s.Targets[0].Cache[0].Probe = 999 }),
			"targets[0].cache[0].probe: 999 out of range (" + itoa(probes) + " probes)"},
		{"cache pair of probe -1", owner(func(s *Shard) { s.Targets[0].Cache[0].Probe = -1 }), "targets[0].cache[0].probe: -1 out of range"},
		{"verdict out of range", owner(func(s *Shard) { s.Targets[0].Rows[0].Observations[0].Verdict = len(s.Verdicts) }),
			"targets[0].rows[0].observations[0].verdict: " + itoa(len(s0.Shard.Verdicts)) + " out of range"},
		{"request index negative", owner(func(s *Shard) { s.Targets[0].Rows[0].Observations[preflighted].Preflight.Request = -1 }),
			"targets[0].rows[0].observations[" + itoa(preflighted) + "].pre.req: -1 out of range"},
		{"answer index out of range in an LB sample", owner(func(s *Shard) { s.Targets[0].LB[0][0].Actual.Answer = 1 << 40 }),
			"targets[0].lb[0][0].act.ans: 1099511627776 out of range"},
		{"row index negative", owner(func(s *Shard) { s.Targets[0].Rows[1].Index = -1 }), "targets[0].rows[1].index: -1 out of range"},
		{"row index past the instances", owner(func(s *Shard) { s.Targets[0].Rows[1].Index = 1000 }), "targets[0].rows[1].index: 1000 out of range (7 instances)"},
		{"the same instance twice", owner(func(s *Shard) { s.Targets[0].Rows[1] = s.Targets[0].Rows[0] }), "targets[0].rows[1]: instance \"" + s0.Shard.Targets[0].Rows[0].Instance + "\" listed twice"},
		{"negative requests sent", owner(func(s *Shard) { s.Targets[0].Requests = -5 }), "targets[0].requests_sent: -5 is negative"},
		{"negative duration", owner(func(s *Shard) { s.Duration = -1 }), "duration_seconds: -1 is negative"},
		{"the config edited, its fingerprint kept", owner(func(s *Shard) { s.Config = strings.Replace(s.Config, "timeout: 5s", "timeout: 1s", 1) }),
			"config_fingerprint does not match its config"},
		{"an inventory entry with an ftp URL", owner(func(s *Shard) { s.Targets[0].Inventory.URL = "ftp://x.example/" }),
			`targets[0].inventory.url: "ftp://x.example/" is not an absolute http(s) URL`},
		{"an inventory entry with an edited address", owner(func(s *Shard) { s.Targets[0].Inventory.Instances[0].Addr = "127.0.0.1:2" }),
			"not the inventory the shards were run from"},
		{"an inventory entry without probes", owner(func(s *Shard) { s.Targets[0].Inventory.Probes = nil }), "targets[0].inventory.probes: none"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			a, b := clone(t, s0.Shard), clone(t, s1.Shard)
			tc.edit(a, b)
			var shards []NamedShard
			var err error
			for i, s := range []*Shard{a, b} {
				data, merr := json.Marshal(s)
				if merr != nil {
					t.Fatal(merr)
				}
				var back *Shard
				if back, err = ReadShard(bytes.NewReader(data)); err != nil {
					break
				}
				shards = append(shards, NamedShard{Name: "shard-" + itoa(i) + ".json", Shard: back})
			}
			if err == nil {
				var rep any
				rep, _, err = MergeShards(shards)
				if err == nil {
					t.Fatalf("merged into a report (%v), want an error containing %q", rep != nil, tc.want)
				}
			}
			if !strings.Contains(err.Error(), tc.want) || len(err.Error()) > 1000 {
				t.Fatalf("got %.1000v, want an error containing %q (and short)", err, tc.want)
			}
		})
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestSameInstanceComparesEveryField: a static target's instances are the
// config's field by field (but for the pool and weight routing assigns); a
// field added to discovery.Instance and left out of sameInstance would let
// an edited inventory through.
func TestSameInstanceComparesEveryField(t *testing.T) {
	base := discovery.Instance{ID: "a", Addr: "127.0.0.1:1", Labels: map[string]string{"k": "v"}}
	typ := reflect.TypeOf(base)
	for i := range typ.NumField() {
		if f := typ.Field(i).Name; f == "Pool" || f == "Weight" {
			continue // routing assigns them
		}
		other := base
		other.Labels = map[string]string{"k": "v"}
		f := reflect.ValueOf(&other).Elem().Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(f.String() + "x")
		case reflect.Int:
			f.SetInt(f.Int() + 1)
		case reflect.Map:
			f.Set(reflect.ValueOf(map[string]string{"k": "w"}))
		default:
			t.Fatalf("field %s: a %s; teach this test and sameInstance", typ.Field(i).Name, f.Kind())
		}
		if sameInstance(base, other) {
			t.Errorf("sameInstance ignores field %s", typ.Field(i).Name)
		}
	}
	if !sameInstance(discovery.Instance{ID: "a"}, discovery.Instance{ID: "a", Labels: map[string]string{}}) {
		t.Error("no labels and empty labels differ (JSON writes neither)")
	}
}

package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
)

// fuzzConfig is a config of one static target whose instances are never
// dialled: the fuzz targets only read files.
const fuzzConfig = "timeout: 5s\ntargets:\n- name: shop\n  url: http://api.example.com/v1/cart\n" +
	"  policy: {origins: [https://app.example.com], methods: [GET, PUT]}\n  lb: {samples: 2}\n" +
	"  discover: {static: {instances: [{id: i1, addr: \"127.0.0.1:1\"}, {id: i2, addr: \"127.0.0.1:2\", group: green}]}}\n"

// fuzzSeeds are an inventory of fuzzConfig and the one shard (1/1) of it,
// with a row per instance, load balancer samples and a cache pair, as JSON.
func fuzzSeeds(f *testing.F) (inventory, shard []byte) {
	cfg, err := config.Parse([]byte(fuzzConfig), "fuzz.yaml")
	if err != nil {
		f.Fatal(err)
	}
	built, err := cfg.Build()
	if err != nil {
		f.Fatal(err)
	}
	inv, err := DiscoverInventory(context.Background(), built, "fuzz", nil) // static: nothing is dialled
	if err != nil {
		f.Fatal(err)
	}
	inventory, err = json.Marshal(inv)
	if err != nil {
		f.Fatal(err)
	}
	it := inv.Targets[0]
	obs := func() []shardObservation {
		row := make([]shardObservation, len(it.Probes))
		for p := range row {
			row[p] = shardObservation{Preflight: &shardExchange{Request: 0, Answer: p % 2}, Actual: &shardExchange{Request: 1, Answer: 1}, Verdict: p % 2, Done: true}
		}
		return row
	}
	s := &Shard{FileKind: FileKindShard, Format: FormatVersion, Shard: 0, Shards: 1, ConfigFingerprint: inv.ConfigFingerprint, Config: inv.Config,
		InventoryFingerprint: inv.Fingerprint(), RunTime: diff.RunTime{StartedAt: time.Unix(0, 0).UTC(), Duration: 1},
		Targets: []shardTarget{{Name: it.Name, Inventory: &it, Requests: 10,
			Rows: []shardRow{{Index: 0, Instance: "i1", Observations: obs()}, {Index: 1, Instance: "i2", Observations: obs()}},
			LB:   [][]shardObservation{{{Verdict: 0, Actual: &shardExchange{Request: 1, Answer: 0}}, {Verdict: 1}}},
			Cache: []shardCachePair{{CacheCase: audit.CacheCase{Probe: 0, First: "https://a.example", Second: "https://b.example"},
				FirstAnswer: &shardExchange{Request: 1, Answer: 0}, SecondAnswer: &shardExchange{Request: 1, Answer: 1}}}}},
		Requests: []json.RawMessage{[]byte(`{"method":"OPTIONS","url":"http://api.example.com/v1/cart"}`), []byte(`null`)},
		Answers: []json.RawMessage{[]byte(`{"status":204,"header":{"Access-Control-Allow-Origin":["https://app.example.com"]}}`),
			[]byte(`{"status":200,"header":{"Access-Control-Allow-Origin":["*"],"Vary":["Origin"]}}`)},
		Verdicts: []json.RawMessage{[]byte(`{"allowed":true}`), []byte(`{"allowed":false,"stage":"actual"}`)},
	}
	shard, err = json.Marshal(s)
	if err != nil {
		f.Fatal(err)
	}
	return inventory, shard
}

// FuzzReadInventory: whatever an inventory file holds, reading it, checking
// it against its config and splitting it into shards never panics; an
// inventory that passes has a target and a probe per target.
func FuzzReadInventory(f *testing.F) {
	inventory, _ := fuzzSeeds(f)
	f.Add(inventory)
	f.Add([]byte(`{"kind":"corsaudit-inventory","format":1,"targets":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := ReadInventory(bytes.NewReader(data))
		if err != nil {
			return
		}
		if _, err := inv.ParseConfig(); err != nil {
			return
		}
		if len(inv.Targets) == 0 {
			t.Fatal("an inventory without targets passed")
		}
		for k := range 3 {
			specs, _ := assign(inv, 3).ShardSpecs(inv, k)
			for _, s := range specs {
				if len(s.Probes) == 0 {
					t.Fatal("a target without probes passed")
				}
			}
		}
	})
}

// FuzzReadShard: whatever a shard file holds, reading it and merging it
// (as the one shard of its inventory) never panics, and never allocates in
// proportion to a count written in the file rather than to its size.
func FuzzReadShard(f *testing.F) {
	_, shard := fuzzSeeds(f)
	f.Add(shard)
	f.Add(bytes.Replace(shard, []byte(`"shards":1`), []byte(`"shards":1000000000`), 1))
	f.Add(bytes.Replace(shard, []byte(`"probe":0`), []byte(`"probe":999`), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadShard(bytes.NewReader(data))
		if err != nil {
			return
		}
		rep, _, err := MergeShards([]NamedShard{{Name: "fuzz.json", Shard: s}})
		if err == nil && len(rep.Targets) == 0 {
			t.Fatal("a merge without targets passed")
		}
	})
}

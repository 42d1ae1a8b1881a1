package config

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"
	"unsafe"

	"github.com/corsaudit/corsaudit/discovery"
)

// largeStaticYAML is a config with n static instances, as internal/testinfra/benchfleet
// writes it (10 MB of YAML for 100,000).
func largeStaticYAML(n int) []byte {
	var b bytes.Buffer
	b.WriteString("concurrency: 256\ntargets:\n  - name: fleet\n    url: http://api.example.com/v1/cart\n" +
		"    discover:\n      static:\n        instances:\n")
	for i := range n {
		group := "blue"
		if i%10 == 9 {
			group = "green"
		}
		fmt.Fprintf(&b, "          - addr: 127.%d.%d.%d:29311\n            group: %s\n            id: web-%06d\n",
			1+i/62500, 1+i/250%250, 1+i%250, group, i+1)
	}
	b.WriteString("    lb: {disabled: true}\n    policy: {origins: [https://app.example.com]}\n")
	return b.Bytes()
}

// parseAndDiscover parses and builds a config of n static instances and
// discovers them, as an audit does before probing. Nothing else of the
// run is kept.
func parseAndDiscover(t testing.TB, n int) (*Config, []discovery.Target) {
	c, err := Parse(largeStaticYAML(n), "fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	built, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	found, err := built.Targets[0].Provider.Discover(context.Background())
	if err != nil || len(found) != 1 || len(found[0].Instances) != n {
		t.Fatalf("discovered %v, %v: want %d instances", len(found), err, n)
	}
	return c, found
}

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestLargeStaticConfigLiveMemory: once a config of 100,000 static
// instances is parsed, validated and built, and its instances discovered,
// what stays live is about the []discovery.Instance the audit needs (144
// bytes and two short strings each, ~17 MB), not the file, its YAML tree,
// generic maps and typed copies (~55 MB more before the sections were kept
// compact).
func TestLargeStaticConfigLiveMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 10 MB of YAML")
	}
	const n = 100_000
	before := liveHeap()
	c, found := parseAndDiscover(t, n)
	live := liveHeap() - before
	// The instances themselves: the struct and the id and addr strings
	// (16-byte size class each).
	need := uint64(n) * (uint64(unsafe.Sizeof(discovery.Instance{})) + 16 + 16)
	t.Logf("live after parse, build and discover: %.1f MB (instances: %.1f MB)", float64(live)/1e6, float64(need)/1e6)
	if limit := need + 8<<20; live > limit {
		t.Errorf("%d bytes live after parsing and building %d static instances, want at most %d (the instances and 8 MiB)", live, n, limit)
	}
	runtime.KeepAlive(c)
	runtime.KeepAlive(found)
}

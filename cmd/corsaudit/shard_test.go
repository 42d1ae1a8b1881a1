package main

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

// shardFleet starts a loopback fleet of 5 instances, two of which do not
// allow PUT: a global minority, but with 2 shards by id, i1 and i3 are in
// shard 0 with i5 and form its majority.
func shardFleet(t *testing.T) map[string]string {
	t.Helper()
	insts := map[string]string{}
	for _, id := range []string{"i1", "i2", "i3", "i4", "i5"} {
		b := labserver.Behavior{ID: id, AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "PUT"},
			AllowHeaders: []string{"X-Request-Id"}, Credentials: true}
		if id == "i1" || id == "i3" {
			b.AllowMethods = []string{"GET"}
		}
		srv := httptest.NewServer(labserver.New(b))
		t.Cleanup(srv.Close)
		insts[id] = srv.Listener.Addr().String()
	}
	return insts
}

// shardConfig writes a config for the fleet, with origins as the policy's
// allowed origins.
func shardConfig(t *testing.T, dir, name, origins string, insts map[string]string) string {
	t.Helper()
	cfg := "timeout: 5s\ntargets:\n" + staticTarget("shop", "http://api.example.com/v1/cart", "{disabled: true}", insts)
	cfg = strings.Replace(cfg, "origins: [https://app.example.com]", "origins: ["+origins+"]", 1)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// withoutTiming decodes a JSON report and drops its timing fields.
func withoutTiming(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	delete(m, "started_at")
	delete(m, "duration_seconds")
	return m
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestShardedAuditCLI: discover once, audit 3 shards, merge: the merged
// report and exit code are those of `corsaudit audit` over the fleet.
func TestShardedAuditCLI(t *testing.T) {
	dir := t.TempDir()
	cfg := shardConfig(t, dir, "corsaudit.yaml", "https://app.example.com", shardFleet(t))
	code, single, stderr := runCLI("audit", "--config", cfg, "--format", "json")
	if code != exitFindings {
		t.Fatalf("audit: exit %d, want %d (findings)\n%s", code, exitFindings, stderr)
	}
	fleet := filepath.Join(dir, "fleet.json")
	if code, _, stderr := runCLI("discover", "--config", cfg, "--output", fleet); code != exitClean {
		t.Fatalf("discover: exit %d\n%s", code, stderr)
	}
	var shards []string
	for k := range 3 {
		out := filepath.Join(dir, fmt.Sprintf("shard-%d.json", k))
		code, stdout, stderr := runCLI("audit", "--inventory", fleet, "--shard", fmt.Sprintf("%d/3", k), "--output", out)
		if code != exitClean || stdout != "" {
			t.Fatalf("shard %d/3: exit %d, stdout %q\n%s", k, code, stdout, stderr)
		}
		shards = append(shards, out)
	}
	code, merged, stderr := runCLI(append([]string{"merge", "--format", "json"}, shards...)...)
	if code != exitFindings {
		t.Errorf("merge: exit %d, want %d as the single run\n%s", code, exitFindings, stderr)
	}
	if w, g := mustJSON(t, withoutTiming(t, single)), mustJSON(t, withoutTiming(t, merged)); w != g {
		t.Errorf("merged report differs from the single run's:\nsingle: %s\nmerged: %s", w, g)
	}
	if !strings.Contains(merged, `"verdict-drift"`) || !strings.Contains(merged, `"i1"`) {
		t.Errorf("merged report lacks the verdict drift of i1 and i3:\n%s", merged)
	}
}

// TestShardCLIErrors: shards from different configs, and misuse of the
// shard flags, are usage errors (exit 2) that say what is wrong.
func TestShardCLIErrors(t *testing.T) {
	dir := t.TempDir()
	fleet := shardFleet(t)
	cfgA := shardConfig(t, dir, "a.yaml", "https://app.example.com", fleet)
	cfgB := shardConfig(t, dir, "b.yaml", "https://app.example.com, https://admin.example.com", fleet)
	shard := func(cfg, name, k string, extra ...string) string {
		fleet := filepath.Join(dir, name+"-fleet.json")
		if code, _, stderr := runCLI("discover", "--config", cfg, "--format", "json", "--output", fleet); code != exitClean {
			t.Fatalf("discover %s: exit %d\n%s", cfg, code, stderr)
		}
		out := filepath.Join(dir, name+".json")
		args := append([]string{"audit", "--inventory", fleet, "--shard", k, "--output", out}, extra...)
		if code, _, stderr := runCLI(args...); code != exitClean {
			t.Fatalf("%v: exit %d\n%s", args, code, stderr)
		}
		return out
	}
	a0, b1 := shard(cfgA, "a0", "0/2"), shard(cfgB, "b1", "1/2")
	a1slow := shard(cfgA, "a1slow", "1/2", "--timeout", "7s")
	fleetA := filepath.Join(dir, "a0-fleet.json")
	report := filepath.Join(dir, "report.json")
	if code, _, stderr := runCLI("audit", "--config", cfgA, "--format", "json", "--fail-on", "never", "--output", report); code != exitClean {
		t.Fatalf("audit: exit %d\n%s", code, stderr)
	}
	// Files edited by hand (the fingerprints kept).
	edit := func(src, name string, change func(m map[string]any)) string {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		change(m)
		out := filepath.Join(dir, name)
		if err := os.WriteFile(out, []byte(mustJSON(t, m)), 0o644); err != nil {
			t.Fatal(err)
		}
		return out
	}
	noTargets := edit(fleetA, "no-targets.json", func(m map[string]any) { m["targets"] = []any{} })
	garbageURL := edit(fleetA, "garbage-url.json", func(m map[string]any) { m["targets"].([]any)[0].(map[string]any)["url"] = "::garbage" })
	billion := edit(a0, "billion.json", func(m map[string]any) { m["shards"] = 1_000_000_000 })
	badRow := edit(a0, "bad-row.json", func(m map[string]any) {
		m["targets"].([]any)[0].(map[string]any)["rows"].([]any)[0].(map[string]any)["index"] = 999
	})
	for _, tc := range []struct {
		desc string
		args []string
		want string
	}{
		{"an inventory without targets", []string{"audit", "--inventory", noTargets, "--shard", "0/1"}, noTargets + ": inventory: targets: none"},
		{"an inventory URL that is not one", []string{"audit", "--inventory", garbageURL, "--shard", "0/1"},
			garbageURL + `: inventory: targets[0].url: "::garbage" is not a URL`},
		{"a billion shards", []string{"merge", billion}, "missing shard(s) 1/1000000000, 2/1000000000, 3/1000000000, 4/1000000000, 5/1000000000 and 999999994 more"},
		{"a row index out of range", []string{"merge", badRow, a1slow}, badRow + ": shard: targets[0].rows[0].index: 999 out of range (5 instances)"},
		{"shards of different policies", []string{"merge", a0, b1}, "were run with different configs: targets[0].policy.origins: [https://app.example.com] vs [https://app.example.com, https://admin.example.com]"},
		{"shards with another timeout", []string{"merge", a0, a1slow}, "different configs: timeout: 5s vs 7s"},
		{"a missing shard", []string{"merge", a0}, "missing shard(s) 1/2"},
		{"a shard with reports", []string{"merge", report, a0}, "is a shard and the other inputs are reports"},
		{"shard without inventory", []string{"audit", "--shard", "0/2"}, "--inventory and --shard go together"},
		{"shard out of range", []string{"audit", "--inventory", fleetA, "--shard", "2/2"}, "K must be from 0 to 1"},
		{"shard not K/N", []string{"audit", "--inventory", fleetA, "--shard", "1"}, `"1" is not K/N`},
		{"inventory with config", []string{"audit", "--inventory", fleetA, "--shard", "0/2", "--config", cfgA}, "--inventory carries the config"},
		{"shard rendering a table", []string{"audit", "--inventory", fleetA, "--shard", "0/2", "--format", "table"}, "a shard writes JSON observations"},
		{"inventory that is not one", []string{"audit", "--inventory", report, "--shard", "0/2"}, "not a corsaudit inventory"},
	} {
		code, _, stderr := runCLI(tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d with %q", tc.desc, code, stderr, exitUsage, tc.want)
		}
	}
}

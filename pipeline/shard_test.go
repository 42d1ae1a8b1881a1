package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/diff/render"
	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

// roundRobin is a load balancer that deals the requests of each kind
// (method, origin, requested method and headers) to its backends in turn:
// the samples of one probe reach the same backends whatever the order in
// which concurrent requests arrive, so sample shares are stable.
type roundRobin struct {
	backends []*url.URL
	mu       sync.Mutex
	next     map[string]int
	served   map[string]int // backend host -> requests
}

// reset forgets what was dealt: a run that starts with it deals the same
// requests to the same backends as any other.
func (lb *roundRobin) reset() {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	lb.next, lb.served = map[string]int{}, map[string]int{}
}

func newRoundRobin(t *testing.T, addrs []string) (*roundRobin, *httptest.Server) {
	lb := &roundRobin{next: map[string]int{}, served: map[string]int{}}
	for _, a := range addrs {
		lb.backends = append(lb.backends, &url.URL{Scheme: "http", Host: a})
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		key := strings.Join([]string{r.In.Method, r.In.Header.Get("Origin"), r.In.Header.Get("Access-Control-Request-Method"),
			r.In.Header.Get("Access-Control-Request-Headers")}, "|")
		lb.mu.Lock()
		b := lb.backends[lb.next[key]%len(lb.backends)]
		lb.next[key]++
		lb.served[b.Host]++
		lb.mu.Unlock()
		r.SetURL(b)
		r.Out.Host = r.In.Host
	}}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return lb, srv
}

// shardFleet is two targets on loopback behind round-robin LBs.
//
// shop: 7 instances; i01, i04 and i07 do not allow PUT (a global minority
// of 3 of 7), and the split into 3 shards puts exactly those three in
// shard 0, where they are the majority: a shard judging alone would
// report the four others. Its LB spreads over all 7 (every shard's
// instances) and names them in X-Instance-Id.
//
// admin: 3 instances, one reflecting any origin and one with another
// Access-Control-Max-Age; its LB names no instance, so only the union
// of the instances' answers tells that the LB passed preflights through.
func shardFleet(t *testing.T) (*config.Config, []*roundRobin) {
	t.Helper()
	good := labserver.Behavior{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "DELETE", "PUT"},
		Credentials: true, MaxAge: 600}
	noPut := good
	noPut.AllowMethods = []string{"GET", "DELETE"}
	start := func(id string, b labserver.Behavior) string {
		b.ID = id
		srv := httptest.NewServer(labserver.New(b))
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	}
	var shop, admin []any
	var shopAddrs, adminAddrs []string
	for _, id := range []string{"i05", "i01", "i02", "i03", "i04", "i06", "i07"} { // discovery order is not id order
		b := good
		if id == "i01" || id == "i04" || id == "i07" {
			b = noPut
		}
		addr := start(id, b)
		shopAddrs = append(shopAddrs, addr)
		shop = append(shop, map[string]any{"id": id, "addr": addr})
	}
	for _, id := range []string{"a1", "a2", "a3"} {
		b := good
		switch id {
		case "a2":
			b.MaxAge = 60
		case "a3":
			b.ReflectOrigin = true
		}
		addr := start(id, b)
		adminAddrs = append(adminAddrs, addr)
		admin = append(admin, map[string]any{"id": id, "addr": addr})
	}
	shopRR, shopLB := newRoundRobin(t, shopAddrs)
	adminRR, adminLB := newRoundRobin(t, adminAddrs)
	policy := config.Policy{Origins: []string{"https://app.example.com"}, Methods: []string{"GET", "DELETE", "PUT"}, Credentials: true}
	c := config.Default()
	c.Timeout = 5 * time.Second
	c.Targets = []config.Target{
		{Name: "shop", URL: shopLB.URL + "/v1/cart", Discover: map[string]map[string]any{"static": {"instances": shop}},
			Direct: config.Direct{Scheme: "http"}, LB: config.LB{InstanceHeader: labserver.InstanceHeader}, Policy: policy},
		{Name: "admin", URL: adminLB.URL + "/admin", Discover: map[string]map[string]any{"static": {"instances": admin}},
			Direct: config.Direct{Scheme: "http"}, Policy: policy},
	}
	return &c, []*roundRobin{shopRR, adminRR}
}

// inventoryOf discovers cfg's fleet and passes it through JSON, as the
// discover command and the shards do.
func inventoryOf(t *testing.T, cfg *config.Config) *Inventory {
	t.Helper()
	inv, err := DiscoverInventory(context.Background(), mustBuild(t, cfg), "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	return throughJSON(t, inv)
}

// throughJSON is inv written and read back, as discover writes it and the
// shards read it.
func throughJSON(t *testing.T, inv *Inventory) *Inventory {
	t.Helper()
	b, err := json.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadInventory(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// runShard runs shard k/n with the inventory's config (edited by edit)
// and passes the shard through JSON.
func runShard(t *testing.T, inv *Inventory, k, n int, edit func(*config.Config)) NamedShard {
	t.Helper()
	cfg, err := inv.ParseConfig()
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
	}
	s, err := AuditShard(context.Background(), inv, mustBuild(t, cfg), k, n, ShardOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadShard(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return NamedShard{Name: "shard-" + string(rune('0'+k)) + ".json", Shard: back}
}

// renderAll renders rep in every format with its timing fields cleared.
func renderAll(t *testing.T, rep *diff.Report) map[string]string {
	t.Helper()
	r := *rep
	r.StartedAt, r.Duration = time.Time{}, 0
	out := map[string]string{}
	for _, f := range render.Formats() {
		renderer, err := render.Lookup(f)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := renderer.Render(&b, &r); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[f] = b.String()
	}
	var b bytes.Buffer
	if err := render.Metrics(&b, &r, time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	out["metrics"] = b.String()
	return out
}

// TestShardsMergeAsOneRun runs one fleet as a single run, as 3 shards
// merged and as 7 shards merged: every format of the three reports is the
// same apart from timing fields, and so is the exit code.
func TestShardsMergeAsOneRun(t *testing.T) {
	cfg, lbs := shardFleet(t)
	resetLBs := func() {
		for _, lb := range lbs {
			lb.reset()
		}
	}
	resetLBs()
	single, err := Audit(context.Background(), mustBuild(t, cfg), Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	want := renderAll(t, single)
	kinds := map[diff.Kind][]string{}
	var drift diff.Finding
	for _, f := range single.Findings {
		if f.Target == "shop" {
			kinds[f.Kind] = append(kinds[f.Kind], f.Instances...)
			if f.Kind == diff.KindVerdictDrift {
				drift = f
			}
		}
	}
	// The fleet is what the test means: the global minority drifts, the
	// LB shows it (the requests that land on them, one cause with their
	// drift), nothing says the LB answers preflights itself.
	if got := kinds[diff.KindVerdictDrift]; !slices.Equal(got, []string{"i01", "i04", "i07"}) {
		t.Fatalf("single run: verdict-drift names %v, want i01 i04 i07; findings %+v", got, single.Findings)
	}
	if !slices.Contains(drift.Explains, diff.KindLBMismatch) || drift.Share == 0 || len(kinds[diff.KindLBMismatch]) != 0 ||
		single.Summary.ByKind[diff.KindOriginReflection] == 0 || single.Summary.ByKind[diff.KindLBAnswersOptions] != 0 {
		t.Fatalf("single run: shop findings by kind %v (the drift explains %v, share %.2f), summary %v; want the drift of i01 i04 i07 "+
			"explaining the LB's samples, origin-reflection, no lb-answers-options", kinds, drift.Explains, drift.Share, single.Summary.ByKind)
	}
	inv := inventoryOf(t, cfg)
	a := assign(inv, 3)
	var shard0 []string
	for i, in := range inv.Targets[0].Instances {
		if a.Of[0][i] == 0 {
			shard0 = append(shard0, in.ID)
		}
	}
	if slices.Sort(shard0); !slices.Equal(shard0, []string{"i01", "i04", "i07"}) {
		t.Fatalf("shard 0/3 of shop holds %v: the fleet no longer gives shard 0 a majority the whole fleet does not have", shard0)
	}
	wantFails := single.FailsAt(diff.FailOn(cfg.FailOn))
	if !wantFails {
		t.Fatal("single run passes the default fail_on: the fleet should fail it")
	}
	for _, n := range []int{3, 7} {
		resetLBs()
		var shards []NamedShard
		for k := range n {
			shards = append(shards, runShard(t, inv, k, n, nil))
		}
		// The shop LB dealt the owner shard's samples to every instance,
		// whichever shard probes it directly.
		if served := lbs[0].served; len(served) != 7 {
			t.Errorf("%d shards: the shop LB sent requests to %d instances, want all 7", n, len(served))
		}
		// Merge does not depend on the order the shards are given in.
		slices.Reverse(shards)
		merged, mcfg, err := MergeShards(shards)
		if err != nil {
			t.Fatalf("%d shards: %v", n, err)
		}
		if merged.FailsAt(diff.FailOn(mcfg.FailOn)) != wantFails {
			t.Errorf("%d shards: exit code differs from the single run's", n)
		}
		got := renderAll(t, merged)
		for f, w := range want {
			if got[f] != w {
				t.Errorf("%d shards merged: %s differs from the single run: %s", n, f, firstDifference(w, got[f]))
			}
		}
	}
}

// TestShardSplit: every probeable instance in exactly one shard, shards
// balanced across targets within one instance, the LB of each target
// sampled by exactly one shard.
func TestShardSplit(t *testing.T) {
	inv := &Inventory{}
	for _, n := range []int{1, 2, 5} {
		tg := InventoryTarget{Name: "t", URL: "http://127.0.0.1:1/"}
		for i := range n {
			tg.Instances = append(tg.Instances, discoveryInstance(i))
		}
		inv.Targets = append(inv.Targets, tg)
	}
	for _, tc := range []struct {
		desc   string
		shards int
	}{{"one shard", 1}, {"two shards", 2}, {"more shards than instances in a target", 3}, {"one instance each", 8}} {
		a := assign(inv, tc.shards)
		perShard := make([]int, tc.shards)
		lbs := make([]int, len(inv.Targets))
		for t2, tg := range inv.Targets {
			seen := 0
			for k := range tc.shards {
				specs, _ := a.ShardSpecs(inv, k)
				seen += len(specs[t2].Target.Instances)
				perShard[k] += len(specs[t2].Target.Instances)
				if !specs[t2].LB.Disabled {
					lbs[t2]++
				}
			}
			if seen != len(tg.Instances) {
				t.Errorf("%s: target %d: %d instances over the shards, want %d", tc.desc, t2, seen, len(tg.Instances))
			}
			if lbs[t2] != 1 {
				t.Errorf("%s: target %d: LB sampled by %d shards, want 1", tc.desc, t2, lbs[t2])
			}
		}
		if slices.Max(perShard)-slices.Min(perShard) > 1 {
			t.Errorf("%s: instances per shard %v, not balanced", tc.desc, perShard)
		}
	}
}

// TestMergeRefusesShardsThatDoNotBelong: shards of other configs, other
// inventories, the same shard twice, a missing shard or another N are
// errors naming the difference.
func TestMergeRefusesShardsThatDoNotBelong(t *testing.T) {
	cfg, _ := shardFleet(t)
	inv := inventoryOf(t, cfg)
	s0, s1 := runShard(t, inv, 0, 2, nil), runShard(t, inv, 1, 2, nil)
	slow := runShard(t, inv, 1, 2, func(c *config.Config) { c.Timeout = 3 * time.Second })
	other := *cfg
	other.Targets = slices.Clone(cfg.Targets)
	other.Targets[1].Policy.Origins = []string{"https://admin.example.com"}
	inv2 := inventoryOf(t, &other)
	otherPolicy := runShard(t, inv2, 1, 2, nil)
	of3 := runShard(t, inv, 1, 3, nil)
	// Another inventory under the same config (another discovery, another
	// version's plan): one probe fewer.
	shrunk := *inv
	shrunk.Targets = slices.Clone(inv.Targets)
	shrunk.Targets[1].Probes = shrunk.Targets[1].Probes[1:]
	rediscovered := runShard(t, &shrunk, 1, 2, nil)
	for _, tc := range []struct {
		desc   string
		shards []NamedShard
		want   string
	}{
		{"another timeout", []NamedShard{s0, slow}, "different configs: timeout: 5s vs 3s"},
		{"another policy", []NamedShard{s0, otherPolicy}, `different configs: targets[1].policy.origins[0]: https://app.example.com vs https://admin.example.com`},
		{"the same shard twice", []NamedShard{s0, s1, s1}, "overlapping shards: shard-1.json and shard-1.json are both shard 1/2"},
		{"another inventory", []NamedShard{s0, rediscovered}, "were run from different inventories"},
		{"a missing shard", []NamedShard{s1}, "missing shard(s) 0/2"},
		{"another number of shards", []NamedShard{s0, of3}, "is shard 0/2 but shard-1.json is shard 1/3"},
	} {
		rep, _, err := MergeShards(tc.shards)
		if rep != nil || !errors.Is(err, errShardMismatch) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: report %v, err %v; want errShardMismatch with %q", tc.desc, rep != nil, err, tc.want)
		}
	}
}

// TestMergePartialShard: a shard cut off by its deadline makes the merged
// report partial, saying why.
func TestMergePartialShard(t *testing.T) {
	cfg, _ := shardFleet(t)
	inv := inventoryOf(t, cfg)
	s0, s1 := runShard(t, inv, 0, 2, nil), runShard(t, inv, 1, 2, nil)
	cut := *s1.Shard
	cut.Incomplete = "shard 1/2: the deadline (2m0s) passed before the audit finished: the report is partial"
	for _, tc := range []struct {
		desc   string
		shards []NamedShard
		want   string
	}{
		{"complete", []NamedShard{s0, s1}, ""},
		{"one shard partial", []NamedShard{s0, {Name: "cut.json", Shard: &cut}}, cut.Incomplete},
	} {
		rep, _, err := MergeShards(tc.shards)
		if err != nil {
			t.Fatalf("%s: %v", tc.desc, err)
		}
		if rep.Incomplete != tc.want {
			t.Errorf("%s: incomplete %q, want %q", tc.desc, rep.Incomplete, tc.want)
		}
	}
}

// TestShardInternsAnswers: identical answers are stored once, and the
// observations come back as the engine made them.
func TestShardInternsAnswers(t *testing.T) {
	cfg, _ := shardFleet(t)
	inv := inventoryOf(t, cfg)
	s := runShard(t, inv, 0, 1, nil).Shard
	exchanges := 0
	for _, tg := range s.Targets {
		for _, r := range tg.Rows {
			for _, o := range r.Observations {
				if o.Preflight != nil {
					exchanges++
				}
				if o.Actual != nil {
					exchanges++
				}
			}
		}
	}
	if exchanges == 0 || len(s.Answers)*2 > exchanges {
		t.Errorf("%d distinct answers for %d direct exchanges: answers are not interned", len(s.Answers), exchanges)
	}
}

func discoveryInstance(i int) discovery.Instance {
	return discovery.Instance{ID: "n" + string(rune('a'+i)), Addr: "127.0.0.1:1"}
}

// firstDifference shows the first line where two texts differ.
func firstDifference(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(la), len(lb)) {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  single: %s\n  merged: %s", i+1, x, y)
		}
	}
	return "no line differs"
}

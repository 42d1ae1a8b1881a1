package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/internal/testinfra/faultnet"
)

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in      string
		k, n    int
		wantErr string
	}{
		{in: "0/1", k: 0, n: 1},
		{in: "2/3", k: 2, n: 3},
		{in: "3/3", wantErr: `shard: "3/3": K must be from 0 to 2`},
		{in: "-1/3", wantErr: `shard: "-1/3": K must be from 0 to 2`},
		{in: "0/0", wantErr: `shard: "0/0": K must be from 0 to -1`},
		{in: "1", wantErr: `shard: "1" is not K/N (e.g. 0/3, K from 0 to N-1)`},
		{in: "01/3", wantErr: `shard: "01/3" is not K/N (e.g. 0/3, K from 0 to N-1)`},
		{in: "1/3 ", wantErr: `shard: "1/3 " is not K/N (e.g. 0/3, K from 0 to N-1)`},
		{in: "a/b", wantErr: `shard: "a/b" is not K/N (e.g. 0/3, K from 0 to N-1)`},
	} {
		k, n, err := ParseShard(tc.in)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr || k != 0 || n != 0 {
				t.Errorf("ParseShard(%q) = %d, %d, %v; want %q", tc.in, k, n, err, tc.wantErr)
			}
			continue
		}
		if err != nil || k != tc.k || n != tc.n {
			t.Errorf("ParseShard(%q) = %d, %d, %v; want %d, %d", tc.in, k, n, err, tc.k, tc.n)
		}
	}
}

// providerFunc is a provider whose Discover is a function.
type providerFunc func(context.Context) ([]discovery.Target, error)

func (f providerFunc) Discover(ctx context.Context) ([]discovery.Target, error) { return f(ctx) }

// TestDiscover: each spec is named and located by the config where it
// says, by the provider otherwise; a provider's error, and a target with
// no URL from either, are joined into the error naming the configured
// target, and the other targets go on.
func TestDiscover(t *testing.T) {
	found := func(ts ...discovery.Target) discovery.Provider {
		return providerFunc(func(context.Context) ([]discovery.Target, error) { return ts, nil })
	}
	inst := []discovery.Instance{{ID: "i1", Addr: "127.0.0.1:1"}}
	built := []config.BuiltTarget{
		{Index: 0, Name: "shop", URL: "https://shop.example.com/", Label: "shop",
			Provider: found(discovery.Target{Name: "shop-be", URL: "https://be.example.com/", Instances: inst}),
			Direct:   audit.Direct{Scheme: "http"}, LB: audit.LB{Samples: 3}},
		{Index: 1, Label: "target-2", Provider: found(discovery.Target{Name: "api", URL: "https://api.example.com/", Instances: inst})},
		{Index: 2, Name: "multi", Label: "multi",
			Provider: found(discovery.Target{Name: "blue", URL: "https://m.example.com/"}, discovery.Target{Name: "green", URL: "https://m.example.com/"})},
		{Index: 3, Label: "broken", Provider: providerFunc(func(context.Context) ([]discovery.Target, error) {
			return nil, errors.New("aws: describe target health: throttled")
		})},
		{Index: 4, Label: "nowhere", Provider: found(discovery.Target{Instances: inst})},
	}
	specs, err := discoverSpecs(context.Background(), built)
	var got []string
	for _, s := range specs {
		got = append(got, s.Target.Name+" "+s.Target.URL)
	}
	want := []string{"shop https://shop.example.com/", "api https://api.example.com/",
		"multi/blue https://m.example.com/", "multi/green https://m.example.com/"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("specs = %q, want %q", got, want)
	}
	if len(specs) > 0 && (specs[0].Direct.Scheme != "http" || specs[0].LB.Samples != 3 || len(specs[0].Target.Instances) != 1) {
		t.Errorf("spec shop = %+v, want the configured direct scheme, samples and the instances found", specs[0])
	}
	wantErr := "targets[3] (broken): aws: describe target health: throttled\n" +
		"targets[4] (nowhere): no url given and the provider found none"
	if err == nil || err.Error() != wantErr {
		t.Errorf("err = %v, want %q", err, wantErr)
	}
}

// TestDeadlineCutsTheRunOff: when the deadline passes with requests in
// flight and others not sent, the report is partial and says which, per
// instance (ten named, the others counted), and the load balancer's
// samples; nothing cut off counts as a timeout.
func TestDeadlineCutsTheRunOff(t *testing.T) {
	var insts []any
	for i := range 12 {
		s := faultnet.Start(t, faultnet.Hang)
		insts = append(insts, map[string]any{"id": fmt.Sprintf("i%02d", i+1), "addr": s.Addr()})
	}
	lb := faultnet.Start(t, faultnet.Hang)
	c := config.Default()
	c.PerInstance = 1
	c.Analyses = []string{audit.AnalysisDrift}
	c.Targets = []config.Target{{Name: "shop", URL: "http://" + lb.Addr() + "/v1/cart",
		Discover: map[string]map[string]any{"static": {"instances": insts}},
		LB:       config.LB{Samples: 2},
		Policy:   config.Policy{Origins: []string{"https://app.example.com"}, Methods: []string{http.MethodGet}}}}
	built := mustBuild(t, &c)
	// The deadline passes well before any request's timeout (5s), as the
	// exporter shortens it for a probe.
	built.Config.Deadline = 500 * time.Millisecond
	start := time.Now()
	rep, err := Audit(context.Background(), built, Options{})
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the run took %s, long past its deadline of 500ms", took)
	}
	if rep == nil || !errors.Is(err, errIncomplete) {
		t.Fatalf("Audit = %v, %v; want a partial report and errIncomplete", rep != nil, err)
	}
	msg := rep.Incomplete
	for _, want := range []string{
		"the deadline (500ms) passed before the audit finished: the report is partial",
		"; sent and not answered before the run stopped on ",
		"; not run on 12 instances: i01 1 of 2 probes, ",
		" and 2 more",
		"; 4 load balancer samples not run or not answered",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("Incomplete = %q, want it to say %q", msg, want)
		}
	}
	if !strings.HasSuffix(err.Error(), msg) {
		t.Errorf("err = %v, want it to end with the report's Incomplete", err)
	}
	if rep.Summary.Unreachable != 0 {
		t.Errorf("%d instances reported unreachable: cut-off requests are no observation", rep.Summary.Unreachable)
	}
}

// TestInterruptedRun: an interrupt (the caller's context cancelled) is
// told apart from the deadline.
func TestInterruptedRun(t *testing.T) {
	addr, got := faultnet.Requested(t)
	c := config.Default()
	c.Analyses = []string{audit.AnalysisDrift}
	c.Targets = []config.Target{{Name: "shop", URL: "http://api.example.com/",
		Discover: map[string]map[string]any{"static": {"instances": []any{map[string]any{"id": "a", "addr": addr}}}},
		LB:       config.LB{Disabled: true},
		Policy:   config.Policy{Origins: []string{"https://app.example.com"}}}}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-got // a request is in flight
		cancel()
	}()
	rep, err := Audit(ctx, mustBuild(t, &c), Options{})
	want := "interrupted before the audit finished: the report is partial; sent and not answered before the run stopped on 1 instance: a "
	if rep == nil || !errors.Is(err, errIncomplete) || !strings.HasPrefix(rep.Incomplete, want) {
		t.Fatalf("Audit = %v, %v; want a partial report starting %q", rep, err, want)
	}
}

func TestConfigDifferences(t *testing.T) {
	base := "concurrency: 64\nchecks: [drift, lb]\ntargets:\n  - name: shop\n    policy: {origins: [https://a.example.com]}\n"
	for _, tc := range []struct {
		desc, a, b string
		max        int
		want       []string
	}{
		{"a setting", base, strings.Replace(base, "64", "8", 1), 5, []string{"concurrency: 64 vs 8"}},
		{"a list of another length, and a key only one has", base,
			strings.Replace(base, "[drift, lb]", "[drift]", 1) + "timeout: 5s\n", 5,
			[]string{"checks: [drift, lb] vs [drift]", "timeout: (none) vs 5s"}},
		{"a nested value, by its path", base, strings.Replace(base, "a.example.com", "b.example.com", 1), 5,
			[]string{"targets[0].policy.origins[0]: https://a.example.com vs https://b.example.com"}},
		{"a map against a scalar", base, strings.Replace(base, "policy: {origins: [https://a.example.com]}", "policy: none", 1), 5,
			[]string{"targets[0].policy: {origins: [https://a.example.com]} vs none"}},
		{"over max: counted", "a: 1\nb: 2\nc: 3\n", "a: 2\nb: 3\nc: 4\n", 2, []string{"a: 1 vs 2", "b: 2 vs 3", "and 1 more"}},
		{"no difference found", base, base, 5, []string{"the configs differ"}},
		{"not YAML", base, "[", 5, []string{"the configs differ"}},
	} {
		if got := configDifferences(tc.a, tc.b, tc.max); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: configDifferences = %q, want %q", tc.desc, got, tc.want)
		}
	}
}

// TestAuditShardRefuses: a shard is refused before anything is sent when
// k/n is not a shard of n, or the config was built for discovery only.
func TestAuditShardRefuses(t *testing.T) {
	cfg := testConfig(t)
	inv, err := DiscoverInventory(context.Background(), mustBuild(t, cfg), "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	disc, err := cfg.BuildDiscovery()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		desc string
		b    *config.Built
		k, n int
		want string
	}{
		{"k past n", mustBuild(t, cfg), 2, 2, "shard: 2/2: K must be from 0 to N-1"},
		{"no shards", mustBuild(t, cfg), 0, 0, "shard: 0/0: K must be from 0 to N-1"},
		{"built for discovery only", disc, 0, 1, "pipeline: the config was built for discovery only"},
	} {
		s, err := AuditShard(context.Background(), inv, tc.b, tc.k, tc.n, ShardOptions{})
		if s != nil || err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: AuditShard = %v, %v; want no shard and %q", tc.desc, s, err, tc.want)
		}
	}
}

func TestReadShardRefuses(t *testing.T) {
	for _, tc := range []struct {
		desc, in, want string
	}{
		{"not JSON", "{", "shard: not a corsaudit shard: unexpected EOF"},
		{"an inventory", `{"kind": "corsaudit-inventory", "format": 1}`, `shard: kind "corsaudit-inventory" is not ` + FileKindShard},
		{"another format", fmt.Sprintf(`{"kind": %q, "format": 999}`, FileKindShard), fmt.Sprintf("shard: format 999, this corsaudit reads format %d", FormatVersion)},
	} {
		s, err := ReadShard(strings.NewReader(tc.in))
		if s != nil || err == nil || err.Error() != tc.want {
			t.Errorf("%s: ReadShard = %v, %v; want %q", tc.desc, s, err, tc.want)
		}
	}
}

package pipeline

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/internal/lab"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

// withFacts is a provider as a cloud provider returns its target: the
// inner provider's, with what it read of the fronts' configuration.
type withFacts struct {
	inner discovery.Provider
	facts []discovery.FrontFact
}

func (p withFacts) Discover(ctx context.Context) ([]discovery.Target, error) {
	ts, err := p.inner.Discover(ctx)
	for i := range ts {
		ts[i].Facts = p.facts
	}
	return ts, err
}

// urlCache is a CDN on loopback that keys GET answers on the URL alone
// and ignores Vary, in front of next; reset empties it.
type urlCache struct {
	next string // the load balancer's URL
	mu   sync.Mutex
	// matrix counts the requests of the cache probe matrix.
	matrix int
	stored map[string]*http.Response
	bodies map[string][]byte
}

func (c *urlCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stored, c.bodies = map[string]*http.Response{}, map[string][]byte{}
	c.matrix = 0
}

func (c *urlCache) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.URL.RequestURI()
	c.mu.Lock()
	if r.URL.Query().Has(audit.CacheParam) {
		c.matrix++
	}
	hit, ok := c.stored[key]
	body := c.bodies[key]
	c.mu.Unlock()
	if !ok || r.Method != http.MethodGet {
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, c.next+key, nil)
		req.Header = r.Header.Clone()
		req.Host = r.Host
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ = io.ReadAll(resp.Body)
		if r.Method == http.MethodGet && resp.StatusCode == http.StatusOK {
			c.mu.Lock()
			c.stored[key], c.bodies[key] = resp, body
			c.mu.Unlock()
		}
		hit = resp
	} else {
		w.Header().Set("Age", "1")
	}
	for k, vs := range hit.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(hit.StatusCode)
	_, _ = w.Write(body)
}

// TestFrontsThroughShards: a CDN keyed on the URL alone in front of a
// load balancer (fronts: cdn by URL, lb by address) whose provider says
// the CDN's cache key leaves out the Origin. The cache findings name the
// cdn, the config finding names the backend service and explains them,
// and a run in shards merged gives the same report as a single run, the
// inner front's samples and the cache matrix carried by the owner shard.
func TestFrontsThroughShards(t *testing.T) {
	var backends []*url.URL
	var insts []any
	for _, b := range lab.Fleet(3, nil) {
		srv := httptest.NewServer(labserver.New(b.Behavior))
		t.Cleanup(srv.Close)
		backends = append(backends, &url.URL{Scheme: "http", Host: srv.Listener.Addr().String()})
		insts = append(insts, map[string]any{"id": b.Behavior.ID, "addr": srv.Listener.Addr().String()})
	}
	lb := httptest.NewServer(lab.RoundRobin(backends))
	t.Cleanup(lb.Close)
	cdn := &urlCache{next: lb.URL}
	cdnSrv := httptest.NewServer(cdn)
	t.Cleanup(cdnSrv.Close)
	c := config.Default()
	c.Timeout = 5 * time.Second
	c.Targets = []config.Target{{Name: "shop", URL: cdnSrv.URL + lab.Path,
		Discover: map[string]map[string]any{"static": {"instances": insts}},
		Direct:   config.Direct{Scheme: "http"}, LB: config.LB{InstanceHeader: labserver.InstanceHeader},
		Fronts: []config.Front{{Name: "cdn", URL: cdnSrv.URL}, {Name: "lb", Address: lb.Listener.Addr().String()}},
		Policy: config.Policy{Origins: lab.PolicyOrigins, Methods: lab.PolicyMethods, Headers: lab.PolicyHeaders,
			Credentials: true}}}
	built := mustBuild(t, &c).Targets
	fact := discovery.FrontFact{Kind: discovery.FactCacheKey, Resource: "backend service projects/p/global/backendServices/shop",
		Settings: []string{"enableCDN=true", "cdnPolicy.cacheMode=FORCE_CACHE_ALL", "cdnPolicy.cacheKeyPolicy.includeHttpHeaders=[]"}}
	built[0].Provider = withFacts{inner: built[0].Provider, facts: []discovery.FrontFact{fact}}

	cdn.reset()
	single, err := run(context.Background(), time.Now(), &c, built, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	fronts := map[diff.Kind]string{}
	var cfgFinding *diff.Finding
	for k, f := range single.Findings {
		if strings.HasPrefix(string(f.Kind), "cache-") {
			fronts[f.Kind] = f.Front
		}
		if f.Kind == diff.KindConfigCacheKey {
			cfgFinding = &single.Findings[k]
		}
	}
	if want := map[diff.Kind]string{diff.KindCacheLeak: "cdn", diff.KindCacheNoOrigin: "cdn", diff.KindCacheRefusal: "cdn"}; !equalMap(fronts, want) {
		t.Errorf("cache findings by front %v, want %v; findings %q", fronts, want, findingsOf(single))
	}
	if cfgFinding == nil || !strings.Contains(cfgFinding.Message, fact.Resource) ||
		!slices.Equal(cfgFinding.Explains, []diff.Kind{diff.KindCacheLeak, diff.KindCacheNoOrigin, diff.KindCacheRefusal}) {
		t.Errorf("config-cache-key finding %+v, want it naming the backend service and explaining the cache findings", cfgFinding)
	}
	if !single.FailsAt(diff.FailOn(c.FailOn)) {
		t.Error("the single run passes: a cache refusing an allowed origin must fail it")
	}

	inv, err := discoverInventory(context.Background(), &c, built, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	inv = throughJSON(t, inv)
	if len(inv.Targets[0].Facts) != 1 || len(inv.Targets[0].Fronts) != 2 {
		t.Fatalf("inventory facts %+v fronts %+v, want the provider's fact and the two fronts", inv.Targets[0].Facts, inv.Targets[0].Fronts)
	}
	want := renderAll(t, single)
	cdn.reset()
	var shards []NamedShard
	for k := range 2 {
		shards = append(shards, runShard(t, inv, k, 2, nil))
	}
	merged, _, err := MergeShards(shards)
	if err != nil {
		t.Fatal(err)
	}
	got := renderAll(t, merged)
	for f, w := range want {
		if got[f] != w {
			t.Errorf("2 shards merged: %s differs from the single run: %s", f, firstDifference(w, got[f]))
		}
	}

	// Without the cache analysis, no request of the matrix is sent.
	cdn.reset()
	off := c
	off.Analyses = []string{diff.AnalysisDrift, diff.AnalysisLB, diff.AnalysisMisconfig}
	if _, err := run(context.Background(), time.Now(), &off, built, Options{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	if cdn.matrix != 0 {
		t.Errorf("checks without cache: %d requests of the cache probe matrix, want none", cdn.matrix)
	}
}

func equalMap[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

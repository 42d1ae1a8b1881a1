package audit

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/discovery"
)

// loopbackResolver resolves names to loopback addresses only, and fails
// the test for any other name: nothing else is ever dialled.
func loopbackResolver(t *testing.T, names map[string][]string) LookupHost {
	return func(_ context.Context, host string) ([]string, error) {
		ips, ok := names[host]
		if !ok {
			t.Errorf("resolved %q, which the test does not know", host)
			return nil, errors.New("unknown host")
		}
		for _, ip := range ips {
			if a := net.ParseIP(ip); a == nil || !a.IsLoopback() {
				t.Fatalf("the test resolver returns %s, not a loopback address", ip)
			}
		}
		return ips, nil
	}
}

// listenBoth listens on the same port of 127.0.0.1 and 127.0.0.2 (both
// loopback) and serves h on each, recording the local address of every
// request; it returns the port.
func listenBoth(t *testing.T, h http.Handler, seen *sync.Map) string {
	t.Helper()
	ln1, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln1.Addr().(*net.TCPAddr).Port)
	ln2, err := net.Listen("tcp", "127.0.0.2:"+port)
	if err != nil {
		ln1.Close()
		t.Skipf("cannot listen on 127.0.0.2:%s: %v", port, err)
	}
	for _, ln := range []net.Listener{ln1, ln2} {
		srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			local := r.Context().Value(http.LocalAddrContextKey).(net.Addr).String()
			n, _ := seen.LoadOrStore(local, new(int64))
			seenMu.Lock()
			*n.(*int64)++
			seenMu.Unlock()
			h.ServeHTTP(w, r)
		})}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
	}
	return port
}

var seenMu sync.Mutex

// TestFrontAddressSpreadsSamples: a front reached by address is dialled
// with the public Host, its name resolved once and its samples spread over
// every address (each ALB node); each sample records the address.
func TestFrontAddressSpreadsSamples(t *testing.T) {
	var seen sync.Map
	hosts := sync.Map{}
	port := listenBoth(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts.Store(r.Host, true)
		allowApp(w, r)
	}), &seen)
	inst := httptest.NewServer(http.HandlerFunc(allowApp))
	defer inst.Close()
	spec := TargetSpec{
		Target: discovery.Target{Name: "t", URL: "http://shop.example.test/v1/cart",
			Instances: []discovery.Instance{{ID: "i1", Addr: inst.Listener.Addr().String()}}},
		Probes: Plan(testPolicy()),
		LB:     LB{Samples: 4},
		Fronts: []Front{{Name: "lb", Address: "alb.example.test:" + port}},
	}
	res, err := Run(context.Background(), []TargetSpec{spec}, testOptions(Options{Timeout: 5 * time.Second,
		LookupHost: loopbackResolver(t, map[string][]string{"alb.example.test": {"127.0.0.2", "127.0.0.1", "127.0.0.1"}})}))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"127.0.0.1:" + port, "127.0.0.2:" + port} {
		if _, ok := seen.Load(a); !ok {
			t.Errorf("no sample reached %s", a)
		}
	}
	hosts.Range(func(k, _ any) bool {
		if k != "shop.example.test" {
			t.Errorf("Host %q reached the front, want the public host", k)
		}
		return true
	})
	got := map[string]int{}
	for _, row := range res[0].LB {
		for _, o := range row {
			e := o.Preflight
			if e == nil {
				e = o.Actual
			}
			if e.Failed() {
				t.Fatalf("sample failed: %s", e.ErrMsg)
			}
			got[o.Sent(e).ConnectTo]++
		}
	}
	if got["127.0.0.1:"+port] == 0 || got["127.0.0.2:"+port] == 0 || len(got) != 2 {
		t.Errorf("samples recorded at %v, want both addresses", got)
	}
}

// TestHTTP2WhereTheFrontOffersIt: through a TLS front offering HTTP/2,
// samples go over HTTP/2 as a browser's would, every other round over
// HTTP/1.1, and each answer records its protocol.
func TestHTTP2WhereTheFrontOffersIt(t *testing.T) {
	protos := sync.Map{}
	lb := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		protos.Store(r.Proto, true)
		allowApp(w, r)
	}))
	lb.EnableHTTP2 = true
	lb.StartTLS()
	defer lb.Close()
	pool := &tls.Config{RootCAs: lb.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	u, _ := url.Parse(lb.URL)
	spec := TargetSpec{
		Target: discovery.Target{Name: "t", URL: "https://example.com:" + u.Port() + "/v1/cart",
			Instances: []discovery.Instance{{ID: "i1", Addr: u.Host}}},
		Probes: Plan(testPolicy()),
		LB:     LB{Samples: 4},
		Fronts: []Front{{Name: "lb", Address: u.Host}},
	}
	res, err := Run(context.Background(), []TargetSpec{spec}, testOptions(Options{TLSConfig: pool, Timeout: 5 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, row := range res[0].LB {
		for k, o := range row {
			for _, e := range []*Exchange{o.Preflight, o.Actual} {
				if e == nil {
					continue
				}
				if e.Failed() {
					t.Fatalf("sample %d failed: %s", k, e.ErrMsg)
				}
				want := ProtoHTTP2
				if k%2 == 1 {
					want = ProtoHTTP1
				}
				if e.Proto != want {
					t.Errorf("sample %d: proto %q, want %q", k, e.Proto, want)
				}
				count[e.Proto]++
			}
		}
	}
	if count[ProtoHTTP2] == 0 || count[ProtoHTTP1] == 0 {
		t.Errorf("protocols %v, want both", count)
	}
	if _, ok := protos.Load("HTTP/2.0"); !ok {
		t.Error("the front saw no HTTP/2 request")
	}
}

// TestCacheMatrixIsSentThroughTheFrontOnly: the cache probe matrix goes
// through the front alone, each order under a parameter of its own, its
// requests over one connection, never with an unsafe method; instances
// never see the parameter.
func TestCacheMatrixIsSentThroughTheFrontOnly(t *testing.T) {
	type hit struct{ param, remote, method string }
	var mu sync.Mutex
	var hits []hit
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.URL.Query().Get(CacheParam); v != "" {
			mu.Lock()
			hits = append(hits, hit{v, r.RemoteAddr, r.Method})
			mu.Unlock()
		}
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		allowApp(w, r)
	}))
	defer lb.Close()
	inst := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has(CacheParam) {
			t.Errorf("an instance was sent the cache parameter: %s", r.URL)
		}
		allowApp(w, r)
	}))
	defer inst.Close()
	pol := testPolicy()
	pol.Origins = append(pol.Origins, "https://admin.example.com")
	spec := TargetSpec{
		Target: discovery.Target{Name: "t", URL: lb.URL + "/v1/cart?x=1",
			Instances: []discovery.Instance{{ID: "i1", Addr: inst.Listener.Addr().String()}}},
		Probes: Plan(pol),
		LB:     LB{Samples: 1},
	}
	res, err := Run(context.Background(), []TargetSpec{spec}, testOptions(Options{Timeout: 5 * time.Second, CacheToken: "tok"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || len(hits) > cacheRequests {
		t.Fatalf("%d cache requests, want 1 to %d", len(hits), cacheRequests)
	}
	remote := map[string]string{}
	orders := map[string]bool{}
	for _, h := range hits {
		if h.method != http.MethodGet && h.method != http.MethodOptions {
			t.Errorf("cache request with method %s", h.method)
		}
		if !strings.HasPrefix(h.param, "tok-0-") {
			t.Errorf("cache parameter %q does not carry the run's token", h.param)
		}
		order := strings.TrimSuffix(h.param, "-fresh")
		orders[order] = true
		if r, ok := remote[order]; ok && r != h.remote {
			t.Errorf("order %s went over two connections (%s, %s)", order, r, h.remote)
		}
		remote[order] = h.remote
	}
	if len(orders) != len(res[0].Cache) {
		t.Errorf("%d orders sent, %d recorded", len(orders), len(res[0].Cache))
	}
	want := map[string]bool{CacheNoOrigin: false, CacheRefusal: false, CacheOtherOrigin: false, CachePreflightKey: false, CacheRevalidation: false}
	for _, pair := range res[0].Cache {
		want[pair.Order] = true
		if pair.FirstAnswer == nil || pair.SecondAnswer == nil {
			t.Errorf("order %s: missing answers", pair.Order)
			continue
		}
		if pair.Order == CacheRevalidation {
			if pair.SecondAnswer.Status != http.StatusNotModified || pair.SecondAnswer.Sent().Header.Get("If-None-Match") != `"v1"` {
				t.Errorf("revalidation: %d, sent %v", pair.SecondAnswer.Status, pair.SecondAnswer.Sent().Header)
			}
			continue
		}
		if pair.Fresh == nil {
			t.Errorf("order %s: no fresh request", pair.Order)
		}
		u, _ := url.Parse(pair.FirstAnswer.Sent().URL)
		if u.Query().Get("x") != "1" || u.Path != "/v1/cart" {
			t.Errorf("order %s requested %s: want the probe's path and query kept", pair.Order, u)
		}
		if pair.First == "" && pair.FirstAnswer.Sent().Header.Get("Origin") != "" {
			t.Errorf("order %s: the first request carries an Origin", pair.Order)
		}
	}
	for o, ok := range want {
		if !ok {
			t.Errorf("order %s not sent", o)
		}
	}
}

// TestEveryFrontIsSampled: with two fronts, each gets its samples (the
// first's in LB, the other's in Fronts) and the whole cache probe matrix,
// every order answered.
func TestEveryFrontIsSampled(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	count := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hits[name]++
			mu.Unlock()
			allowApp(w, r)
		})
	}
	cdn := httptest.NewServer(count("cdn"))
	defer cdn.Close()
	lb := httptest.NewServer(count("lb"))
	defer lb.Close()
	spec := TargetSpec{
		Target: discovery.Target{Name: "t", URL: cdn.URL + "/v1/cart",
			Instances: []discovery.Instance{{ID: "i1", Addr: lb.Listener.Addr().String()}}},
		Probes: Plan(testPolicy()),
		LB:     LB{Samples: 2},
		Fronts: []Front{{Name: "cdn", URL: cdn.URL}, {Name: "lb", Address: lb.Listener.Addr().String()}},
	}
	res, err := Run(context.Background(), []TargetSpec{spec}, testOptions(Options{Timeout: 5 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if len(r.Fronts) != 1 || r.Fronts[0].Name != "lb" || len(r.Layers()) != 2 {
		t.Fatalf("fronts %+v, want the lb behind the cdn", r.Fronts)
	}
	for _, l := range r.Layers() {
		n := 0
		for _, row := range l.Samples {
			n += len(row)
		}
		if n == 0 {
			t.Errorf("layer %s: no samples", l.Name)
		}
	}
	per := map[string]int{}
	for _, pair := range r.Cache {
		per[pair.Front]++
		if pair.FirstAnswer == nil || pair.FirstAnswer.Failed() {
			t.Errorf("%s %s: first request not answered", pair.Front, pair.Order)
		}
	}
	if per["cdn"] == 0 || per["cdn"] != per["lb"] {
		t.Errorf("orders per front %v, want the same matrix through both", per)
	}
	if hits["cdn"] == 0 || hits["lb"] == 0 {
		t.Errorf("requests per front %v", hits)
	}
}

package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

// poolInstance is one labserver of a routed fleet, listening on its own
// loopback address, that records the paths it was sent and each method
// on each path.
type poolInstance struct {
	Pool string
	Addr netip.AddrPort
	*labserver.Server

	mu       sync.Mutex
	paths    map[string]int
	requests map[string]int
}

// ServeHTTP records the request's path and answers as the labserver.
func (p *poolInstance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.paths[r.URL.Path]++
	p.requests[r.Method+" "+r.URL.Path]++
	p.mu.Unlock()
	p.Server.ServeHTTP(w, r)
}

// Received is how many requests of method on path the instance was sent.
func (p *poolInstance) Received(method, path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests[method+" "+path]
}

// Paths is the sorted paths the instance was sent.
func (p *poolInstance) Paths() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for path := range p.paths {
		out = append(out, path)
	}
	slices.Sort(out)
	return out
}

// servePool starts a labserver with behaviour b (its ID set to id, or to
// its address when id is empty) on host (a loopback address, port chosen
// by the kernel), recording the paths it is sent, until the test ends.
// Every instance checks at the end that it received no unsafe actual
// request, cookie or Authorization header.
func servePool(t *testing.T, pool, host, id string, b labserver.Behavior) *poolInstance {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("listen on %s: %v", host, err)
	}
	ap := netip.MustParseAddrPort(ln.Addr().String())
	if !ap.Addr().IsLoopback() {
		t.Fatalf("%s is not loopback", ap)
	}
	b.ID = id
	if id == "" {
		b.ID = ap.String()
	}
	in := &poolInstance{Pool: pool, Addr: ap, Server: labserver.New(b), paths: map[string]int{}, requests: map[string]int{}}
	srv := httptest.NewUnstartedServer(in)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if st := in.Stats(); st.Unsafe != 0 || st.Cookies != 0 || st.Authorization != 0 {
			t.Errorf("instance %s (%s) received %d unsafe actual requests, %d cookies, %d Authorization headers",
				b.ID, pool, st.Unsafe, st.Cookies, st.Authorization)
		}
	})
	return in
}

// loopbackLB is a load balancer on 127.0.0.1 that routes as route says:
// to the pool it names (round robin over its instances), or, when it
// returns no pool, answers with status itself (a fixed response).
type loopbackLB struct {
	URL string

	mu       sync.Mutex
	next     map[string]int
	sent     map[string]int
	answered int
	pools    map[string][]*poolInstance
}

// startLB starts a loopback load balancer over instances; route picks the
// pool of a request, or returns "" and the status the load balancer
// answers itself.
func startLB(t *testing.T, instances []*poolInstance, route func(*http.Request) (pool string, status int)) *loopbackLB {
	t.Helper()
	lb := &loopbackLB{next: map[string]int{}, sent: map[string]int{}, pools: map[string][]*poolInstance{}}
	for _, in := range instances {
		lb.pools[in.Pool] = append(lb.pools[in.Pool], in)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pool, status := route(r)
		if pool == "" {
			lb.mu.Lock()
			lb.answered++
			lb.mu.Unlock()
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(status)
			return
		}
		lb.mu.Lock()
		members := lb.pools[pool]
		if len(members) == 0 {
			lb.mu.Unlock()
			t.Errorf("loopback lb: %s %s routed to pool %q, which has no instance", r.Method, r.URL, pool)
			http.Error(w, "no pool", http.StatusBadGateway)
			return
		}
		in := members[lb.next[pool]%len(members)]
		lb.next[pool]++
		lb.sent[pool]++
		lb.mu.Unlock()
		proxy := httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(&url.URL{Scheme: "http", Host: in.Addr.String()})
			pr.Out.Host = pr.In.Host
		}}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	lb.URL = srv.URL
	return lb
}

// Sent is how many requests the load balancer forwarded to pool.
func (lb *loopbackLB) Sent(pool string) int {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return lb.sent[pool]
}

// Answered is how many requests the load balancer answered itself.
func (lb *loopbackLB) Answered() int {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return lb.answered
}

// pathsByPool is, per pool, the sorted paths its instances were sent.
func pathsByPool(instances []*poolInstance) map[string][]string {
	out := map[string][]string{}
	for _, in := range instances {
		for _, p := range in.Paths() {
			if !slices.Contains(out[in.Pool], p) {
				out[in.Pool] = append(out[in.Pool], p)
			}
		}
	}
	for pool := range out {
		slices.Sort(out[pool])
	}
	return out
}

// hasPrefixAny reports whether s starts with one of prefixes.
func hasPrefixAny(s string, prefixes ...string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(s, p) })
}

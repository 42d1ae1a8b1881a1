package lab

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/corsaudit/corsaudit/internal/syncbuf"
)

// GoLB is the load balancer written in Go that the demo runs in-process
// (no nginx or haproxy needed).
const GoLB Proxy = "go"

// Demo is the scenario `corsaudit demo` runs: 12 instances, web-07 on the
// older CORS config and web-12 down, audited on DemoPaths behind an
// in-process load balancer that redirects every OPTIONS on /v1/cart to
// https (a misconfigured http->https rule on one route) and round-robins
// the rest over the live instances: on /v1/items the preflights that land
// on web-07 fail through it too.
func Demo() Scenario {
	backends := Fleet(12, func(i int) bool { return i == 7 })
	backends[11].Down = true
	return Scenario{
		Name:  "demo",
		Proxy: GoLB,
		Summary: "12 instances on 127.0.0.1 (web-07 runs an older CORS config, web-12 is down) behind a load balancer " +
			"that redirects every OPTIONS on " + Path + ", audited on " + strings.Join(DemoPaths, " and "),
		Findings: []string{"lb-redirect", "unreachable", "verdict-drift"},
		Explains: []string{"lb-mismatch", "verdict-drift"},
		Backends: backends,
	}
}

// DemoPaths are the paths the demo audits: the load balancer redirects
// preflights on the first.
var DemoPaths = []string{Path, "/v1/items"}

// StartDemo starts the Demo scenario in-process. Close stops it.
func StartDemo() (*Lab, error) {
	l := &Lab{Scenario: Demo(), exited: make(chan struct{}), stderr: &syncbuf.Buffer{Limit: outputLimit}}
	if err := l.serveBackends(); err != nil {
		l.Close()
		return nil, err
	}
	var live []*url.URL
	for _, in := range l.Instances {
		if in.Server != nil {
			live = append(live, &url.URL{Scheme: "http", Host: in.Addr})
		}
	}
	addr, err := l.serve(RedirectOptionsOn(Path, RoundRobin(live)))
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("lab: %s: load balancer: %w", l.Scenario.Name, err)
	}
	l.Addr = addr
	l.URL = "http://" + addr + Path
	return l, nil
}

// RoundRobin is a small load balancer: it proxies each request to the next
// of backends in turn, keeping the Host header.
func RoundRobin(backends []*url.URL) http.Handler {
	var next atomic.Uint64
	return &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(backends[next.Add(1)%uint64(len(backends))])
		r.Out.Host = r.In.Host
	}}
}

// RedirectOptions answers every OPTIONS with a 301 to the same URL in https,
// as a misconfigured http->https listener rule does, and passes the other
// requests to next.
func RedirectOptions(next http.Handler) http.Handler { return RedirectOptionsOn("", next) }

// RedirectOptionsOn is RedirectOptions for the requests to path only (every
// path when ""), as a rule on one route does.
func RedirectOptionsOn(path string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions && (path == "" || r.URL.Path == path) {
			http.Redirect(w, r, "https://"+r.Host+r.URL.RequestURI(), http.StatusMovedPermanently)
			return
		}
		next.ServeHTTP(w, r)
	})
}

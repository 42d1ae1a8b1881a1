package lab

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

// LiveFleet is a fleet of backends served in-process on 127.0.0.1 behind
// a round-robin load balancer (no proxy process), whose instances can
// change their CORS config while they run, as a deploy does, and which
// counts the requests in flight at its instances: the exporter's tests
// audit one again and again. Close stops it.
type LiveFleet struct {
	// URL is the public URL through the load balancer.
	URL string
	// Instances are the backends (Server is nil: Deploy replaces them).
	Instances []Instance

	handlers []atomic.Pointer[labserver.Server]
	servers  []*http.Server

	inFlight, maxInFlight atomic.Int64
	requests              atomic.Int64
	latency               atomic.Int64 // nanoseconds
}

// StartLiveFleet serves backends (none may be Down) and a load balancer in
// front of them.
func StartLiveFleet(backends []Backend) (*LiveFleet, error) {
	f := &LiveFleet{handlers: make([]atomic.Pointer[labserver.Server], len(backends))}
	var live []*url.URL
	for i, be := range backends {
		if be.Down {
			f.Close()
			return nil, fmt.Errorf("lab: live fleet: backend %s: a live fleet has no down backend", be.Behavior.ID)
		}
		f.handlers[i].Store(labserver.New(be.Behavior))
		addr, err := f.serve(f.counted(i))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lab: live fleet: backend %s: %w", be.Behavior.ID, err)
		}
		f.Instances = append(f.Instances, Instance{ID: be.Behavior.ID, Addr: addr, Group: be.Group})
		live = append(live, &url.URL{Scheme: "http", Host: addr})
	}
	addr, err := f.serve(RoundRobin(live))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lab: live fleet: load balancer: %w", err)
	}
	f.URL = "http://" + addr + Path
	return f, nil
}

// counted is backend i, counting its requests in flight.
func (f *LiveFleet) counted(i int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		n := f.inFlight.Add(1)
		defer f.inFlight.Add(-1)
		for {
			m := f.maxInFlight.Load()
			if n <= m || f.maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		if d := time.Duration(f.latency.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
			}
		}
		f.handlers[i].Load().ServeHTTP(w, r)
	})
}

// SetLatency holds every request at the instances for d before it is
// answered, as a network round trip and a busy server do: requests sent
// at once then overlap, and a bound on them shows.
func (f *LiveFleet) SetLatency(d time.Duration) { f.latency.Store(int64(d)) }

// Deploy changes the CORS config of every instance to backends' (same
// length and order as the fleet's), from the next request on.
func (f *LiveFleet) Deploy(backends []Backend) error {
	if len(backends) != len(f.handlers) {
		return fmt.Errorf("lab: live fleet: deploy %d backends to %d instances", len(backends), len(f.handlers))
	}
	for i, be := range backends {
		f.handlers[i].Store(labserver.New(be.Behavior))
	}
	return nil
}

// MaxInFlight is the most requests the instances have had in flight at
// once since the start or the last ResetMax.
func (f *LiveFleet) MaxInFlight() int64 { return f.maxInFlight.Load() }

// ResetMax starts counting MaxInFlight anew.
func (f *LiveFleet) ResetMax() { f.maxInFlight.Store(0) }

// Requests is how many requests the instances have received.
func (f *LiveFleet) Requests() int64 { return f.requests.Load() }

// Target is the config target that audits the fleet (see Target).
func (f *LiveFleet) Target(name string) config.Target { return Target(name, f.URL, f.Instances) }

func (f *LiveFleet) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	f.servers = append(f.servers, srv)
	go srv.Serve(ln)
	return ln.Addr().String(), nil
}

// Close stops the load balancer and the instances.
func (f *LiveFleet) Close() error {
	var errs []error
	for _, s := range f.servers {
		if err := s.Close(); err != nil {
			errs = append(errs, fmt.Errorf("lab: live fleet: stop: %w", err))
		}
	}
	return errors.Join(errs...)
}

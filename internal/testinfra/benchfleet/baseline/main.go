// Command baseline is the yardstick of corsaudit's speed: a bare HTTP
// client that sends the requests a corsaudit audit sends (the same
// preflights and actual GET/HEADs, with the same headers, to the same
// instances, with the same number in flight, keep-alive per instance) and
// does nothing else: no verdict, no compare, no report. It reads the config
// benchfleet writes:
//
//	go run ./internal/testinfra/benchfleet -n 1000 -config /tmp/fleet.yaml &
//	go run ./internal/testinfra/benchfleet/baseline -config /tmp/fleet.yaml
//
// .ci/bench times it against `corsaudit audit` on the same fleet.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
)

// fleetConfig is the part of a benchfleet config the baseline reads.
type fleetConfig struct {
	Concurrency int `yaml:"concurrency"`
	PerInstance int `yaml:"per_instance"`
	Targets     []struct {
		URL      string `yaml:"url"`
		Discover struct {
			Static struct {
				Instances []struct {
					Addr string `yaml:"addr"`
				} `yaml:"instances"`
			} `yaml:"static"`
		} `yaml:"discover"`
		Policy struct {
			Origins     []string `yaml:"origins"`
			Methods     []string `yaml:"methods"`
			Headers     []string `yaml:"headers"`
			Credentials bool     `yaml:"credentials"`
		} `yaml:"policy"`
	} `yaml:"targets"`
}

// request is one request of the plan, sent to every instance.
type request struct {
	method string
	header http.Header
}

func main() {
	path := flag.String("config", "fleet.yaml", "the benchfleet config to read")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatalf("baseline: %v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatalf("baseline: %v", err)
		}
		defer pprof.StopCPUProfile()
	}
	data, err := os.ReadFile(*path)
	if err != nil {
		log.Fatalf("baseline: %v", err)
	}
	var cfg fleetConfig
	if err := yaml.Unmarshal(data, &cfg); err != nil || len(cfg.Targets) != 1 {
		log.Fatalf("baseline: %s: want one target (%v)", *path, err)
	}
	t := cfg.Targets[0]
	public, err := url.Parse(t.URL)
	if err != nil {
		log.Fatalf("baseline: url: %v", err)
	}
	reqs := cfg.requests()
	addrs := make(chan string)
	var sent, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	// Concurrency requests in flight: PerInstance keep-alive connections
	// to each of Concurrency/PerInstance instances at a time, as corsaudit.
	per := max(cfg.PerInstance, 1)
	for range max(cfg.Concurrency/per, 1) {
		wg.Go(func() {
			for addr := range addrs {
				n, f := instance(public, addr, reqs, per)
				sent.Add(n)
				failed.Add(f)
			}
		})
	}
	for _, in := range t.Discover.Static.Instances {
		addrs <- in.Addr
	}
	close(addrs)
	wg.Wait()
	took := time.Since(start)
	fmt.Printf("baseline: %d instances, %d requests (%d failed) in %s: %.0f requests/s\n",
		len(t.Discover.Static.Instances), sent.Load(), failed.Load(), took.Round(time.Millisecond),
		float64(sent.Load())/took.Seconds())
}

// requests are the requests of the plan of the config's (one) target.
func (cfg *fleetConfig) requests() []request {
	pol := cfg.Targets[0].Policy
	return requests(audit.Plan(audit.Policy{Origins: pol.Origins, Methods: pol.Methods,
		Headers: pol.Headers, Credentials: pol.Credentials}))
}

// requests are the requests corsaudit sends for probes (assuming every
// preflight passes): the preflight when a browser sends one, and the actual
// request for GET and HEAD.
func requests(probes []audit.Probe) []request {
	var out []request
	for _, p := range probes {
		req := p.Request()
		plan := cors.PlanPreflightFor(cors.Chromium, req)
		method := cors.NormalizeMethod(req.Method)
		if plan.Needed {
			h := http.Header{}
			h.Set(cors.Origin, req.Origin)
			h.Set(cors.ACRM, plan.Method)
			if plan.Headers != "" {
				h.Set(cors.ACRH, plan.Headers)
			}
			out = append(out, request{http.MethodOptions, h})
		}
		if method == http.MethodGet || method == http.MethodHead {
			h := http.Header{}
			for _, hd := range req.Headers {
				h.Add(hd.Name, hd.Value)
			}
			h.Set(cors.Origin, req.Origin)
			out = append(out, request{method, h})
		}
	}
	for _, r := range out {
		r.header.Set("User-Agent", audit.UserAgent)
		r.header.Set("Accept", "*/*")
		r.header.Set("Sec-Fetch-Mode", "cors")
	}
	return out
}

// instance sends reqs to addr over per keep-alive connections, closed
// when done, and returns how many were sent and how many failed.
func instance(public *url.URL, addr string, reqs []request, per int) (sent, failed int64) {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{MaxIdleConnsPerHost: per, MaxConnsPerHost: per, DisableCompression: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	next := make(chan request)
	var wg sync.WaitGroup
	var n, f atomic.Int64
	for range per {
		wg.Go(func() {
			for r := range next {
				req, _ := http.NewRequest(r.method, public.String(), nil)
				req.Header = r.header.Clone()
				n.Add(1)
				resp, err := client.Do(req)
				if err != nil {
					f.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, audit.MaxBodyBytes))
				resp.Body.Close()
			}
		})
	}
	for _, r := range reqs {
		next <- r
	}
	close(next)
	wg.Wait()
	return n.Load(), f.Load()
}

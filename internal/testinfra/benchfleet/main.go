// Command benchfleet serves a large fleet of CORS instances on loopback
// addresses (127.0.x.y, one port) and writes the corsaudit config that audits
// it, so that a corsaudit run can be measured on its own, e.g.:
//
//	go run ./internal/testinfra/benchfleet -n 10000 -config /tmp/fleet.yaml &
//	/usr/bin/time -v go run ./cmd/corsaudit audit --config /tmp/fleet.yaml --format json --output /dev/null
//
// The fleet is lab.Fleet: every tenth instance runs the older CORS config,
// so the differ has work. The policy plans 16 probes (benchPolicy). With
// -wide one listener on 0.0.0.0:PORT serves every instance (100,000 fit);
// internal/testinfra/benchfleet/baseline is the bare client to compare with. With
// -targets N the config has N targets on the same instances (target-1 ...),
// for measuring `corsaudit serve` per target:
//
//	go run ./internal/testinfra/benchfleet -n 10 -targets 100 -config /tmp/serve.yaml &
//	corsaudit serve --config /tmp/serve.yaml --interval 1m
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/lab"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

func main() {
	n := flag.Int("n", 1000, "instances")
	port := flag.Int("port", 18080, "port every instance listens on (each on its own 127.0.x.y)")
	path := flag.String("config", "fleet.yaml", "where to write the corsaudit config")
	targets := flag.Int("targets", 1, "targets in the config, each auditing every instance (for `corsaudit serve`)")
	wide := flag.Bool("wide", false, "serve every instance from one listener on 0.0.0.0:PORT, instance i at 127.a.b.c (for 100,000 instances; the dialled address says which)")
	flag.Parse()

	fleet := benchFleet(*n)
	var ins []lab.Instance
	if *wide {
		ins = serveWide(fleet, *port)
	}
	for i, be := range fleet {
		if *wide {
			break
		}
		ip := net.IPv4(127, 0, byte(1+i/250), byte(1+i%250)) // 127.0.1.1 ...
		addr := net.JoinHostPort(ip.String(), fmt.Sprint(*port))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			log.Fatalf("benchfleet: listen %s: %v", addr, err)
		}
		srv := &http.Server{Handler: labserver.New(be.Behavior), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		ins = append(ins, lab.Instance{ID: be.Behavior.ID, Addr: addr, Group: be.Group})
	}
	cfg := fleetConfig(ins)
	cfg.Targets = manyTargets(cfg.Targets[0], *targets)
	data, err := yaml.Marshal(cfg)
	if err != nil {
		log.Fatalf("benchfleet: config: %v", err)
	}
	if err := os.WriteFile(*path, data, 0o644); err != nil {
		log.Fatalf("benchfleet: %v", err)
	}
	where := "127.0.x.y"
	if *wide {
		where = "127.a.b.c (one listener on 0.0.0.0)"
	}
	log.Printf("benchfleet: %d instances on %s:%d; config in %s; Ctrl-C to stop", *n, where, *port, *path)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	<-ch
}

// fleetConfig is the config that audits the fleet's instances: 16 probes
// (benchPolicy) per instance, drift only, no load balancer.
func fleetConfig(ins []lab.Instance) config.Config {
	cfg := config.Default()
	cfg.Concurrency, cfg.PerInstance = 256, 2
	cfg.Timeout, cfg.Deadline = 5*time.Second, 30*time.Minute
	cfg.Analyses = []string{diff.AnalysisDrift}
	target := lab.Target("fleet", "http://api.example.com"+lab.Path, ins)
	target.LB = config.LB{Disabled: true}
	target.Policy = benchPolicy
	cfg.Targets = []config.Target{target}
	return cfg
}

// manyTargets is n copies of t named target-1 ... target-n (t itself, named
// fleet, when n is 1).
func manyTargets(t config.Target, n int) []config.Target {
	if n <= 1 {
		return []config.Target{t}
	}
	out := make([]config.Target, n)
	for i := range out {
		out[i] = t
		out[i].Name = fmt.Sprintf("target-%d", i+1)
	}
	return out
}

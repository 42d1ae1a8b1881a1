// Command benchfleet serves a large fleet of CORS instances on loopback
// addresses (127.0.x.y, one port) and writes the corsaudit config that audits
// it, so that a corsaudit run can be measured on its own, e.g.:
//
//	go run ./internal/testinfra/benchfleet -n 10000 -config /tmp/fleet.yaml &
//	/usr/bin/time -v go run ./cmd/corsaudit audit --config /tmp/fleet.yaml --format json --output /dev/null
//
// The fleet and its policy are a lab.BenchProfile (-profile, lab by
// default: lab.Fleet, every tenth instance on the older CORS config; full:
// every instance answers with the full set of CORS headers, every tenth
// allows fewer methods), 16 probes per instance, concurrency and
// per_instance as -concurrency and -per-instance say (0: corsaudit's
// defaults). With -wide one listener on 0.0.0.0:PORT serves every
// instance (100,000 fit); internal/testinfra/benchfleet/baseline is the bare client
// to compare with. With
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
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/internal/lab"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

func main() {
	n := flag.Int("n", 1000, "instances")
	port := flag.Int("port", 18080, "port every instance listens on (each on its own 127.0.x.y)")
	path := flag.String("config", "fleet.yaml", "where to write the corsaudit config")
	targets := flag.Int("targets", 1, "targets in the config, each auditing every instance (for `corsaudit serve`)")
	profile := flag.String("profile", lab.BenchProfiles[0].Name, "the workload: "+profileNames())
	concurrency := flag.Int("concurrency", 256, "the config's concurrency (0: corsaudit's default)")
	perInstance := flag.Int("per-instance", 2, "the config's per_instance (0: corsaudit's default)")
	wide := flag.Bool("wide", false, "serve every instance from one listener on 0.0.0.0:PORT, instance i at 127.a.b.c (for 100,000 instances; the dialled address says which)")
	flag.Parse()

	prof, ok := lab.LookupBenchProfile(*profile)
	if !ok {
		log.Fatalf("benchfleet: profile %q: want one of %s", *profile, profileNames())
	}
	fleet := prof.Fleet(*n)
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
	cfg := lab.BenchConfig(prof, ins, *concurrency, *perInstance)
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
	log.Printf("benchfleet: %d instances (%s) on %s:%d; config in %s; Ctrl-C to stop", *n, prof.Name, where, *port, *path)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	<-ch
}

// profileNames lists the profiles' names.
func profileNames() string {
	var names []string
	for _, p := range lab.BenchProfiles {
		names = append(names, p.Name+" ("+p.Summary+")")
	}
	return strings.Join(names, ", ")
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

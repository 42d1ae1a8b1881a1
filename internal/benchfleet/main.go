// Command benchfleet serves a large fleet of CORS instances on loopback
// addresses (127.0.x.y, one port) and writes the corsaudit config that audits
// it, so that a corsaudit run can be measured on its own, e.g.:
//
//	go run ./internal/benchfleet -n 10000 -config /tmp/fleet.yaml &
//	/usr/bin/time -v go run ./cmd/corsaudit audit --config /tmp/fleet.yaml --format json --output /dev/null
//
// The fleet is lab.Fleet: every tenth instance runs the older CORS config,
// so the differ has work.
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

	"github.com/corsaudit/corsaudit/internal/lab"
	"github.com/corsaudit/corsaudit/internal/labserver"
)

func main() {
	n := flag.Int("n", 1000, "instances")
	port := flag.Int("port", 18080, "port every instance listens on (each on its own 127.0.x.y)")
	config := flag.String("config", "fleet.yaml", "where to write the corsaudit config")
	flag.Parse()

	var cfg strings.Builder
	cfg.WriteString("concurrency: 256\nper_instance: 2\ntimeout: 5s\ndeadline: 30m\nchecks: [drift]\ntargets:\n  - name: fleet\n    url: http://api.example.com" + lab.Path + "\n    discover:\n      static:\n        instances:\n")
	for i, be := range lab.Fleet(*n, func(i int) bool { return i%10 == 0 }) {
		ip := net.IPv4(127, 0, byte(1+i/250), byte(1+i%250)) // 127.0.1.1 ...
		addr := net.JoinHostPort(ip.String(), fmt.Sprint(*port))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			log.Fatalf("benchfleet: listen %s: %v", addr, err)
		}
		srv := &http.Server{Handler: labserver.New(be.Behavior), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		fmt.Fprintf(&cfg, "          - {id: %s, addr: %s, group: %s}\n", be.Behavior.ID, addr, be.Group)
	}
	fmt.Fprintf(&cfg, "    direct: {scheme: http}\n    lb: {disabled: true}\n    policy:\n      origins: [%s]\n      methods: [%s]\n      headers: [%s]\n      credentials: true\n",
		strings.Join(lab.PolicyOrigins, ", "), strings.Join(lab.PolicyMethods, ", "), strings.Join(lab.PolicyHeaders, ", "))
	if err := os.WriteFile(*config, []byte(cfg.String()), 0o644); err != nil {
		log.Fatalf("benchfleet: %v", err)
	}
	log.Printf("benchfleet: %d instances on 127.0.x.y:%d; config in %s; Ctrl-C to stop", *n, *port, *config)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	<-ch
}

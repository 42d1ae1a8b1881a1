// Command benchfleet serves a large fleet of CORS instances on loopback
// addresses (127.0.x.y, one port) and writes the corsaudit config that audits
// it, so that a corsaudit run can be measured on its own, e.g.:
//
//	go run ./internal/benchfleet -n 10000 -config /tmp/fleet.yaml &
//	/usr/bin/time -v go run ./cmd/corsaudit audit --config /tmp/fleet.yaml --format json --output /dev/null
//
// Every tenth instance runs an older CORS config, so the differ has work.
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

	"github.com/corsaudit/corsaudit/internal/labserver"
)

func main() {
	n := flag.Int("n", 1000, "instances")
	port := flag.Int("port", 18080, "port every instance listens on (each on its own 127.0.x.y)")
	config := flag.String("config", "fleet.yaml", "where to write the corsaudit config")
	flag.Parse()

	current := labserver.Behavior{AllowOrigins: []string{"https://app.example.com"},
		AllowMethods: []string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}, AllowHeaders: []string{"Content-Type", "X-Request-Id"},
		Credentials: true, MaxAge: 600}
	older := current
	older.AllowMethods = []string{"GET", "POST"}

	var cfg strings.Builder
	cfg.WriteString("concurrency: 256\nper_instance: 2\ntimeout: 5s\ndeadline: 30m\nchecks: [drift]\ntargets:\n  - name: fleet\n    url: http://api.example.com/v1/cart\n    discover:\n      static:\n        instances:\n")
	for i := range *n {
		ip := net.IPv4(127, 0, byte(1+i/250), byte(1+i%250)) // 127.0.1.1 ...
		addr := net.JoinHostPort(ip.String(), fmt.Sprint(*port))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			log.Fatalf("benchfleet: listen %s: %v", addr, err)
		}
		b := current
		if i%10 == 9 {
			b = older
		}
		b.ID = fmt.Sprintf("i%05d", i)
		srv := &http.Server{Handler: labserver.New(b), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		fmt.Fprintf(&cfg, "          - {id: %s, addr: %s}\n", b.ID, addr)
	}
	cfg.WriteString("    direct: {scheme: http}\n    lb: {disabled: true}\n    policy:\n      origins: [https://app.example.com]\n      methods: [GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS]\n      headers: [X-Request-Id]\n      credentials: true\n")
	if err := os.WriteFile(*config, []byte(cfg.String()), 0o644); err != nil {
		log.Fatalf("benchfleet: %v", err)
	}
	log.Printf("benchfleet: %d instances on 127.0.x.y:%d; config in %s; Ctrl-C to stop", *n, *port, *config)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	<-ch
}

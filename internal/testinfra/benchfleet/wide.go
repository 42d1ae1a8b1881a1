package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/corsaudit/corsaudit/internal/lab"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

// wideIP is instance i's address in a wide fleet: 127.a.b.c with each of
// a, b, c in 1..250 (15 million addresses, all loopback).
func wideIP(i int) net.IP {
	return net.IPv4(127, byte(1+i/(250*250)), byte(1+i/250%250), byte(1+i%250))
}

// wideIndex is the instance whose address ip is, or -1.
func wideIndex(ip net.IP) int {
	ip = ip.To4()
	if ip == nil || ip[0] != 127 || ip[1] == 0 || ip[2] == 0 || ip[3] == 0 || ip[1] > 250 || ip[2] > 250 || ip[3] > 250 {
		return -1
	}
	return (int(ip[1])-1)*250*250 + (int(ip[2])-1)*250 + int(ip[3]) - 1
}

type handlerKey struct{}

// serveWide serves every backend of fleet from one listener on
// 0.0.0.0:port: a connection's local address (the one dialled) says which
// instance it reaches, and gets that instance's handler.
func serveWide(fleet []lab.Backend, port int) []lab.Instance {
	ln, err := net.Listen("tcp", fmt.Sprintf("0.0.0.0:%d", port))
	if err != nil {
		log.Fatalf("benchfleet: listen: %v", err)
	}
	notFound := http.NotFoundHandler()
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			var h http.Handler = notFound
			if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
				if i := wideIndex(a.IP); i >= 0 && i < len(fleet) {
					h = labserver.New(fleet[i].Behavior)
				}
			}
			return context.WithValue(ctx, handlerKey{}, h)
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Context().Value(handlerKey{}).(http.Handler).ServeHTTP(w, r)
		})}
	go srv.Serve(ln)
	ins := make([]lab.Instance, len(fleet))
	for i, be := range fleet {
		ins[i] = lab.Instance{ID: be.Behavior.ID, Addr: net.JoinHostPort(wideIP(i).String(), fmt.Sprint(port)), Group: be.Group}
	}
	return ins
}

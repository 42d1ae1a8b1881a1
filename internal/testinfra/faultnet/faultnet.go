package faultnet

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
)

// Server is a raw TCP listener on 127.0.0.1 that serves each connection
// with its serve function and counts the connections it accepted. The
// test's cleanup closes it and every connection it holds.
type Server struct {
	ln       net.Listener
	accepted atomic.Int64
	mu       sync.Mutex
	conns    []net.Conn
}

// Start serves every accepted connection with serve.
func Start(t testing.TB, serve func(net.Conn)) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{ln: ln}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			go serve(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.conns {
			c.Close()
		}
	})
	return s
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Accepted counts the connections accepted so far.
func (s *Server) Accepted() int64 { return s.accepted.Load() }

// RefusedAddr is a loopback address nothing listens on: a port that was
// just free, so connecting to it is refused.
func RefusedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Hang accepts and never answers (the connection is closed at cleanup).
func Hang(net.Conn) {}

// Reset closes at once with SO_LINGER 0: the peer gets a TCP RST.
func Reset(c net.Conn) {
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
}

// Garbage reads the request and answers bytes that are not HTTP.
func Garbage(c net.Conn) {
	if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
		return
	}
	io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n\r\n")
	c.(*net.TCPConn).CloseWrite()
}

// Requested is a listener that reads each request and never answers it;
// got is closed once the first request has arrived, so a test can stop a
// run while requests are in flight without sleeping.
func Requested(t testing.TB) (addr string, got <-chan struct{}) {
	t.Helper()
	ch := make(chan struct{})
	var once sync.Once
	s := Start(t, func(c net.Conn) {
		r := bufio.NewReader(c)
		for {
			if _, err := http.ReadRequest(r); err != nil {
				return
			}
			once.Do(func() { close(ch) })
		}
	})
	return s.Addr(), ch
}

// Trickle answers each request with its status line, headers (with head,
// CRLF-terminated header lines, added) and the first byte of a body it
// then never finishes, as a server that trickles a body at one byte per
// second does within any timeout shorter than its length: a browser (and
// corsaudit) reads the CORS headers, then waits for the body.
func Trickle(head string) func(net.Conn) {
	return func(c net.Conn) {
		r := bufio.NewReader(c)
		if _, err := http.ReadRequest(r); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\n"+head+"Content-Length: 100000\r\n\r\nx")
		io.Copy(io.Discard, r) // until the client gives up and closes
	}
}

// Raw answers every request on the connection with response, bytes that
// go out as written (malformed headers included), and keeps the
// connection open for the next request.
func Raw(response string) func(net.Conn) {
	return func(c net.Conn) {
		r := bufio.NewReader(c)
		for {
			if _, err := http.ReadRequest(r); err != nil {
				return
			}
			if _, err := io.WriteString(c, response); err != nil {
				return
			}
		}
	}
}

// Addr starts the fault named fault ("refuse", "hang", "reset",
// "garbage") and returns its address.
func Addr(t testing.TB, fault string) string {
	t.Helper()
	switch fault {
	case "refuse":
		return RefusedAddr(t)
	case "hang":
		return Start(t, Hang).Addr()
	case "reset":
		return Start(t, Reset).Addr()
	case "garbage":
		return Start(t, Garbage).Addr()
	}
	t.Fatalf("faultnet: unknown fault %q", fault)
	return ""
}

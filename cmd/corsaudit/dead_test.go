package main

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/diff"
)

// deadInstance starts a loopback listener that fails every request the way
// fault says and returns its address: "refuse" (nothing listens), "hang"
// (accepts, never answers), "reset" (accepts, then resets), "garbage"
// (answers bytes that are not HTTP).
func deadInstance(t *testing.T, fault string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if fault == "refuse" {
		ln.Close()
		return addr
	}
	var mu sync.Mutex
	var held []net.Conn
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			switch fault {
			case "hang":
				mu.Lock()
				held = append(held, c)
				mu.Unlock()
			case "reset":
				c.(*net.TCPConn).SetLinger(0)
				c.Close()
			case "garbage":
				c.Write([]byte("\x00\x01 this is not HTTP\r\n\r\n"))
				c.Close()
			}
		}
	}()
	return addr
}

// TestDeadInstanceFailsTheAudit (issue 11, item 1): three healthy
// instances and one that answers no request. Under the default --fail-on
// the audit exits 1; the instance is an unreachable error, not reachable in
// the JSON, and counted in summary.unreachable. The policy includes POST,
// whose simple probe sends nothing: it must not count as an answer.
func TestDeadInstanceFailsTheAudit(t *testing.T) {
	for _, fault := range []string{"refuse", "hang", "reset", "garbage"} {
		t.Run(fault, func(t *testing.T) {
			f := newFleet(t)
			args := []string{"audit", "http://api.example.com/v1/cart", "--no-lb", "--format", "json",
				"--origin", "https://app.example.com", "--method", "GET", "--method", "POST", "--method", "PUT",
				"--credentials", "--timeout", "300ms"}
			for _, id := range []string{"web-1", "web-2", "web-3"} {
				args = append(args, "--instance", id+"="+f.start(id, currentCORS))
			}
			args = append(args, "--instance", "dead="+deadInstance(t, fault))
			start := time.Now()
			rep, code, stderr := runJSON(t, args...)
			if code != exitFindings {
				t.Errorf("exit code = %d, want %d\n%s", code, exitFindings, stderr)
			}
			if rep.Summary.Unreachable != 1 {
				t.Errorf("summary.unreachable = %d, want 1", rep.Summary.Unreachable)
			}
			for _, in := range rep.Targets[0].Instances {
				if want := in.ID != "dead"; in.Reachable != want {
					t.Errorf("instance %s reachable = %v, want %v", in.ID, in.Reachable, want)
				}
			}
			var found bool
			for _, fd := range rep.Findings {
				if fd.Kind == diff.KindUnreachable && len(fd.Instances) == 1 && fd.Instances[0] == "dead" {
					found = true
					if fd.Severity != diff.SeverityError {
						t.Errorf("unreachable finding severity = %s, want error: %s", fd.Severity, fd.Message)
					}
				}
			}
			if !found {
				t.Errorf("no unreachable finding for the dead instance: %+v", rep.Findings)
			}
			// One dead instance costs about two timeouts, not one per probe.
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("the audit took %s with one dead instance", d)
			}
		})
	}
}

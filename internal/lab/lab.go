// Package lab is the local load balancer lab: labserver backends on
// loopback behind a real nginx or haproxy, in configurations that show each
// load balancer pitfall corsaudit finds (redirected preflights, a balancer
// answering OPTIONS itself, duplicated or stripped CORS headers, a cache
// that ignores the Origin), plus clean ones. Start runs one scenario and
// returns the corsaudit config that audits it.
package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/corsaudit/corsaudit/internal/labserver"
	"github.com/corsaudit/corsaudit/internal/syncbuf"
)

// StartTimeout bounds how long Start waits for the load balancer to listen.
const StartTimeout = 15 * time.Second

// Instance is one running backend.
type Instance struct {
	ID    string
	Addr  string // 127.0.0.1:port
	Group string
	// Server is the handler, for its request counters; nil for a Down
	// backend.
	Server *labserver.Server
}

// Lab is a running scenario. Close stops it.
type Lab struct {
	Scenario Scenario
	// URL is the public URL through the load balancer.
	URL string
	// Addr is the load balancer's listen address.
	Addr      string
	Instances []Instance
	// Dir holds the proxy config, pid file, temp and cache directories.
	Dir string
	// ConfigPath is the written nginx.conf or haproxy.cfg.
	ConfigPath string

	servers []*http.Server
	proc    *exec.Cmd
	exited  chan struct{} // closed when proc has exited
	stderr  *syncbuf.Buffer
	once    sync.Once
}

// outputLimit bounds what the lab keeps of the proxy's output; the start is
// what explains a failure.
const outputLimit = 64 << 10

// Start runs sc: its backends on 127.0.0.1 free ports, then the proxy with a
// config written into dir (which must exist), and waits until the proxy
// listens. ctx bounds the start only; Close stops everything.
func Start(ctx context.Context, sc Scenario, dir string) (*Lab, error) {
	bin, err := exec.LookPath(string(sc.Proxy))
	if err != nil {
		bin, err = lookSbin(string(sc.Proxy))
		if err != nil {
			return nil, fmt.Errorf("lab: %s: %w", sc.Name, err)
		}
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("lab: %s: %w", sc.Name, err)
	}
	l := &Lab{Scenario: sc, Dir: dir, exited: make(chan struct{}), stderr: &syncbuf.Buffer{Limit: outputLimit}}
	if err := l.serveBackends(); err != nil {
		l.Close()
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("lab: %s: %w", sc.Name, err)
	}
	l.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	l.URL = "http://" + l.Addr + Path

	var conf string
	var args []string
	switch sc.Proxy {
	case Nginx:
		conf = nginxConfig(sc, dir, l.Addr, l.Instances)
		l.ConfigPath = filepath.Join(dir, "nginx.conf")
		args = []string{"-p", dir, "-c", l.ConfigPath, "-e", "stderr"}
	case HAProxy:
		conf = haproxyConfig(sc, l.Addr, l.Instances)
		l.ConfigPath = filepath.Join(dir, "haproxy.cfg")
		args = []string{"-f", l.ConfigPath, "-db"}
	default:
		l.Close()
		return nil, fmt.Errorf("lab: %s: unknown proxy %q", sc.Name, sc.Proxy)
	}
	if err := os.WriteFile(l.ConfigPath, []byte(conf), 0o644); err != nil {
		l.Close()
		return nil, fmt.Errorf("lab: %s: %w", sc.Name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = l.stderr
	cmd.Stderr = l.stderr
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		l.Close()
		return nil, fmt.Errorf("lab: %s: start %s: %w", sc.Name, sc.Proxy, err)
	}
	l.proc = cmd
	go func() {
		_ = cmd.Wait()
		close(l.exited)
	}()
	if err := l.waitListening(ctx); err != nil {
		l.Close()
		return nil, fmt.Errorf("lab: %s: %w", sc.Name, err)
	}
	return l, nil
}

// serveBackends starts l.Scenario's backends on 127.0.0.1 free ports; a
// Down backend gets a port that was free a moment ago and refuses
// connections.
func (l *Lab) serveBackends() error {
	for _, be := range l.Scenario.Backends {
		in := Instance{ID: be.Behavior.ID, Group: be.Group}
		if be.Down {
			port, err := freePort()
			if err != nil {
				return fmt.Errorf("lab: %s: backend %s: %w", l.Scenario.Name, in.ID, err)
			}
			in.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			l.Instances = append(l.Instances, in)
			continue
		}
		in.Server = labserver.New(be.Behavior)
		addr, err := l.serve(in.Server)
		if err != nil {
			return fmt.Errorf("lab: %s: backend %s: %w", l.Scenario.Name, in.ID, err)
		}
		in.Addr = addr
		l.Instances = append(l.Instances, in)
	}
	return nil
}

// serve serves h on a 127.0.0.1 free port until Close and returns its
// address.
func (l *Lab) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	l.servers = append(l.servers, srv)
	go srv.Serve(ln)
	return ln.Addr().String(), nil
}

// lookSbin finds a tool in the sbin directories that a user's PATH often
// lacks.
func lookSbin(name string) (string, error) {
	for _, d := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s is not on PATH nor in /usr/sbin (apt-get install %s)", name, name)
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitListening polls the proxy's port until it accepts a connection, the
// process exits, ctx ends, or StartTimeout passes.
func (l *Lab) waitListening(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", l.Addr)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-l.exited:
			return fmt.Errorf("%s exited before listening on %s: %s", l.Scenario.Proxy, l.Addr, strings.TrimSpace(l.stderr.String()))
		case <-ctx.Done():
			return fmt.Errorf("%s not listening on %s: %w; its output: %s", l.Scenario.Proxy, l.Addr, ctx.Err(), strings.TrimSpace(l.stderr.String()))
		case <-tick.C:
		}
	}
}

// Output returns what the proxy printed so far (its error log).
func (l *Lab) Output() string { return l.stderr.String() }

// Exited is closed when the proxy process has exited.
func (l *Lab) Exited() <-chan struct{} { return l.exited }

// Close stops the proxy by its pid (TERM, then KILL after a few seconds) and
// the backends. It is safe to call more than once.
func (l *Lab) Close() error {
	var errs []error
	l.once.Do(func() {
		if l.proc != nil && l.proc.Process != nil && !l.hasExited() {
			pid := l.proc.Process.Pid
			if err := terminate(pid); err != nil && !l.hasExited() {
				errs = append(errs, fmt.Errorf("lab: stop %s pid %d: %w", l.Scenario.Proxy, pid, err))
			}
			select {
			case <-l.exited:
			case <-time.After(5 * time.Second):
				if err := kill(pid); err != nil {
					errs = append(errs, fmt.Errorf("lab: kill %s pid %d: %w", l.Scenario.Proxy, pid, err))
				}
				<-l.exited
			}
		}
		for _, s := range l.servers {
			if err := s.Close(); err != nil {
				errs = append(errs, fmt.Errorf("lab: stop backend: %w", err))
			}
		}
	})
	return errors.Join(errs...)
}

func (l *Lab) hasExited() bool {
	select {
	case <-l.exited:
		return true
	default:
		return false
	}
}

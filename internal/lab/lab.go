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

	"github.com/corsaudit/corsaudit/internal/lab/labserver"
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
	// URL is the public URL through the load balancer (through the front,
	// for a scenario with one).
	URL string
	// Addr is the listen address URL reaches.
	Addr string
	// Inner is, for a scenario with a front, the load balancer's own
	// listen address behind it ("" otherwise).
	Inner     string
	Instances []Instance
	// Dir holds the proxy config, pid file, temp and cache directories.
	Dir string
	// ConfigPath is the written nginx.conf, haproxy.cfg or varnish VCL (the
	// front's, for a scenario with one).
	ConfigPath string

	servers []*http.Server
	procs   []*exec.Cmd
	exited  chan struct{} // closed when a proxy has exited
	stderr  *syncbuf.Buffer
	once    sync.Once
	exit    sync.Once
	waited  []chan struct{} // closed when each of procs has exited
}

// outputLimit bounds what the lab keeps of the proxy's output; the start is
// what explains a failure.
const outputLimit = 64 << 10

// Start runs sc: its backends on 127.0.0.1 free ports, then the proxy with a
// config written into dir (which must exist), and, for a scenario with a
// front, the front proxy in front of it; it waits until they listen. ctx
// bounds the start only; Close stops everything.
func Start(ctx context.Context, sc Scenario, dir string) (*Lab, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("lab: %s: %w", sc.Name, err)
	}
	l := &Lab{Scenario: sc, Dir: dir, exited: make(chan struct{}), stderr: &syncbuf.Buffer{Limit: outputLimit}}
	if err := l.serveBackends(); err != nil {
		l.Close()
		return nil, err
	}
	var upstreams []upstream
	for _, in := range l.Instances {
		upstreams = append(upstreams, upstream{id: in.ID, group: in.Group, addr: in.Addr})
	}
	addr, conf, err := l.startProxy(ctx, sc.Proxy, sc.rules, sc.httpRules, upstreams, "")
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("lab: %s: %w", sc.Name, err)
	}
	if sc.Front != nil {
		l.Inner = addr
		addr, conf, err = l.startProxy(ctx, sc.Front.Proxy, sc.Front.rules, "", []upstream{{id: string(sc.Proxy), addr: addr}}, "front-")
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("lab: %s: front: %w", sc.Name, err)
		}
	}
	l.Addr, l.ConfigPath = addr, conf
	l.URL = "http://" + addr + Path
	return l, nil
}

// upstream is one server a proxy forwards to.
type upstream struct{ id, group, addr string }

// startProxy starts proxy p with rules in front of ups, its files in
// l.Dir named with prefix, and waits until it listens; it returns its
// listen address and config file.
func (l *Lab) startProxy(ctx context.Context, p Proxy, rules, httpRules string, ups []upstream, prefix string) (addr, conf string, err error) {
	bin, err := exec.LookPath(p.Tool())
	if err != nil {
		if bin, err = lookSbin(p.Tool()); err != nil {
			return "", "", err
		}
	}
	port, err := freePort()
	if err != nil {
		return "", "", err
	}
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	dir := l.Dir
	var text string
	var args []string
	switch p {
	case Nginx:
		if prefix != "" {
			dir = filepath.Join(l.Dir, prefix+"nginx")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return "", "", err
			}
		}
		text = nginxConfig(l.Scenario, rules, httpRules, dir, addr, ups)
		conf = filepath.Join(dir, "nginx.conf")
		args = []string{"-p", dir, "-c", conf, "-e", "stderr"}
	case HAProxy:
		text = haproxyConfig(l.Scenario, rules, addr, ups)
		conf = filepath.Join(l.Dir, prefix+"haproxy.cfg")
		args = []string{"-f", conf, "-db"}
	case Varnish:
		text = varnishConfig(l.Scenario, rules, ups)
		conf = filepath.Join(l.Dir, prefix+"varnish.vcl")
		// -j none: no privilege separation (no varnish user, no system
		// service); -n: its working directory here; -T none: no
		// management port.
		args = []string{"-F", "-j", "none", "-n", filepath.Join(l.Dir, prefix+"varnish"), "-a", addr, "-f", conf,
			"-s", "malloc,16m", "-T", "none", "-p", "default_grace=0", "-p", "default_keep=0",
			// The VCL compiles in about half the time unoptimised: labs
			// start in a second.
			"-p", "cc_command=exec gcc -O0 -fpic -shared -o %o %s"}
	default:
		return "", "", fmt.Errorf("unknown proxy %q", p)
	}
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return "", "", err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = l.stderr
	cmd.Stderr = l.stderr
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return "", "", fmt.Errorf("start %s: %w", p, err)
	}
	l.procs = append(l.procs, cmd)
	done := make(chan struct{})
	l.waited = append(l.waited, done)
	go func() {
		_ = cmd.Wait()
		// Exited first: whoever waits on done (Close) sees it closed too.
		l.exit.Do(func() { close(l.exited) })
		close(done)
	}()
	if err := l.waitListening(ctx, p, addr, done); err != nil {
		return "", "", err
	}
	return addr, conf, nil
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

// waitListening polls a proxy's port until it accepts a connection, the
// process exits (done), ctx ends, or StartTimeout passes.
func (l *Lab) waitListening(ctx context.Context, p Proxy, addr string, done <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("%s exited before listening on %s: %s", p, addr, strings.TrimSpace(l.stderr.String()))
		case <-ctx.Done():
			return fmt.Errorf("%s not listening on %s: %w; its output: %s", p, addr, ctx.Err(), strings.TrimSpace(l.stderr.String()))
		case <-tick.C:
		}
	}
}

// Output returns what the proxy printed so far (its error log).
func (l *Lab) Output() string { return l.stderr.String() }

// Exited is closed when a proxy process has exited.
func (l *Lab) Exited() <-chan struct{} { return l.exited }

// Close stops the proxies by their pid (TERM, then KILL after a few
// seconds), the front first, and the backends. It is safe to call more
// than once.
func (l *Lab) Close() error {
	var errs []error
	l.once.Do(func() {
		for k := len(l.procs) - 1; k >= 0; k-- {
			cmd, done := l.procs[k], l.waited[k]
			if cmd.Process == nil || closed(done) {
				continue
			}
			pid := cmd.Process.Pid
			if err := terminate(pid); err != nil && !closed(done) {
				errs = append(errs, fmt.Errorf("lab: stop %s pid %d: %w", cmd.Path, pid, err))
			}
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				if err := kill(pid); err != nil {
					errs = append(errs, fmt.Errorf("lab: kill %s pid %d: %w", cmd.Path, pid, err))
				}
				<-done
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

// closed reports whether ch is closed.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

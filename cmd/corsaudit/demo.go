package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/diff/report"
	"github.com/corsaudit/corsaudit/internal/labserver"
	"github.com/corsaudit/corsaudit/internal/plural"
)

// demoOptions are the flags of `corsaudit demo`.
type demoOptions struct {
	Format string
}

func newCmdDemo(ios iostreams, runF func(*demoOptions) error) *cobra.Command {
	opts := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Audit a small fleet started in-process on loopback (12 instances, one drifted, one down, an LB that redirects OPTIONS)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runDemo(cmd.Context(), ios, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Format, "format", "o", "table", "report format: "+joinFormats())
	return cmd
}

func joinFormats() string {
	s := ""
	for i, f := range report.Formats() {
		if i > 0 {
			s += ", "
		}
		s += f
	}
	return s
}

// demoFleet is the demo's fleet: instances, a dead one, and a load balancer.
type demoFleet struct {
	servers []*http.Server
	lbURL   string
	config  *Config
}

func (f *demoFleet) Close() {
	for _, s := range f.servers {
		s.Close()
	}
}

// startDemoFleet starts 11 live instances and reserves a port for a 12th
// that refuses connections, behind a load balancer that redirects OPTIONS
// to https (a common misconfigured listener rule) and round-robins the rest
// over the live instances.
func startDemoFleet() (*demoFleet, error) {
	f := &demoFleet{}
	current := labserver.Behavior{
		AllowOrigins:  []string{"https://app.example.com"},
		AllowMethods:  []string{"GET", "POST", "PUT", "DELETE"},
		AllowHeaders:  []string{"Content-Type", "X-Request-Id"},
		ExposeHeaders: []string{"X-Request-Id"},
		Credentials:   true,
		MaxAge:        600,
	}
	older := current
	older.AllowMethods = []string{"GET", "POST"} // before PUT and DELETE were added
	older.AllowHeaders = []string{"Content-Type"}
	older.MaxAge = 60

	serve := func(h http.Handler) (string, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		s := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		f.servers = append(f.servers, s)
		go s.Serve(ln)
		return ln.Addr().String(), nil
	}
	var instances []any
	var live []*url.URL
	for i := 1; i <= 12; i++ {
		id := fmt.Sprintf("web-%02d", i)
		var addr string
		switch i {
		case 12:
			// Down: a port that was just free and now refuses connections.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				f.Close()
				return nil, err
			}
			addr = ln.Addr().String()
			ln.Close()
		default:
			b := current
			if i == 7 {
				b = older
			}
			b.ID = id
			var err error
			if addr, err = serve(labserver.New(b)); err != nil {
				f.Close()
				return nil, err
			}
			live = append(live, &url.URL{Scheme: "http", Host: addr})
		}
		instances = append(instances, map[string]any{"id": id, "addr": addr, "group": "blue"})
	}
	lb := newDemoLB(live, true)
	lbAddr, err := serve(lb)
	if err != nil {
		f.Close()
		return nil, err
	}
	f.lbURL = "http://" + lbAddr + "/v1/cart"
	cfg := DefaultConfig
	cfg.Timeout = 2 * time.Second
	cfg.Deadline = time.Minute
	cfg.Targets = []TargetConfig{{
		Name:     "shop-api",
		URL:      f.lbURL,
		Discover: map[string]map[string]any{"static": {"instances": instances}},
		Direct:   DirectConfig{Scheme: "http"},
		LB:       LBConfig{InstanceHeader: "X-Instance-Id"},
		Policy: PolicyConfig{Origins: []string{"https://app.example.com"}, Methods: []string{"GET", "PUT"},
			Headers: []string{"Content-Type", "X-Request-Id"}, Credentials: true},
	}}
	f.config = &cfg
	return f, nil
}

// newDemoLB is a small load balancer: round-robin over backends, keeping the
// Host header; with redirectOptions it answers every OPTIONS with a 301 to
// https, as a misconfigured http->https listener rule does.
func newDemoLB(backends []*url.URL, redirectOptions bool) http.Handler {
	var next atomic.Uint64
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(backends[next.Add(1)%uint64(len(backends))])
		r.Out.Host = r.In.Host
	}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if redirectOptions && r.Method == http.MethodOptions {
			http.Redirect(w, r, "https://"+r.Host+r.URL.RequestURI(), http.StatusMovedPermanently)
			return
		}
		proxy.ServeHTTP(w, r)
	})
}

func runDemo(ctx context.Context, ios iostreams, opts *demoOptions) error {
	renderer, err := pickRenderer(opts.Format, true)
	if err != nil {
		return err
	}
	fleet, err := startDemoFleet()
	if err != nil {
		return incompleteError(fmt.Errorf("demo: start fleet: %w", err))
	}
	defer fleet.Close()
	built, err := fleet.config.Validate()
	if err != nil {
		return incompleteError(fmt.Errorf("demo: %w", err))
	}
	fmt.Fprintf(ios.errOut, "corsaudit demo: 12 instances on 127.0.0.1 (web-07 runs an older CORS config, web-12 is down) behind a load balancer at %s\n", fleet.lbURL)
	run := &auditRun{cfg: fleet.config, built: built, log: ios.errOut}
	rep, err := run.run(ctx)
	if err != nil && !errors.Is(err, errIncomplete) {
		return err
	}
	if rep == nil {
		return incompleteError(err)
	}
	if err := renderer.Render(ios.out, rep); err != nil {
		return incompleteError(err)
	}
	fmt.Fprint(ios.errOut, demoExplanation(rep))
	if err != nil {
		return incompleteError(err)
	}
	return nil
}

// demoExplanation says in three lines what the demo's findings mean.
func demoExplanation(rep *diff.Report) string {
	return fmt.Sprintf(`
What this shows (%s):
  verdict-drift: web-07 still runs the old CORS config, so PUT and X-Request-Id fail for users who land on it; unreachable: web-12 is down and is left out of every majority.
  lb-redirect: the load balancer answers every OPTIONS preflight with a 301, and browsers reject redirected preflights, so every non-simple request fails through it whatever the instances say.
  Each finding ends with a curl command that reproduces it (direct ones use --connect-to to reach one instance with the public Host).
`, plural.Count(rep.Summary.Findings, "finding"))
}

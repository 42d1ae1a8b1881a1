package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/internal/lab"
	"github.com/corsaudit/corsaudit/internal/syncbuf"
	"github.com/corsaudit/corsaudit/internal/testinfra/promtest"
	"github.com/corsaudit/corsaudit/internal/testinfra/testenv"
)

// liveFleet starts a live fleet of n instances, those where older(i) on
// the older CORS config (verdict drift for PUT).
func liveFleet(t *testing.T, n int, older func(i int) bool) *lab.LiveFleet {
	t.Helper()
	f, err := lab.StartLiveFleet(lab.Fleet(n, older))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// writeServeConfig writes the config that audits f as target "shop" every
// hour (start-up and reloads audit) to path.
func writeServeConfig(t *testing.T, path string, f *lab.LiveFleet) {
	t.Helper()
	c := config.Default()
	c.Timeout, c.Deadline, c.Interval = 2*time.Second, 20*time.Second, time.Hour
	c.Targets = []config.Target{f.Target("shop")}
	data, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// listenAddr waits for the JSON log record saying where serve listens.
func listenAddr(t *testing.T, stderr interface{ String() string }, exited <-chan int) string {
	t.Helper()
	var addr string
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		select {
		case code := <-exited:
			t.Fatalf("serve exited %d:\n%s", code, stderr.String())
		default:
		}
		for line := range strings.Lines(stderr.String()) {
			var rec struct{ Msg, Address string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				addr = strings.TrimPrefix(rec.Address, "http://")
				return true, ""
			}
		}
		return false, "no listening record in:\n" + stderr.String()
	})
	return addr
}

// startServe runs `corsaudit serve args...` in-process on a free loopback
// port; stop ends it as Ctrl-C does and returns its exit code.
func startServe(t *testing.T, args ...string) (base string, stderr *syncbuf.Buffer, stop func() int) {
	t.Helper()
	stderr = &syncbuf.Buffer{Limit: 1 << 20}
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	ios := iostreams{in: strings.NewReader(""), out: io.Discard, errOut: stderr}
	go func() {
		exited <- execute(ctx, ios, append([]string{"serve", "--listen", "127.0.0.1:0", "--log-format", "json"}, args...))
	}()
	code := -1
	stopped := false
	stop = func() int {
		if !stopped {
			stopped = true
			cancel()
			select {
			case code = <-exited:
			case <-time.After(30 * time.Second):
				t.Fatalf("serve did not stop within 30s:\n%s", stderr.String())
			}
		}
		return code
	}
	t.Cleanup(func() { stop() })
	return "http://" + listenAddr(t, stderr, exited), stderr, stop
}

// scrape fetches url's metrics (promtest.Samples).
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s", url, resp.Status)
	}
	return promtest.Samples(t, resp.Body)
}

func statusOf(t *testing.T, method, url string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

const serveDrift = "corsaudit_findings{kind=verdict-drift,severity=error,target=shop}"

func TestServeFlags(t *testing.T) {
	for _, tc := range []struct {
		desc string
		args []string
		want serveOptions
	}{
		{"defaults: loopback", []string{"-c", "c.yaml"}, serveOptions{ConfigFile: "c.yaml", Listen: "127.0.0.1:9877", LogFormat: "text", ProbeConcurrency: 4}},
		{"every flag", []string{"--config", "c.yaml", "--listen", ":9877", "--log-format", "json", "--probe-concurrency", "9", "--interval", "30s"},
			serveOptions{ConfigFile: "c.yaml", Listen: ":9877", LogFormat: "json", ProbeConcurrency: 9}},
	} {
		var got *serveOptions
		cmd := newCmdServe(iostreams{out: io.Discard, errOut: io.Discard}, func(o *serveOptions) error { got = o; return nil })
		cmd.SetArgs(tc.args)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%s: %v", tc.desc, err)
		}
		got.flags = nil
		if *got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.desc, *got, tc.want)
		}
	}
}

// TestServeUsageErrors: what keeps serve from starting is exit 2 with the
// reason, before it listens.
func TestServeUsageErrors(t *testing.T) {
	f := liveFleet(t, 2, nil)
	valid := filepath.Join(t.TempDir(), "c.yaml")
	writeServeConfig(t, valid, f)
	invalid := writeConfig(t, "concurrency: 0\ntargets: []\n")
	for _, tc := range []struct {
		desc string
		args []string
		want string
	}{
		{"no config", []string{"serve"}, "serve: give --config FILE"},
		{"invalid config", []string{"serve", "-c", invalid}, "concurrency: 0 must be at least 1"},
		{"bad log format", []string{"serve", "-c", valid, "--log-format", "xml"}, `--log-format "xml": want text or json`},
		{"bad listen address", []string{"serve", "-c", valid, "--listen", "127.0.0.1:99999"}, "serve: --listen"},
		{"interval without a unit", []string{"serve", "-c", valid, "--interval", "10"}, `"10" has no unit`},
		{"probe concurrency 0", []string{"serve", "-c", valid, "--probe-concurrency", "0"}, "probe concurrency 0 must be at least 1"},
	} {
		code, _, stderr := runCLI(tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", tc.desc, code, stderr, exitUsage, tc.want)
		}
	}
}

// TestServe: the command serves the exporter: a drifted instance shows in
// /metrics with its target, the fleet fixed and the config reloaded it is
// gone, --interval overrides the config's, and Ctrl-C stops it cleanly
// (exit 0).
func TestServe(t *testing.T) {
	f := liveFleet(t, 3, func(i int) bool { return i == 3 })
	path := filepath.Join(t.TempDir(), "corsaudit.yaml")
	writeServeConfig(t, path, f)
	base, stderr, stop := startServe(t, "--config", path, "--interval", "45m")
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		code := statusOf(t, http.MethodGet, base+"/-/ready")
		return code == http.StatusOK, fmt.Sprintf("/-/ready %d", code)
	})
	if got := scrape(t, base+"/metrics")[serveDrift]; got != 1 {
		t.Fatalf("%s = %v, want 1", serveDrift, got)
	}
	if !strings.Contains(stderr.String(), `"interval":"45m0s"`) {
		t.Errorf("--interval 45m did not override the config's:\n%s", stderr.String())
	}
	if err := f.Deploy(lab.Fleet(3, nil)); err != nil {
		t.Fatal(err)
	}
	if code := statusOf(t, http.MethodPost, base+"/-/reload"); code != http.StatusOK {
		t.Fatalf("reload: %d", code)
	}
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		got := scrape(t, base+"/metrics")[serveDrift]
		return got == 0, fmt.Sprintf("%s = %v", serveDrift, got)
	})
	if code := stop(); code != exitClean {
		t.Errorf("exit %d after Ctrl-C, want 0:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), `"msg":"shutting down"`) {
		t.Errorf("no shutdown record:\n%s", stderr.String())
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/internal/lab"
	"github.com/corsaudit/corsaudit/internal/syncbuf"
	"github.com/corsaudit/corsaudit/internal/testinfra/testenv"
)

// freeLoopbackPort is a 127.0.0.1 port that was free a moment ago.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startPrometheus runs a real Prometheus on loopback with config (and the
// example alert rules beside it), storing into a temporary directory; it
// returns the base URL once Prometheus is ready.
func startPrometheus(t *testing.T, config string) string {
	t.Helper()
	bin := testenv.LookTool(t, "TestServeWithPrometheus scrapes corsaudit serve with a real Prometheus (Debian: apt-get install prometheus)", "prometheus")
	dir := t.TempDir()
	rules, err := os.ReadFile("../../examples/prometheus/corsaudit-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"prometheus.yml": config, "corsaudit-rules.yml": string(rules)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freeLoopbackPort(t))
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr,
		"--log.level=warn")
	out := &syncbuf.Buffer{Limit: 64 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	base := "http://" + addr
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		select {
		case <-exited:
			t.Fatalf("prometheus exited:\n%s", out.String())
		default:
		}
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, "prometheus /-/ready: " + resp.Status + "\n" + out.String()
	})
	return base
}

// promQuery is the value of query's one sample in Prometheus at base
// ("" when there is none, or several).
func promQuery(t *testing.T, base, query string) string {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string
		Data   struct {
			Result []struct {
				Value [2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Status != "success" {
		t.Fatalf("query %s: status %q, %v", query, body.Status, err)
	}
	if len(body.Data.Result) != 1 {
		return ""
	}
	v, _ := body.Data.Result[0].Value[1].(string)
	return v
}

// TestServeWithPrometheus: a real Prometheus scrapes `corsaudit serve` in
// front of a loopback fleet with one drifted instance, both ways (/metrics,
// and /probe through the relabelling of examples/prometheus): the drift
// reaches Prometheus as corsaudit_findings{kind="verdict-drift"} 1; the
// fleet fixed and the config reloaded, it goes to 0.
func TestServeWithPrometheus(t *testing.T) {
	f := liveFleet(t, 3, func(i int) bool { return i == 3 })
	path := filepath.Join(t.TempDir(), "corsaudit.yaml")
	writeServeConfig(t, path, f)
	exporter, _, _ := startServe(t, "--config", path)
	addr := strings.TrimPrefix(exporter, "http://")
	prom := startPrometheus(t, `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [corsaudit-rules.yml]
scrape_configs:
  - job_name: corsaudit
    static_configs:
      - targets: [`+addr+`]
  - job_name: corsaudit-probe
    metrics_path: /probe
    scrape_interval: 2s
    scrape_timeout: 2s
    static_configs:
      - targets: [shop]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: `+addr+`
`)
	const (
		scheduled = `corsaudit_findings{job="corsaudit",target="shop",kind="verdict-drift"}`
		probed    = `corsaudit_findings{job="corsaudit-probe",instance="shop",target="shop",kind="verdict-drift"}`
	)
	testenv.Eventually(t, 60*time.Second, func() (bool, string) {
		s, p := promQuery(t, prom, scheduled), promQuery(t, prom, probed)
		return s == "1" && p == "1", fmt.Sprintf("Prometheus has %s = %q, %s = %q; want 1", scheduled, s, probed, p)
	})
	if got := promQuery(t, prom, `corsaudit_up{job="corsaudit",target="shop"}`); got != "1" {
		t.Errorf("corsaudit_up = %q, want 1", got)
	}

	if err := f.Deploy(lab.Fleet(3, nil)); err != nil {
		t.Fatal(err)
	}
	if code := statusOf(t, http.MethodPost, exporter+"/-/reload"); code != http.StatusOK {
		t.Fatalf("reload: %d", code)
	}
	testenv.Eventually(t, 60*time.Second, func() (bool, string) {
		s := promQuery(t, prom, scheduled)
		return s == "0", fmt.Sprintf("Prometheus has %s = %q; want 0", scheduled, s)
	})
}

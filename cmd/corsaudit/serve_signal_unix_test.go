//go:build unix

package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/internal/lab"
	"github.com/corsaudit/corsaudit/internal/syncbuf"
	"github.com/corsaudit/corsaudit/internal/testinfra/testenv"
)

// TestServeSignals runs `corsaudit serve` as its own process: SIGHUP with
// an invalid config keeps the running one (and says so in the metric and
// the log), SIGHUP with a valid one applies it (the fixed fleet audited
// again), SIGTERM stops it with exit 0.
func TestServeSignals(t *testing.T) {
	f := liveFleet(t, 3, func(i int) bool { return i == 2 })
	path := filepath.Join(t.TempDir(), "corsaudit.yaml")
	writeServeConfig(t, path, f)
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainProcess$")
	cmd.Env = append(os.Environ(), "CORSAUDIT_TEST_MAIN=1",
		"CORSAUDIT_TEST_ARGS=serve --config "+path+" --listen 127.0.0.1:0 --log-format json")
	stderr := &syncbuf.Buffer{Limit: 1 << 20}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan int, 1)
	go func() {
		cmd.Wait()
		exited <- cmd.ProcessState.ExitCode()
	}()
	stopped := false
	t.Cleanup(func() {
		if stopped {
			return
		}
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	base := "http://" + listenAddr(t, stderr, exited)
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		code := statusOf(t, http.MethodGet, base+"/-/ready")
		return code == http.StatusOK, fmt.Sprintf("/-/ready %d", code)
	})
	if got := scrape(t, base+"/metrics")[serveDrift]; got != 1 {
		t.Fatalf("%s = %v, want 1", serveDrift, got)
	}

	if err := os.WriteFile(path, []byte("concurrency: 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, func() (bool, string) {
		m := scrape(t, base+"/metrics")
		// The metric and the log line are written one after the other:
		// wait for both.
		logged := strings.Contains(stderr.String(), "config reload refused")
		return m["corsaudit_config_last_reload_successful"] == 0 && m[serveDrift] == 1 && logged,
			fmt.Sprintf("reload successful %v, %s %v, refusal logged %v", m["corsaudit_config_last_reload_successful"], serveDrift, m[serveDrift], logged)
	})

	if err := f.Deploy(lab.Fleet(3, nil)); err != nil {
		t.Fatal(err)
	}
	writeServeConfig(t, path, f)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		m := scrape(t, base+"/metrics")
		return m["corsaudit_config_last_reload_successful"] == 1 && m[serveDrift] == 0,
			fmt.Sprintf("reload successful %v, %s %v", m["corsaudit_config_last_reload_successful"], serveDrift, m[serveDrift])
	})

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exited:
		stopped = true
		if code != exitClean {
			t.Errorf("exit %d after SIGTERM, want 0:\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not stop within 15s of SIGTERM:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), `"msg":"shutting down"`) {
		t.Errorf("no shutdown record:\n%s", stderr.String())
	}
}

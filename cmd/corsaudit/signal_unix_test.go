//go:build unix

package main

import (
	"bufio"
	"errors"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/internal/syncbuf"
	"github.com/corsaudit/corsaudit/internal/testinfra/testenv"
)

// TestMainProcess is not a test: TestLabStopsOnSignal runs the test binary
// again with CORSAUDIT_TEST_MAIN set, and this runs main's run() with the
// arguments in CORSAUDIT_TEST_ARGS, as the corsaudit binary would.
func TestMainProcess(t *testing.T) {
	if os.Getenv("CORSAUDIT_TEST_MAIN") != "1" {
		t.Skip("helper process for TestLabStopsOnSignal")
	}
	os.Args = append([]string{"corsaudit"}, strings.Fields(os.Getenv("CORSAUDIT_TEST_ARGS"))...)
	os.Exit(run())
}

// TestLabStopsOnSignal runs `corsaudit lab` as its own process and sends
// it SIGHUP (the terminal closing), SIGTERM or SIGINT: each time nginx
// stops listening and the lab's temporary directory is removed.
func TestLabStopsOnSignal(t *testing.T) {
	testenv.LookTool(t, "nginx lab", "nginx")
	for _, tc := range []struct {
		desc string
		sig  syscall.Signal
	}{
		{"SIGHUP", syscall.SIGHUP},
		{"SIGTERM", syscall.SIGTERM},
		{"SIGINT", syscall.SIGINT},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			tmp := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestMainProcess$")
			cmd.Env = append(os.Environ(), "CORSAUDIT_TEST_MAIN=1", "CORSAUDIT_TEST_ARGS=lab --scenario nginx-clean", "TMPDIR="+tmp)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr syncbuf.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			stopped := false // set once the body has received from exited
			t.Cleanup(func() {
				// On failure, stop the lab as a user would, so that nginx
				// is not left behind; kill it only if that does not work.
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

			// The printed config names the load balancer's URL and ends
			// with the policy's credentials line.
			lbURL := make(chan string, 1)
			go func() {
				sc := bufio.NewScanner(stdout)
				first := ""
				for sc.Scan() {
					line := strings.TrimSpace(sc.Text())
					if u, ok := strings.CutPrefix(line, "url: "); ok && first == "" {
						first = strings.Trim(u, `"`)
					}
					if line == "credentials: true" {
						lbURL <- first
						break
					}
				}
				close(lbURL)
			}()
			var raw string
			select {
			case raw = <-lbURL:
			case <-time.After(30 * time.Second):
				t.Fatalf("no config within 30s; stderr %q", stderr.String())
			}
			u, err := url.Parse(raw)
			if err != nil || u.Host == "" {
				t.Fatalf("config URL %q: %v; stderr %q", raw, err, stderr.String())
			}
			if conn, err := net.DialTimeout("tcp", u.Host, 2*time.Second); err != nil {
				t.Fatalf("lab LB %s does not accept connections: %v", u.Host, err)
			} else {
				conn.Close()
			}

			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				stopped = true
				var ee *exec.ExitError
				if err != nil && !errors.As(err, &ee) {
					t.Fatal(err)
				}
				if code := cmd.ProcessState.ExitCode(); code != exitClean {
					t.Errorf("exit code %d after %s, want %d; stderr %q", code, tc.desc, exitClean, stderr.String())
				}
			case <-time.After(15 * time.Second):
				t.Fatalf("lab did not stop within 15s of %s; stderr %q", tc.desc, stderr.String())
			}
			if conn, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
				conn.Close()
				t.Errorf("%s still accepts connections after %s: nginx left running", u.Host, tc.desc)
			}
			left, _ := filepath.Glob(filepath.Join(tmp, "corsaudit-lab-*"))
			if len(left) > 0 {
				t.Errorf("lab files left after %s: %v", tc.desc, left)
			}
		})
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/internal/syncbuf"
	"github.com/corsaudit/corsaudit/internal/testinfra/testenv"
)

func TestLabFlags(t *testing.T) {
	tests := []struct {
		desc string
		args []string
		want labOptions
	}{
		{desc: "defaults", args: nil, want: labOptions{Scenario: defaultLabScenario}},
		{desc: "every flag", args: []string{"--scenario", "haproxy-clean", "--dir", "/tmp/x", "--list"},
			want: labOptions{Scenario: "haproxy-clean", Dir: "/tmp/x", List: true}},
		{desc: "short scenario", args: []string{"-s", "nginx-cache-leak"}, want: labOptions{Scenario: "nginx-cache-leak"}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			var got *labOptions
			cmd := newCmdLab(iostreams{out: &bytes.Buffer{}, errOut: &bytes.Buffer{}}, func(o *labOptions) error {
				got = o
				return nil
			})
			cmd.SetArgs(tt.args)
			if err := cmd.Execute(); err != nil {
				t.Fatalf("execute: %v", err)
			}
			if got == nil {
				t.Fatal("runF was not called")
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("options:\n got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestLabWithoutProxy(t *testing.T) {
	runCLICases(t, []cliCase{
		{desc: "unknown scenario", args: []string{"lab", "--scenario", "nope"}, wantCode: exitUsage,
			wantErr: `corsaudit: lab: unknown scenario "nope" (known: haproxy-answers-options`},
		{desc: "stray argument", args: []string{"lab", "nginx-clean"}, wantCode: exitUsage, wantErr: "unknown command"},
		{desc: "list", args: []string{"lab", "--list"}, wantCode: exitClean,
			wantOut: []string{"nginx-cache-leak ", "haproxy-redirect-options ", "(shows: lb-redirect)", "nginx-clean ", "(shows: no finding)"}},
	})
}

// cliCase is one command line run in-process: its exit code, what stdout
// must (wantOut) and must not (wantNotOut) contain, and what stderr must.
type cliCase struct {
	desc       string
	args       []string
	wantCode   int
	wantOut    []string
	wantNotOut []string
	wantErr    string
}

func runCLICases(t *testing.T, tests []cliCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := execute(context.Background(), iostreams{out: &out, errOut: &errOut}, tt.args)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.wantCode, errOut.String())
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tt.wantNotOut {
				if strings.Contains(out.String(), w) {
					t.Errorf("stdout has %q:\n%s", w, out.String())
				}
			}
			if !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", errOut.String(), tt.wantErr)
			}
		})
	}
}

// TestLabRun starts `corsaudit lab` with nginx, checks that the printed
// config is a valid corsaudit config whose URL reaches the instances, then
// stops it the way Ctrl-C does.
func TestLabRun(t *testing.T) {
	testenv.LookTool(t, "nginx lab", "nginx")
	dir := t.TempDir()
	outR, outW := io.Pipe()
	var errOut syncbuf.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- execute(ctx, iostreams{out: outW, errOut: &errOut}, []string{"lab", "--scenario", "nginx-clean", "--dir", dir})
		outW.Close()
	}()

	// The config ends with the policy's credentials line.
	var cfg strings.Builder
	lines := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			cfg.WriteString(sc.Text() + "\n")
			if strings.TrimSpace(sc.Text()) == "credentials: true" {
				lines <- nil
				io.Copy(io.Discard, outR)
				return
			}
		}
		lines <- io.ErrUnexpectedEOF
	}()
	select {
	case err := <-lines:
		if err != nil {
			t.Fatalf("lab ended before printing a config (exit %d?): %q", <-done, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no config within 30s; stderr %q", errOut.String())
	}

	path := filepath.Join(dir, "lab.yaml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := loadSettings(path, nil)
	if err != nil {
		t.Fatalf("printed config does not load: %v\n%s", err, cfg.String())
	}
	if _, err := c.Build(); err != nil {
		t.Fatalf("printed config is invalid: %v\n%s", err, cfg.String())
	}
	if len(c.Targets) != 1 || c.Targets[0].Name != "nginx-clean" {
		t.Fatalf("targets = %+v, want one named nginx-clean", c.Targets)
	}
	lbURL := c.Targets[0].URL
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(lbURL)
	if err != nil {
		t.Fatalf("GET %s: %v", lbURL, err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Instance-Id") == "" {
		t.Errorf("GET via the lab LB: %d, instance %q; want 200 from an instance", resp.StatusCode, resp.Header.Get("X-Instance-Id"))
	}
	if !strings.Contains(errOut.String(), "Ctrl-C stops") {
		t.Errorf("stderr %q lacks the hint", errOut.String())
	}

	cancel()
	select {
	case code := <-done:
		if code != exitClean {
			t.Errorf("exit code after Ctrl-C %d, want 0; stderr %q", code, errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("lab did not stop within 15s of Ctrl-C")
	}
	u, err := url.Parse(lbURL)
	if err != nil {
		t.Fatal(err)
	}
	if conn, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after the lab stopped", u.Host)
	}
}

// Package cron holds ready configs for scheduled audits: a Kubernetes
// CronJob pushing metrics to a Pushgateway, and a systemd service and
// timer writing to the node_exporter textfile collector. The tests check
// their syntax and that they call corsaudit the way it expects.
package cron

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/corsaudit/corsaudit/diff/render"
)

func TestKubernetesCronJob(t *testing.T) {
	b, err := os.ReadFile("kubernetes-cronjob.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type container struct {
		Name    string   `yaml:"name"`
		Image   string   `yaml:"image"`
		Command []string `yaml:"command"`
		Args    []string `yaml:"args"`
	}
	type doc struct {
		APIVersion string            `yaml:"apiVersion"`
		Kind       string            `yaml:"kind"`
		Data       map[string]string `yaml:"data"`
		Spec       struct {
			Schedule          string `yaml:"schedule"`
			ConcurrencyPolicy string `yaml:"concurrencyPolicy"`
			JobTemplate       struct {
				Spec struct {
					Template struct {
						Spec struct {
							RestartPolicy  string      `yaml:"restartPolicy"`
							InitContainers []container `yaml:"initContainers"`
							Containers     []container `yaml:"containers"`
						} `yaml:"spec"`
					} `yaml:"template"`
				} `yaml:"spec"`
			} `yaml:"jobTemplate"`
		} `yaml:"spec"`
	}
	var docs []doc
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var d doc
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("YAML does not parse: %v", err)
		}
		docs = append(docs, d)
	}
	if len(docs) != 2 || docs[0].Kind != "ConfigMap" || docs[1].Kind != "CronJob" || docs[1].APIVersion != "batch/v1" {
		t.Fatalf("want a ConfigMap and a batch/v1 CronJob, got %+v", docs)
	}
	cfg := docs[0].Data["corsaudit.yaml"]
	var parsed struct {
		Targets []map[string]any `yaml:"targets"`
	}
	if err := yaml.Unmarshal([]byte(cfg), &parsed); err != nil || len(parsed.Targets) == 0 {
		t.Errorf("the ConfigMap's corsaudit.yaml does not parse or has no targets: %v", err)
	}
	cj := docs[1].Spec
	if f := strings.Fields(cj.Schedule); len(f) != 5 {
		t.Errorf("schedule %q is not a 5-field cron expression", cj.Schedule)
	}
	if cj.ConcurrencyPolicy != "Forbid" {
		t.Errorf("concurrencyPolicy %q: overlapping audits double the load on every instance", cj.ConcurrencyPolicy)
	}
	pod := cj.JobTemplate.Spec.Template.Spec
	if pod.RestartPolicy != "Never" || len(pod.InitContainers) != 1 || len(pod.Containers) != 1 {
		t.Fatalf("pod: restartPolicy %q, %d init containers, %d containers", pod.RestartPolicy, len(pod.InitContainers), len(pod.Containers))
	}
	// The plain image (no shell): args go straight to corsaudit. Pinned to
	// a release (examples/ci TestPinnedVersions keeps every pin on one).
	if img := pod.InitContainers[0].Image; !regexp.MustCompile(`^ghcr\.io/corsaudit/corsaudit:v\d+\.\d+\.\d+$`).MatchString(img) ||
		len(pod.InitContainers[0].Command) != 0 {
		t.Errorf("audit container: image %q, command %q; want ghcr.io/corsaudit/corsaudit:vX.Y.Z and its entrypoint", img, pod.InitContainers[0].Command)
	}
	audit := pod.InitContainers[0].Args
	checkCommandLine(t, append([]string{"corsaudit"}, audit...))
	for _, want := range []string{"--metrics-file=/out/corsaudit.prom", "--fail-on=never"} {
		if !slices.Contains(audit, want) {
			t.Errorf("audit args %v lack %s", audit, want)
		}
	}
	push := pod.Containers[0]
	if len(push.Args) != 1 || !strings.Contains(push.Args[0], "/out/corsaudit.prom") {
		t.Fatalf("push container does not push the metrics file: %+v", push)
	}
	shellSyntax(t, push.Args[0])
}

func TestSystemdUnits(t *testing.T) {
	for _, tc := range []struct {
		desc, file string
		want       []string
	}{
		{"service", "corsaudit.service", []string{"Type=oneshot", "SuccessExitStatus=1", "--metrics-file /var/lib/node_exporter/textfile_collector/corsaudit.prom"}},
		{"timer", "corsaudit.timer", []string{"OnCalendar=", "Persistent=true", "Unit=corsaudit.service", "WantedBy=timers.target"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			b, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("%s lacks %q", tc.file, w)
				}
			}
			for _, line := range strings.Split(string(b), "\n") {
				if cmd, ok := strings.CutPrefix(line, "ExecStart="); ok {
					checkCommandLine(t, strings.Fields(cmd))
				}
			}
		})
	}
}

// TestSystemdAnalyzeVerify runs systemd-analyze verify on both units, with
// ExecStart pointing at a stand-in binary (verify checks it exists). Any
// warning (an unknown key, a bad value) fails the test.
func TestSystemdAnalyzeVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: a syntax check only, skipped")
	}
	dir := t.TempDir()
	stub := filepath.Join(dir, "corsaudit")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var units []string
	for _, f := range []string{"corsaudit.service", "corsaudit.timer"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(b, []byte("/usr/local/bin/corsaudit"), []byte(stub))
		p := filepath.Join(dir, f)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		units = append(units, p)
	}
	cmd := exec.Command(sa, append([]string{"verify", "--man=no"}, units...)...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	err = cmd.Run()
	if err != nil || strings.TrimSpace(stderr.String()) != "" {
		t.Errorf("systemd-analyze verify: %v\n%s", err, stderr.String())
	}
}

// checkCommandLine checks a corsaudit command line: a known subcommand and
// report formats that exist.
func checkCommandLine(t *testing.T, args []string) {
	t.Helper()
	if len(args) < 2 || filepath.Base(args[0]) != "corsaudit" {
		t.Fatalf("not a corsaudit command line: %q", args)
	}
	if !slices.Contains([]string{"audit", "gate", "merge"}, args[1]) {
		t.Errorf("unexpected subcommand %q", args[1])
	}
	for i, a := range args {
		format, ok := strings.CutPrefix(a, "--format=")
		if !ok && a == "--format" && i+1 < len(args) {
			format, ok = args[i+1], true
		}
		if ok {
			if _, err := render.Lookup(format); err != nil {
				t.Errorf("command line %q: %v", args, err)
			}
		}
	}
}

// shellSyntax checks a shell script with sh -n.
func shellSyntax(t *testing.T, script string) {
	t.Helper()
	cmd := exec.Command("sh", "-n")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sh -n: %v\n%s\n%s", err, out, script)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/corsaudit/corsaudit/internal/lab"
	"github.com/corsaudit/corsaudit/internal/testinfra/testenv"
)

// TestLabFindings audits every lab scenario behind the real nginx, haproxy
// or varnish (or varnish in front of haproxy) with `corsaudit audit
// --config` and asserts the exact finding kinds: each pitfall yields its
// finding, the clean scenarios (and the caches keyed on what the answers
// depend on) none; with varnish in front of haproxy, the finding names the
// layer that does it. Scenarios run two at a time: varnish compiles its VCL
// at start.
func TestLabFindings(t *testing.T) {
	for _, sc := range lab.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			for _, tool := range sc.Tools() {
				testenv.LookTool(t, sc.Name+" lab", tool)
			}
			if sc.Proxy == lab.Varnish || sc.Front != nil {
				t.Parallel()
			}
			ctx, cancel := context.WithTimeout(context.Background(), lab.StartTimeout)
			defer cancel()
			dir := t.TempDir()
			l, err := lab.Start(ctx, sc, dir)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := l.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			}()
			path := filepath.Join(dir, "corsaudit.yaml")
			cfg, err := l.ConfigYAML()
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, cfg, 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			code := execute(context.Background(), iostreams{out: &out, errOut: &errOut},
				[]string{"audit", "--config", path, "--format", "json", "--fail-on", "never"})
			if code != exitClean {
				t.Fatalf("audit exit code %d, want 0 with --fail-on never; stderr:\n%s", code, errOut.String())
			}
			var rep struct {
				Findings []struct {
					Kind      string   `json:"kind"`
					Severity  string   `json:"severity"`
					Message   string   `json:"message"`
					Instances []string `json:"instances"`
					Front     string   `json:"front"`
					Explains  []string `json:"explains"`
				} `json:"findings"`
			}
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("audit output is not JSON: %v\n%s", err, out.String())
			}
			kinds := map[string]bool{}
			var explains []string
			for _, f := range rep.Findings {
				kinds[f.Kind] = true
				if len(f.Explains) > 1 {
					explains = append(explains, f.Explains...)
				}
			}
			sort.Strings(explains)
			if !reflect.DeepEqual(explains, sc.Explains) {
				t.Errorf("the findings explain %q, want %q\n%s", explains, sc.Explains, out.String())
			}
			got := []string{}
			for k := range kinds {
				got = append(got, k)
			}
			sort.Strings(got)
			want := append([]string{}, sc.Findings...)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("finding kinds %q, want %q\n%s", got, want, out.String())
			}
			// One finding per cause: each scenario is built with one
			// fault, so each kind it shows is one finding.
			if len(rep.Findings) != len(want) {
				var all []string
				for _, f := range rep.Findings {
					all = append(all, f.Kind+" "+strings.Join(f.Instances, ",")+": "+f.Message)
				}
				t.Errorf("%d findings %q, want one per kind %q", len(rep.Findings), all, want)
			}
			for _, f := range rep.Findings {
				if sc.Blames != "" && f.Front != sc.Blames {
					t.Errorf("%s names front %q, want %q: %s", f.Kind, f.Front, sc.Blames, f.Message)
				}
			}
			for _, in := range l.Instances {
				st := in.Server.Stats()
				if st.Cookies != 0 || st.Authorization != 0 || st.Unsafe != 0 {
					t.Errorf("%s received %d cookies, %d Authorization headers, %d unsafe requests from the audit; want none",
						in.ID, st.Cookies, st.Authorization, st.Unsafe)
				}
				if st.Preflights == 0 {
					t.Errorf("%s received no preflight: the audit did not probe it directly", in.ID)
				}
			}
		})
	}
}

// TestVarnishStripVaryExitCode is the defect of issue 24 on real varnish:
// varnish passes every preflight to consistent instances and only drops
// Vary. Every verdict through it is the instances'; the audit says what
// varnish changes (a warning, exit 0 under the default --fail-on), never
// that it answers preflights itself, with or without the instance header;
// with varnish in front of haproxy, it names varnish.
func TestVarnishStripVaryExitCode(t *testing.T) {
	for _, tc := range []struct {
		desc, scenario string
		instanceHeader bool
		wantFront      string
	}{
		{desc: "varnish alone, instance header", scenario: "varnish-strip-vary", instanceHeader: true},
		{desc: "varnish alone, no instance header", scenario: "varnish-strip-vary"},
		{desc: "varnish in front of haproxy, no instance header", scenario: "varnish-haproxy-strip-vary", wantFront: "varnish"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			t.Parallel()
			sc, err := lab.Lookup(tc.scenario)
			if err != nil {
				t.Fatal(err)
			}
			for _, tool := range sc.Tools() {
				testenv.LookTool(t, sc.Name+" lab", tool)
			}
			ctx, cancel := context.WithTimeout(context.Background(), lab.StartTimeout)
			defer cancel()
			dir := t.TempDir()
			l, err := lab.Start(ctx, sc, dir)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			cfg := l.Config()
			if !tc.instanceHeader {
				cfg.Targets[0].LB.InstanceHeader = ""
			}
			path := filepath.Join(dir, "corsaudit.yaml")
			data, err := yaml.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			rep, code, stderr := runJSON(t, "audit", "--config", path, "--format", "json")
			if code != exitClean {
				t.Errorf("exit code %d, want %d under the default --fail-on\n%s", code, exitClean, stderr)
			}
			var changes int
			for _, f := range rep.Findings {
				switch {
				case f.Kind == "lb-answers-options":
					t.Errorf("lb-answers-options: %s", f.Message)
				case f.Kind == "lb-changes-headers":
					changes++
					if f.Severity != "warning" || !strings.Contains(f.Message, "it omits Origin from Vary") || f.Front != tc.wantFront {
						t.Errorf("lb-changes-headers %s front %q: %s; want a warning naming the dropped Vary, front %q", f.Severity, f.Front, f.Message, tc.wantFront)
					}
				default:
					t.Errorf("unexpected %s %s: %s", f.Severity, f.Kind, f.Message)
				}
			}
			if changes != 1 {
				t.Errorf("%d lb-changes-headers findings, want 1", changes)
			}
		})
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// blueGreenConfig starts 3 blue instances on the current config and 3 green
// ones, greenDrift of which run the older config, and returns a config file.
func blueGreenConfig(t *testing.T, greenDrift int) string {
	f := newFleet(t)
	var b strings.Builder
	b.WriteString("checks: [drift]\ntargets:\n  - name: shop-api\n    url: http://api.example.com/v1/cart\n    discover:\n      static:\n        instances:\n")
	for i := 1; i <= 3; i++ {
		id := fmt.Sprintf("blue-%d", i)
		fmt.Fprintf(&b, "          - {id: %s, addr: %s, group: blue}\n", id, f.start(id, currentCORS))
	}
	for i := 1; i <= 3; i++ {
		id := fmt.Sprintf("green-%d", i)
		beh := currentCORS
		if i <= greenDrift {
			beh = olderCORS
		}
		fmt.Fprintf(&b, "          - {id: %s, addr: %s, group: green}\n", id, f.start(id, beh))
	}
	b.WriteString("    direct: {scheme: http}\n    lb: {disabled: true}" + testPolicyYAML + "\n")
	path := writeConfig(t, b.String())
	return path
}

func TestGate(t *testing.T) {
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("origins: [https://app.example.com]\nmethods: [GET, PUT]\nheaders: [X-Request-Id]\ncredentials: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		desc       string
		greenDrift int
		args       []string
		wantCode   int
		wantOut    []string
		wantNotOut []string
	}{
		{desc: "green matches blue", greenDrift: 0, args: []string{"--baseline", "blue", "--candidate", "green"},
			wantCode: exitClean, wantOut: []string{"gate: PASS: candidate group green matches the baseline group blue"}},
		{desc: "one green instance drifts", greenDrift: 1, args: []string{"--baseline", "blue", "--candidate", "green"},
			wantCode: exitFindings, wantOut: []string{"gate: FAIL: candidate group green differs from the baseline group blue",
				"shop-api: green-1 decides 3 requests differently:", "\n      PUT /v1/cart from https://app.example.com\n",
				"reference (first request): allowed", "candidate (first request): blocked (header-not-allowed)", "--connect-to"},
			wantNotOut: []string{"green-2", "blue-1:"}},
		{desc: "green drifts from the policy", greenDrift: 2, args: []string{"--policy", policy, "--candidate", "green"},
			wantCode: exitFindings, wantOut: []string{"gate: FAIL: candidate group green differs from the policy", "green-1, green-2"}},
		{desc: "green matches the policy", greenDrift: 0, args: []string{"--policy", policy, "--candidate", "green"},
			wantCode: exitClean, wantOut: []string{"gate: PASS"}},
		{desc: "too few candidate instances", greenDrift: 0, args: []string{"--baseline", "blue", "--candidate", "green", "--min-instances", "4"},
			wantCode: exitFindings, wantOut: []string{`candidate group "green" has 3 reachable instances, fewer than --min-instances 4`}},
		{desc: "neither baseline nor policy", greenDrift: 0, args: []string{"--candidate", "green"}, wantCode: exitUsage},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			cfg := blueGreenConfig(t, tc.greenDrift)
			code, out, errOut := runCLI(append([]string{"gate", "--config", cfg, "--format", "json"}, tc.args...)...)
			if code != tc.wantCode {
				t.Errorf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, out, errOut)
			}
			if tc.wantCode != exitUsage && !json.Valid([]byte(out)) {
				t.Errorf("stdout is not the JSON report:\n%.500s", out)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			gate := errOut[max(0, strings.Index(errOut, "\ngate: ")):]
			for _, w := range tc.wantNotOut {
				if strings.Contains(gate, w) {
					t.Errorf("gate verdict mentions %q:\n%s", w, gate)
				}
			}
		})
	}
}

func TestAuditFlags(t *testing.T) {
	var got *auditOptions
	cmd := newCmdAudit(iostreams{out: &bytes.Buffer{}, errOut: &bytes.Buffer{}}, func(o *auditOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"https://api.example.com/x", "--instance", "web-1=127.0.0.1:1", "--instance", "127.0.0.1:2",
		"--origin", "https://app.example.com", "--method", "put", "--header", "X-Request-Id", "--credentials",
		"--format", "json", "--output", "r.json", "--timeout", "3s", "--no-lb"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.URL != "https://api.example.com/x" || len(got.Instances) != 2 || got.Origins[0] != "https://app.example.com" ||
		got.Methods[0] != "put" || !got.Credentials || got.Format != "json" || got.Output != "r.json" || !got.NoLB {
		t.Errorf("options = %+v", got)
	}
	if v, _ := got.flags.GetDuration("timeout"); v.String() != "3s" {
		t.Errorf("--timeout = %v", v)
	}
}

// TestAuditCommandLineTarget runs an audit without a config file.
func TestAuditCommandLineTarget(t *testing.T) {
	f := newFleet(t)
	a := f.start("a", currentCORS)
	b := f.start("b", currentCORS)
	c := f.start("c", olderCORS)
	code, out, errOut := runCLI("audit", "http://api.example.com/v1/cart", "--instance", "a="+a, "--instance", "b="+b, "--instance", "c="+c,
		"--origin", "https://app.example.com", "--method", "GET", "--method", "PUT", "--credentials", "--no-lb",
		"--checks", "drift", "--format", "table")
	if code != exitFindings {
		t.Errorf("exit code = %d, want 1\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "verdict-drift") || !strings.Contains(out, "c ") {
		t.Errorf("table lacks the drift of c:\n%s", out)
	}
	if code, _, errOut := runCLI("audit", "http://api.example.com/", "--origin", "app.example.com", "--instance", a); code != exitUsage ||
		!strings.Contains(errOut, `--origin: "app.example.com" has no scheme`) {
		t.Errorf("bad origin: exit %d, stderr %q", code, errOut)
	}
}

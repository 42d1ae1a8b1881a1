package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/internal/lab/labserver"
	"github.com/corsaudit/corsaudit/internal/testinfra/faultnet"
)

// gateTarget is one target of a gate config: instances by group, each
// with its behaviour, or refusing connections when down.
type gateTarget struct {
	name      string
	instances []gateInstance
}

type gateInstance struct {
	group string
	beh   labserver.Behavior
	down  bool
}

func gateConfig(t *testing.T, targets ...gateTarget) string {
	f := newFleet(t)
	var b strings.Builder
	b.WriteString("checks: [drift]\ntargets:\n")
	for _, tg := range targets {
		fmt.Fprintf(&b, "  - name: %s\n    url: http://%s.example.com/\n    discover:\n      static:\n        instances:\n", tg.name, tg.name)
		for i, in := range tg.instances {
			id := fmt.Sprintf("%s-%s-%d", tg.name, in.group, i)
			addr := faultnet.RefusedAddr(t)
			if !in.down {
				addr = f.start(id, in.beh)
			}
			fmt.Fprintf(&b, "          - {id: %s, addr: %s, group: %s}\n", id, addr, in.group)
		}
		b.WriteString("    direct: {scheme: http}\n    lb: {disabled: true}" + testPolicyYAML + "\n")
	}
	return writeConfig(t, b.String())
}

func group(name string, n int, beh labserver.Behavior, down bool) []gateInstance {
	out := make([]gateInstance, n)
	for i := range out {
		out[i] = gateInstance{group: name, beh: beh, down: down}
	}
	return out
}

// TestGateGroups: a group no instance has is a usage error listing the
// groups that exist; a baseline that is down or split fails the gate; on
// several targets, --target selects, a target with neither group is
// skipped with a note, and one with only one of them is a usage error.
func TestGateGroups(t *testing.T) {
	blueGreen := func(name string) gateTarget {
		return gateTarget{name, append(group("blue", 3, currentCORS, false), group("green", 2, currentCORS, false)...)}
	}
	blueOnly := gateTarget{"admin", group("blue", 2, currentCORS, false)}
	neither := gateTarget{"static", group("red", 2, currentCORS, false)}
	for _, tc := range []struct {
		desc     string
		targets  []gateTarget
		args     []string
		wantCode int
		wantErr  []string
	}{
		{desc: "baseline group misspelt", targets: []gateTarget{blueGreen("shop")},
			args: []string{"--baseline", "bleu", "--candidate", "green"}, wantCode: exitUsage,
			wantErr: []string{`gate: target shop has no "bleu" group (groups: blue, green)`}},
		{desc: "candidate group misspelt", targets: []gateTarget{blueGreen("shop")},
			args: []string{"--baseline", "blue", "--candidate", "gren"}, wantCode: exitUsage,
			wantErr: []string{`gate: target shop has no "gren" group (groups: blue, green)`}},
		{desc: "baseline all down", targets: []gateTarget{{"shop", append(group("blue", 2, currentCORS, true), group("green", 2, currentCORS, false)...)}},
			args: []string{"--baseline", "blue", "--candidate", "green"}, wantCode: exitFindings,
			wantErr: []string{`shop: baseline group "blue" has no reachable instance: nothing to compare with`, "gate: FAIL"}},
		{desc: "baseline without a majority", targets: []gateTarget{{"shop", append(append(group("blue", 2, currentCORS, false),
			group("blue", 2, olderCORS, false)...), group("green", 2, currentCORS, false)...)}},
			args: []string{"--baseline", "blue", "--candidate", "green"}, wantCode: exitFindings,
			wantErr: []string{"the baseline group has no majority", "gate: FAIL"}},
		{desc: "a target with neither group is skipped", targets: []gateTarget{blueGreen("shop"), neither},
			args: []string{"--baseline", "blue", "--candidate", "green"}, wantCode: exitClean,
			wantErr: []string{`gate: skipping target static: it has no "green" or "blue" group (groups: red)`, "gate: PASS"}},
		{desc: "a target with only one group", targets: []gateTarget{blueGreen("shop"), blueOnly},
			args: []string{"--baseline", "blue", "--candidate", "green"}, wantCode: exitUsage,
			wantErr: []string{`gate: target admin has no "green" group (groups: blue)`}},
		{desc: "--target selects", targets: []gateTarget{blueGreen("shop"), blueOnly},
			args: []string{"--baseline", "blue", "--candidate", "green", "--target", "shop"}, wantCode: exitClean,
			wantErr: []string{"gate: PASS"}},
		{desc: "--target names a target without the groups", targets: []gateTarget{blueGreen("shop"), neither},
			args: []string{"--baseline", "blue", "--candidate", "green", "--target", "static"}, wantCode: exitUsage,
			wantErr: []string{`gate: target static has no "green" or "blue" group (groups: red)`}},
		{desc: "--target names no target", targets: []gateTarget{blueGreen("shop")},
			args: []string{"--baseline", "blue", "--candidate", "green", "--target", "shpo"}, wantCode: exitUsage,
			wantErr: []string{`gate: no target named "shpo" (targets: shop)`}},
		{desc: "no target has both groups", targets: []gateTarget{neither},
			args: []string{"--baseline", "blue", "--candidate", "green"}, wantCode: exitUsage,
			wantErr: []string{`gate: no target has the "green" and "blue" group (groups: static: red)`}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			cfg := gateConfig(t, tc.targets...)
			code, _, errOut := runCLI(append([]string{"gate", "--config", cfg, "--format", "json", "--timeout", "2s"}, tc.args...)...)
			if code != tc.wantCode {
				t.Errorf("exit code = %d, want %d\nstderr:\n%s", code, tc.wantCode, errOut)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if tc.wantCode == exitUsage && strings.Contains(errOut, "auditing") {
				t.Errorf("a usage error after probing started:\n%s", errOut)
			}
		})
	}
}

// TestGateTwoSources: blue and green are two sources of one target
// (discover: as a list, each source's group: naming its instances), so the
// gate compares them: 0 when green answers as blue does, 1 when a green
// instance drifts (naming it), 2 when a group names no source.
func TestGateTwoSources(t *testing.T) {
	source := func(f *fleet, group string, behaviours ...labserver.Behavior) string {
		var b strings.Builder
		fmt.Fprintf(&b, "      - group: %s\n        static:\n          instances:\n", group)
		for i, beh := range behaviours {
			id := fmt.Sprintf("%s-%d", group, i+1)
			// The static group says otherwise: the source's group wins.
			fmt.Fprintf(&b, "            - {id: %s, addr: %s, group: web}\n", id, f.start(id, beh))
		}
		return b.String()
	}
	for _, tc := range []struct {
		desc     string
		green    []labserver.Behavior
		args     []string
		wantCode int
		wantErr  []string
	}{
		{desc: "green answers as blue does", green: []labserver.Behavior{currentCORS, currentCORS},
			args: []string{"--baseline", "blue", "--candidate", "green"}, wantCode: exitClean, wantErr: []string{"gate: PASS"}},
		{desc: "a green instance drifts", green: []labserver.Behavior{currentCORS, olderCORS},
			args: []string{"--baseline", "blue", "--candidate", "green"}, wantCode: exitFindings,
			wantErr: []string{"gate: FAIL", "shop: green-2 decide"}},
		{desc: "no source has the candidate group", green: []labserver.Behavior{currentCORS},
			args: []string{"--baseline", "blue", "--candidate", "red"}, wantCode: exitUsage,
			wantErr: []string{`gate: target shop has no "red" group (groups: blue, green)`}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			f := newFleet(t)
			cfg := writeConfig(t, "checks: [drift]\ntargets:\n  - name: shop\n    url: http://shop.example.com/\n    discover:\n"+
				source(f, "blue", currentCORS, currentCORS, currentCORS)+source(f, "green", tc.green...)+
				"    direct: {scheme: http}\n    lb: {disabled: true}"+testPolicyYAML+"\n")
			code, _, errOut := runCLI(append([]string{"gate", "--config", cfg, "--format", "json", "--timeout", "2s"}, tc.args...)...)
			if code != tc.wantCode {
				t.Errorf("exit code = %d, want %d\nstderr:\n%s", code, tc.wantCode, errOut)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(errOut, "green-1 decide") {
				t.Errorf("green-1 answers as blue does but is named:\n%s", errOut)
			}
		})
	}
}

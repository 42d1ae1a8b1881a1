package diff

import (
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/discovery"
)

func target(name string, groups ...string) discovery.Target {
	t := discovery.Target{Name: name}
	for _, g := range groups {
		t.Instances = append(t.Instances, discovery.Instance{ID: name + "-" + g, Group: g})
	}
	return t
}

func TestGateSelect(t *testing.T) {
	bg := Gate{Baseline: "blue", Candidate: "green"}
	for _, tc := range []struct {
		desc      string
		gate      Gate
		targets   []discovery.Target
		names     []string
		wantKeep  []int
		wantNotes int
		wantErr   string
	}{
		{desc: "both groups", gate: bg, targets: []discovery.Target{target("a", "blue", "green")}, wantKeep: []int{0}},
		{desc: "neither group skipped", gate: bg, targets: []discovery.Target{target("a", "blue", "green"), target("b", "red")},
			wantKeep: []int{0}, wantNotes: 1},
		{desc: "one group only", gate: bg, targets: []discovery.Target{target("a", "blue", "green"), target("b", "blue")},
			wantErr: `gate: target b has no "green" group (groups: blue)`},
		{desc: "no target has both", gate: bg, targets: []discovery.Target{target("a", "red")},
			wantErr: `gate: no target has the "green" and "blue" group (groups: a: red)`},
		{desc: "named target", gate: bg, targets: []discovery.Target{target("a", "blue", "green"), target("b", "blue")},
			names: []string{"a"}, wantKeep: []int{0}},
		{desc: "unknown name", gate: bg, targets: []discovery.Target{target("a", "blue", "green")}, names: []string{"z"},
			wantErr: `gate: no target named "z" (targets: a)`},
		{desc: "policy needs the candidate only", gate: Gate{Candidate: "green", Policy: true},
			targets: []discovery.Target{target("a", "green")}, wantKeep: []int{0}},
	} {
		keep, notes, err := tc.gate.Select(tc.targets, tc.names)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.wantErr {
			t.Errorf("%s: err = %q, want %q", tc.desc, got, tc.wantErr)
			continue
		}
		if err == nil && (len(keep) != len(tc.wantKeep) || len(notes) != tc.wantNotes) {
			t.Errorf("%s: keep %v notes %v, want %v and %d notes", tc.desc, keep, notes, tc.wantKeep, tc.wantNotes)
		}
	}
}

func TestGateFailures(t *testing.T) {
	g := Gate{Baseline: "blue", Candidate: "green", MinInstances: 1}
	inst := func(id, group string, reachable bool) InstanceInfo {
		return InstanceInfo{ID: id, Group: group, Reachable: reachable}
	}
	for _, tc := range []struct {
		desc string
		rep  Report
		want []string // substrings, one per failure
	}{
		{desc: "pass", rep: Report{Targets: []TargetReport{{Name: "t", Instances: []InstanceInfo{inst("b1", "blue", true), inst("g1", "green", true)}}}}},
		{desc: "baseline down", rep: Report{Targets: []TargetReport{{Name: "t", Instances: []InstanceInfo{inst("b1", "blue", false), inst("g1", "green", true)}}}},
			want: []string{`baseline group "blue" has no reachable instance`}},
		{desc: "candidate down", rep: Report{Targets: []TargetReport{{Name: "t", Instances: []InstanceInfo{inst("b1", "blue", true), inst("g1", "green", false)}}},
			Findings: []Finding{{Kind: KindUnreachable, Target: "t", Instances: []string{"g1"}, Message: "instance g1 answered none of the 4 probes it was sent (refused)"}}},
			want: []string{`candidate group "green" has 0 reachable instances`, "t: g1: instance g1 answered none of the 4 probes"}},
		{desc: "baseline split", rep: Report{Targets: []TargetReport{{Name: "t", Instances: []InstanceInfo{inst("b1", "blue", true), inst("g1", "green", true)}}},
			Findings: []Finding{{Kind: KindSplit, Target: "t", Instances: []string{"b1"}, Probe: &ProbeRef{Method: "PUT", Origin: "https://a.example"}}}},
			want: []string{"PUT from https://a.example: the baseline group has no majority"}},
		{desc: "one cause on two paths: one failure, its sentence, each request with its path",
			rep: Report{Targets: []TargetReport{{Name: "t", Instances: []InstanceInfo{inst("b1", "blue", true), inst("g1", "green", true)}}},
				Findings: []Finding{{Kind: KindVerdictDrift, Target: "t", Instances: []string{"g1"}, Explains: []Kind{KindVerdictDrift, KindHeaderDrift},
					Message: "g1 (1 of 1 green instance) omits PUT from Access-Control-Allow-Methods on /v1/cart and /v1/items: PUT from https://a.example is blocked there",
					Probes:  []ProbeRef{{Method: "PUT", Origin: "https://a.example", Path: "/v1/cart"}, {Method: "PUT", Origin: "https://a.example", Path: "/v1/items"}}}}},
			want: []string{"t: g1 decides 2 requests differently:\n      cause: g1 (1 of 1 green instance) omits PUT from Access-Control-Allow-Methods on /v1/cart and /v1/items: " +
				"PUT from https://a.example is blocked there\n      PUT /v1/cart from https://a.example\n      PUT /v1/items from https://a.example\n"}},
		{desc: "drift on a baseline instance only", rep: Report{Targets: []TargetReport{{Name: "t", Instances: []InstanceInfo{inst("b1", "blue", true), inst("g1", "green", true)}}},
			Findings: []Finding{{Kind: KindVerdictDrift, Target: "t", Instances: []string{"b1"}}}}},
	} {
		got := g.Failures(&tc.rep)
		if len(got) != len(tc.want) {
			t.Errorf("%s: failures %q, want %d", tc.desc, got, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("%s: failure %q lacks %q", tc.desc, got[i], w)
			}
		}
	}
}

package audit

import (
	"fmt"
	"testing"

	"github.com/corsaudit/corsaudit/discovery"
)

// TestDirectMatrix: observations alike but for the instance are kept once,
// read back with each instance's id and address; rows can be cleared; and
// observations that never repeat stop being indexed.
func TestDirectMatrix(t *testing.T) {
	insts := make([]discovery.Instance, 3000)
	for i := range insts {
		insts[i] = discovery.Instance{ID: fmt.Sprint("web-", i), Addr: fmt.Sprintf("127.0.%d.%d:80", i/250, i%250+1)}
	}
	const probes = 4
	shared := &Exchange{Status: 204}
	m := NewDirectMatrix(insts, probes)
	for i := range insts {
		for p := range probes {
			m.Set(i, p, Observation{Probe: p, Instance: "ignored", Sample: -1, Preflight: shared, Done: true})
		}
	}
	if got := m.Outcomes(); got != 1+probes {
		t.Errorf("%d instances answered alike: %d distinct observations, want %d (the zero one and one per probe)", len(insts), got, 1+probes)
	}
	if o := m.At(2999, 3); o.Instance != "web-2999" || o.Probe != 3 || o.Preflight != shared || !o.Done {
		t.Errorf("At(2999, 3) = %+v", o)
	}
	if o := m.At(2999, 3); o.Sent(&Exchange{shape: &SentRequest{URL: "http://api.example.com/"}}).ConnectTo != "127.0.11.250:80" {
		t.Errorf("observation read back dialled %q, want the instance's address", o.Sent(&Exchange{shape: &SentRequest{}}).ConnectTo)
	}
	if !m.Probed(7) || len(m.Row(7)) != probes {
		t.Fatal("instance 7 has no row")
	}
	m.SetRow(7, nil)
	if m.Probed(7) || m.Row(7) != nil || m.At(7, 0).Instance != "" {
		t.Error("SetRow(7, nil) left a row")
	}
	n := 0
	for range m.Each(7) {
		n++
	}
	if n != 0 {
		t.Errorf("Each yields %d observations of an instance not probed", n)
	}

	// Each request keeping its own exchange: nothing repeats.
	u := NewDirectMatrix(insts, probes)
	for i := range insts {
		for p := range probes {
			u.Set(i, p, Observation{Probe: p, Sample: -1, Actual: &Exchange{Status: 200}, Done: true})
		}
	}
	if u.index != nil {
		t.Errorf("index of %d observations that never repeat is still kept (%d entries)", len(insts)*probes, len(u.index))
	}
	if got := u.Outcomes(); got != 1+len(insts)*probes {
		t.Errorf("%d distinct observations, want %d", got, 1+len(insts)*probes)
	}
	if u.At(5, 2).Actual == u.At(6, 2).Actual || u.At(5, 2).Instance != "web-5" {
		t.Error("distinct observations read back shared or without their instance")
	}
}

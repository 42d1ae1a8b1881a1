package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/corsaudit/corsaudit/diff"
)

// encoderJSON is what JSON wrote before it streamed: the whole document
// through json.Encoder with SetIndent("", "  ").
func encoderJSON(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bigReport is a report of n instances x probes cells.
func bigReport(n, probes int) *diff.Report {
	r := fixture()
	t := diff.TargetReport{Name: "fleet <&>", URL: "https://api.example.com/v1/cart"}
	for p := range probes {
		t.Probes = append(t.Probes, diff.ProbeRef{ID: fmt.Sprint("p", p), Origin: "https://app.example.com", Method: "PUT"})
	}
	t.Cells = &diff.Cells{}
	for i := range n {
		id := fmt.Sprintf("web-%06d", i)
		t.Instances = append(t.Instances, diff.InstanceInfo{ID: id, Addr: "127.0.0.1:80", Reachable: true})
		for p := range probes {
			t.Cells.Add(diff.Cell{Instance: id, Probe: fmt.Sprint("p", p), Outcome: diff.OutcomeAllowed, Status: 204})
		}
	}
	r.Targets = append(r.Targets, t)
	r.Summarize()
	return r
}

// maxWriter records the largest single write.
type maxWriter struct {
	n, max int
}

func (w *maxWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	w.max = max(w.max, len(p))
	return len(p), nil
}

func TestJSONStreamSameBytes(t *testing.T) {
	empty := &diff.Report{Tool: "corsaudit"}
	nils := fixture()
	nils.Findings = nil
	nils.Targets = append(nils.Targets, diff.TargetReport{Name: "none"})
	tests := []struct {
		desc string
		rep  *diff.Report
	}{
		{desc: "fixture", rep: fixture()},
		{desc: "empty report", rep: empty},
		{desc: "no findings, a target without instances or cells", rep: nils},
		{desc: "1,000 instances x 16 probes, HTML characters", rep: bigReport(1000, 16)},
		{desc: "one full batch of cells (256)", rep: bigReport(16, 16)},
		{desc: "a batch and one (257 instances and cells)", rep: bigReport(257, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			want := encoderJSON(t, normalize(tt.rep))
			var got bytes.Buffer
			if err := JSON(&got, tt.rep); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("streamed JSON differs from the encoder's: %s", firstDiff(got.Bytes(), want))
			}
		})
	}
}

// TestJSONStreams checks that a large report reaches the writer in pieces
// no larger than the stream's buffer, never as one document.
func TestJSONStreams(t *testing.T) {
	var w maxWriter
	if err := JSON(&w, bigReport(5000, 16)); err != nil {
		t.Fatal(err)
	}
	if w.n < 4<<20 || w.max > 64<<10 {
		t.Errorf("wrote %d bytes, the largest write %d bytes: want a document over 4 MiB in writes of at most 64 KiB", w.n, w.max)
	}
}

// BenchmarkJSON writes the report of 10,000 instances x 16 probes:
//
//	go test -run '^$' -bench JSON -benchmem ./diff/render/
func BenchmarkJSON(b *testing.B) {
	r := bigReport(10000, 16)
	for b.Loop() {
		var w maxWriter
		if err := JSON(&w, r); err != nil {
			b.Fatal(err)
		}
	}
}

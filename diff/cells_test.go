package diff

import (
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/corsaudit/corsaudit/audit"
)

// TestCellsKeepOrder: whatever order cells are added in, they come back in
// it, through All, MarshalJSON (the bytes of the []Cell list) and
// UnmarshalJSON.
func TestCellsKeepOrder(t *testing.T) {
	allowed := func(inst, probe string) Cell {
		return Cell{Instance: inst, Probe: probe, Outcome: OutcomeAllowed, Status: 204}
	}
	var many []Cell // 300 distinct values: slots two bytes wide
	for k := range 300 {
		many = append(many, Cell{Instance: fmt.Sprint("i-", k%7), Probe: "p1", Outcome: OutcomeBlocked, Reason: "status", Status: 100 + k})
	}
	for _, tc := range []struct {
		desc  string
		cells []Cell
		rows  int
	}{
		{"none", nil, 0},
		{"one run's matrix: instances in probe order, then the LB", []Cell{
			allowed("a", "p1"), allowed("a", "p2"), allowed("b", "p1"),
			{Instance: "b", Probe: "p2", Outcome: OutcomeBlocked, Reason: "acao-missing", Status: 200, Drift: true},
			{Instance: "c", Probe: "p1", Outcome: OutcomeError, Reason: "refused"},
			allowed("lb", "p2"),
		}, 4},
		{"a probe first seen after others", []Cell{allowed("a", "p2"), allowed("b", "p1"), allowed("b", "p2"), allowed("b", "p3")}, 2},
		{"cells of a row out of column order", []Cell{allowed("a", "p1"), allowed("a", "p2"), allowed("b", "p2"), allowed("b", "p1")}, 3},
		{"the same cell twice", []Cell{allowed("a", "p1"), allowed("a", "p1")}, 2},
		{"two merged runs: LB rows in the middle", []Cell{allowed("a", "p1"), allowed("lb", "p1"), allowed("b", "p1"), allowed("lb", "p1")}, 4},
		{"more than 256 distinct values", many, 300},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			c := NewCells(tc.cells...)
			if got := slices.Collect(c.All()); !slices.Equal(got, tc.cells) {
				t.Errorf("All gives\n%+v\nwant\n%+v", got, tc.cells)
			}
			if c.Len() != len(tc.cells) || c.Rows() != tc.rows {
				t.Errorf("%d cells in %d rows, want %d in %d", c.Len(), c.Rows(), len(tc.cells), tc.rows)
			}
			want, _ := json.Marshal(append([]Cell{}, tc.cells...))
			got, err := json.Marshal(c)
			if err != nil || string(got) != string(want) {
				t.Errorf("JSON %s (%v), want %s", got, err, want)
			}
			var back Cells
			if err := json.Unmarshal(want, &back); err != nil {
				t.Fatal(err)
			}
			if got := slices.Collect(back.All()); !slices.Equal(got, tc.cells) {
				t.Errorf("decoded %+v, want %+v", got, tc.cells)
			}
			var chunked []Cell
			for chunk := range c.Chunks(2) {
				if len(chunk) > 2 {
					t.Errorf("chunk of %d cells, want at most 2", len(chunk))
				}
				chunked = append(chunked, chunk...)
			}
			if !slices.Equal(chunked, tc.cells) {
				t.Errorf("chunks give %+v", chunked)
			}
		})
	}
}

func TestCellsAt(t *testing.T) {
	c := NewCells(
		Cell{Instance: "a", Probe: "p1", Outcome: OutcomeAllowed},
		Cell{Instance: "lb", Probe: "p1", Outcome: OutcomeAllowed},
		Cell{Instance: "lb", Probe: "p1", Outcome: OutcomeBlocked, Reason: "redirect", Status: 301})
	if got, ok := c.At("lb", "p1"); !ok || got.Outcome != OutcomeBlocked || got.Status != 301 {
		t.Errorf("At(lb, p1) = %+v, %t: want the last LB cell", got, ok)
	}
	if _, ok := c.At("a", "p2"); ok {
		t.Error("At(a, p2) found a cell for a probe never added")
	}
	if _, ok := (*Cells)(nil).At("a", "p1"); ok {
		t.Error("a nil matrix has a cell")
	}
}

// fleetMatrix is n instances x 16 probes where every tenth instance runs
// an older config (internal/testinfra/benchfleet's fleet), answers shared: the rows
// of observations are two, the instances n.
func fleetMatrix(n int) *audit.TargetResult {
	probes := demoProbes()[:16]
	current := labConfig("GET, POST, PUT, DELETE", "Content-Type, X-Request-Id", "600")
	older := labConfig("GET, POST", "Content-Type", "60")
	res := fleetOf(probes, current, older)
	rows := [][]audit.Observation{res.Direct.Row(0), res.Direct.Row(1)}
	ins := res.Spec.Target.Instances
	res.Spec.Target.Instances = nil
	for i := range n {
		in := ins[0]
		if i%10 == 9 {
			in = ins[1]
		}
		in.ID, in.Addr = fmt.Sprintf("web-%06d", i+1), fmt.Sprintf("127.0.%d.%d:80", i/250, i%250)
		res.Spec.Target.Instances = append(res.Spec.Target.Instances, in)
	}
	res.Direct = audit.NewDirectMatrix(res.Spec.Target.Instances, len(probes))
	for i := range n {
		row := rows[0]
		if i%10 == 9 {
			row = rows[1]
		}
		res.Direct.SetRow(i, row)
	}
	return res
}

// TestCellsCompact: at 100,000 instances x 16 probes the matrix is a byte
// per cell and a row name per instance (a []Cell was 80 bytes a cell,
// 128 MB), and the every-tenth drift is marked on the right cells.
func TestCellsCompact(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 instances")
	}
	tr, fs := Compare(fleetMatrix(100000), Options{})
	if len(fs) == 0 || len(fs[0].Instances) != 10000 {
		t.Fatalf("findings %d, want the 10,000 drifting instances first", len(fs))
	}
	c := tr.Cells
	if c.Len() == 0 || c.Rows() != 100000 {
		t.Fatalf("%d cells in %d rows, want 100,000 rows", c.Len(), c.Rows())
	}
	if got, limit := c.footprint(), 4<<20; got > limit {
		t.Errorf("matrix holds %d bytes, want at most %d", got, limit)
	}
	drift := 0
	for r := range c.Rows() {
		for col := range c.Columns() {
			if id := c.ValueID(r, col); id != 0 && c.Value(id).Drift {
				drift++
				if r%10 != 9 {
					t.Fatalf("row %d (%s) drifts", r, c.RowName(r))
				}
			}
		}
	}
	if drift == 0 {
		t.Error("no cell marked as drift")
	}
}

// footprint is the bytes the matrix holds (its maps apart, which hold a
// key per distinct value and probe).
func (c *Cells) footprint() int {
	n := cap(c.slots) + 16*cap(c.rows) + 16*cap(c.probes)
	for _, v := range c.values {
		n += 48 + len(v.Outcome) + len(v.Reason)
	}
	return n
}

// BenchmarkCompareMatrix compares a target of 100,000 instances x 16
// probes (every tenth drifting) and reports the heap the result keeps
// alive, the report section and its findings (live-B):
//
//	go test -run '^$' -bench CompareMatrix -benchmem -benchtime 3x ./diff/
func BenchmarkCompareMatrix(b *testing.B) {
	res := fleetMatrix(100000)
	var live uint64
	var ms runtime.MemStats
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.HeapAlloc
		tr, fs := Compare(res, Options{})
		runtime.GC()
		runtime.ReadMemStats(&ms)
		live = ms.HeapAlloc - before
		runtime.KeepAlive(tr)
		runtime.KeepAlive(fs)
	}
	b.ReportMetric(float64(live), "live-B")
}

// TestIDList: a message names at most ten instances.
func TestIDList(t *testing.T) {
	c := newComparison(fleetOf(testProbes()[:1], same(12, policyAnswers())...), Options{})
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	if got, want := c.idList(idx[:3]), "web-1, web-2, web-3"; got != want {
		t.Errorf("idList(3) = %q, want %q", got, want)
	}
	if got, want := c.idList(idx), "web-1, web-2, web-3, web-4, web-5, web-6, web-7, web-8, web-9, web-10 and 2 more"; got != want {
		t.Errorf("idList(12) = %q, want %q", got, want)
	}
}

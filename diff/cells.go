package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"iter"
)

// CellValue is what a cell shows, without where it is: thousands of
// instances answer alike, so a matrix holds each distinct value once.
type CellValue struct {
	Outcome string // allowed | blocked | error
	Reason  string
	Status  int
	Drift   bool // differs from the majority
}

// Cells is a target's matrix of cells, compact: per row (an instance, or
// "lb" for the load balancer) and column (a probe) a small number naming
// one of the distinct cell values, 0 where the row has no cell for the
// probe. Rows and columns keep the order the cells were added in, so the
// cells come back (All, the JSON list) exactly in that order: the cells of
// one row are in column order, a cell that does not fit the current row
// (an instance's cells out of column order, a second cell for the same
// probe) starts another row of the same name.
//
// A nil *Cells is an empty matrix. The JSON form is the list of cells,
// [{"instance", "probe", "outcome", "reason", "status", "drift"}, ...],
// written and read without ever holding a []Cell of the whole matrix.
type Cells struct {
	probes []string    // column -> probe id
	values []CellValue // value number -> value; values[0] is "no cell"
	rows   []string    // row -> instance id ("lb": the load balancer)
	width  int         // bytes per slot: 1, 2 or 4
	slots  []byte      // row-major, len(rows) * len(probes) * width
	n      int         // cells present

	// Built lazily, and rebuilt after Clone: where a probe's column is,
	// which number a value has, the column of the last cell added.
	column map[string]int
	number map[CellValue]uint32
	last   int
}

// NewCells is a matrix of the cells, in their order.
func NewCells(cells ...Cell) *Cells {
	c := &Cells{}
	for _, cell := range cells {
		c.Add(cell)
	}
	return c
}

// newCellsFor is an empty matrix of one row per instance and one column
// per probe, to be filled with set: how Compare builds a target's matrix.
func newCellsFor(instances, probes []string) *Cells {
	c := &Cells{probes: probes, rows: instances, values: []CellValue{{}}, width: 1, last: -1}
	c.slots = make([]byte, len(instances)*len(probes))
	return c
}

// Len is the number of cells.
func (c *Cells) Len() int {
	if c == nil {
		return 0
	}
	return c.n
}

// IsZero reports whether the matrix has no cell (the JSON report then
// leaves "cells" out).
func (c *Cells) IsZero() bool { return c.Len() == 0 }

// Rows is the number of rows (instances, the load balancer).
func (c *Cells) Rows() int {
	if c == nil {
		return 0
	}
	return len(c.rows)
}

// RowName is row r's instance id, or "lb".
func (c *Cells) RowName(r int) string { return c.rows[r] }

// Columns is the probe ids of the columns, in order. The caller must not
// change it.
func (c *Cells) Columns() []string {
	if c == nil {
		return nil
	}
	return c.probes
}

// ValueID numbers row r's value in column col among the matrix's distinct
// values: 0 when the row has no cell for that probe.
func (c *Cells) ValueID(r, col int) uint32 { return c.slot(r*len(c.probes) + col) }

// Value is the value numbered id (id > 0).
func (c *Cells) Value(id uint32) CellValue { return c.values[id] }

// At is instance's cell for probe ("lb" for the load balancer's): the last
// one when there are several. It searches the rows; loops should use All
// or the rows.
func (c *Cells) At(instance, probe string) (Cell, bool) {
	if c == nil {
		return Cell{}, false
	}
	col, ok := c.columnOf(probe)
	if !ok {
		return Cell{}, false
	}
	for r := len(c.rows) - 1; r >= 0; r-- {
		if c.rows[r] == instance {
			if id := c.ValueID(r, col); id != 0 {
				return c.cell(r, col, id), true
			}
		}
	}
	return Cell{}, false
}

func (c *Cells) cell(r, col int, id uint32) Cell {
	v := c.values[id]
	return Cell{Instance: c.rows[r], Probe: c.probes[col], Outcome: v.Outcome, Reason: v.Reason, Status: v.Status, Drift: v.Drift}
}

// All is every cell, in order.
func (c *Cells) All() iter.Seq[Cell] {
	return func(yield func(Cell) bool) {
		if c == nil {
			return
		}
		for r := range c.rows {
			for col := range c.probes {
				if id := c.ValueID(r, col); id != 0 && !yield(c.cell(r, col, id)) {
					return
				}
			}
		}
	}
}

// Chunks is every cell, in order, at most n at a time. The chunk is
// reused: it is valid until the next one.
func (c *Cells) Chunks(n int) iter.Seq[[]Cell] {
	return func(yield func([]Cell) bool) {
		buf := make([]Cell, 0, min(max(n, 1), c.Len()))
		for cell := range c.All() {
			buf = append(buf, cell)
			if len(buf) == cap(buf) {
				if !yield(buf) {
					return
				}
				buf = buf[:0]
			}
		}
		if len(buf) > 0 {
			yield(buf)
		}
	}
}

// JSONChunks is Chunks for the report's JSON stream: each chunk a []Cell.
func (c *Cells) JSONChunks(n int) iter.Seq[any] {
	return func(yield func(any) bool) {
		for chunk := range c.Chunks(n) {
			if !yield(chunk) {
				return
			}
		}
	}
}

// Clone is a copy that shares nothing with c.
func (c *Cells) Clone() *Cells {
	if c == nil {
		return nil
	}
	return &Cells{probes: append([]string(nil), c.probes...), values: append([]CellValue(nil), c.values...),
		rows: append([]string(nil), c.rows...), width: c.width, slots: append([]byte(nil), c.slots...), n: c.n, last: c.last}
}

// Add appends a cell: to the last row when it is the same instance's and
// its probe comes after that row's last cell, else in a new row.
func (c *Cells) Add(cell Cell) {
	if c.values == nil {
		c.values, c.width, c.last = []CellValue{{}}, 1, -1
	}
	col, ok := c.columnOf(cell.Probe)
	if !ok {
		// A new probe goes right after the last cell of its row, or
		// first when it starts one.
		col = 0
		if len(c.rows) > 0 && c.rows[len(c.rows)-1] == cell.Instance {
			col = c.last + 1
		}
		c.insertColumn(col, cell.Probe)
	}
	if len(c.rows) == 0 || c.rows[len(c.rows)-1] != cell.Instance || col <= c.last {
		c.addRow(cell.Instance)
	}
	c.set(len(c.rows)-1, col, CellValue{Outcome: cell.Outcome, Reason: cell.Reason, Status: cell.Status, Drift: cell.Drift})
	c.last = col
}

// addRow appends an empty row and returns it.
func (c *Cells) addRow(name string) int {
	c.rows = append(c.rows, name)
	c.slots = append(c.slots, make([]byte, len(c.probes)*c.width)...)
	c.last = -1
	return len(c.rows) - 1
}

// set gives row r's cell in column col the value v (an empty slot).
func (c *Cells) set(r, col int, v CellValue) {
	id := c.numberOf(v)
	c.setSlot(r*len(c.probes)+col, id)
	c.n++
}

func (c *Cells) numberOf(v CellValue) uint32 {
	if c.number == nil {
		c.number = make(map[CellValue]uint32, len(c.values))
		for k, v := range c.values[1:] {
			c.number[v] = uint32(k + 1)
		}
	}
	if id, ok := c.number[v]; ok {
		return id
	}
	id := uint32(len(c.values))
	c.values = append(c.values, v)
	c.number[v] = id
	if w := widthFor(id); w > c.width {
		c.widen(w)
	}
	return id
}

func (c *Cells) columnOf(probe string) (int, bool) {
	if c.column == nil {
		c.column = make(map[string]int, len(c.probes))
		for k, p := range c.probes {
			if _, dup := c.column[p]; !dup {
				c.column[p] = k
			}
		}
	}
	col, ok := c.column[probe]
	return col, ok
}

// insertColumn makes probe the column at col, moving the slots.
func (c *Cells) insertColumn(col int, probe string) {
	old := len(c.probes)
	slots := make([]byte, len(c.rows)*(old+1)*c.width)
	for r := range c.rows {
		src := c.slots[r*old*c.width : (r+1)*old*c.width]
		dst := slots[r*(old+1)*c.width:]
		copy(dst, src[:col*c.width])
		copy(dst[(col+1)*c.width:], src[col*c.width:])
	}
	c.slots = slots
	c.probes = append(c.probes[:col:col], append([]string{probe}, c.probes[col:]...)...)
	c.column = nil
}

func widthFor(id uint32) int {
	switch {
	case id < 1<<8:
		return 1
	case id < 1<<16:
		return 2
	}
	return 4
}

// widen stores every slot in w bytes.
func (c *Cells) widen(w int) {
	n := len(c.slots) / c.width
	slots := make([]byte, n*w)
	for k := range n {
		putSlot(slots, w, k, getSlot(c.slots, c.width, k))
	}
	c.slots, c.width = slots, w
}

func (c *Cells) slot(k int) uint32 { return getSlot(c.slots, c.width, k) }

func getSlot(slots []byte, w, k int) uint32 {
	if w == 1 {
		return uint32(slots[k])
	}
	var id uint32
	for b := range w {
		id |= uint32(slots[w*k+b]) << (8 * b)
	}
	return id
}

func (c *Cells) setSlot(k int, id uint32) { putSlot(c.slots, c.width, k, id) }

func putSlot(slots []byte, w, k int, id uint32) {
	for b := range w {
		slots[w*k+b] = byte(id >> (8 * b))
	}
}

// MarshalJSON writes the list of cells.
func (c *Cells) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('[')
	k := 0
	for cell := range c.All() {
		if k > 0 {
			b.WriteByte(',')
		}
		k++
		j, err := json.Marshal(cell)
		if err != nil {
			return nil, err
		}
		b.Write(j)
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

// UnmarshalJSON reads a list of cells a cell at a time.
func (c *Cells) UnmarshalJSON(data []byte) error {
	*c = Cells{}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil { // null
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("cells: want a list, got %v", tok)
	}
	for dec.More() {
		var cell Cell
		if err := dec.Decode(&cell); err != nil {
			return fmt.Errorf("cells: %w", err)
		}
		c.Add(cell)
	}
	_, err = dec.Token()
	return err
}

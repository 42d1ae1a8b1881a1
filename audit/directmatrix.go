package audit

import (
	"iter"
	"sync"

	"github.com/corsaudit/corsaudit/discovery"
)

// DirectMatrix holds what every instance of a target did for every probe.
// Thousands of instances answer alike, so it keeps each distinct
// observation once (without the instance) and, per instance and probe, a
// 4-byte number of it: memory follows the distinct answers, not instances
// x probes. At fills in the instance.
//
// Set may be called from many goroutines for distinct cells; reads must
// not run concurrently with Set.
type DirectMatrix struct {
	insts  []discovery.Instance
	probes int
	// ids[i*probes+p] numbers instance i's observation of probe p in
	// distinct; 0 (the zero observation) when instance i was not probed.
	ids      []uint32
	distinct []Observation

	mu sync.Mutex
	// index numbers the distinct observations, without their instance
	// (exchanges and verdicts compared by identity: the engine shares one
	// per distinct answer); nil once observations turned out not to repeat
	// (see intern).
	index map[Observation]uint32
}

// NewDirectMatrix is the matrix of instances x probes, none probed yet.
func NewDirectMatrix(insts []discovery.Instance, probes int) *DirectMatrix {
	return &DirectMatrix{insts: insts, probes: probes, ids: make([]uint32, len(insts)*probes),
		distinct: []Observation{{}}, index: map[Observation]uint32{}}
}

// Instances is the number of instances (rows), probed or not.
func (m *DirectMatrix) Instances() int {
	if m == nil {
		return 0
	}
	return len(m.insts)
}

// Probed reports whether instance i has observations (a row).
func (m *DirectMatrix) Probed(i int) bool {
	return m != nil && m.probes > 0 && i < len(m.insts) && m.ids[i*m.probes] != 0
}

// At is instance i's observation of probe p (the zero observation when
// the instance was not probed).
func (m *DirectMatrix) At(i, p int) Observation {
	id := m.ids[i*m.probes+p]
	o := m.distinct[id]
	if id != 0 {
		o.Instance, o.connectTo = m.insts[i].ID, m.insts[i].Addr
	}
	return o
}

// Outcome numbers instance i's observation of probe p among the target's
// distinct observations: equal numbers, observations alike but for the
// instance. 0 when the instance was not probed.
func (m *DirectMatrix) Outcome(i, p int) uint32 { return m.ids[i*m.probes+p] }

// Outcomes is the number of distinct observations, 0 included: Outcome
// is below it.
func (m *DirectMatrix) Outcomes() int { return len(m.distinct) }

// Each yields instance i's observations with their probe, in probe
// order; nothing when the instance was not probed.
func (m *DirectMatrix) Each(i int) iter.Seq2[int, Observation] {
	return func(yield func(int, Observation) bool) {
		if !m.Probed(i) {
			return
		}
		for p := range m.probes {
			if !yield(p, m.At(i, p)) {
				return
			}
		}
	}
}

// Row is instance i's observations in probe order, or nil when it was not
// probed (a copy: change it with Set or SetRow).
func (m *DirectMatrix) Row(i int) []Observation {
	if !m.Probed(i) {
		return nil
	}
	row := make([]Observation, m.probes)
	for p := range row {
		row[p] = m.At(i, p)
	}
	return row
}

// SetRow records instance i's observations in probe order; a nil row
// makes the instance not probed.
func (m *DirectMatrix) SetRow(i int, row []Observation) {
	if row == nil {
		clear(m.ids[i*m.probes : (i+1)*m.probes])
		return
	}
	for p, o := range row {
		m.Set(i, p, o)
	}
}

// Set records o as instance i's observation of probe p. o.Instance and
// where it was dialled are instance i's, whatever o says.
func (m *DirectMatrix) Set(i, p int, o Observation) {
	id := m.intern(o)
	m.ids[i*m.probes+p] = id
}

// intern numbers o, an instance's observation, among the distinct ones.
func (m *DirectMatrix) intern(o Observation) uint32 {
	o.Instance, o.connectTo, o.Sample = "", "", -1
	m.mu.Lock()
	defer m.mu.Unlock()
	if id, ok := m.index[o]; ok {
		return id
	}
	id := uint32(len(m.distinct))
	m.distinct = append(m.distinct, o)
	// Observations that do not repeat (each request's own exchange is
	// kept: Options.Latencies) would make the index as large as the
	// matrix for nothing: past a bound, stop indexing.
	if m.index != nil && len(m.distinct) > max(4096, len(m.ids)/4) {
		m.index = nil
	}
	if m.index != nil {
		m.index[o] = id
	}
	return id
}

// remap gives every probed cell holding distinct observation o the
// observation f(o): f runs once per distinct observation, not per cell.
func (m *DirectMatrix) remap(f func(Observation) Observation) {
	if m == nil {
		return
	}
	n := len(m.distinct)
	to := make([]uint32, n)
	for id := 1; id < n; id++ {
		to[id] = uint32(id)
		if o := f(m.distinct[id]); o != m.distinct[id] {
			to[id] = m.intern(o)
		}
	}
	for k, id := range m.ids {
		m.ids[k] = to[id]
	}
}

// setRowIDs sets instance i's row to observations already numbered.
func (m *DirectMatrix) setRowIDs(i int, ids []uint32) { copy(m.ids[i*m.probes:(i+1)*m.probes], ids) }

// seal drops what only Set needs.
func (m *DirectMatrix) seal() {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.index = nil
	m.mu.Unlock()
}

package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer is a mutex-guarded bytes.Buffer. The zero value is an empty,
// unbounded buffer.
type Buffer struct {
	// Limit is how many bytes the buffer keeps at most: writes past it are
	// dropped (and reported written), so a chatty process cannot grow it
	// without bound; the start is what explains a failure. 0 means no limit.
	Limit int

	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p, or what fits of it under Limit.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := p
	if s.Limit > 0 {
		room := max(s.Limit-s.b.Len(), 0)
		q = p[:min(len(p), room)]
	}
	s.b.Write(q)
	return len(p), nil
}

// String returns what was written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

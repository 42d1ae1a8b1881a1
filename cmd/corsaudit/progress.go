package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progressBar draws "probing [=====>    ] 1234/5000 fetches" on a terminal:
// the fetches audit.Work counts, which the log lines announce.
type progressBar struct {
	mu   sync.Mutex
	w    io.Writer
	last time.Time
}

func newProgressBar(w io.Writer) *progressBar { return &progressBar{w: w} }

func (b *progressBar) update(done, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if done != total && time.Since(b.last) < 100*time.Millisecond {
		return
	}
	b.last = time.Now()
	const width = 30
	filled := int(float64(width) * float64(done) / float64(max(total, 1)))
	fmt.Fprintf(b.w, "\rprobing [%s%s] %d/%d fetches", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), done, total)
}

func (b *progressBar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	fmt.Fprint(b.w, "\r\033[K")
}

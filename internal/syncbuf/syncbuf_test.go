package syncbuf

import (
	"strings"
	"sync"
	"testing"
)

func TestBuffer(t *testing.T) {
	tests := []struct {
		desc   string
		limit  int
		writes []string
		want   string
	}{
		{desc: "unbounded", writes: []string{"abc", "def"}, want: "abcdef"},
		{desc: "under the limit", limit: 10, writes: []string{"abc", "def"}, want: "abcdef"},
		{desc: "cut at the limit", limit: 4, writes: []string{"abc", "def", "ghi"}, want: "abcd"},
		{desc: "exactly the limit", limit: 3, writes: []string{"abc", "d"}, want: "abc"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			b := &Buffer{Limit: tc.limit}
			for _, w := range tc.writes {
				if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
					t.Errorf("Write(%q) = %d, %v; want %d, nil", w, n, err, len(w))
				}
			}
			if got := b.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestBufferConcurrent writes and reads from several goroutines; run with
// -race it shows the buffer is safe, and it checks that no write is lost.
func TestBufferConcurrent(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 100 {
				b.Write([]byte("x"))
			}
		}()
		go func() {
			defer wg.Done()
			for range 100 {
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if got := b.String(); got != strings.Repeat("x", 400) {
		t.Errorf("len(String()) = %d, want 400", len(got))
	}
}

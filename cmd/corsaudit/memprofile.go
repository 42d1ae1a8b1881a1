package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// writeMemProfile writes a heap profile of what is live now to path (no
// path: nothing), after a collection so that it shows live memory only.
func writeMemProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("memprofile: %w", err)
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("memprofile: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("memprofile: %w", err)
	}
	return nil
}

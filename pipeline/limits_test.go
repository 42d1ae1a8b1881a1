package pipeline

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// endless never ends: /dev/zero, or (spaces) a stream a JSON decoder
// would read forever.
type endless byte

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(e)
	}
	return len(p), nil
}

// TestReadsAreBounded: an input that never ends (merge /dev/zero, an
// inventory on a pipe that streams forever) fails with errTooLarge after
// maxFileSize bytes instead of growing without bound; a file at the
// limit is read whole.
func TestReadsAreBounded(t *testing.T) {
	if _, err := ReadAll(endless(0)); !errors.Is(err, errTooLarge) {
		t.Errorf("ReadAll(endless) = %v, want errTooLarge", err)
	}
	if _, err := ReadInventory(Bounded(endless(' '))); err == nil || !strings.Contains(err.Error(), errTooLarge.Error()) {
		t.Errorf("ReadInventory(endless) = %v, want it to say %q", err, errTooLarge)
	}
	at := bytes.Repeat([]byte{'x'}, maxFileSize)
	if got, err := ReadAll(bytes.NewReader(at)); err != nil || len(got) != maxFileSize {
		t.Errorf("ReadAll(%d bytes) = %d bytes, %v; want all of it", maxFileSize, len(got), err)
	}
	if _, err := ReadAll(io.MultiReader(bytes.NewReader(at), strings.NewReader("y"))); !errors.Is(err, errTooLarge) {
		t.Errorf("ReadAll(%d bytes + 1) = %v, want errTooLarge", maxFileSize, err)
	}
}

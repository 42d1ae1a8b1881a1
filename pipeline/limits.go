package pipeline

import (
	"errors"
	"fmt"
	"io"
)

// MaxFileSize bounds an inventory, shard file or JSON report read back:
// they are read, not trusted, and a file of this size holds a fleet far
// beyond what one run audits (a shard of 100,000 instances is a few
// megabytes: answers are interned).
const MaxFileSize = 256 << 20

// ErrTooLarge is the error of a read past MaxFileSize.
var ErrTooLarge = fmt.Errorf("larger than %d MiB", MaxFileSize>>20)

// ReadAll reads r to its end, or fails with ErrTooLarge past MaxFileSize.
func ReadAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(Bounded(r))
	if err != nil {
		return nil, err
	}
	return data, nil
}

// Bounded is r that fails with ErrTooLarge once more than MaxFileSize
// bytes are read from it, for decoders that stream.
func Bounded(r io.Reader) io.Reader { return &bounded{r: r, left: MaxFileSize} }

type bounded struct {
	r    io.Reader
	left int64
}

func (b *bounded) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, ErrTooLarge
	}
	if errors.Is(err, io.EOF) {
		return n, io.EOF
	}
	return n, err
}

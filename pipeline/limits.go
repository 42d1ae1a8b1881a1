package pipeline

import (
	"errors"
	"fmt"
	"io"
)

// maxFileSize bounds an inventory, shard file or JSON report read back:
// they are read, not trusted, and a file of this size holds a fleet far
// beyond what one run audits (a shard of 100,000 instances is a few
// megabytes: answers are interned).
const maxFileSize = 256 << 20

// errTooLarge is the error of a read past maxFileSize.
var errTooLarge = fmt.Errorf("larger than %d MiB", maxFileSize>>20)

// ReadAll reads r to its end, or fails with errTooLarge past maxFileSize.
func ReadAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(Bounded(r))
	if err != nil {
		return nil, err
	}
	return data, nil
}

// Bounded is r that fails with errTooLarge once more than maxFileSize
// bytes are read from it, for decoders that stream.
func Bounded(r io.Reader) io.Reader { return &bounded{r: r, left: maxFileSize} }

type bounded struct {
	r    io.Reader
	left int64
}

func (b *bounded) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, errTooLarge
	}
	if errors.Is(err, io.EOF) {
		return n, io.EOF
	}
	return n, err
}

package config

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
)

// unpacker reads what packer wrote.
type unpacker struct {
	data    []byte
	strings []string
}

var errCorrupt = errors.New("config: corrupt section")

func (u *unpacker) uvarint() (uint64, error) {
	n, k := binary.Uvarint(u.data)
	if k <= 0 {
		return 0, errCorrupt
	}
	u.data = u.data[k:]
	return n, nil
}

func (u *unpacker) bytes() ([]byte, error) {
	n, err := u.uvarint()
	if err != nil || n > uint64(len(u.data)) {
		return nil, errCorrupt
	}
	b := u.data[:n]
	u.data = u.data[n:]
	return b, nil
}

// count reads a number of items, each at least one byte.
func (u *unpacker) count() (int, error) {
	n, err := u.uvarint()
	if err != nil || n > uint64(len(u.data)) {
		return 0, errCorrupt
	}
	return int(n), nil
}

// value reads one value: its kind byte, then the data of that kind.
func (u *unpacker) value() (any, error) {
	if len(u.data) == 0 {
		return nil, errCorrupt
	}
	kind := u.data[0]
	u.data = u.data[1:]
	switch kind {
	case packNil:
		return nil, nil
	case packString:
		return u.newString()
	case packStringRef:
		return u.stringRef()
	case packFalse:
		return false, nil
	case packTrue:
		return true, nil
	case packInt, packInt64:
		return u.varint(kind)
	case packUint64:
		return u.uvarint()
	case packFloat:
		return u.float()
	case packTime:
		return u.time()
	case packList:
		return u.list()
	case packMap:
		return u.stringMap()
	case packAnyMap:
		return u.anyMap()
	}
	return nil, errCorrupt
}

// newString reads a string met for the first time and adds it to the
// table.
func (u *unpacker) newString() (any, error) {
	b, err := u.bytes()
	if err != nil {
		return nil, err
	}
	s := string(b)
	u.strings = append(u.strings, s)
	return s, nil
}

// stringRef reads the index of a string met before.
func (u *unpacker) stringRef() (any, error) {
	i, err := u.uvarint()
	if err != nil || i >= uint64(len(u.strings)) {
		return nil, errCorrupt
	}
	return u.strings[i], nil
}

// varint reads a packInt (as an int) or a packInt64 (as an int64).
func (u *unpacker) varint(kind byte) (any, error) {
	n, k := binary.Varint(u.data)
	if k <= 0 {
		return nil, errCorrupt
	}
	u.data = u.data[k:]
	if kind == packInt {
		return int(n), nil
	}
	return n, nil
}

func (u *unpacker) float() (any, error) {
	if len(u.data) < 8 {
		return nil, errCorrupt
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(u.data))
	u.data = u.data[8:]
	return f, nil
}

func (u *unpacker) time() (any, error) {
	b, err := u.bytes()
	if err != nil {
		return nil, err
	}
	var t time.Time
	if err := t.UnmarshalBinary(b); err != nil {
		return nil, errCorrupt
	}
	return t, nil
}

func (u *unpacker) list() (any, error) {
	n, err := u.count()
	if err != nil {
		return nil, err
	}
	l := make([]any, n)
	for i := range l {
		if l[i], err = u.value(); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// stringMap reads a map[string]any: each key must be a string.
func (u *unpacker) stringMap() (any, error) {
	n, err := u.count()
	if err != nil {
		return nil, err
	}
	m := make(map[string]any, n)
	for range n {
		k, err := u.value()
		key, ok := k.(string)
		if err != nil || !ok {
			return nil, errCorrupt
		}
		if m[key], err = u.value(); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (u *unpacker) anyMap() (any, error) {
	n, err := u.count()
	if err != nil {
		return nil, err
	}
	m := make(map[any]any, n)
	for range n {
		k, err := u.value()
		if err != nil {
			return nil, err
		}
		if m[k], err = u.value(); err != nil {
			return nil, err
		}
	}
	return m, nil
}

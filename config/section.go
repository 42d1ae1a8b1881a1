package config

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// A parsed config keeps its provider sections and its source compressed:
// a large static list is needed whole only while its provider is built
// (and when the config is written as YAML), so it is not kept as generic
// maps, a YAML tree or raw text for the whole run.

// section is one provider's settings under discover:, as read from YAML,
// in the compact form of packValue, flate-compressed.
type section []byte

// packSection compacts m. It fails on a value of a type YAML does not
// decode into (the section is then kept as it is).
func packSection(m map[string]any) (section, error) {
	p := packer{strings: map[string]int{}}
	if err := p.value(m); err != nil {
		return nil, err
	}
	return compress(p.buf.Bytes())
}

// packSections packs the sections of a discover: node (provider names to
// their settings) straight from the YAML tree, into what packSection makes
// of the map the YAML decoder makes of it. ok is false when the node holds
// something only that decoder gets right (aliases, merge keys, keys that
// are not plain strings or are repeated, sections that are not mappings):
// the caller decodes it as a map then.
func packSections(n *yaml.Node) (sections map[string]section, ok bool) {
	if n.Kind != yaml.MappingNode || !plainKeys(n) {
		return nil, false
	}
	sections = make(map[string]section, len(n.Content)/2)
	p := packer{strings: map[string]int{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, val := n.Content[i].Value, n.Content[i+1]
		if val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
			sections[name] = nil
			continue
		}
		if val.Kind != yaml.MappingNode {
			return nil, false
		}
		p.buf.Reset()
		clear(p.strings)
		if !p.node(val) {
			return nil, false
		}
		s, err := compress(p.buf.Bytes())
		if err != nil {
			return nil, false
		}
		sections[name] = s
	}
	return sections, true
}

// plainKeys says whether the keys of mapping n are distinct strings, none
// a merge key (<<): it then decodes into a map[string]any key by key.
func plainKeys(n *yaml.Node) bool {
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode || k.Tag != "!!str" || seen[k.Value] {
			return false
		}
		seen[k.Value] = true
	}
	return true
}

// node packs what n decodes into as an any, as value does once the YAML
// decoder has made it (see packSections for when it cannot).
func (p *packer) node(n *yaml.Node) bool {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!str" {
			p.string(n.Value)
			return true
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return false
		}
		switch v.(type) {
		case []any, map[string]any, map[any]any:
			return false
		}
		return p.value(v) == nil
	case yaml.SequenceNode:
		p.buf.WriteByte(packList)
		p.uvarint(uint64(len(n.Content)))
		for _, e := range n.Content {
			if !p.node(e) {
				return false
			}
		}
		return true
	case yaml.MappingNode:
		if !plainKeys(n) {
			return false
		}
		p.buf.WriteByte(packMap)
		p.uvarint(uint64(len(n.Content) / 2))
		order := make([]int, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			order = append(order, i)
		}
		slices.SortFunc(order, func(a, b int) int { return strings.Compare(n.Content[a].Value, n.Content[b].Value) })
		for _, i := range order {
			p.string(n.Content[i].Value)
			if !p.node(n.Content[i+1]) {
				return false
			}
		}
		return true
	}
	return false
}

// settings decodes the section back into the map YAML decoded: the same
// values of the same types (repeated strings shared).
func (s section) settings() (map[string]any, error) {
	data, err := decompress(s)
	if err != nil {
		return nil, err
	}
	u := unpacker{data: data}
	v, err := u.value()
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok || len(u.data) != 0 {
		return nil, errors.New("config: corrupt section")
	}
	return m, nil
}

func compress(data []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return bytes.Clone(b.Bytes()), nil // exact size: kept for the run
}

func decompress(data []byte) ([]byte, error) {
	return io.ReadAll(flate.NewReader(bytes.NewReader(data)))
}

// The kinds of packed values: each is one byte, followed by its data.
const (
	packNil       = iota
	packString    // uvarint length, bytes: the next string of the table
	packStringRef // uvarint index of a string met before
	packFalse
	packTrue
	packInt   // varint
	packInt64 // varint
	packUint64
	packFloat  // 8 bytes, IEEE 754 bits
	packTime   // uvarint length, time.MarshalBinary
	packList   // uvarint count, values
	packMap    // uvarint count, (string key, value) sorted by key
	packAnyMap // uvarint count, (key, value)
)

// packer writes values as kinds and data; each distinct string once.
type packer struct {
	buf     bytes.Buffer
	strings map[string]int
	tmp     [binary.MaxVarintLen64]byte
}

func (p *packer) uvarint(n uint64) {
	p.buf.Write(binary.AppendUvarint(p.tmp[:0], n))
}

func (p *packer) string(s string) {
	if i, ok := p.strings[s]; ok {
		p.buf.WriteByte(packStringRef)
		p.uvarint(uint64(i))
		return
	}
	p.strings[s] = len(p.strings)
	p.buf.WriteByte(packString)
	p.uvarint(uint64(len(s)))
	p.buf.WriteString(s)
}

func (p *packer) value(v any) error {
	switch v := v.(type) {
	case nil:
		p.buf.WriteByte(packNil)
	case string:
		p.string(v)
	case bool:
		if v {
			p.buf.WriteByte(packTrue)
		} else {
			p.buf.WriteByte(packFalse)
		}
	case int:
		p.buf.WriteByte(packInt)
		p.buf.Write(binary.AppendVarint(p.tmp[:0], int64(v)))
	case int64:
		p.buf.WriteByte(packInt64)
		p.buf.Write(binary.AppendVarint(p.tmp[:0], v))
	case uint64:
		p.buf.WriteByte(packUint64)
		p.uvarint(v)
	case float64:
		p.buf.WriteByte(packFloat)
		p.buf.Write(binary.LittleEndian.AppendUint64(p.tmp[:0], math.Float64bits(v)))
	case time.Time:
		b, err := v.MarshalBinary()
		if err != nil {
			return err
		}
		p.buf.WriteByte(packTime)
		p.uvarint(uint64(len(b)))
		p.buf.Write(b)
	case []any:
		p.buf.WriteByte(packList)
		p.uvarint(uint64(len(v)))
		for _, e := range v {
			if err := p.value(e); err != nil {
				return err
			}
		}
	case map[string]any:
		p.buf.WriteByte(packMap)
		p.uvarint(uint64(len(v)))
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p.string(k)
			if err := p.value(v[k]); err != nil {
				return err
			}
		}
	case map[any]any:
		p.buf.WriteByte(packAnyMap)
		p.uvarint(uint64(len(v)))
		for k, e := range v {
			if err := p.value(k); err != nil {
				return err
			}
			if err := p.value(e); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("config: cannot pack a %T", v)
	}
	return nil
}

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
		b, err := u.bytes()
		if err != nil {
			return nil, err
		}
		s := string(b)
		u.strings = append(u.strings, s)
		return s, nil
	case packStringRef:
		i, err := u.uvarint()
		if err != nil || i >= uint64(len(u.strings)) {
			return nil, errCorrupt
		}
		return u.strings[i], nil
	case packFalse:
		return false, nil
	case packTrue:
		return true, nil
	case packInt, packInt64:
		n, k := binary.Varint(u.data)
		if k <= 0 {
			return nil, errCorrupt
		}
		u.data = u.data[k:]
		if kind == packInt {
			return int(n), nil
		}
		return n, nil
	case packUint64:
		return u.uvarint()
	case packFloat:
		if len(u.data) < 8 {
			return nil, errCorrupt
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(u.data))
		u.data = u.data[8:]
		return f, nil
	case packTime:
		b, err := u.bytes()
		if err != nil {
			return nil, err
		}
		var t time.Time
		if err := t.UnmarshalBinary(b); err != nil {
			return nil, errCorrupt
		}
		return t, nil
	case packList:
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
	case packMap:
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
	case packAnyMap:
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
	return nil, errCorrupt
}

package config

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

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

package config

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"

	"go.yaml.in/yaml/v3"
)

// A parsed config keeps its provider sections and its source compressed:
// a large static list is needed whole only while its provider is built
// (and when the config is written as YAML), so it is not kept as generic
// maps, a YAML tree or raw text for the whole run.

// section is one provider's settings under discover:, as read from YAML,
// in the compact form of packer.value (pack.go), flate-compressed.
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

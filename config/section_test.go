package config

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestParsedSectionsDecodeAsYAMLDid: the provider sections a parsed config
// keeps compact decode into the very map YAML decoded them into (every
// kind of value: numbers of each size, floats, null, booleans, timestamps,
// binary, non-string keys, anchors and merge keys), and the config writes
// the same YAML as when they were kept as maps.
func TestParsedSectionsDecodeAsYAMLDid(t *testing.T) {
	for _, file := range []string{"testdata/sections-any-value.yaml", "testdata/sections-plain-values.yaml", "testdata/valid.yaml"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var plain struct {
			Targets []struct {
				Discover map[string]map[string]any `yaml:"discover"`
			} `yaml:"targets"`
		}
		if err := yaml.Unmarshal(data, &plain); err != nil {
			t.Fatal(err)
		}
		c, err := Parse(data, file)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Targets) != len(plain.Targets) {
			t.Fatalf("%s: %d targets, want %d", file, len(c.Targets), len(plain.Targets))
		}
		for i, tg := range c.Targets {
			if tg.Discover != nil || tg.parsed == nil {
				t.Errorf("%s: targets[%d]: sections not kept compact (Discover %v)", file, i, tg.Discover)
			}
			got, err := tg.DiscoverSettings()
			if err != nil {
				t.Fatal(err)
			}
			if want := plain.Targets[i].Discover; !sameDiscover(got, want) {
				t.Errorf("%s: targets[%d].discover decodes into\n%#v\nwant\n%#v", file, i, got, want)
			}
		}
		// What plain YAML decoding gives is what Parse kept until the
		// sections were kept compact: the config must write it the same.
		again, err := yaml.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		for i := range c.Targets {
			c.Targets[i].Discover = plain.Targets[i].Discover
		}
		want, err := yaml.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != string(want) {
			t.Errorf("%s: written as\n%s\nwant\n%s", file, again, want)
		}
	}
}

// TestPackSectionsFromTheTree: sections without aliases, merge keys or
// keys that are not strings are packed straight from the YAML tree (no
// map), into what the YAML decoder makes of them; the others are left to
// the decoder.
func TestPackSectionsFromTheTree(t *testing.T) {
	for file, wantOK := range map[string]bool{
		"testdata/sections-plain-values.yaml": true,
		"testdata/valid.yaml":                 true,
		"testdata/sections-any-value.yaml":    false,
	} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		root, err := parseYAML(data, file)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Targets []struct {
				Discover yaml.Node `yaml:"discover"`
			} `yaml:"targets"`
		}
		if err := root.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		n := &doc.Targets[0].Discover
		sections, ok := packSections(n)
		if ok != wantOK {
			t.Errorf("%s: packed from the tree: %v, want %v", file, ok, wantOK)
			continue
		}
		if !ok {
			continue
		}
		var want map[string]map[string]any
		if err := n.Decode(&want); err != nil {
			t.Fatal(err)
		}
		got, err := Target{parsed: sections}.DiscoverSettings()
		if err != nil {
			t.Fatal(err)
		}
		if !sameDiscover(got, want) {
			t.Errorf("%s: packed from the tree, decodes into\n%#v\nwant\n%#v", file, got, want)
		}
	}
}

// TestConfigFingerprintsUnchanged: the YAML of a parsed config, which
// inventories and shards carry and fingerprint (SHA-256), is byte for byte
// what it was when provider sections were kept as maps (values computed
// with that version).
func TestConfigFingerprintsUnchanged(t *testing.T) {
	for file, want := range map[string]string{
		"testdata/valid.yaml":               "f90723fb20fee605b813600a70488e7a191bf60a58edecd3489add59124e77ed",
		"testdata/sections-any-value.yaml":  "13896a3c6617ade78153dee5a626f8e5a9997343cf3f17ab03eb65b847c2b5ea",
		"../examples/laptop/corsaudit.yaml": "90682eb741d59066a8184499b453f6c1a48db0ad98b8437065b3fbdce96e199a",
		"../examples/aws/corsaudit.yaml":    "71e32ae9f115707dd98e933d21a30dd8c0d970b406ed692ffd384070efe6a53e",
		"../examples/gcp/corsaudit.yaml":    "05b46a4d331e419e75e88df68a902e41646cbd373b84a7021cfab51637e25031",
	} {
		c, err := parseFile(t, file)
		if err != nil {
			t.Fatal(err)
		}
		b, err := yaml.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s: written with SHA-256 %s, want %s:\n%s", file, got, want, b)
		}
	}
}

// TestCorruptSectionIsAnError: a section cut short anywhere decodes to an
// error, never a panic or a partial map.
func TestCorruptSectionIsAnError(t *testing.T) {
	var p packer
	p.strings = map[string]int{}
	m := map[string]any{"instances": []any{map[string]any{"id": "web-1", "n": 3, "f": 1.5, "t": true},
		map[any]any{7: "seven"}, nil, int64(-9), uint64(1 << 63)}}
	if err := p.value(m); err != nil {
		t.Fatal(err)
	}
	data := p.buf.Bytes()
	u := unpacker{data: data}
	if v, err := u.value(); err != nil || !reflect.DeepEqual(v, m) {
		t.Fatalf("whole: %v, %v", v, err)
	}
	for n := range len(data) {
		z, err := compress(data[:n])
		if err != nil {
			t.Fatal(err)
		}
		if got, err := section(z).settings(); err == nil {
			t.Errorf("%d of %d bytes decode into %v, want an error", n, len(data), got)
		}
	}
}

// sameDiscover is reflect.DeepEqual, except that NaN equals NaN.
func sameDiscover(a, b map[string]map[string]any) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !sameValue(v, w) {
			return false
		}
	}
	return true
}

func sameValue(a, b any) bool {
	switch a := a.(type) {
	case float64:
		f, ok := b.(float64)
		return ok && (a == f || math.IsNaN(a) && math.IsNaN(f))
	case []any:
		l, ok := b.([]any)
		if !ok || (a == nil) != (l == nil) || len(a) != len(l) {
			return false
		}
		for i := range a {
			if !sameValue(a[i], l[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		m, ok := b.(map[string]any)
		if !ok || (a == nil) != (m == nil) || len(a) != len(m) {
			return false
		}
		for k, v := range a {
			w, ok := m[k]
			if !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	case map[any]any:
		m, ok := b.(map[any]any)
		if !ok || (a == nil) != (m == nil) || len(a) != len(m) {
			return false
		}
		for k, v := range a {
			w, ok := m[k]
			if !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

package config

import (
	"bytes"
	"cmp"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/corsaudit/corsaudit/internal/suggest"
)

// Problem is one thing wrong with a config.
type Problem struct {
	// Path is the field path ("targets[0].policy.origins[1]").
	Path string
	// Pos is where the value was written ("corsaudit.yaml:12"), or empty.
	Pos string
	// Name is what the user wrote it as: the path, or a CORSAUDIT_*
	// variable or a flag when the value came from one.
	Name string
	Msg  string
}

func (p Problem) String() string {
	name := p.Name
	if name == "" {
		name = p.Path
	}
	var parts []string
	for _, s := range []string{p.Pos, name, p.Msg} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ": ")
}

// Problems is every problem of a config, in the order of the file (the
// first maxListed, then how many more); it is the error Validate returns.
type Problems []Problem

// maxListed is how many problems a config error lists: a file of 200,000
// unknown keys is told in a screen, with how many more there are.
const maxListed = 50

// problemList collects problems: the first maxListed, and a count of the
// others (not even formatted).
type problemList struct {
	list Problems
	more int
}

// full says whether a further problem is only counted.
func (l *problemList) full() bool { return len(l.list) >= maxListed }

func (l *problemList) add(p Problem) {
	if l.full() {
		l.more++
		return
	}
	l.list = append(l.list, p)
}

// count is the number of problems.
func (l *problemList) count() int { return len(l.list) + l.more }

// err is the Problems error, or nil when there are none.
func (l *problemList) err() error {
	if l.count() == 0 {
		return nil
	}
	if l.more == 0 {
		return l.list
	}
	return append(slices.Clip(l.list), Problem{Msg: fmt.Sprintf("and %d more problems", l.more)})
}

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// sortByLine orders problems as the file reads: those without a line
// (from a variable or a flag) first, in the order found, then by line.
func (ps Problems) sortByLine() {
	slices.SortStableFunc(ps, func(a, b Problem) int { return cmp.Compare(a.line(), b.line()) })
}

// line is the line number of p.Pos ("file:12"), 0 when it has none.
func (p Problem) line() int {
	i := strings.LastIndexByte(p.Pos, ':')
	if i < 0 {
		return 0
	}
	n, err := strconv.Atoi(p.Pos[i+1:])
	if err != nil {
		return 0
	}
	return n
}

// Parse reads a YAML config over the defaults. file names the source in
// messages. Only unreadable YAML is an error here: unknown keys and values
// of the wrong type are recorded and reported by Validate with every other
// problem.
func Parse(data []byte, file string) (*Config, error) {
	c := Default()
	root, err := parseYAML(data, file)
	if err != nil {
		return nil, err
	}
	if root != nil {
		c.srcFile = file
		if z, err := compress(data); err == nil {
			c.src = z
		}
		d := decoder{file: file, c: &c}
		d.value(root, reflect.ValueOf(&c).Elem(), "")
		for i := range c.Targets {
			c.Targets[i].pack()
		}
	}
	return &c, nil
}

// loadPositions fills pos, once, by decoding the YAML source again and
// recording where each value was written.
func (c *Config) loadPositions() {
	if c.src == nil {
		return
	}
	src, err := decompress(c.src)
	c.src = nil
	if err != nil {
		return
	}
	root, err := parseYAML(src, c.srcFile)
	if err != nil || root == nil {
		return
	}
	again := Default()
	d := decoder{file: c.srcFile, c: &again, positions: true, again: true}
	d.value(root, reflect.ValueOf(&again).Elem(), "")
	c.pos = again.pos
}

func parseYAML(data []byte, file string) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if err.Error() == "EOF" {
			return nil, nil
		}
		return nil, fmt.Errorf("config %s: %s", file, yamlLine(strings.TrimPrefix(err.Error(), "yaml: ")))
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	if err := checkExpansion(doc.Content[0]); err != nil {
		return nil, fmt.Errorf("config %s: %w", file, err)
	}
	return doc.Content[0], nil
}

// parserError matches the messages of yaml.v3's parser (not its scanner),
// which print a 0-based line number.
var parserError = regexp.MustCompile(`^line (\d+): (did not find expected (<document start>|node content|key|'-' indicator|',' or '\]'|',' or '\}'))$`)

// yamlLine corrects the line number of a yaml.v3 parser error.
func yamlLine(msg string) string {
	m := parserError.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	n, _ := strconv.Atoi(m[1])
	return fmt.Sprintf("line %d: %s", n+1, m[2])
}

// problem records a problem found at path.
func (c *Config) problem(path, msg string) {
	if c.problems.full() {
		c.problems.more++
		return
	}
	c.problems.add(c.at(path, msg))
}

// at is a Problem at path, with where the value at path (or its nearest
// parent) came from.
func (c *Config) at(path, msg string) Problem {
	p := Problem{Path: path, Msg: msg}
	c.loadPositions()
	for q := path; ; {
		if n, ok := c.names[q]; ok {
			p.Name = n
			return p
		}
		if pos, ok := c.pos[q]; ok {
			p.Pos = pos
			return p
		}
		i := strings.LastIndexAny(q, ".[")
		if i < 0 {
			return p
		}
		q = q[:i]
	}
}

func (c *Config) setPos(path, pos string) {
	if c.pos == nil {
		c.pos = map[string]string{}
	}
	c.pos[path] = pos
}

// decoder walks a YAML node tree onto Go values, strictly.
type decoder struct {
	file string
	c    *Config
	// positions: record where each value was written (loadPositions).
	positions bool
	// again: the source is decoded a second time for positions, its
	// problems already recorded.
	again bool
	// sections are the provider sections of the target being decoded,
	// packed straight from the YAML tree.
	sections map[string]section
}

var (
	durationType = reflect.TypeOf(time.Duration(0))
	discoverType = reflect.TypeOf(Target{}.Discover)
	targetType   = reflect.TypeOf(Target{})
)

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// value decodes n into v, recording positions and problems under path:
// durations and scalars from their text, structs key by key, lists item by
// item, provider sections as plain values.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if path != "" && d.positions {
		d.c.setPos(path, fmt.Sprintf("%s:%d", d.file, n.Line))
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if v.Type() == durationType {
		d.duration(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.structFields(n, v, path)
	case reflect.Slice:
		d.list(n, v, path)
	case reflect.Map:
		d.sectionMap(n, v, path)
	default:
		if n.Kind != yaml.ScalarNode {
			d.c.problem(path, "not a single value")
			return
		}
		if err := setScalar(v, n.Value, n.Tag); err != nil {
			d.c.problem(path, err.Error())
		}
	}
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.c.problem(path, "not a duration (like 500ms, 5s, 2m)")
		return
	}
	dur, err := ParseDuration(n.Value)
	if err != nil {
		d.c.problem(path, err.Error())
		return
	}
	v.SetInt(int64(dur))
}

// structFields decodes a mapping into struct v by its yaml field names;
// an unknown key is a problem (once, on the first pass). A target's
// discover: list goes to sources, its packed sections to Target.parsed.
func (d *decoder) structFields(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.c.problem(path, "not a mapping of keys to values")
		return
	}
	fields := yamlFields(v.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i].Value, n.Content[i+1]
		f, ok := fields[key]
		if ok && key == "discover" && v.Type() == targetType && resolve(val).Kind == yaml.SequenceNode {
			d.sources(resolve(val), v.Addr().Interface().(*Target), join(path, key))
			continue
		}
		if !ok {
			switch {
			case d.again:
			case d.c.problems.full():
				d.c.problems.more++
			default:
				d.c.problems.add(Problem{Path: path,
					Pos: fmt.Sprintf("%s:%d", d.file, n.Content[i].Line), Msg: unknownKey(key, fieldNames(v.Type()))})
			}
			continue
		}
		d.value(val, v.Field(f), join(path, key))
	}
	if d.sections != nil && v.Type() == targetType {
		v.Addr().Interface().(*Target).parsed, d.sections = d.sections, nil
	}
}

func (d *decoder) list(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.c.problem(path, "not a list")
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		d.value(e, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

// sectionMap decodes provider sections: decoded by the provider from plain
// values. A discover: mapping is packed straight from the tree when it can
// be (see packSections); otherwise the YAML decoder makes the map.
func (d *decoder) sectionMap(n *yaml.Node, v reflect.Value, path string) {
	if d.positions {
		d.recordPositions(n, path)
		return
	}
	if v.Type() == discoverType {
		if v.IsNil() && d.sections == nil {
			if sections, ok := packSections(n); ok {
				d.sections = sections
				return
			}
		} else if d.sections != nil {
			// discover: given twice: the YAML decoder merges the
			// second into the first.
			t := Target{parsed: d.sections}
			first, err := t.DiscoverSettings()
			if err != nil {
				d.c.problem(path, err.Error())
			}
			v.Set(reflect.ValueOf(first))
			d.sections = nil
		}
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		d.c.problem(path, "not a mapping of provider names to their settings")
	}
}

// setScalar sets a string, int or bool from its text. tag is the YAML
// tag, or "" for text from a variable or a flag.
func setScalar(v reflect.Value, s, tag string) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil || (tag != "" && tag != "!!int") {
			return fmt.Errorf("%q is not a whole number", s)
		}
		v.SetInt(int64(n))
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil || (tag != "" && tag != "!!bool") {
			return fmt.Errorf("%q is not true or false", s)
		}
		v.SetBool(b)
	default:
		return fmt.Errorf("config: cannot set a %s", v.Kind())
	}
	return nil
}

// yamlFields maps YAML key to field index.
func yamlFields(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.IsExported() && name != "" && name != "-" {
			m[name] = i
		}
	}
	return m
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if t.Field(i).IsExported() && name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// unknownKey says that key is not one of known, suggesting the closest.
func unknownKey(key string, known []string) string {
	msg := fmt.Sprintf("unknown key %q", key)
	if best := suggest.Closest(key, known); best != "" {
		return msg + fmt.Sprintf(", did you mean %q?", best)
	}
	return msg + " (known: " + strings.Join(known, ", ") + ")"
}

// recordPositions records where each key and item below n was written.
func (d *decoder) recordPositions(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := join(path, n.Content[i].Value)
			d.c.setPos(p, fmt.Sprintf("%s:%d", d.file, n.Content[i].Line))
			d.recordPositions(n.Content[i+1], p)
		}
	case yaml.SequenceNode:
		for i, e := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			d.c.setPos(p, fmt.Sprintf("%s:%d", d.file, e.Line))
			d.recordPositions(e, p)
		}
	}
}

// resolve is the node an alias stands for, or n.
func resolve(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode {
		return n.Alias
	}
	return n
}

// sources decodes discover: written as a list into t.Sources: each item a
// mapping of an optional group: and provider sections, packed as the
// single form's are.
func (d *decoder) sources(n *yaml.Node, t *Target, path string) {
	if d.positions {
		d.c.setPos(path, fmt.Sprintf("%s:%d", d.file, n.Line))
		d.recordPositions(n, path)
		return
	}
	t.Sources = make([]Source, 0, len(n.Content))
	for i, item := range n.Content {
		at := fmt.Sprintf("%s[%d]", path, i)
		item = resolve(item)
		var src Source
		if item.Kind != yaml.MappingNode {
			d.c.problem(at, "not a mapping of one provider section and an optional group:")
			t.Sources = append(t.Sources, src)
			continue
		}
		providers := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: item.Line, Column: item.Column}
		for j := 0; j+1 < len(item.Content); j += 2 {
			k, val := item.Content[j], resolve(item.Content[j+1])
			if k.Value != "group" {
				providers.Content = append(providers.Content, k, item.Content[j+1])
				continue
			}
			if val.Kind != yaml.ScalarNode || val.Tag == "!!null" || val.Value == "" {
				d.c.problem(at+".group", "not a group name")
				continue
			}
			src.Group = val.Value
		}
		if sections, ok := packSections(providers); ok {
			src.parsed = sections
		} else if err := providers.Decode(&src.Discover); err != nil {
			d.c.problem(at, "not a mapping of provider names to their settings")
		} else {
			src.pack()
		}
		t.Sources = append(t.Sources, src)
	}
}

package render

import (
	"bufio"
	"bytes"
	"encoding"
	"encoding/json"
	"io"
	"iter"
	"reflect"
	"strings"
)

// streamJSON writes v exactly as a json.Encoder with SetIndent("", "  ")
// does, but a list element at a time: a report of 100,000 instances is
// never one document in memory. Structs that hold lists are written field
// by field, lists element by element; anything else (a cell, a finding, a
// summary) is marshalled whole.
func streamJSON(w io.Writer, v any) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	s := &jsonStream{w: bw, encDepth: -1}
	s.value(reflect.ValueOf(v), 0)
	if s.err == nil {
		_, s.err = bw.WriteString("\n")
	}
	if s.err == nil {
		s.err = bw.Flush()
	}
	return s.err
}

type jsonStream struct {
	w   *bufio.Writer
	err error
	// buf and enc marshal one small value at a time, reused.
	buf bytes.Buffer
	enc *json.Encoder
	// encDepth is the nesting depth enc indents for (-1: none yet).
	encDepth int
}

// chunkedList is a list held in another form than a slice (diff.Cells,
// the compact matrix): the stream writes it a chunk at a time, each chunk
// a slice of its elements, and never asks for the whole list. Its
// MarshalJSON must write the same list, for encoding/json.
type chunkedList interface {
	Len() int
	JSONChunks(n int) iter.Seq[any]
}

// zeroer is what encoding/json's omitzero asks a value, when it can.
type zeroer interface{ IsZero() bool }

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	chunked       = reflect.TypeFor[chunkedList]()
	zeroerType    = reflect.TypeFor[zeroer]()
)

func (s *jsonStream) write(str string) {
	if s.err == nil {
		_, s.err = s.w.WriteString(str)
	}
}

func indent(depth int) string { return "\n" + strings.Repeat("  ", depth) }

// value writes v at nesting depth (its first line already indented).
func (s *jsonStream) value(v reflect.Value, depth int) {
	if s.err != nil {
		return
	}
	for v.Kind() == reflect.Pointer && !v.IsNil() && streamable(v.Elem().Type()) {
		v = v.Elem()
	}
	switch {
	case v.IsValid() && v.Type().Implements(chunked) && !(v.Kind() == reflect.Pointer && v.IsNil()):
		s.chunks(v.Interface().(chunkedList), depth)
	case v.Kind() == reflect.Slice && streamable(v.Type()):
		s.list(v, depth)
	case v.Kind() == reflect.Struct && streamable(v.Type()):
		s.object(v, depth)
	default:
		s.encode(v, depth)
		if s.err == nil {
			_, s.err = s.w.Write(s.buf.Bytes())
		}
	}
}

func (s *jsonStream) list(v reflect.Value, depth int) {
	switch {
	case v.IsNil():
		s.write("null")
		return
	case v.Len() == 0:
		s.write("[]")
		return
	}
	s.write("[")
	if !streamable(v.Type().Elem()) {
		// Small elements (cells, instances) go through the encoder a
		// batch at a time.
		for i := 0; i < v.Len(); i += batchSize {
			s.batch(v.Slice(i, min(i+batchSize, v.Len())), i > 0, depth)
			if s.err != nil {
				return
			}
		}
	} else {
		for i := range v.Len() {
			if i > 0 {
				s.write(",")
			}
			s.write(indent(depth + 1))
			s.value(v.Index(i), depth+1)
		}
	}
	s.write(indent(depth) + "]")
}

// batchSize is the number of small elements encoded at once.
const batchSize = 256

// batch writes the elements of the slice v, after a comma when more is
// set: the encoder's brackets around them are cut off.
func (s *jsonStream) batch(v reflect.Value, more bool, depth int) {
	if more {
		s.write(",")
	}
	s.encode(v, depth)
	if s.err != nil {
		return
	}
	// "[" + elements + indent(depth) + "]": the elements stay.
	s.buf.Truncate(s.buf.Len() - len(indent(depth)) - 1)
	_, s.err = s.w.Write(s.buf.Bytes()[1:])
}

// chunks writes a chunked list as list writes a slice of small elements.
func (s *jsonStream) chunks(l chunkedList, depth int) {
	if l.Len() == 0 {
		s.write("[]")
		return
	}
	s.write("[")
	more := false
	for chunk := range l.JSONChunks(batchSize) {
		s.batch(reflect.ValueOf(chunk), more, depth)
		if s.err != nil {
			return
		}
		more = true
	}
	s.write(indent(depth) + "]")
}

// encode leaves in s.buf v as json.MarshalIndent(v, prefix, "  ") writes
// it at depth, through one reused encoder.
func (s *jsonStream) encode(v reflect.Value, depth int) {
	if s.encDepth != depth {
		s.enc = json.NewEncoder(&s.buf)
		s.enc.SetIndent(strings.Repeat("  ", depth), "  ")
		s.encDepth = depth
	}
	s.buf.Reset()
	if err := s.enc.Encode(v.Interface()); err != nil {
		s.err = err
		return
	}
	s.buf.Truncate(s.buf.Len() - 1) // the encoder's newline
}

func (s *jsonStream) object(v reflect.Value, depth int) {
	n := s.fields(v, depth, 0)
	if n == 0 {
		s.write("{}")
		return
	}
	s.write(indent(depth) + "}")
}

// fields writes the fields of struct v, the n-th of its object first
// (opening the object at the first), and returns how many the object
// then has: an embedded struct's fields are the object's, as
// encoding/json writes them.
func (s *jsonStream) fields(v reflect.Value, depth, n int) int {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		fv := v.Field(i)
		if inlined(f) {
			n = s.fields(fv, depth, n)
			continue
		}
		name, omitEmpty, omitZero, ok := jsonField(f)
		if !ok || (omitEmpty && isEmptyJSON(fv)) || (omitZero && isZeroJSON(fv)) {
			continue
		}
		if n == 0 {
			s.write("{")
		} else {
			s.write(",")
		}
		n++
		key, _ := json.Marshal(name)
		s.write(indent(depth+1) + string(key) + ": ")
		s.value(fv, depth+1)
	}
	return n
}

// inlined says whether encoding/json writes f's fields in place of f: an
// embedded struct (not a pointer) without a name in its tag.
func inlined(f reflect.StructField) bool {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return f.Anonymous && f.Type.Kind() == reflect.Struct && name == "" && f.Tag.Get("json") != "-"
}

// jsonField reads f's json tag as encoding/json does, for the plain
// fields streamable allows.
func jsonField(f reflect.StructField) (name string, omitEmpty, omitZero, ok bool) {
	if !f.IsExported() {
		return "", false, false, false
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false, false, false
	}
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	for _, o := range strings.Split(opts, ",") {
		omitEmpty = omitEmpty || o == "omitempty"
		omitZero = omitZero || o == "omitzero"
	}
	return name, omitEmpty, omitZero, true
}

// isZeroJSON is encoding/json's test for omitzero: the value's IsZero
// method when it has one (a nil pointer is zero), else the zero value.
func isZeroJSON(v reflect.Value) bool {
	if v.Type().Implements(zeroerType) {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			return true
		}
		return v.Interface().(zeroer).IsZero()
	}
	return v.IsZero()
}

// isEmptyJSON is encoding/json's test for omitempty.
func isEmptyJSON(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// streamable reports whether values of t are written piece by piece: a
// slice of anything but bytes, or a plain struct (no custom marshalling,
// no embedded or string-tagged fields) with a slice field. Marshalling
// those whole is what the stream avoids; everything else is small.
func streamable(t reflect.Type) bool {
	if t.Implements(jsonMarshaler) || t.Implements(textMarshaler) ||
		reflect.PointerTo(t).Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(textMarshaler) {
		return false
	}
	switch t.Kind() {
	case reflect.Slice:
		return t.Elem().Kind() != reflect.Uint8
	case reflect.Struct:
		return plainFields(t) == 1
	}
	return false
}

// plainFields is 1 when struct t's fields, and those of the structs it
// embeds (inlined), are plain and one of them is a list; 0 when they are
// plain and none is; -1 when one is not plain (an embedded pointer,
// interface or marshaler, or a ",string" option).
func plainFields(t reflect.Type) int {
	lists := 0
	for i := range t.NumField() {
		f := t.Field(i)
		if inlined(f) {
			if f.Type.Implements(jsonMarshaler) || f.Type.Implements(textMarshaler) ||
				reflect.PointerTo(f.Type).Implements(jsonMarshaler) || reflect.PointerTo(f.Type).Implements(textMarshaler) {
				return -1
			}
			switch plainFields(f.Type) {
			case -1:
				return -1
			case 1:
				lists = 1
			}
			continue
		}
		if f.Anonymous || strings.Contains(f.Tag.Get("json"), ",string") {
			return -1
		}
		if f.IsExported() && f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() != reflect.Uint8 {
			lists = 1
		}
	}
	return lists
}

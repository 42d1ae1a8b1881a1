package schemagen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/invopop/jsonschema"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/diff/severity"
	"github.com/corsaudit/corsaudit/docs/schema"
	"github.com/corsaudit/corsaudit/pipeline"
	"github.com/corsaudit/corsaudit/providers"
)

// BaseURL is where the committed schemas are published; each schema's
// $id is BaseURL + name + ".json".
const BaseURL = "https://raw.githubusercontent.com/corsaudit/corsaudit/main/docs/schema/"

// module is the import path of corsaudit's module.
const module = "github.com/corsaudit/corsaudit"

// commentDirs are the packages whose doc comments describe the documents'
// fields (subdirectories included).
var commentDirs = []string{"config", "providers", "diff", "audit", "pipeline", "discovery"}

// Generator makes the schemas. Its comments are read once from the
// module's source. It makes one schema at a time.
type Generator struct {
	comments map[string]string
	// names maps each definition name given in the schema being made to
	// its type.
	names map[string]reflect.Type
}

// New reads the doc comments of the module whose root directory is root.
func New(root string) (*Generator, error) {
	// AddGoComments keys each package by base joined with the directory
	// walked, relative to the working directory: base is the import path
	// of the working directory, so that "../../config" from cmd/corsaudit
	// is keyed github.com/corsaudit/corsaudit/config.
	wd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("schemagen: %w", err)
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("schemagen: %w", err)
	}
	here, err := filepath.Rel(absRoot, wd)
	if err != nil || strings.HasPrefix(here, "..") {
		return nil, fmt.Errorf("schemagen: the working directory %s is not inside the module at %s", wd, absRoot)
	}
	up, err := filepath.Rel(wd, absRoot)
	if err != nil {
		return nil, fmt.Errorf("schemagen: %w", err)
	}
	r := &jsonschema.Reflector{}
	base := path.Join(module, filepath.ToSlash(here))
	for _, dir := range commentDirs {
		if err := r.AddGoComments(base, filepath.Join(up, dir)); err != nil {
			return nil, fmt.Errorf("schemagen: comments of %s: %w", dir, err)
		}
		if err := unexportedComments(r.CommentMap, absRoot, dir); err != nil {
			return nil, fmt.Errorf("schemagen: comments of %s: %w", dir, err)
		}
	}
	return &Generator{comments: r.CommentMap}, nil
}

// unexportedComments adds to comments, keyed as AddGoComments keys them,
// the doc comments of the unexported struct types under root/dir and of
// their exported fields, which AddGoComments leaves out: a document's
// parts need not be exported by Go (pipeline's shardTarget).
func unexportedComments(comments map[string]string, root, dir string) error {
	return filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		pkg := path.Join(module, filepath.ToSlash(rel))
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				st, ok := ts.Type.(*ast.StructType)
				if ast.IsExported(ts.Name.Name) || !ok {
					continue
				}
				txt := ts.Doc.Text()
				if txt == "" && len(gd.Specs) == 1 {
					txt = gd.Doc.Text()
				}
				if txt != "" {
					comments[pkg+"."+ts.Name.Name] = strings.TrimSpace(new(doc.Package).Synopsis(txt))
				}
				for _, field := range st.Fields.List {
					txt := field.Doc.Text()
					if txt == "" {
						txt = field.Comment.Text()
					}
					for _, n := range field.Names {
						if txt != "" && n.IsExported() {
							comments[pkg+"."+ts.Name.Name+"."+n.Name] = strings.TrimSpace(txt)
						}
					}
				}
			}
		}
		return nil
	})
}

// Generate returns the schema of document name (one of schema.Names), as
// indented JSON ending in a newline.
func (g *Generator) Generate(name string) ([]byte, error) {
	g.names = map[string]reflect.Type{}
	var s *jsonschema.Schema
	switch name {
	case "config":
		s = g.config()
	case "report":
		s = g.output(&diff.Report{}, "corsaudit report",
			"The JSON report of `corsaudit audit`, `gate`, `demo` and `merge` (--format json). Every list is present, [] when empty (render.JSON).", true)
		g.addDef(s, &diff.Cell{}, true) // TargetReport.Cells holds them
	case "inventory":
		s = g.output(&pipeline.Inventory{}, "corsaudit inventory",
			"What `corsaudit discover --format json` writes: every target with its instances and probe plan, and the config it came from; `corsaudit audit --inventory FILE --shard K/N` reads it.", false)
		constant(s, "", "kind", pipeline.FileKindInventory)
		constant(s, "", "format", pipeline.FormatVersion)
	case "shard":
		s = g.shard()
	default:
		return nil, fmt.Errorf("schemagen: no schema named %q (known: %s)", name, strings.Join(schema.Names, ", "))
	}
	s.ID = jsonschema.ID(BaseURL + name + ".json")
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("schemagen: %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// reflector is a Reflector with the comments, definitions named by
// g.name, keys read from tag and types mapped by mapper first.
func (g *Generator) reflector(tag string, mapper func(reflect.Type) *jsonschema.Schema) *jsonschema.Reflector {
	return &jsonschema.Reflector{
		FieldNameTag: tag,
		CommentMap:   g.comments,
		Namer:        g.name,
		Mapper:       mapper,
		// The root is the document itself, not a reference to it.
		ExpandedStruct: true,
	}
}

// name names the definition of type t: its Go name, capitalised (the
// documents name their parts, whether or not Go exports them: Shard's
// shardTarget is ShardTarget), qualified by its package (http.Header,
// cors.Header) when another type of the schema already has that name.
func (g *Generator) name(t reflect.Type) string {
	n := t.Name()
	if n == "" {
		return ""
	}
	n = strings.ToUpper(n[:1]) + n[1:]
	if other, ok := g.names[n]; ok && other != t {
		n = path.Base(t.PkgPath()) + "." + n
	}
	g.names[n] = t
	return n
}

// durationString is a duration as the config writes it: a number with a
// unit, as Go's time.ParseDuration reads it (config.ParseDuration).
var durationString = &jsonschema.Schema{
	Type:        "string",
	Pattern:     `^(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`,
	Description: "A duration with its unit: 500ms, 5s, 2m, 1h30m.",
	Examples:    []any{"5s"},
}

// configTypes maps the types the config writes its own way: durations as
// strings with a unit.
func configTypes(t reflect.Type) *jsonschema.Schema {
	if t == reflect.TypeOf(time.Duration(0)) {
		d := *durationString
		return &d
	}
	return nil
}

// providerTypes maps the types of provider sections as config.Build
// decodes them, weakly typed: a number where a string is expected (`port:
// 8080` for a port given by name or number), a whole number in a string
// where a number is; durations as configTypes does.
func providerTypes(t reflect.Type) *jsonschema.Schema {
	switch t {
	case reflect.TypeOf(""):
		return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{{Type: "string"}, {Type: "integer"}}}
	case reflect.TypeOf(0):
		return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{{Type: "integer"}, {Type: "string", Pattern: `^[+-]?[0-9]+$`}}}
	}
	return configTypes(t)
}

// enumStrings are values as a JSON Schema enum.
func enumStrings[T ~string](values []T) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// outputTypes maps the named string types of the JSON outputs to the
// values they take (the owners' lists).
func outputTypes(t reflect.Type) *jsonschema.Schema {
	switch t {
	case reflect.TypeOf(diff.Kind("")):
		kinds := make([]diff.Kind, len(diff.Kinds))
		for i, k := range diff.Kinds {
			kinds[i] = k.Kind
		}
		return &jsonschema.Schema{Type: "string", Enum: enumStrings(kinds), Description: "A finding kind (docs/findings.md)."}
	case reflect.TypeOf(diff.Severity("")):
		return &jsonschema.Schema{Type: "string", Enum: enumStrings([]diff.Severity{diff.SeverityError, diff.SeverityWarning, diff.SeverityInfo})}
	case reflect.TypeOf(cors.Browser("")):
		return &jsonschema.Schema{Type: "string", Enum: enumStrings(cors.Browsers)}
	case reflect.TypeOf(time.Duration(0)):
		return &jsonschema.Schema{Type: "integer", Description: "Nanoseconds."}
	case reflect.TypeOf(diff.Cells{}):
		return &jsonschema.Schema{Type: "array", Items: &jsonschema.Schema{Ref: "#/$defs/Cell"}}
	}
	return nil
}

// output is the schema of a JSON document written from v's type. Unless
// lists is true (the writer writes every list, if empty, as []), a nil
// pointer, slice or map may be written as null.
func (g *Generator) output(v any, title, description string, lists bool) *jsonschema.Schema {
	r := g.reflector("json", outputTypes)
	s := r.Reflect(v)
	s.Title, s.Description = title, description
	if !lists {
		g.nullable(s, reflect.TypeOf(v))
	}
	g.describe(s, reflect.TypeOf(v), "json")
	return s
}

// eachField calls fn for each exported field of t's struct type and of
// the struct types it uses, with the definition that describes the
// struct (root for t itself) and the field's key under tag.
func (g *Generator) eachField(root *jsonschema.Schema, t reflect.Type, tag string, fn func(def *jsonschema.Schema, f reflect.StructField, key string, opts []string)) {
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, def *jsonschema.Schema)
	var fields func(t reflect.Type, def *jsonschema.Schema)
	walk = func(t reflect.Type, def *jsonschema.Schema) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		if def == nil {
			def = root.Definitions[g.name(t)]
		}
		fields(t, def)
	}
	// fields visits t's fields as fields of def: an embedded struct
	// without a key is inlined, its fields described where they appear.
	fields = func(t reflect.Type, def *jsonschema.Schema) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get(tag), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				fields(f.Type, def)
				continue
			}
			if name == "" {
				name = f.Name
			}
			walk(f.Type, nil)
			if def != nil && def.Properties != nil {
				fn(def, f, name, strings.Split(opts, ","))
			}
		}
	}
	walk(t, root)
}

// nullable lets every value that encoding/json may write as null also be
// null: a nil pointer, slice or map, in a field without omitempty or
// inside a list or map. t is the type of the document s.
func (g *Generator) nullable(s *jsonschema.Schema, t reflect.Type) {
	g.eachField(s, t, "json", func(def *jsonschema.Schema, f reflect.StructField, key string, opts []string) {
		if p, ok := def.Properties.Get(key); ok {
			omit := slices.Contains(opts, "omitempty") || slices.Contains(opts, "omitzero")
			def.Properties.Set(key, orNull(p, f.Type, !omit))
		}
	})
}

// orNull is p, the schema of a value of type t, letting nil values inside
// it be null, and the value itself when self is true.
func orNull(p *jsonschema.Schema, t reflect.Type, self bool) *jsonschema.Schema {
	k := t.Kind()
	if p.Ref == "" {
		switch {
		case k == reflect.Slice && p.Items != nil:
			p.Items = orNull(p.Items, t.Elem(), true)
		case k == reflect.Map && p.AdditionalProperties != nil && p.AdditionalProperties != jsonschema.FalseSchema:
			p.AdditionalProperties = orNull(p.AdditionalProperties, t.Elem(), true)
		}
	}
	if !self || t == reflect.TypeOf(json.RawMessage{}) || (k != reflect.Pointer && k != reflect.Slice && k != reflect.Map) {
		return p
	}
	inner := *p
	inner.Description = ""
	return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{&inner, {Type: "null"}}, Description: p.Description}
}

// describe words the descriptions taken from doc comments for the
// document's reader: a field's comment starts with its key rather than
// its Go name, a definition's with its name, and lines are joined.
func (g *Generator) describe(s *jsonschema.Schema, t reflect.Type, tag string) {
	g.eachField(s, t, tag, func(def *jsonschema.Schema, f reflect.StructField, key string, _ []string) {
		if p, ok := def.Properties.Get(key); ok {
			if rest, ok := strings.CutPrefix(p.Description, f.Name+" "); ok {
				p.Description = key + " " + rest
			}
		}
	})
	for name, def := range s.Definitions {
		// An unexported type's comment starts with its Go name.
		lower := strings.ToLower(name[:1]) + name[1:]
		if rest, ok := strings.CutPrefix(def.Description, lower+" "); ok {
			def.Description = name + " " + rest
		}
	}
	walkSchemas(s, func(s *jsonschema.Schema) {
		paras := strings.Split(s.Description, "\n\n")
		for i, p := range paras {
			paras[i] = strings.Join(strings.Fields(p), " ")
		}
		s.Description = strings.Join(paras, "\n\n")
	})
}

// walkSchemas calls fn on s and every schema inside it.
func walkSchemas(s *jsonschema.Schema, fn func(*jsonschema.Schema)) {
	if s == nil {
		return
	}
	fn(s)
	for _, d := range s.Definitions {
		walkSchemas(d, fn)
	}
	if s.Properties != nil {
		for pair := s.Properties.Oldest(); pair != nil; pair = pair.Next() {
			walkSchemas(pair.Value, fn)
		}
	}
	for _, sub := range slices.Concat(s.AnyOf, s.OneOf, s.AllOf) {
		walkSchemas(sub, fn)
	}
	walkSchemas(s.Items, fn)
	walkSchemas(s.AdditionalProperties, fn)
}

// constant fixes the property key of definition def to value.
func constant(s *jsonschema.Schema, def, key string, value any) {
	if p := property(s, def, key); p != nil {
		p.Const = value
	}
}

// property is the schema of property key of definition def (the root
// when def is ""), nil when there is none. Of a property that may be null,
// it is the schema of its other values.
func property(s *jsonschema.Schema, def, key string) *jsonschema.Schema {
	d := s
	if def != "" {
		d = s.Definitions[def]
	}
	if d == nil || d.Properties == nil {
		return nil
	}
	p, _ := d.Properties.Get(key)
	if p != nil && len(p.AnyOf) == 2 && p.AnyOf[1].Type == "null" {
		return p.AnyOf[0]
	}
	return p
}

// shard is the shard file's schema: its interned lists hold requests,
// answers and verdicts.
func (g *Generator) shard() *jsonschema.Schema {
	s := g.output(&pipeline.Shard{}, "corsaudit shard",
		"What `corsaudit audit --inventory FILE --shard K/N` writes: one shard's observations, which `corsaudit merge` reads.", false)
	constant(s, "", "kind", pipeline.FileKindShard)
	constant(s, "", "format", pipeline.FormatVersion)
	lists := []struct {
		key  string
		v    any
		null bool
	}{
		{"requests", &audit.SentRequest{}, true},
		{"answers", &audit.Exchange{}, false},
		{"verdicts", &cors.Verdict{}, true},
	}
	for _, l := range lists {
		item := &jsonschema.Schema{Ref: "#/$defs/" + g.addDef(s, l.v, false)}
		if l.null {
			item = &jsonschema.Schema{AnyOf: []*jsonschema.Schema{item, {Type: "null"}}}
		}
		property(s, "", l.key).Items = item
	}
	return s
}

// addDef adds the definition of v's type (a pointer to a struct) and of
// the types it uses to s, and returns its name. lists is as for output.
func (g *Generator) addDef(s *jsonschema.Schema, v any, lists bool) string {
	t := reflect.TypeOf(v).Elem()
	sub := g.reflector("json", outputTypes).Reflect(v)
	if !lists {
		g.nullable(sub, t)
	}
	g.describe(sub, t, "json")
	for k, d := range sub.Definitions {
		s.Definitions[k] = d
	}
	sub.Definitions, sub.Version, sub.ID = nil, "", ""
	name := g.name(t)
	s.Definitions[name] = sub
	return name
}

// config is the config file's schema: YAML keys, durations as strings,
// each registered provider's section, values from their owners' lists
// and the defaults of config.Default.
func (g *Generator) config() *jsonschema.Schema {
	r := g.reflector("yaml", configTypes)
	r.RequiredFromJSONSchemaTags = true // required keys are set below
	s := r.Reflect(&config.Config{})
	s.Title = "corsaudit config"
	s.Description = "The corsaudit config file (corsaudit.yaml): `corsaudit config check FILE` validates it completely; this schema lets an editor complete and check it as you type."
	s.Required = []string{"targets"}

	// The default of every setting, from config.Default (durations as
	// the config writes them).
	def := reflect.ValueOf(config.Default())
	for i := range def.NumField() {
		key, _, _ := strings.Cut(def.Type().Field(i).Tag.Get("yaml"), ",")
		p := property(s, "", key)
		if p == nil || !slices.Contains(config.Settings, key) {
			continue
		}
		p.Default = def.Field(i).Interface()
		if d, ok := p.Default.(time.Duration); ok {
			p.Default = d.String()
		}
	}
	for _, key := range []string{"concurrency", "per_instance", "max_probes"} {
		property(s, "", key).Minimum = "1"
	}
	browsers := enumStrings(cors.Browsers)
	property(s, "", "browser").Enum = append(browsers, "safari")
	property(s, "", "fail_on").Enum = enumStrings(severity.FailOnLevels)
	checks := property(s, "", "checks")
	checks.Items.Enum = enumStrings(audit.Analyses)
	checks.UniqueItems = true
	property(s, "", "targets").MinItems = ptr(1)

	target := s.Definitions["Target"]
	target.Required = []string{"discover", "policy"}
	target.Properties.Set("discover", g.discover(s))
	property(s, "Direct", "scheme").Enum = []any{"http", "https"}
	property(s, "LB", "samples").Minimum = "0"
	property(s, "Policy", "origins").MinItems = ptr(1)
	s.Definitions["Policy"].Required = []string{"origins"}
	g.describe(s, reflect.TypeOf(config.Config{}), "yaml")
	return s
}

// discover is the schema of a target's discover: section, whose
// registered providers' sections it adds to root's definitions
// ("provider.aws"): a mapping of exactly one provider section, or a list
// of sources, each one provider section and an optional group:.
func (g *Generator) discover(root *jsonschema.Schema) *jsonschema.Schema {
	r := g.reflector("mapstructure", providerTypes)
	r.RequiredFromJSONSchemaTags = true // each provider says what it needs
	r.DoNotReference = true
	sections := jsonschema.NewProperties()
	var oneProvider []*jsonschema.Schema
	names := providers.Names()
	for _, name := range names {
		p, err := providers.Get(name)
		if err != nil {
			continue
		}
		help, _, _ := strings.Cut(p.Help, "\n")
		help = strings.TrimSpace(help)
		if !strings.HasSuffix(help, ".") {
			help += "."
		}
		var sec *jsonschema.Schema
		if p.Config != nil {
			sec = r.Reflect(p.Config)
			sec.Version, sec.ID, sec.Definitions = "", "", nil
			g.describe(sec, reflect.TypeOf(p.Config), "mapstructure")
		} else {
			sec = &jsonschema.Schema{Type: "object"}
		}
		sec.Title = name
		sec.Description = help + " `corsaudit providers " + name + "` lists every key with an example."
		root.Definitions["provider."+name] = sec
		sections.Set(name, &jsonschema.Schema{Ref: "#/$defs/provider." + name})
		oneProvider = append(oneProvider, &jsonschema.Schema{Required: []string{name}})
	}
	single := &jsonschema.Schema{
		Type:                 "object",
		Description:          "One provider section (" + strings.Join(names, ", ") + ").",
		Properties:           sections,
		AdditionalProperties: jsonschema.FalseSchema,
		MinProperties:        ptr(1),
		MaxProperties:        ptr(1),
	}
	source := &jsonschema.Schema{
		Type:                 "object",
		Description:          "One source: one provider section, and the group of every instance it finds.",
		Properties:           jsonschema.NewProperties(),
		AdditionalProperties: jsonschema.FalseSchema,
		OneOf:                oneProvider,
	}
	source.Properties.Set("group", &jsonschema.Schema{Type: "string", MinLength: ptr(1),
		Description: "The group of every instance the source finds (what gate --baseline and --candidate name), whatever the provider says."})
	for pair := sections.Oldest(); pair != nil; pair = pair.Next() {
		source.Properties.Set(pair.Key, pair.Value)
	}
	return &jsonschema.Schema{
		Description: "Where the target's instances come from: one provider section, or a list of sources whose instances make one target.",
		OneOf:       []*jsonschema.Schema{single, {Type: "array", MinItems: ptr(1), Items: source}},
	}
}

func ptr(n uint64) *uint64 { return &n }

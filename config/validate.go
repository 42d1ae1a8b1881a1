package config

import (
	"context"
	"crypto/tls"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/go-viper/mapstructure/v2"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/diff/severity"
	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/providers"
)

// BuiltTarget is a valid target with its provider, ready to discover and
// audit.
type BuiltTarget struct {
	// Index is the target's place in targets:.
	Index int
	// Name is the configured name (empty: named from what is discovered).
	Name string
	// URL is the configured public URL (empty: the provider's).
	URL      string
	Label    string // Name, else the URL's host, else "target-N"
	Provider discovery.Provider
	Policy   audit.Policy
	Direct   audit.Direct
	LB       audit.LB
	// Fronts are the layers in front of the instances, outermost first
	// (nil: the load balancer at the URL).
	Fronts []audit.Front
	// Paths are the paths probed (nil: the URL's).
	Paths []string
	// Auth is the secret sent where a browser sends it (nil: none).
	Auth *audit.Credential
	// TLS is the target's TLS configuration (nil: the defaults).
	TLS *tls.Config
}

// Built is a valid config with its targets built: what a run receives.
// It is built once (Build) and handed on; nothing downstream reads a file
// or a variable again.
type Built struct {
	// Config is the config built: the run's settings.
	Config *Config
	// Targets are its targets, in config order (a subset with Only).
	Targets []BuiltTarget
	// credentials: every target's secret and TLS files were read (Build,
	// not BuildDiscovery).
	credentials bool
}

// Validate checks the whole config, listing every problem at once in a
// Problems error. It reads no file and no variable and builds no provider
// (each provider checks its own section: providers.Checker): what `config
// check` needs. Build checks the same before it builds.
func (c *Config) Validate() error {
	v := &validation{c: c}
	v.config()
	return v.err()
}

// Build checks the config as Validate does, then builds what a run needs,
// once: each target's provider, its secret (the variable or file its auth
// section names) and its TLS files (CA, client certificate). The result
// is handed to the run (pipeline.Audit, DiscoverInventory, AuditShard, the
// exporter). The error, if any, is Problems: Validate's, and what reading
// the secrets and files found.
func (c *Config) Build() (*Built, error) {
	return c.build(true)
}

// BuildDiscovery is Build without the secrets and the TLS files, for a
// command that sends no request to the targets (discover): it works where
// only the probing machine holds them. Its targets carry no Auth and no
// TLS, and a run refuses to probe with it (Probes).
func (c *Config) BuildDiscovery() (*Built, error) {
	return c.build(false)
}

func (c *Config) build(credentials bool) (*Built, error) {
	v := &validation{c: c, build: true, credentials: credentials}
	built := v.config()
	if err := v.err(); err != nil {
		return nil, err
	}
	return &Built{Config: c, Targets: built, credentials: credentials}, nil
}

// Probes says whether a run may probe with b: its secrets and TLS files
// were read (Build). A BuildDiscovery result would send no credential
// where a browser sends one.
func (b *Built) Probes() bool { return b.credentials }

// Only is b narrowed to targets, some of b.Targets (the exporter audits
// one target at a time); it shares b's config and providers.
func (b *Built) Only(targets ...BuiltTarget) *Built {
	return &Built{Config: b.Config, Targets: targets, credentials: b.credentials}
}

// WithPolicy is b with every target's policy replaced by p (gate
// --policy), sharing b's providers and secrets: what Build gives for the
// config with p in every target. Its problems are what Validate finds
// then: an auth section that p gives a browser no way to send.
func (b *Built) WithPolicy(p Policy) (*Built, error) {
	cfg := *b.Config
	cfg.problems = problemList{}
	cfg.Targets = slices.Clone(cfg.Targets)
	out := &Built{Config: &cfg, Targets: slices.Clone(b.Targets), credentials: b.credentials}
	v := &validation{c: &cfg}
	for i := range cfg.Targets {
		cfg.Targets[i].Policy = p
		v.sendable(cfg.Targets[i].Auth, p, fmt.Sprintf("targets[%d].auth", i))
	}
	for i := range out.Targets {
		out.Targets[i].Policy = p.AuditPolicy()
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// config checks the settings and every target; when building, it returns
// the targets built.
func (v *validation) config() []BuiltTarget {
	c := v.c
	v.problems = c.problems
	v.problems.list = slices.Clone(v.problems.list)
	if c.Concurrency < 1 {
		v.bad("concurrency", "%d must be at least 1", c.Concurrency)
	}
	if c.PerInstance < 1 {
		v.bad("per_instance", "%d must be at least 1", c.PerInstance)
	}
	if c.Timeout <= 0 {
		v.bad("timeout", "%s must be positive", c.Timeout)
	}
	if c.Deadline < c.Timeout {
		v.bad("deadline", "%s is shorter than timeout %s", c.Deadline, c.Timeout)
	}
	if _, err := cors.ParseBrowser(c.Browser); err != nil {
		v.bad("browser", "%s", strings.TrimPrefix(err.Error(), "browser: "))
	}
	if _, err := severity.ParseFailOn(c.FailOn); err != nil {
		v.bad("fail_on", "%s", strings.TrimPrefix(err.Error(), "fail-on: "))
	}
	for i, ch := range c.Analyses {
		if !slices.Contains(audit.Analyses, ch) {
			v.bad(fmt.Sprintf("checks[%d]", i), "%q is not one of %s", ch, strings.Join(audit.Analyses, ", "))
		}
	}
	if c.MaxProbes < 1 {
		v.bad("max_probes", "%d must be at least 1", c.MaxProbes)
	}
	if c.Interval <= 0 {
		v.bad("interval", "%s must be positive", c.Interval)
	}
	if len(c.Targets) == 0 {
		v.bad("targets", "at least one target is required")
	}
	var built []BuiltTarget
	names := map[string]int{}
	for i, t := range c.Targets {
		field := fmt.Sprintf("targets[%d]", i)
		if t.Name != "" {
			if j, dup := names[t.Name]; dup {
				v.bad(field+".name", "%q already used by targets[%d]", t.Name, j)
			}
			names[t.Name] = i
		}
		if t.URL != "" {
			if _, err := TargetURL(t.URL); err != nil {
				v.bad(field+".url", "%s", err)
			}
		}
		if err := discovery.CheckScheme(t.Direct.Scheme); err != nil {
			v.bad(field+".direct.scheme", "%s", err)
		}
		if t.LB.Samples < 0 {
			v.bad(field+".lb.samples", "%d must not be negative", t.LB.Samples)
		}
		v.policy(t.Policy, field+".policy")
		v.paths(t.Paths, field+".paths")
		fronts := v.fronts(t, field+".fronts")
		cred := v.auth(t, field+".auth")
		tlsConf := v.tls(t.TLS, field+".tls")
		prov, _ := v.provider(t, field)
		if t.URL == "" && t.hasSettings("static") {
			v.bad(field+".url", "required with the static provider (the public URL through the load balancer)")
		}
		if v.build {
			built = append(built, BuiltTarget{Index: i, Name: t.Name, URL: t.URL, Label: label(t, i), Provider: prov,
				Policy: t.Policy.AuditPolicy(),
				Direct: audit.Direct{Scheme: t.Direct.Scheme, InsecureSkipVerify: t.Direct.InsecureSkipVerify},
				LB:     audit.LB{Samples: t.LB.Samples, InstanceHeader: t.LB.InstanceHeader, Disabled: t.LB.Disabled},
				Fronts: fronts, Paths: t.Paths, Auth: cred, TLS: tlsConf})
		}
	}
	v.problems.list.sortByLine()
	return built
}

// frontName is what a front's name may be: a short word that reads in a
// message ("the cdn front").
var frontName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)

// fronts checks a target's fronts at path.
func (v *validation) fronts(t Target, path string) []audit.Front {
	if len(t.Fronts) == 0 {
		return nil
	}
	if t.LB.Disabled {
		v.bad(strings.TrimSuffix(path, ".fronts")+".lb.disabled", "true samples none of the fronts: remove it or fronts:")
	}
	var out []audit.Front
	seen := map[string]int{}
	for j, f := range t.Fronts {
		field := fmt.Sprintf("%s[%d]", path, j)
		switch {
		case f.Name == "":
			v.bad(field+".name", "required (the name findings give the layer: cdn, lb)")
		case !frontName.MatchString(f.Name):
			v.bad(field+".name", "%q is not a short name (letters, digits, '.', '_' and '-', up to 32)", f.Name)
		default:
			if k, dup := seen[f.Name]; dup {
				v.bad(field+".name", "%q already names fronts[%d]", f.Name, k)
			}
			seen[f.Name] = j
		}
		switch {
		case f.URL == "" && f.Address == "":
			v.bad(field, "give url: (the layer's own URL) or address: (host:port dialled with the public Host and SNI)")
		case f.URL != "" && f.Address != "":
			v.bad(field, "give url: or address:, not both")
		case f.URL != "":
			if _, err := TargetURL(f.URL); err != nil {
				v.bad(field+".url", "%s", err)
			}
		default:
			if err := discovery.CheckAddr(f.Address); err != nil {
				v.bad(field+".address", "%s", err)
			}
		}
		out = append(out, audit.Front{Name: f.Name, URL: f.URL, Address: f.Address})
	}
	return out
}

func label(t Target, i int) string {
	if t.Name != "" {
		return t.Name
	}
	if u, err := TargetURL(t.URL); err == nil {
		return u.Host
	}
	return fmt.Sprintf("target-%d", i+1)
}

// validation collects the problems of one Validate or Build.
type validation struct {
	c        *Config
	problems problemList
	// build: make each provider (else only check its section);
	// credentials: read each target's secret and TLS files.
	build, credentials bool
}

// err is the problems found, as a Problems error (nil: none).
func (v *validation) err() error { return v.problems.err() }

func (v *validation) bad(path, format string, a ...any) {
	if v.problems.full() {
		v.problems.more++
		return
	}
	v.problems.add(v.c.at(path, fmt.Sprintf(format, a...)))
}

// policy checks a policy (of a target, or the gate's policy file) at path.
func (v *validation) policy(p Policy, path string) {
	for j, o := range p.Origins {
		if _, err := cors.ParseOrigin(o); err != nil {
			v.bad(fmt.Sprintf("%s[%d]", join(path, "origins"), j), "%s", err)
		}
	}
	for j, m := range p.Methods {
		if !cors.IsToken(m) {
			v.bad(fmt.Sprintf("%s[%d]", join(path, "methods"), j), "%q is not an HTTP method", m)
		}
	}
	for j, h := range p.Headers {
		if !cors.IsToken(h) {
			v.bad(fmt.Sprintf("%s[%d]", join(path, "headers"), j), "%q is not a header name", h)
		}
	}
	if len(p.Origins) == 0 {
		v.bad(join(path, "origins"), "at least one origin is required (the page origins that call this service)")
	}
}

// subPath matches the field path a provider puts before its messages.
var subPath = regexp.MustCompile(`^[a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*$`)

// unknownKeyMsg matches unknownKey's message.
var unknownKeyMsg = regexp.MustCompile(`^unknown key "([^"]+)"`)

// provider checks a target's provider sections and, when the validation
// builds, makes its provider; its problems are recorded, and ok says
// there were none. The list form of discover: is a discovery.Sources of
// one provider per source.
func (v *validation) provider(t Target, field string) (p discovery.Provider, ok bool) {
	if t.Sources == nil {
		return v.sourceProvider(t.source(), field+".discover")
	}
	if len(t.Sources) == 0 {
		v.bad(field+".discover", "at least one source is required (a provider section, and group: when the source is one group)")
		return nil, false
	}
	names := sourceNames(t.Sources)
	srcs := make(discovery.Sources, len(t.Sources))
	ok = true
	for j := range t.Sources {
		p, sok := v.sourceProvider(&t.Sources[j], fmt.Sprintf("%s.discover[%d]", field, j))
		ok = ok && sok
		srcs[j] = discovery.Source{Name: names[j], Group: t.Sources[j].Group, Provider: p}
	}
	if !ok || !v.build {
		return nil, ok
	}
	return srcs, true
}

// sourceNames names each source of a list (in pool names and messages):
// its group, else its provider; a name two sources would share is
// followed by the source's index ("aws[1]").
func sourceNames(srcs []Source) []string {
	names := make([]string, len(srcs))
	count := map[string]int{}
	for j, s := range srcs {
		names[j] = s.Group
		if names[j] == "" {
			names[j] = strings.Join(s.providerNames(), "+")
		}
		count[names[j]]++
	}
	for j := range names {
		if count[names[j]] > 1 {
			names[j] = fmt.Sprintf("%s[%d]", names[j], j)
		}
	}
	return names
}

// sourceProvider checks the provider section of one source at path (a
// target's discover:, or an item of its list) with the provider's Check,
// or builds the provider with its New when the validation builds (New
// checks the section as Check does: it is decoded once). Its problems
// are recorded; ok says there were none.
func (v *validation) sourceProvider(src *Source, path string) (discovery.Provider, bool) {
	names := src.providerNames()
	switch len(names) {
	case 0:
		v.bad(path, "one provider is required (one of %s)", strings.Join(providers.Names(), ", "))
		return nil, false
	case 1:
	default:
		v.bad(path, "exactly one provider per %s, got %d (a list of sources under discover: combines several)", sourceWord(path), len(names))
		return nil, false
	}
	name := names[0]
	path += "." + name
	reg, err := providers.Get(name)
	if err != nil {
		v.bad(path, "unknown provider (known: %s)", strings.Join(providers.Names(), ", "))
		return nil, false
	}
	section, err := src.settings(name)
	if err != nil {
		v.bad(path, "%s", err)
		return nil, false
	}
	var p discovery.Provider
	if v.build {
		p, err = reg.New(decodeSection(section))
	} else {
		err = reg.Check(decodeSection(section))
	}
	if err != nil {
		v.sectionProblems(path, err)
		return nil, false
	}
	return p, true
}

// sectionProblems records a provider's error about its section at path:
// one problem per line, at the field the line names.
func (v *validation) sectionProblems(path string, err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		if v.problems.full() {
			v.problems.more++
			continue
		}
		if sub, msg, ok := strings.Cut(line, ": "); ok && subPath.MatchString(sub) {
			v.bad(path+"."+sub, "%s", msg)
		} else if m := unknownKeyMsg.FindStringSubmatch(line); m != nil {
			// Placed at the key's own line, named by its parent.
			p := v.c.at(path, line)
			if p.Name == "" {
				p.Pos = v.c.at(path+"."+m[1], "").Pos
			}
			v.problems.add(p)
		} else {
			v.bad(path, "%s", line)
		}
	}
}

// sourceWord is what holds one provider at path: a target, or a source of
// its list.
func sourceWord(path string) string {
	if strings.HasSuffix(path, "]") {
		return "source"
	}
	return "target"
}

// ListedInstances is what target i lists under discover: when every
// source of it is static (ok is false for another provider, or a section
// Validate refuses). It reads no file or variable, and dials nothing:
// shards and merge check an inventory against it.
func (c *Config) ListedInstances(i int) (instances []discovery.Instance, ok bool) {
	if i < 0 || i >= len(c.Targets) {
		return nil, false
	}
	t := c.Targets[i]
	srcs := []*Source{t.source()}
	if t.Sources != nil {
		srcs = srcs[:0]
		for j := range t.Sources {
			srcs = append(srcs, &t.Sources[j])
		}
	}
	for _, src := range srcs {
		if names := src.providerNames(); len(names) != 1 || names[0] != "static" {
			return nil, false
		}
	}
	v := &validation{c: c, build: true}
	p, ok := v.provider(t, fmt.Sprintf("targets[%d]", i))
	if !ok || v.problems.count() > 0 {
		return nil, false
	}
	found, err := p.Discover(context.Background()) // static sources do no I/O
	if err != nil || len(found) != 1 {
		return nil, false
	}
	return found[0].Instances, true
}

// decodeSection is the decode func given to a provider's factory: it fills
// the provider's config from its section, naming each unknown key.
func decodeSection(section map[string]any) func(any) error {
	return func(out any) error {
		var md mapstructure.Metadata
		dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
			Result:           out,
			Metadata:         &md,
			WeaklyTypedInput: true,
			DecodeHook:       durationHook,
		})
		if err != nil {
			return err
		}
		if err := dec.Decode(section); err != nil {
			return fmt.Errorf("%s", strings.TrimSpace(strings.TrimPrefix(err.Error(), "decoding failed due to the following error(s):")))
		}
		if len(md.Unused) == 0 {
			return nil
		}
		sort.Strings(md.Unused)
		known := mapstructureNames(reflectType(out))
		var lines []string
		for n, u := range md.Unused {
			i := strings.LastIndexAny(u, ".")
			parent, key := "", u
			if i >= 0 {
				parent, key = u[:i], u[i+1:]
			}
			msg := fmt.Sprintf("unknown key %q", key)
			if n < maxListed { // the others are only counted
				msg = unknownKey(key, known)
			}
			if parent != "" {
				msg = parent + ": " + msg
			}
			lines = append(lines, msg)
		}
		return fmt.Errorf("%s", strings.Join(lines, "\n"))
	}
}

// durationHook decodes provider durations with ParseDuration's rules.
func durationHook(from, to reflect.Type, data any) (any, error) {
	if to != durationType {
		return data, nil
	}
	switch from.Kind() {
	case reflect.String:
		return ParseDuration(data.(string))
	case reflect.Int, reflect.Int64, reflect.Float64:
		return nil, fmt.Errorf("%v has no unit: write \"%vs\" (or 500ms, 2m)", data, data)
	}
	return data, nil
}

func reflectType(out any) reflect.Type {
	t := reflect.TypeOf(out)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// mapstructureNames lists the keys of a provider's config struct, nested
// ones included, for suggestions.
func mapstructureNames(t reflect.Type) []string {
	seen := map[string]bool{}
	var names []string
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
			walk(f.Type)
		}
	}
	if t != nil {
		walk(t)
	}
	return names
}

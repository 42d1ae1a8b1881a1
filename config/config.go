package config

import (
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/diff/severity"
)

// Config is the whole configuration.
type Config struct {
	// Concurrency bounds the requests in flight, all instances together.
	Concurrency int `yaml:"concurrency"`
	// PerInstance bounds the requests in flight to one instance.
	PerInstance int `yaml:"per_instance"`
	// Timeout bounds each request (a unit is required: 5s).
	Timeout time.Duration `yaml:"timeout"`
	// Deadline bounds the whole run; a partial report is written when it
	// passes.
	Deadline time.Duration `yaml:"deadline"`
	// Browser is whose CORS rules decide: chromium, firefox, webkit (alias
	// safari) or spec (the Fetch standard).
	Browser string `yaml:"browser"`
	// FailOn is the severity at or above which findings exit 1: error,
	// warning, info or never.
	FailOn string `yaml:"fail_on"`
	// Analyses are the checks run: drift, lb, cache, misconfig.
	Analyses []string `yaml:"checks"`
	// MaxProbes bounds the probes per target and path: policy probes over
	// it are an error, adversarial ones are left out.
	MaxProbes int `yaml:"max_probes"`
	// Interval is how often `serve` audits each target.
	Interval time.Duration `yaml:"interval"`
	// Targets are the services audited.
	Targets []Target `yaml:"targets"`

	// problems found while parsing or setting values; Validate reports
	// them with the others.
	problems problemList
	// pos maps a field path to where its value was written ("file:line",
	// or a variable or flag name in names). It is filled from src, the YAML
	// read from srcFile (flate-compressed), once a problem needs it
	// (loadPositions): kept for every value, it would cost more than the
	// values of a large inventory.
	pos     map[string]string
	names   map[string]string
	src     []byte
	srcFile string
}

// Target is one entry of targets:.
type Target struct {
	// Name names the target in reports (default: the URL's host).
	Name string `yaml:"name,omitempty"`
	// URL is the public URL through the load balancer; its path is probed.
	URL string `yaml:"url,omitempty"`
	// Discover holds exactly one provider section, keyed by provider name;
	// the provider decodes it. Parse leaves it nil and keeps the sections
	// it read compact instead (DiscoverSettings decodes them); when set, it
	// replaces them.
	Discover map[string]map[string]any `yaml:"discover"`
	// Sources is discover: written as a list of sources, each one provider
	// section and an optional group: (Parse sets it instead of Discover):
	// their instances make one target.
	Sources []Source `yaml:"-"`
	// Direct says how instances are reached directly.
	Direct Direct `yaml:"direct,omitempty"`
	// LB says how the load balancer is sampled.
	LB LB `yaml:"lb,omitempty"`
	// Fronts are the layers in front of the instances (a CDN, a cache, a
	// load balancer), outermost first: each is sampled like the load
	// balancer and sent the cache probe matrix, and a finding names the
	// first layer whose answers differ from the layer behind it. Empty:
	// the load balancer at url is the one layer.
	Fronts []Front `yaml:"fronts,omitempty"`
	// Policy is what the service means to allow.
	Policy Policy `yaml:"policy"`
	// Paths are the paths probed (default: the URL's path).
	Paths []string `yaml:"paths,omitempty,flow"`
	// Auth is the logged-in user's secret, sent where a browser sends it.
	Auth Auth `yaml:"auth,omitempty"`
	// TLS applies to the load balancer and the instances alike.
	TLS TLS `yaml:"tls,omitempty"`

	// parsed are the provider sections read by Parse, by provider name
	// (a null section is nil).
	parsed map[string]section
}

// Source is one entry of discover: written as a list: one provider
// section, and the group of every instance it finds.
type Source struct {
	// Group, when set, is the group of every instance the source finds
	// (what gate --baseline and --candidate name), whatever the provider
	// says.
	Group string
	// Discover holds exactly one provider section, as Target.Discover.
	Discover map[string]map[string]any

	parsed map[string]section
}

// source is the target's single discover: section as a Source.
func (t *Target) source() *Source { return &Source{Discover: t.Discover, parsed: t.parsed} }

// pack moves the provider sections that Parse decoded into Discover to
// parsed, compact. A section YAML cannot have produced stays in Discover.
func (t *Target) pack() {
	src := t.source()
	src.pack()
	t.Discover, t.parsed = src.Discover, src.parsed
}

// hasSettings says whether provider name has a section, not null, in the
// target's discover: (any of its sources).
func (t *Target) hasSettings(name string) bool {
	if len(t.Sources) > 0 {
		return slices.ContainsFunc(t.Sources, func(s Source) bool { return s.hasSettings(name) })
	}
	return t.source().hasSettings(name)
}

// DiscoverSettings is the discover: section: Discover when set, else the
// sections Parse read, decoded again into a new map at each call (nil for
// the list form: see Source.DiscoverSettings).
func (t Target) DiscoverSettings() (map[string]map[string]any, error) {
	return t.source().DiscoverSettings()
}

// pack moves the provider sections that Parse decoded into Discover to
// parsed, compact. A section YAML cannot have produced stays in Discover.
func (s *Source) pack() {
	if len(s.Discover) == 0 {
		return
	}
	parsed := make(map[string]section, len(s.Discover))
	for name, m := range s.Discover {
		if m == nil {
			parsed[name] = nil
			continue
		}
		sec, err := packSection(m)
		if err != nil {
			return
		}
		parsed[name] = sec
	}
	s.parsed, s.Discover = parsed, nil
}

// providerNames are the provider keys of the source, sorted.
func (s *Source) providerNames() []string {
	var names []string
	if s.Discover != nil {
		for name := range s.Discover {
			names = append(names, name)
		}
	} else {
		for name := range s.parsed {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// hasSettings says whether provider name has a section, not null.
func (s *Source) hasSettings(name string) bool {
	if s.Discover != nil {
		return s.Discover[name] != nil
	}
	return s.parsed[name] != nil
}

// settings is the section of provider name (nil when absent or null).
func (s *Source) settings(name string) (map[string]any, error) {
	if s.Discover != nil {
		return s.Discover[name], nil
	}
	sec := s.parsed[name]
	if sec == nil {
		return nil, nil
	}
	return sec.settings()
}

// DiscoverSettings is the source's provider sections: Discover when set,
// else the sections Parse read, decoded again into a new map at each call.
func (s Source) DiscoverSettings() (map[string]map[string]any, error) {
	if s.Discover != nil || s.parsed == nil {
		return s.Discover, nil
	}
	d := make(map[string]map[string]any, len(s.parsed))
	for name := range s.parsed {
		m, err := s.settings(name)
		if err != nil {
			return nil, err
		}
		d[name] = m
	}
	return d, nil
}

// plainTarget is Target without its methods (for MarshalYAML).
type plainTarget Target

// MarshalYAML writes the provider sections that Parse read as they were
// decoded, so that a parsed config is written as it was before sections
// were kept compact (same YAML, same fingerprint).
func (t Target) MarshalYAML() (any, error) {
	d, err := t.DiscoverSettings()
	if err != nil {
		return nil, err
	}
	p := plainTarget(t)
	p.Discover = d
	if len(t.Sources) == 0 {
		return p, nil
	}
	// The list form: the discover: key's value is the list of sources.
	list := make([]map[string]any, len(t.Sources))
	for i, src := range t.Sources {
		d, err := src.DiscoverSettings()
		if err != nil {
			return nil, err
		}
		item := map[string]any{}
		for name, m := range d {
			item[name] = m
		}
		if src.Group != "" {
			item["group"] = src.Group
		}
		list[i] = item
	}
	var n yaml.Node
	if err := n.Encode(p); err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "discover" {
			if err := n.Content[i+1].Encode(list); err != nil {
				return nil, err
			}
		}
	}
	return &n, nil
}

// Auth names where the secret of a logged-in user comes from (never the
// YAML itself) and how it is sent: exactly one of header and cookie, and
// exactly one of value_from_env and value_from_file.
type Auth struct {
	// Header is the request header carrying the value (Authorization).
	Header string `yaml:"header,omitempty"`
	// Cookie is the name of the cookie carrying the value.
	Cookie string `yaml:"cookie,omitempty"`
	// ValueFromEnv names the environment variable holding the value.
	ValueFromEnv string `yaml:"value_from_env,omitempty"`
	// ValueFromFile is the file holding the value (a final newline is
	// dropped).
	ValueFromFile string `yaml:"value_from_file,omitempty"`
	// Adversarial also sends it on probes from origins the policy does
	// not list.
	Adversarial bool `yaml:"adversarial,omitempty"`
}

// TLS is how the target's certificates are verified, and the client
// certificate it presents (mTLS).
type TLS struct {
	// InsecureSkipVerify does not verify certificates, like curl -k.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify,omitempty"`
	// CAFile is a PEM file of CAs trusted besides the system's.
	CAFile string `yaml:"ca_file,omitempty"`
	// CertFile is the client certificate presented (mTLS), with KeyFile.
	CertFile string `yaml:"cert_file,omitempty"`
	// KeyFile is the client certificate's private key.
	KeyFile string `yaml:"key_file,omitempty"`
}

// Direct says how instances are reached directly.
type Direct struct {
	// Scheme is how instances are dialled, http or https, unless the
	// provider gives an instance its own (default: the URL's).
	Scheme string `yaml:"scheme,omitempty"`
	// InsecureSkipVerify does not verify the instances' certificates.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify,omitempty"`
}

// LB says how the load balancer is sampled.
type LB struct {
	// Samples is how many requests per probe go through the load
	// balancer (0: enough to reach every instance).
	Samples int `yaml:"samples,omitempty"`
	// InstanceHeader is the response header naming the instance that
	// served a request through the load balancer.
	InstanceHeader string `yaml:"instance_header,omitempty"`
	// Disabled sends nothing through the load balancer.
	Disabled bool `yaml:"disabled,omitempty"`
}

// Front is one entry of fronts: a name and exactly one of url (the layer's
// own URL: its scheme and host are requested, with the target's paths)
// and address (host:port dialled with the public Host and SNI, as
// instances are; a name is resolved and samples spread over its
// addresses).
type Front struct {
	// Name names the layer in findings ("the cdn front"): letters,
	// digits, '.', '_' and '-', up to 32.
	Name string `yaml:"name"`
	// URL is the layer's own URL: its scheme and host are requested.
	URL string `yaml:"url,omitempty"`
	// Address is the host:port dialled with the public Host and SNI.
	Address string `yaml:"address,omitempty"`
}

// Policy is what the service means to allow (also the gate's --policy file).
type Policy struct {
	// Origins are the page origins that call the service
	// (https://app.example.com).
	Origins []string `yaml:"origins"`
	// Methods are the methods the pages use.
	Methods []string `yaml:"methods,omitempty"`
	// Headers are the request headers the pages set.
	Headers []string `yaml:"headers,omitempty"`
	// Credentials: the pages send cookies or HTTP auth (credentials:
	// "include").
	Credentials bool `yaml:"credentials,omitempty"`
}

// Default returns the configuration with every default applied and no
// targets. It is the one place defaults are written.
func Default() Config {
	return Config{
		Concurrency: 64,
		PerInstance: 4,
		Timeout:     5 * time.Second,
		Deadline:    2 * time.Minute,
		Browser:     string(cors.Chromium),
		FailOn:      string(severity.DefaultFailOn),
		Analyses:    slices.Clone(audit.Analyses),
		MaxProbes:   200,
		Interval:    10 * time.Minute,
	}
}

// Settings are the top-level keys that Set accepts (from CORSAUDIT_*
// variables and flags), in the order of Config.
var Settings = []string{"concurrency", "per_instance", "timeout", "deadline", "browser", "fail_on", "checks", "max_probes", "interval"}

// AuditPolicy is p as the audit plans it (methods normalised).
func (p Policy) AuditPolicy() audit.Policy {
	return audit.Policy{Origins: p.Origins, Methods: cors.NormalizeMethods(p.Methods), Headers: p.Headers,
		Credentials: p.Credentials}
}

// AuditOptions are the engine's options from the settings. Call it on a
// valid config.
func (c *Config) AuditOptions() audit.Options {
	browser, _ := cors.ParseBrowser(c.Browser)
	return audit.Options{Concurrency: c.Concurrency, PerInstance: c.PerInstance, Timeout: c.Timeout, Browser: browser,
		NoCache: !slices.Contains(c.Analyses, audit.AnalysisCache)}
}

// yamlConfig is Config as written in YAML: durations as "5s".
type yamlConfig struct {
	Concurrency int      `yaml:"concurrency"`
	PerInstance int      `yaml:"per_instance"`
	Timeout     string   `yaml:"timeout"`
	Deadline    string   `yaml:"deadline"`
	Browser     string   `yaml:"browser"`
	FailOn      string   `yaml:"fail_on"`
	Checks      []string `yaml:"checks,flow"`
	MaxProbes   int      `yaml:"max_probes"`
	Interval    string   `yaml:"interval,omitempty"`
	Targets     []Target `yaml:"targets"`
}

// MarshalYAML writes durations with their unit, so that the YAML of a
// Config parses back into the same Config. The interval, which only
// `serve` reads, is written when it is not the default: the YAML that
// inventories and shards fingerprint stays what it was before it existed.
func (c Config) MarshalYAML() (any, error) {
	y := yamlConfig{Concurrency: c.Concurrency, PerInstance: c.PerInstance, Timeout: c.Timeout.String(),
		Deadline: c.Deadline.String(), Browser: c.Browser, FailOn: c.FailOn, Checks: c.Analyses,
		MaxProbes: c.MaxProbes, Targets: c.Targets}
	if c.Interval != Default().Interval {
		y.Interval = c.Interval.String()
	}
	return y, nil
}

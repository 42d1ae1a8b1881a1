// Package config is corsaudit's typed configuration: the YAML schema, its
// defaults (in Default, once), strict parsing with line numbers, Validate
// listing every problem with its field path, and Build turning a valid
// config into what the audit needs. It knows no flags and no environment
// (cmd/corsaudit maps those onto Set), except the variable or file an
// auth section names for its secret, read by Build.
package config

import (
	"slices"
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/diff"
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
	// Targets are the services audited.
	Targets []Target `yaml:"targets"`

	// problems found while parsing or setting values; Validate reports
	// them with the others.
	problems []Problem
	// pos maps a field path to where its value was written ("file:line",
	// or a variable or flag name in names). It is filled from src, the YAML
	// read from srcFile (flate-compressed), once a problem needs it
	// (loadPositions): kept for every value, it would cost more than the
	// values of a large inventory.
	pos     map[string]string
	names   map[string]string
	src     []byte
	srcFile string
	// noSecrets: Build checks auth sections without reading their secret
	// (WithoutSecrets).
	noSecrets bool
}

// WithoutSecrets makes Validate and Build check each auth section without
// reading its secret (the variable or file): for commands that send no
// request, such as discover, which must work where only the probing
// machine holds the secret. Targets then carry no credential.
func (c *Config) WithoutSecrets() { c.noSecrets = true }

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
	// Direct says how instances are reached directly.
	Direct Direct `yaml:"direct,omitempty"`
	// LB says how the load balancer is sampled.
	LB LB `yaml:"lb,omitempty"`
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

// pack moves the provider sections that Parse decoded into Discover to
// parsed, compact. A section YAML cannot have produced stays in Discover.
func (t *Target) pack() {
	if len(t.Discover) == 0 {
		return
	}
	parsed := make(map[string]section, len(t.Discover))
	for name, m := range t.Discover {
		if m == nil {
			parsed[name] = nil
			continue
		}
		s, err := packSection(m)
		if err != nil {
			return
		}
		parsed[name] = s
	}
	t.parsed, t.Discover = parsed, nil
}

// providerNames are the keys of discover:, sorted.
func (t *Target) providerNames() []string {
	var names []string
	if t.Discover != nil {
		for name := range t.Discover {
			names = append(names, name)
		}
	} else {
		for name := range t.parsed {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// hasSettings says whether provider name has a section, not null.
func (t *Target) hasSettings(name string) bool {
	if t.Discover != nil {
		return t.Discover[name] != nil
	}
	return t.parsed[name] != nil
}

// settings is the section of provider name (nil when absent or null).
func (t *Target) settings(name string) (map[string]any, error) {
	if t.Discover != nil {
		return t.Discover[name], nil
	}
	s := t.parsed[name]
	if s == nil {
		return nil, nil
	}
	return s.settings()
}

// DiscoverSettings is the discover: section: Discover when set, else the
// sections Parse read, decoded again into a new map at each call.
func (t Target) DiscoverSettings() (map[string]map[string]any, error) {
	if t.Discover != nil || t.parsed == nil {
		return t.Discover, nil
	}
	d := make(map[string]map[string]any, len(t.parsed))
	for name := range t.parsed {
		m, err := t.settings(name)
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
	return p, nil
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
		FailOn:      string(diff.FailOn(diff.SeverityError)),
		Analyses:    append([]string(nil), diff.AllAnalyses...),
		MaxProbes:   200,
	}
}

// Settings are the top-level keys that Set accepts (from CORSAUDIT_*
// variables and flags), in the order of Config.
var Settings = []string{"concurrency", "per_instance", "timeout", "deadline", "browser", "fail_on", "checks", "max_probes"}

// AuditPolicy is p as the audit plans it (methods normalised).
func (p Policy) AuditPolicy() audit.Policy {
	return audit.Policy{Origins: p.Origins, Methods: cors.NormalizeMethods(p.Methods), Headers: p.Headers,
		Credentials: p.Credentials}
}

// AuditOptions are the engine's options from the settings. Call it on a
// valid config.
func (c *Config) AuditOptions() audit.Options {
	browser, _ := cors.ParseBrowser(c.Browser)
	return audit.Options{Concurrency: c.Concurrency, PerInstance: c.PerInstance, Timeout: c.Timeout, Browser: browser}
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
	Targets     []Target `yaml:"targets"`
}

// MarshalYAML writes durations with their unit, so that the YAML of a
// Config parses back into the same Config.
func (c Config) MarshalYAML() (any, error) {
	return yamlConfig{Concurrency: c.Concurrency, PerInstance: c.PerInstance, Timeout: c.Timeout.String(),
		Deadline: c.Deadline.String(), Browser: c.Browser, FailOn: c.FailOn, Checks: c.Analyses,
		MaxProbes: c.MaxProbes, Targets: c.Targets}, nil
}

package main

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/providers"
)

// Config is the whole configuration: file, CORSAUDIT_* environment and
// flags, flags winning.
type Config struct {
	Concurrency int            `mapstructure:"concurrency"`
	PerInstance int            `mapstructure:"per_instance"`
	Timeout     time.Duration  `mapstructure:"timeout"`
	Deadline    time.Duration  `mapstructure:"deadline"`
	Browser     string         `mapstructure:"browser"`
	FailOn      string         `mapstructure:"fail_on"`
	Checks      []string       `mapstructure:"checks"`
	MaxProbes   int            `mapstructure:"max_probes"`
	Targets     []TargetConfig `mapstructure:"targets"`
}

// TargetConfig is one entry of targets:.
type TargetConfig struct {
	Name string `mapstructure:"name"`
	// URL is the public URL through the load balancer; its path is probed.
	URL      string                    `mapstructure:"url"`
	Discover map[string]map[string]any `mapstructure:"discover"`
	Direct   DirectConfig              `mapstructure:"direct"`
	LB       LBConfig                  `mapstructure:"lb"`
	Policy   PolicyConfig              `mapstructure:"policy"`
}

// DirectConfig says how instances are reached directly.
type DirectConfig struct {
	Scheme             string `mapstructure:"scheme"`
	InsecureSkipVerify bool   `mapstructure:"insecure_skip_verify"`
}

// LBConfig says how the load balancer is sampled.
type LBConfig struct {
	Samples        int    `mapstructure:"samples"`
	InstanceHeader string `mapstructure:"instance_header"`
	Disabled       bool   `mapstructure:"disabled"`
}

// PolicyConfig is what the service means to allow.
type PolicyConfig struct {
	Origins     []string `mapstructure:"origins"`
	Methods     []string `mapstructure:"methods"`
	Headers     []string `mapstructure:"headers"`
	Credentials bool     `mapstructure:"credentials"`
}

// DefaultConfig holds the defaults of every top-level setting.
var DefaultConfig = Config{
	Concurrency: 64,
	PerInstance: 4,
	Timeout:     5 * time.Second,
	Deadline:    2 * time.Minute,
	Browser:     string(cors.Chromium),
	FailOn:      "error",
	Checks:      []string{diff.CheckDrift, diff.CheckLB, diff.CheckCache, diff.CheckMisconfig},
	MaxProbes:   200,
}

// settingFlags maps config keys to the flag names that override them.
var settingFlags = map[string]string{
	"concurrency":  "concurrency",
	"per_instance": "per-instance",
	"timeout":      "timeout",
	"deadline":     "deadline",
	"browser":      "browser",
	"fail_on":      "fail-on",
	"checks":       "checks",
	"max_probes":   "max-probes",
}

// addSettingFlags adds the flags of the top-level settings.
func addSettingFlags(fs *pflag.FlagSet) {
	d := DefaultConfig
	fs.Int("concurrency", d.Concurrency, "requests in flight, all instances")
	fs.Int("per-instance", d.PerInstance, "requests in flight per instance")
	fs.Duration("timeout", d.Timeout, "timeout of one request")
	fs.Duration("deadline", d.Deadline, "deadline of the whole run (a partial report is written when it passes)")
	fs.String("browser", d.Browser, "whose CORS rules decide verdicts: chromium, firefox, safari or spec")
	fs.String("fail-on", d.FailOn, "exit 1 when a finding is at or above this severity: error, warning, info or never")
	fs.StringSlice("checks", d.Checks, "check groups: drift, lb, cache, misconfig")
	fs.Int("max-probes", d.MaxProbes, "refuse plans with more probes than this per target")
}

// loadConfig reads the config file (when path is set), CORSAUDIT_* variables
// and the flags that were set, strictly: unknown keys are errors.
func loadConfig(path string, fs *pflag.FlagSet) (*Config, error) {
	v := viper.New()
	d := DefaultConfig
	v.SetDefault("concurrency", d.Concurrency)
	v.SetDefault("per_instance", d.PerInstance)
	v.SetDefault("timeout", d.Timeout)
	v.SetDefault("deadline", d.Deadline)
	v.SetDefault("browser", d.Browser)
	v.SetDefault("fail_on", d.FailOn)
	v.SetDefault("checks", d.Checks)
	v.SetDefault("max_probes", d.MaxProbes)
	v.SetEnvPrefix("CORSAUDIT")
	v.AutomaticEnv()
	if path != "" {
		v.SetConfigFile(path)
		if err := v.ReadInConfig(); err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if fs != nil {
		for key, name := range settingFlags {
			if f := fs.Lookup(name); f != nil {
				if err := v.BindPFlag(key, f); err != nil {
					return nil, fmt.Errorf("config: flag --%s: %w", name, err)
				}
			}
		}
	}
	var c Config
	err := v.UnmarshalExact(&c, func(dc *mapstructure.DecoderConfig) {
		dc.DecodeHook = mapstructure.ComposeDecodeHookFunc(durationHook, mapstructure.StringToSliceHookFunc(","))
	})
	if err != nil {
		where := "config"
		if path != "" {
			where = "config " + path
		}
		return nil, fmt.Errorf("%s: %s", where, strings.TrimSpace(strings.TrimPrefix(err.Error(), "decoding failed due to the following error(s):")))
	}
	return &c, nil
}

// durationHook decodes "5s"-style strings into time.Duration with a message
// that names the bad value.
func durationHook(from, to reflect.Type, data any) (any, error) {
	if to != reflect.TypeOf(time.Duration(0)) || from.Kind() != reflect.String {
		return data, nil
	}
	d, err := time.ParseDuration(data.(string))
	if err != nil {
		return nil, fmt.Errorf("%q is not a duration (like 500ms, 5s, 2m)", data)
	}
	return d, nil
}

// decodeStrict fills out from a provider's section, rejecting unknown keys.
func decodeStrict(section map[string]any) func(any) error {
	return func(out any) error {
		dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
			Result:           out,
			ErrorUnused:      true,
			WeaklyTypedInput: true,
			DecodeHook:       durationHook,
		})
		if err != nil {
			return err
		}
		if err := dec.Decode(section); err != nil {
			return errors.New(strings.TrimSpace(strings.TrimPrefix(err.Error(), "decoding failed due to the following error(s):")))
		}
		return nil
	}
}

// builtTarget is a validated target with its provider.
type builtTarget struct {
	cfg      TargetConfig
	provider discovery.Provider
	policy   audit.Policy
}

// Validate checks the whole config and builds the providers, listing every
// problem at once with its field path.
func (c *Config) Validate() ([]builtTarget, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Concurrency < 1 {
		bad("concurrency: %d must be at least 1", c.Concurrency)
	}
	if c.PerInstance < 1 {
		bad("per_instance: %d must be at least 1", c.PerInstance)
	}
	if c.Timeout <= 0 {
		bad("timeout: %s must be positive", c.Timeout)
	}
	if c.Deadline < c.Timeout {
		bad("deadline: %s is shorter than timeout %s", c.Deadline, c.Timeout)
	}
	if _, err := cors.ParseBrowser(c.Browser); err != nil {
		bad("browser: %v", err)
	}
	switch c.FailOn {
	case "error", "warning", "info", "never":
	default:
		bad("fail_on: %q is not error, warning, info or never", c.FailOn)
	}
	for i, ch := range c.Checks {
		if !slices.Contains(diff.AllChecks, ch) {
			bad("checks[%d]: %q is not one of %s", i, ch, strings.Join(diff.AllChecks, ", "))
		}
	}
	if c.MaxProbes < 1 {
		bad("max_probes: %d must be at least 1", c.MaxProbes)
	}
	if len(c.Targets) == 0 {
		bad("targets: at least one target is required")
	}
	var built []builtTarget
	names := map[string]int{}
	for i, t := range c.Targets {
		field := fmt.Sprintf("targets[%d]", i)
		if t.Name != "" {
			if j, dup := names[t.Name]; dup {
				bad("%s.name: %q already used by targets[%d]", field, t.Name, j)
			}
			names[t.Name] = i
		}
		if t.URL != "" {
			if u, err := url.Parse(t.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad("%s.url: %q is not an absolute http(s) URL", field, t.URL)
			}
		}
		switch t.Direct.Scheme {
		case "", "http", "https":
		default:
			bad("%s.direct.scheme: %q is not http or https", field, t.Direct.Scheme)
		}
		if t.LB.Samples < 0 {
			bad("%s.lb.samples: %d must not be negative", field, t.LB.Samples)
		}
		for j, o := range t.Policy.Origins {
			if _, err := cors.ParseOrigin(o); err != nil {
				bad("%s.policy.origins[%d]: %v", field, j, err)
			}
		}
		for j, m := range t.Policy.Methods {
			if !cors.IsToken(m) {
				bad("%s.policy.methods[%d]: %q is not an HTTP method", field, j, m)
			}
		}
		for j, h := range t.Policy.Headers {
			if !cors.IsToken(h) {
				bad("%s.policy.headers[%d]: %q is not a header name", field, j, h)
			}
		}
		if len(t.Policy.Origins) == 0 {
			bad("%s.policy.origins: at least one origin is required (the page origins that call this service)", field)
		}
		var prov discovery.Provider
		switch len(t.Discover) {
		case 0:
			bad("%s.discover: one provider is required (one of %s)", field, providerNames())
		case 1:
			for name, section := range t.Discover {
				f, err := providers.Lookup(name)
				if err != nil {
					bad("%s.discover.%s: unknown provider (known: %s)", field, name, providerNames())
					continue
				}
				p, err := f(decodeStrict(section))
				if err != nil {
					for _, line := range strings.Split(err.Error(), "\n") {
						bad("%s.discover.%s: %s", field, name, line)
					}
					continue
				}
				prov = p
			}
		default:
			bad("%s.discover: exactly one provider per target, got %d", field, len(t.Discover))
		}
		if t.URL == "" && t.Discover["static"] != nil {
			bad("%s.url: required with the static provider (the public URL through the load balancer)", field)
		}
		built = append(built, builtTarget{cfg: t, provider: prov, policy: audit.Policy{
			Origins: t.Policy.Origins, Methods: cors.NormalizeMethods(t.Policy.Methods), Headers: t.Policy.Headers,
			Credentials: t.Policy.Credentials}})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return built, nil
}

func providerNames() string { return strings.Join(providers.Names(), ", ") }

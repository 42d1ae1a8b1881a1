package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/corsaudit/corsaudit/config"
)

// settingFlag is the flag of a top-level setting: per_instance is
// --per-instance.
func settingFlag(key string) string { return strings.ReplaceAll(key, "_", "-") }

// durationFlag is a --timeout or --deadline value, checked by
// config.ParseDuration so that "--timeout 5" gets the message YAML gets.
type durationFlag string

func (d *durationFlag) String() string { return string(*d) }
func (d *durationFlag) Type() string   { return "duration" }
func (d *durationFlag) Set(s string) error {
	if _, err := config.ParseDuration(s); err != nil {
		return err
	}
	*d = durationFlag(s)
	return nil
}

// addSettingFlags adds the flags of the top-level settings, with the
// config's defaults.
func addSettingFlags(fs *pflag.FlagSet) {
	d := config.Default()
	fs.Int("concurrency", d.Concurrency, "`N` requests in flight, all instances")
	fs.Int("per-instance", d.PerInstance, "`N` requests in flight per instance")
	timeout, deadline := durationFlag(d.Timeout.String()), durationFlag(d.Deadline.String())
	fs.Var(&timeout, "timeout", "timeout of one request, a `DURATION` with a unit (5s)")
	fs.Var(&deadline, "deadline", "deadline of the whole run, a `DURATION` (a partial report is written when it passes)")
	fs.String("browser", d.Browser, "`BROWSER` whose CORS rules decide verdicts: chromium, firefox, webkit (alias safari) or spec")
	fs.String("fail-on", d.FailOn, "exit 1 when a finding is at or above `SEVERITY`: error, warning, info or never")
	fs.StringSlice("checks", d.Analyses, "`CHECKS`, comma-separated: drift, lb, cache, misconfig")
	fs.Int("max-probes", d.MaxProbes, "refuse plans with more than `N` probes per target")
}

// loadSettings reads the config file (when path is set) over the defaults,
// then CORSAUDIT_* variables, then the flags that were set. Problems in
// values are left for Validate, which names the file line, variable or
// flag; only an unreadable file is an error here.
func loadSettings(path string, flags *pflag.FlagSet) (*config.Config, error) {
	c := new(config.Config)
	*c = config.Default()
	if path != "" {
		data, err := config.ReadFile(path)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
		if c, err = config.Parse(data, path); err != nil {
			return nil, err
		}
	}
	return overlaySettings(c, flags)
}

// overlaySettings sets c's top-level settings from CORSAUDIT_* variables,
// then from the flags that were set.
func overlaySettings(c *config.Config, flags *pflag.FlagSet) (*config.Config, error) {
	v := viper.New()
	v.SetEnvPrefix("CORSAUDIT")
	for _, key := range config.Settings {
		name := settingFlag(key)
		if flags != nil {
			if f := flags.Lookup(name); f != nil && f.Changed {
				c.Set(key, flagText(f), "--"+name)
				continue
			}
		}
		if err := v.BindEnv(key); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if v.IsSet(key) {
			c.Set(key, v.GetString(key), settingVar(key))
		}
	}
	return c, nil
}

func flagText(f *pflag.Flag) string {
	if s, ok := f.Value.(pflag.SliceValue); ok {
		return strings.Join(s.GetSlice(), ",")
	}
	return f.Value.String()
}

// commandLineTarget is the one target of `audit URL --instance ...`; its
// problems are named by the flags they came from.
func (o *auditOptions) commandLineTarget(c *config.Config) {
	var insts []any
	for _, s := range o.Instances {
		id, addr, ok := strings.Cut(s, "=")
		if !ok {
			id, addr = "", s
		}
		insts = append(insts, map[string]any{"id": id, "addr": addr})
	}
	c.Targets = []config.Target{{
		URL:      o.URL,
		Discover: map[string]map[string]any{"static": {"instances": insts}},
		Direct:   config.Direct{Scheme: o.DirectScheme},
		LB:       config.LB{InstanceHeader: o.InstanceHeader, Disabled: o.NoLB},
		Policy:   config.Policy{Origins: o.Origins, Methods: o.Methods, Headers: o.Headers, Credentials: o.Credentials},
		Paths:    o.Paths,
		Auth:     config.Auth{Header: o.AuthHeader, Cookie: o.AuthCookie, ValueFromEnv: o.AuthFromEnv, ValueFromFile: o.AuthFromFile},
		TLS:      config.TLS{CAFile: o.CAFile, CertFile: o.CertFile, KeyFile: o.KeyFile},
	}}
	for path, name := range map[string]string{
		"targets[0].url":                  "URL",
		"targets[0].discover.static":      "--instance",
		"targets[0].direct.scheme":        "--direct-scheme",
		"targets[0].policy.origins":       "--origin",
		"targets[0].policy.methods":       "--method",
		"targets[0].policy.headers":       "--header",
		"targets[0].paths":                "--path",
		"targets[0].auth":                 "--auth-header/--auth-cookie",
		"targets[0].auth.value_from_env":  "--auth-from-env",
		"targets[0].auth.value_from_file": "--auth-from-file",
		"targets[0].tls.ca_file":          "--cacert",
		"targets[0].tls.cert_file":        "--cert",
		"targets[0].tls.key_file":         "--key",
	} {
		c.Describe(path, name)
	}
}

// load reads the config of an audit-like command: the config file, or
// the one target given by flags, with the variables and flags over it.
// Its errors are usage errors; its values are not checked yet.
func (o *auditOptions) load() (*config.Config, error) {
	adHoc := len(o.Instances) > 0 || o.URL != ""
	if o.ConfigFile != "" && adHoc {
		return nil, usageError(errors.New("give either --config or a URL with --instance, not both"))
	}
	if o.ConfigFile == "" && o.URL == "" {
		return nil, usageError(errors.New("give --config FILE, or a URL with --instance and --origin"))
	}
	if err := urlSchemeHint("URL", o.URL); err != nil {
		return nil, usageError(err)
	}
	cfg, err := loadSettings(o.ConfigFile, o.flags)
	if err != nil {
		return nil, usageError(err)
	}
	if o.ConfigFile == "" {
		o.commandLineTarget(cfg)
	}
	if err := checkEnv(cfg, environ()); err != nil {
		return nil, usageError(err)
	}
	if o.Insecure {
		for i := range cfg.Targets {
			cfg.Targets[i].TLS.InsecureSkipVerify = true
		}
	}
	return cfg, nil
}

// prepare loads the config of a command that probes and builds it, once
// (config.Build: secrets read, certificates loaded, providers made): the
// run receives the result.
func (o *auditOptions) prepare() (*config.Built, error) {
	return o.build((*config.Config).Build)
}

// prepareDiscovery is prepare for a command that sends no request to the
// targets (discover): no secret or certificate is read
// (config.BuildDiscovery), so it runs where only the probing machine holds
// them.
func (o *auditOptions) prepareDiscovery() (*config.Built, error) {
	return o.build((*config.Config).BuildDiscovery)
}

func (o *auditOptions) build(build func(*config.Config) (*config.Built, error)) (*config.Built, error) {
	cfg, err := o.load()
	if err != nil {
		return nil, err
	}
	b, err := build(cfg)
	if err != nil {
		return nil, o.invalid(err)
	}
	return b, nil
}

// invalid is the usage error of a config's problems.
func (o *auditOptions) invalid(err error) error {
	what := "invalid config"
	if o.ConfigFile == "" {
		what = "invalid arguments" // the flags, not a file
	}
	return usageError(fmt.Errorf("%s:\n%w", what, indent(err)))
}

func indent(err error) error {
	return errors.New("  " + strings.ReplaceAll(err.Error(), "\n", "\n  "))
}

package providers

import (
	"fmt"
	"sort"

	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/providers/dns"
	"github.com/corsaudit/corsaudit/providers/static"
)

// Factory builds a provider from its config section. decode fills out (a
// pointer to the provider's config struct, fields tagged
// `mapstructure:"name"`) from that section; it rejects unknown keys and
// converts durations. Providers do not import this package, so the parameter
// is a plain func type.
type Factory func(decode func(out any) error) (discovery.Provider, error)

// Checker validates a provider's config section as its Factory does,
// building nothing (config.Validate, for `config check`).
type Checker func(decode func(out any) error) error

// Registration is one registered provider: how to build, check and
// describe it (a discovery.Provider is what New builds).
type Registration struct {
	// New builds the provider from its config section.
	New Factory
	// Check validates the section as New does, building nothing.
	Check Checker
	// Help describes the config section: a summary line, then every key
	// with an example value, so no config is needed to read it.
	Help string
	// Config is the provider's config section as the factory decodes it
	// (a zero value of its struct): the JSON Schema of the config file
	// describes its keys from it.
	Config any
	// LeftOut, for a provider this build does without, names the build
	// tag that left it out (New is nil).
	LeftOut string
}

// registry maps the key under "discover:" to its provider. The cloud and
// cluster providers are in files of their own (aws.go, gcp.go,
// kubernetes.go) that a build tag leaves out: their SDKs' package
// initialisation is most of corsaudit's start-up time and memory, and a
// build without them is for fleets listed statically or in DNS.
var registry = map[string]Registration{
	"aws":        awsProvider,
	"dns":        {New: dns.New, Check: dns.Check, Help: dns.Help, Config: dns.Config{}},
	"gcp":        gcpProvider,
	"kubernetes": kubernetesProvider,
	"static":     {New: static.New, Check: static.Check, Help: static.Help, Config: static.Config{}},
}

// lookup returns the factory registered under name.
func lookup(name string) (Factory, error) {
	p, err := Get(name)
	if err != nil {
		return nil, err
	}
	return p.New, nil
}

// Get returns the provider registered under name.
func Get(name string) (Registration, error) {
	p, ok := registry[name]
	if !ok {
		return Registration{}, fmt.Errorf("providers: unknown provider %q (known: %v)", name, Names())
	}
	if p.New == nil {
		return Registration{}, fmt.Errorf("providers: provider %q is not in this build of corsaudit (built with -tags %s); build without that tag to use it", name, p.LeftOut)
	}
	return p, nil
}

// Names lists the providers of this build, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n, p := range registry {
		if p.New != nil {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

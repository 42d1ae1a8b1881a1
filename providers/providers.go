// Package providers is the registry of discovery providers: an explicit map
// from the config key under "discover:" to how the provider is built and
// what its keys are.
package providers

import (
	"fmt"
	"sort"

	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/providers/aws"
	"github.com/corsaudit/corsaudit/providers/dns"
	"github.com/corsaudit/corsaudit/providers/gcp"
	"github.com/corsaudit/corsaudit/providers/static"
)

// Factory builds a provider from its config section. decode fills out (a
// pointer to the provider's config struct, fields tagged
// `mapstructure:"name"`) from that section; it rejects unknown keys and
// converts durations. Providers do not import this package, so the parameter
// is a plain func type.
type Factory func(decode func(out any) error) (discovery.Provider, error)

// Provider is one registered provider.
type Provider struct {
	// New builds the provider from its config section.
	New Factory
	// Help describes the config section: a summary line, then every key
	// with an example value, so no config is needed to read it.
	Help string
}

// registry maps the key under "discover:" to its provider.
var registry = map[string]Provider{
	"aws":    {New: aws.New, Help: aws.Help},
	"dns":    {New: dns.New, Help: dns.Help},
	"gcp":    {New: gcp.New, Help: gcp.Help},
	"static": {New: static.New, Help: static.Help},
}

// Lookup returns the factory registered under name.
func Lookup(name string) (Factory, error) {
	p, err := Get(name)
	if err != nil {
		return nil, err
	}
	return p.New, nil
}

// Get returns the provider registered under name.
func Get(name string) (Provider, error) {
	p, ok := registry[name]
	if !ok {
		return Provider{}, fmt.Errorf("providers: unknown provider %q (known: %v)", name, Names())
	}
	return p, nil
}

// Names lists the registered providers, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

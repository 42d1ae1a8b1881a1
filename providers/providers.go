// Package providers is the registry of discovery providers: an explicit map
// from the config key under "discover:" to a factory.
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

// registry maps the key under "discover:" to the provider's factory.
var registry = map[string]Factory{
	"aws":    aws.New,
	"static": static.New,
	"dns":    dns.New,
	"gcp":    gcp.New,
}

// Lookup returns the factory registered under name.
func Lookup(name string) (Factory, error) {
	f, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("providers: unknown provider %q (known: %v)", name, Names())
	}
	return f, nil
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

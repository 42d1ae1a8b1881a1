package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/providers"
)

// TestProviderConfigIsWhatItDecodes: each registered provider's Config
// (from which the config file's JSON Schema describes its section) has
// the keys its factory decodes, as the unknown-key message lists them.
func TestProviderConfigIsWhatItDecodes(t *testing.T) {
	for _, name := range providers.Names() {
		t.Run(name, func(t *testing.T) {
			p, err := providers.Get(name)
			if err != nil {
				t.Fatal(err)
			}
			if p.Config == nil {
				t.Fatalf("provider %s registers no Config", name)
			}
			c, err := Parse([]byte("targets:\n  - url: https://api.example.com/\n    discover:\n      "+name+":\n        qqqqqqqqqqqq: 1\n    policy: {origins: [https://app.example.com]}\n"), "t.yaml")
			if err != nil {
				t.Fatal(err)
			}
			err = c.Validate()
			want := "(known: " + strings.Join(mapstructureNames(reflect.TypeOf(p.Config)), ", ") + ")"
			if err == nil || !strings.Contains(err.Error(), `unknown key "qqqqqqqqqqqq" `+want) {
				t.Errorf("Validate: %v\nwant the unknown key listed with %s", err, want)
			}
		})
	}
}

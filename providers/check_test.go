package providers

import (
	"errors"
	"fmt"
	"testing"

	"github.com/go-viper/mapstructure/v2"
)

// decoder decodes section as config's decode does, closely enough for
// these sections (no durations, no unknown keys).
func decoder(section map[string]any) func(any) error {
	return func(out any) error { return mapstructure.WeakDecode(section, out) }
}

// TestCheckAgreesWithNew: Check (what config.Validate asks, building
// nothing) accepts exactly the sections New builds, with New's words.
func TestCheckAgreesWithNew(t *testing.T) {
	sections := map[string][]map[string]any{
		"static": {
			{"instances": []any{map[string]any{"addr": "127.0.0.1:8080"}}},
			{},
			{"instances": []any{map[string]any{"addr": "127.0.0.1"}, map[string]any{"addr": "127.0.0.2:80", "scheme": "ftp"}}},
		},
		"dns":        {{"name": "web.internal", "port": 8080}, {"port": 0, "network": "ip5"}},
		"aws":        {{"load_balancer": "shop-alb"}, {"listener_port": 70000}},
		"gcp":        {{"project": "my-project", "backend_service": "shop-backend"}, {"project": "X"}},
		"kubernetes": {{"service": "shop"}, {"service": "shop", "ingress": "shop"}},
	}
	for _, name := range Names() {
		p, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		if p.Check == nil {
			t.Errorf("%s: no Check in the registry", name)
			continue
		}
		if len(sections[name]) == 0 {
			t.Errorf("%s: no sections to test it with", name)
		}
		for i, sec := range sections[name] {
			desc := fmt.Sprintf("%s section %d %v", name, i, sec)
			checkErr := p.Check(decoder(sec))
			prov, newErr := p.New(decoder(sec))
			if fmt.Sprint(checkErr) != fmt.Sprint(newErr) || (newErr == nil) != (prov != nil) {
				t.Errorf("%s: Check = %v, New = %v, %v; want the same verdict", desc, checkErr, prov, newErr)
			}
			if valid := i == 0; valid != (checkErr == nil) {
				t.Errorf("%s: Check = %v, want valid %v", desc, checkErr, valid)
			}
		}
		// A decoding error is the section's problem, as New reports it.
		bad := errors.New("instances: expected a list")
		if err := p.Check(func(any) error { return bad }); !errors.Is(err, bad) {
			t.Errorf("%s: Check with a decoding error = %v, want it", name, err)
		}
	}
}

package providers

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// errDecoded stops a factory right after it asked for its config.
var errDecoded = errors.New("decoded")

// configKeys returns the keys of the config section of p: the mapstructure
// tags of the struct its factory decodes into, nested structs and slices of
// structs included, found by reflection so the list cannot drift from the
// code.
func configKeys(t *testing.T, p Registration) []string {
	t.Helper()
	var typ reflect.Type
	_, err := p.New(func(out any) error {
		typ = reflect.TypeOf(out)
		return errDecoded
	})
	if !errors.Is(err, errDecoded) || typ == nil {
		t.Fatalf("factory did not decode its config first: %v", err)
	}
	var keys []string
	var walk func(reflect.Type)
	walk = func(st reflect.Type) {
		for st.Kind() == reflect.Pointer || st.Kind() == reflect.Slice {
			st = st.Elem()
		}
		if st.Kind() != reflect.Struct {
			return
		}
		for i := range st.NumField() {
			f := st.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
			if name == "" || name == "-" {
				t.Errorf("%s.%s has no mapstructure tag", st.Name(), f.Name)
				continue
			}
			keys = append(keys, name)
			walk(f.Type)
		}
	}
	walk(typ)
	sort.Strings(keys)
	return slices.Compact(keys)
}

// helpKey is a key line of a Help text: indented, maybe a list item.
var helpKey = regexp.MustCompile(`(?m)^ {2,}(?:- )?([a-z_]+):`)

func TestHelpNamesEveryKey(t *testing.T) {
	if len(Names()) == 0 {
		t.Fatal("no provider registered")
	}
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			p, err := Get(name)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(p.Help, name+": ") {
				t.Errorf("help starts %q, want %q and a summary", strings.SplitN(p.Help, "\n", 2)[0], name+": ")
			}
			var documented []string
			for _, m := range helpKey.FindAllStringSubmatch(p.Help, -1) {
				documented = append(documented, m[1])
			}
			sort.Strings(documented)
			documented = slices.Compact(documented)
			if want := configKeys(t, p); !reflect.DeepEqual(documented, want) {
				t.Errorf("help names keys %q, want exactly the config's %q:\n%s", documented, want, p.Help)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		desc    string
		name    string
		wantErr string
	}{
		{desc: "registered", name: "static"},
		{desc: "unknown", name: "azure", wantErr: fmt.Sprintf(`providers: unknown provider "azure" (known: %v)`, Names())},
		{desc: "case matters", name: "AWS", wantErr: `unknown provider "AWS"`},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			f, err := lookup(tc.name)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || f == nil {
				t.Fatalf("Lookup(%q) = %v, %v", tc.name, f, err)
			}
		})
	}
}

// TestProvidersLeftOut: in this build (run by .ci/run with and without the
// tags corsaudit_noaws, corsaudit_nogcp, corsaudit_nok8s), every provider is either usable
// and listed, or left out with an error naming the tag that left it out.
func TestProvidersLeftOut(t *testing.T) {
	for name, p := range registry {
		listed := slices.Contains(Names(), name)
		got, err := Get(name)
		switch {
		case p.LeftOut == "":
			if p.New == nil || !listed || err != nil || got.New == nil {
				t.Errorf("%s: in this build but listed %v, Get error %v", name, listed, err)
			}
		default:
			if p.New != nil || listed || err == nil || !strings.Contains(err.Error(), "-tags "+p.LeftOut) {
				t.Errorf("%s: left out by %s but listed %v, Get error %v", name, p.LeftOut, listed, err)
			}
			if _, err := lookup(name); err == nil {
				t.Errorf("%s: Lookup of a provider left out succeeds", name)
			}
		}
	}
	for name, tag := range map[string]string{"aws": "corsaudit_noaws", "gcp": "corsaudit_nogcp", "kubernetes": "corsaudit_nok8s"} {
		if p, ok := registry[name]; !ok || p.LeftOut != "" && p.LeftOut != tag {
			t.Errorf("%s: not in the registry, or left out by %q", name, registry[name].LeftOut)
		}
	}
}

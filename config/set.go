package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// ParseDuration parses a duration that has a unit ("500ms", "5s", "2m").
// A bare number is an error suggesting the same number of seconds.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return 0, fmt.Errorf("%q has no unit: write %q (or 500ms, 2m)", s, s+"s")
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (like 500ms, 5s, 2m)", s)
	}
	return d, nil
}

// Describe says that the values at path and below came from name (a flag
// or variable): messages about them say name instead of the path.
func (c *Config) Describe(path, name string) {
	if c.names == nil {
		c.names = map[string]string{}
	}
	c.names[path] = name
}

// Set sets the top-level setting key (one of Settings) from text, as
// written in a CORSAUDIT_* variable or a flag; name is that variable or
// flag, used in messages instead of the key. Lists are comma-separated. A
// bad value is recorded and reported by Validate.
func (c *Config) Set(key, value, name string) {
	c.Describe(key, name)
	v := reflect.ValueOf(c).Elem()
	f, ok := yamlFields(v.Type())[key]
	if !ok {
		c.problem(key, "not a setting")
		return
	}
	fv := v.Field(f)
	switch {
	case fv.Type() == durationType:
		d, err := ParseDuration(value)
		if err != nil {
			c.problem(key, err.Error())
			return
		}
		fv.SetInt(int64(d))
	case fv.Kind() == reflect.Slice:
		var items []string
		for _, s := range strings.Split(value, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		fv.Set(reflect.ValueOf(items))
	default:
		if err := setScalar(fv, strings.TrimSpace(value), ""); err != nil {
			c.problem(key, err.Error())
		}
	}
}

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/suggest"
)

// logRequest is --verbose: one line per request as it is sent, as the
// curl command that repeats it (a credential shows as its placeholder,
// $CORSAUDIT_TOKEN, never its value).
func logRequest(w io.Writer) func(*audit.SentRequest) {
	var mu sync.Mutex
	return func(r *audit.SentRequest) {
		line := diff.CurlRequest(r)
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "corsaudit: > %s\n", line)
	}
}

// flagError adds the closest flag of c to an unknown flag's error
// (--instances: did you mean --instance?), as YAML keys get.
func flagError(c *cobra.Command, err error) error {
	var ne *pflag.NotExistError
	if !errors.As(err, &ne) || len(ne.GetSpecifiedName()) < 2 {
		return err
	}
	var names []string
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	})
	if best := suggest.Closest(ne.GetSpecifiedName(), names); best != "" {
		return fmt.Errorf("%w; did you mean --%s?", err, best)
	}
	return err
}

// checkEnv fails on a CORSAUDIT_* variable that is a setting misspelt
// (CORSAUDIT_FAILON, within two edits of CORSAUDIT_FAIL_ON), which would
// otherwise be ignored silently, naming the setting. Other CORSAUDIT_*
// variables are not settings and are left alone: a secret for another
// config (CORSAUDIT_TOKEN), a wrapper's own. Variables this config reads a
// secret from (auth.value_from_env, --auth-from-env) are never flagged.
func checkEnv(cfg *config.Config, environ []string) error {
	known := make([]string, len(config.Settings))
	for i, key := range config.Settings {
		known[i] = settingVar(key)
	}
	var secrets []string
	for _, t := range cfg.Targets {
		if t.Auth.ValueFromEnv != "" {
			secrets = append(secrets, t.Auth.ValueFromEnv)
		}
	}
	var errs []error
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "CORSAUDIT_") || slices.Contains(known, name) || slices.Contains(secrets, name) {
			continue
		}
		if best := suggest.Closest(name, known); best != "" {
			errs = append(errs, fmt.Errorf("%s: not a corsaudit setting; did you mean %s?", name, best))
		}
	}
	return errors.Join(errs...)
}

// settingVar is the variable of a top-level setting: fail_on is
// CORSAUDIT_FAIL_ON.
func settingVar(key string) string { return "CORSAUDIT_" + strings.ToUpper(key) }

// environ is the process environment (a variable for tests).
var environ = os.Environ

package main

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff/render"
)

// registerCompletions teaches cobra's `corsaudit completion` what flag
// values to offer: formats, browsers, checks and severities, and, read
// from the file --config names (nothing is probed, no cloud is called),
// target names for --target and the groups of static instances for
// --baseline and --candidate.
func registerCompletions(root *cobra.Command) {
	var browsers []string
	for _, b := range cors.Browsers {
		browsers = append(browsers, string(b))
	}
	browsers = append(browsers, "safari")
	walk(root, func(c *cobra.Command) {
		values := map[string][]string{
			"browser": browsers,
			"checks":  audit.Analyses,
			"fail-on": {"error", "warning", "info", "never"},
			"format":  formatsOf(c),
		}
		for name, vals := range values {
			if c.Flags().Lookup(name) != nil && len(vals) > 0 {
				_ = c.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp))
			}
		}
		if c.Flags().Lookup("config") == nil {
			return
		}
		if c.Flags().Lookup("target") != nil {
			_ = c.RegisterFlagCompletionFunc("target", fromConfig(targetNames))
		}
		for _, name := range []string{"baseline", "candidate"} {
			if c.Flags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, fromConfig(staticGroups))
			}
		}
	})
}

func walk(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, sub := range c.Commands() {
		walk(sub, f)
	}
}

// formatsOf are the --format values of command c.
func formatsOf(c *cobra.Command) []string {
	switch c.Name() {
	case "discover":
		return []string{"table", "json"}
	case "check":
		return []string{"text", "json"}
	}
	return render.Formats()
}

// fromConfig completes from the config file given with --config; nothing
// when there is none or it does not parse.
func fromConfig(values func(*config.Config) []string) cobra.CompletionFunc {
	return func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		path, _ := c.Flags().GetString("config")
		if path == "" {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		data, err := config.ReadFile(path)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cfg, err := config.Parse(data, path)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return values(cfg), cobra.ShellCompDirectiveNoFileComp
	}
}

// targetNames are the targets' names (those without one: their label).
func targetNames(cfg *config.Config) []string {
	var names []string
	for i, t := range cfg.Targets {
		name := t.Name
		if name == "" {
			name = fmt.Sprintf("target-%d", i+1)
		}
		names = append(names, name)
	}
	return names
}

// staticGroups are the groups of the static instances the config lists,
// sorted, once each; other providers' groups are only known by asking
// the cloud, which completion never does.
func staticGroups(cfg *config.Config) []string {
	var groups []string
	for _, t := range cfg.Targets {
		sections, err := t.DiscoverSettings()
		if err != nil {
			continue
		}
		insts, _ := sections["static"]["instances"].([]any)
		for _, in := range insts {
			m, _ := in.(map[string]any)
			if g, ok := m["group"].(string); ok && g != "" && !slices.Contains(groups, g) {
				groups = append(groups, g)
			}
		}
	}
	slices.Sort(groups)
	return groups
}

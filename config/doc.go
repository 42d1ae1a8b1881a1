// Package config is corsaudit's typed configuration: the YAML schema, its
// defaults (in Default, once), strict parsing with line numbers, a pure
// Validate listing every problem with its field path (no file, variable or
// provider client), and Build turning a valid config into what a run
// needs, once (providers, secrets, certificates). It knows no flags and no
// environment (cmd/corsaudit maps those onto Set), except the variable or
// file an auth section names for its secret, read by Build.
package config

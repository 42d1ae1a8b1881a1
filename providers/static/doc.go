// Package static is the provider for instances listed in the config file.
package static

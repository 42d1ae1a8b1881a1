// Package providers is the registry of discovery providers: an explicit map
// from the config key under "discover:" to how the provider is built and
// what its keys are.
package providers

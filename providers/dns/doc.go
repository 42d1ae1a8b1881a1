// Package dns is the provider for instances published as A/AAAA records of
// one name (a headless Kubernetes service, a Consul service).
package dns

// Package aws is the provider for the targets behind an AWS Application (or
// Network) Load Balancer: it walks load balancer -> listeners -> rules ->
// target groups -> target health -> EC2 instances and returns one target
// whose instances are the registered targets, with their group, forward
// weight, zone and health.
//
// Credentials and region come from the SDK's default chain (environment,
// shared config and SSO profiles, web identity, instance metadata);
// AWS_ENDPOINT_URL is honoured, so the provider can be pointed at an emulator
// or a VPC endpoint. Credentials are never logged.
package aws

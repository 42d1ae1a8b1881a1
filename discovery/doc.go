// Package discovery holds the model every provider fills in: a Target is one
// public entry point (a URL served through a load balancer) and the Instances
// behind it. Providers find instances; they never probe them.
package discovery

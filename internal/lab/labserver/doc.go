// Package labserver is one backend instance with a configurable CORS policy,
// correct or deliberately wrong, that records what it receives. Tests, the
// demo and the nginx/haproxy/varnish lab run many of them on loopback.
package labserver

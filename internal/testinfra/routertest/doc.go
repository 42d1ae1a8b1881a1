// Package routertest is a fake load balancer for tests of route-aware
// audits: a discovery.Router of first-match rules on host, path prefix and
// method, and a provider that returns fixed instances with it. Real
// routers (ALB listener rules, GCP URL maps) live with their providers.
package routertest

// Package lab is the local load balancer lab: labserver backends on
// loopback behind a real nginx, haproxy or varnish (or varnish in front of
// haproxy), in configurations that show each load balancer and cache
// pitfall corsaudit finds (redirected preflights, a balancer answering
// OPTIONS itself, duplicated or stripped CORS headers, caches that key on
// the URL alone, a dropped Vary, a 304 without CORS headers), plus clean
// ones. Start runs one scenario and returns the corsaudit config that
// audits it.
package lab

// Package audit sends the same CORS requests to every instance of a target,
// directly and through its load balancer, and records what came back as
// Observations. It never follows redirects, sends a cookie or token only
// from a configured Credential and only where a browser would, and only
// ever preflights methods that could change server state.
package audit

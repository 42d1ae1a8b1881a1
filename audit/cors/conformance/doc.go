// Package conformance holds the browser conformance suite of audit/cors: a
// scripted server on loopback answers preflight and actual requests exactly
// as each scenario says, headless Chromium runs fetch() for every scenario
// from a page on another loopback origin, and the tests assert that
// cors.PlanPreflight, cors.Evaluate(cors.Chromium, ...) and `corsaudit check`
// reach the browser's preflight decision and verdict.
//
// The package has no exported API; everything lives in its tests. Run it
// with `go test ./audit/cors/conformance/` (chromium must be on PATH; in CI,
// CI=true makes a missing browser a failure).
package conformance

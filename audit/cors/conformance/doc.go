// Package conformance holds the browser conformance suite of audit/cors: a
// scripted server on loopback answers preflight and actual requests exactly
// as each scenario says; Chromium, Firefox ESR (WebDriver BiDi for its
// console) and WebKitGTK's MiniBrowser (under Xvfb) each run fetch() for
// every scenario from a page on another loopback origin, one launch per
// engine; and the tests assert that cors.PlanPreflightFor, cors.Evaluate,
// cors.PreflightsSent for the engine's model and `corsaudit check --browser
// <engine>` reach the engine's preflight decision, verdict and use of the
// preflight cache. What each engine did is recorded in
// testdata/<engine>.json and replayed without a browser (TestRecorded).
//
// The package has no exported API; everything lives in its tests. Run it
// with `go test ./audit/cors/conformance/` (refresh the records with
// -update); a missing engine skips its part, or fails it with CI=true.
package conformance

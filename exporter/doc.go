// Package exporter is `corsaudit serve`: a long-running process that audits
// each target of a config on a schedule, keeps the latest results in
// memory and serves them to Prometheus (/metrics, and /probe in the manner
// of blackbox_exporter), as an HTML page and as a JSON report.
//
// Every audit, scheduled or probed, goes through pipeline.Audit over one
// target of a config built once per load (config.Build), and holds
// requests in flight from one bound of the config's concurrency shared by
// all of them: however many targets and scrapes there are, the fleet never
// sees more than concurrency requests at once from this process.
package exporter

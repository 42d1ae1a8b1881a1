// Package promtest reads Prometheus metrics in tests: the text exposition
// format, parsed by Prometheus' own parser, as a map a test can index.
package promtest

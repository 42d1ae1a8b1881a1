// Package pipeline is one corsaudit run as a library: discover the
// instances of every target, plan the probes, probe, and compare, returning
// the *diff.Report that renderers draw. cmd/corsaudit adds flags, output
// files and exit codes around it.
package pipeline

// Package diff compares the observations of every instance of a target and
// turns the differences into Findings.
package diff

// Package faultnet starts loopback listeners that fail the way dead or
// broken instances do, for tests: refuse, hang, reset, answer bytes that
// are not HTTP. It is imported only by tests.
package faultnet

// Package testenv lets integration tests find the external tools they drive
// (chromium, nginx, haproxy, varnishd, moto_server). In CI (CI=true) a missing tool
// fails the test; on a developer's machine it skips with a clear message.
package testenv

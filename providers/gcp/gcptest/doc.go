// Package gcptest is a fake of the Compute Engine v1 REST API for tests: the
// paths, JSON shapes (camelCase fields, items, nextPageToken) and error
// envelopes of the API reference, for the calls the gcp provider makes. It
// serves on loopback, checks what it receives and counts calls.
package gcptest

// Package schemagen generates the JSON Schemas of corsaudit's documents
// (the config, the JSON report, the inventory and the shard file) from
// the Go types that read and write them, with github.com/invopop/jsonschema,
// and descriptions from the types' doc comments. The schemas are committed
// in docs/schema, which `corsaudit schema` prints; the test of
// cmd/corsaudit regenerates them (-update) and fails when a type changed
// without its schema. Only tests import this package: it reads the Go
// sources for the comments.
package schemagen

// Package schema holds the JSON Schemas of corsaudit's documents, which
// `corsaudit schema NAME` prints. They are generated from the Go types
// that read and write the documents (internal/testinfra/schemagen);
// regenerate them with `go test ./cmd/corsaudit -run TestSchemas
// -update`, which also fails when a type changed without its schema.
package schema

package schema

import (
	"embed"
	"fmt"
	"slices"
	"strings"
)

// Names are the documents with a schema: the config file, the JSON
// report, the inventory (discover --format json) and the shard file
// (audit --inventory FILE --shard K/N).
var Names = []string{"config", "report", "inventory", "shard"}

//go:embed *.json
var files embed.FS

// Get returns the schema of document name, one of Names.
func Get(name string) ([]byte, error) {
	if !slices.Contains(Names, name) {
		return nil, fmt.Errorf("schema: no schema named %q (known: %s)", name, strings.Join(Names, ", "))
	}
	return files.ReadFile(name + ".json")
}

package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/corsaudit/corsaudit/docs/schema"
)

func newCmdSchema(ios iostreams) *cobra.Command {
	return &cobra.Command{
		Use:   "schema " + strings.Join(schema.Names, "|"),
		Short: "Print the JSON Schema of the config file, the JSON report, the inventory or the shard file",
		Long: `Print the JSON Schema (draft 2020-12) of one of corsaudit's documents:

  config     the config file (corsaudit.yaml), for editors: with the YAML
             language server, start the file with
             # yaml-language-server: $schema=corsaudit.schema.json
             after corsaudit schema config > corsaudit.schema.json
  report     the JSON report (--format json)
  inventory  what discover --format json writes
  shard      what audit --inventory FILE --shard K/N writes

The schemas are those of this version of corsaudit, generated from the
types that read and write the documents; 'corsaudit config check' remains
the complete check of a config.`,
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		ValidArgs: schema.Names,
		RunE: func(_ *cobra.Command, args []string) error {
			data, err := schema.Get(args[0])
			if err != nil {
				return usageError(err)
			}
			if _, err := ios.out.Write(data); err != nil {
				return incompleteError(fmt.Errorf("schema: write: %w", err))
			}
			return nil
		},
	}
}

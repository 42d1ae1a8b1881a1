package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newCmdMan is `corsaudit man`: the manual pages of every command, made
// from the commands themselves (cobra/doc), so they cannot drift from
// --help.
func newCmdMan(ios iostreams) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "man",
		Short: "Write the manual pages (troff): corsaudit(1) to stdout, or one page per command with --dir",
		Long: `Write the manual pages, generated from the commands and their flags.

  corsaudit man | man -l -                 read corsaudit(1) now
  corsaudit man --dir /usr/local/share/man/man1   install a page per command

Release archives carry the pages in man/.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			root := cmd.Root()
			root.DisableAutoGenTag = true // same pages for the same binary
			header := &doc.GenManHeader{Title: "CORSAUDIT", Section: "1", Source: "corsaudit " + reportVersion(), Manual: "corsaudit manual"}
			if dir == "" {
				if err := doc.GenMan(root, header, ios.out); err != nil {
					return incompleteError(fmt.Errorf("man: %w", err))
				}
				return nil
			}
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				if err == nil {
					err = errors.New("not a directory")
				}
				return usageError(fmt.Errorf("man: --dir %s: %w", dir, err))
			}
			if err := doc.GenManTree(root, header, dir); err != nil {
				return incompleteError(fmt.Errorf("man: %w", err))
			}
			fmt.Fprintf(ios.errOut, "corsaudit: wrote the manual pages to %s\n", dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "write one page per command (corsaudit.1, corsaudit-audit.1, ...) into this existing `DIR`")
	return cmd
}

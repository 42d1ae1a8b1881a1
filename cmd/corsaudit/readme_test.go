package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestREADMEDocumentsEveryFlag: every flag of every command appears in the
// README as --name.
func TestREADMEDocumentsEveryFlag(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	root := newRootCmd(iostreams{out: &bytes.Buffer{}, errOut: &bytes.Buffer{}})
	root.InitDefaultHelpFlag()
	var walk func(c *cobra.Command)
	checked := 0
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Name == "help" {
				return
			}
			checked++
			if !strings.Contains(readme, "--"+f.Name) {
				t.Errorf("README does not document %s --%s", c.CommandPath(), f.Name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if checked < 30 {
		t.Errorf("checked %d flags; the walk missed commands", checked)
	}
}

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestTableColour: the table is coloured only on a terminal, and never
// when NO_COLOR is set or the report goes to a file or a pipe.
func TestTableColour(t *testing.T) {
	f := newFleet(t)
	args := []string{"audit", "http://api.example.com/v1/cart", "--no-lb", "--origin", "https://app.example.com",
		"--method", "GET", "--method", "PUT", "--credentials", "--format", "table",
		"--instance", "a=" + f.start("a", currentCORS), "--instance", "b=" + f.start("b", currentCORS),
		"--instance", "c=" + f.start("c", olderCORS)}
	for _, tc := range []struct {
		desc     string
		terminal bool
		noColor  string
		want     bool
	}{
		{desc: "terminal", terminal: true, want: true},
		{desc: "terminal with NO_COLOR", terminal: true, noColor: "1"},
		{desc: "pipe", terminal: false},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			t.Setenv("NO_COLOR", tc.noColor)
			var out, errOut bytes.Buffer
			code := execute(context.Background(), iostreams{out: &out, errOut: &errOut, outIsTerminal: tc.terminal}, args)
			if code != exitFindings {
				t.Fatalf("exit %d, want %d\n%s", code, exitFindings, errOut.String())
			}
			if got := strings.Contains(out.String(), "\x1b["); got != tc.want {
				t.Errorf("escape codes in the table = %v, want %v:\n%s", got, tc.want, out.String())
			}
		})
	}
}

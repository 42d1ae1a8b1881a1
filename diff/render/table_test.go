package render

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/corsaudit/corsaudit/diff"
)

// TestTableLargeFleet: at 100,000 instances the table stays one line per
// finding, and the lines that list instances (unreachable, not run) name
// ten and say how many.
func TestTableLargeFleet(t *testing.T) {
	r := largeFleet(100000)
	tr := &r.Targets[0]
	for i := 4; i < len(tr.Instances); i += 100 {
		tr.Instances[i].Reachable = false
		tr.Instances[i+1].NotRun = []diff.NotRun{{Reason: "the run's deadline passed", Probes: []string{"p16"}}}
	}
	r.Summarize()
	out := string(render(t, "table", r))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) > 20 {
		t.Errorf("%d lines, want at most 20:\n%s", len(lines), out)
	}
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > 300 {
			t.Errorf("a line of %d characters: %.200s...", n, l)
		}
	}
	for _, want := range []string{
		"  error    verdict-drift  web-000010,web-000020,web-000030,web-000040 +9996 (blue)  10000 of 100000 instances block",
		"  unreachable (answered none of the requests sent): web-000005, web-000105, web-000205, web-000305, web-000405, web-000505, web-000605, web-000705, web-000805, web-000905 ... (1,000 instances)",
		"  not run: 1 probe (p16) on web-000006, web-000106, web-000206, web-000306, web-000406, web-000506, web-000606, web-000706, web-000806, web-000906 ... (1,000 instances): the run's deadline passed",
	} {
		if strings.Count(out, want) != 1 {
			t.Errorf("the table does not have once the line\n%s\n%s", want, out)
		}
	}
}

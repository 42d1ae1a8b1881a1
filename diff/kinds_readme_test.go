package diff

import (
	"os"
	"strings"
	"testing"
)

// TestDocsListEveryKind: docs/findings.md's table (linked from the README) of finding kinds has one row per
// kind of the Kinds table, whose severity column names the default
// severity, so the documentation cannot drift from the code.
func TestDocsListEveryKind(t *testing.T) {
	data, err := os.ReadFile("../docs/findings.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[Kind]string{}
	inTable := false
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "| kind | default severity |"):
			inTable = true
		case inTable && !strings.HasPrefix(line, "|"):
			inTable = false
		case inTable && strings.HasPrefix(line, "| `"):
			cols := strings.Split(line, "|")
			if len(cols) > 3 {
				rows[Kind(strings.Trim(strings.TrimSpace(cols[1]), "`"))] = cols[2]
			}
		}
	}
	for _, k := range Kinds {
		sev, ok := rows[k.Kind]
		switch {
		case !ok:
			t.Errorf("docs/findings.md's finding kinds table has no row for %s", k.Kind)
		case !strings.Contains(sev, string(k.Severity)):
			t.Errorf("docs/findings.md gives %s the severity %q, which does not name its default %s", k.Kind, strings.TrimSpace(sev), k.Severity)
		}
		delete(rows, k.Kind)
	}
	for k := range rows {
		t.Errorf("docs/findings.md's finding kinds table lists %s, which is no kind", k)
	}
}

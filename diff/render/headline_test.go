package render

import (
	"fmt"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/diff"
)

// TestHeadlineCountsAsTheFinding: the headline counts a drifted instance
// among the instances the finding compared (the unreachable one is left
// out of both), so it says "1 instance of 11" where the finding says
// "1 of 11 instances".
func TestHeadlineCountsAsTheFinding(t *testing.T) {
	var insts []diff.InstanceInfo
	for i := range 12 {
		insts = append(insts, diff.InstanceInfo{ID: fmt.Sprintf("web-%02d", i+1), Reachable: i != 11})
	}
	r := &diff.Report{Targets: []diff.TargetReport{{Name: "shop", Instances: insts}}}
	f := diff.Finding{Kind: diff.KindVerdictDrift, Severity: diff.SeverityError, Target: "shop", Instances: []string{"web-07"},
		Observed: "blocked", Compared: 11, Message: "1 of 11 instances blocks PUT"}
	if got := findingPhrase(r, f); !strings.HasPrefix(got, "1 instance of 11 blocks") {
		t.Errorf("headline phrase %q, want it to count 1 of 11 as the finding does", got)
	}
	f.Compared = 0 // an older report: every instance not skipped
	if got := findingPhrase(r, f); !strings.HasPrefix(got, "1 instance of 12 blocks") {
		t.Errorf("headline phrase without Compared %q, want 1 instance of 12", got)
	}
}

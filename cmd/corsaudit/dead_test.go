package main

import (
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/testinfra/faultnet"
)

// TestDeadInstanceFailsTheAudit (issue 11, item 1): three healthy
// instances and one that answers no request. Under the default --fail-on
// the audit exits 1; the instance is an unreachable error, not reachable in
// the JSON, and counted in summary.unreachable. The policy includes POST,
// whose simple probe sends nothing: it must not count as an answer.
func TestDeadInstanceFailsTheAudit(t *testing.T) {
	for _, fault := range []string{"refuse", "hang", "reset", "garbage"} {
		t.Run(fault, func(t *testing.T) {
			f := newFleet(t)
			args := []string{"audit", "http://api.example.com/v1/cart", "--no-lb", "--format", "json",
				"--origin", "https://app.example.com", "--method", "GET", "--method", "POST", "--method", "PUT",
				"--credentials", "--timeout", "300ms"}
			for _, id := range []string{"web-1", "web-2", "web-3"} {
				args = append(args, "--instance", id+"="+f.start(id, currentCORS))
			}
			args = append(args, "--instance", "dead="+faultnet.Addr(t, fault))
			start := time.Now()
			rep, code, stderr := runJSON(t, args...)
			if code != exitFindings {
				t.Errorf("exit code = %d, want %d\n%s", code, exitFindings, stderr)
			}
			if rep.Summary.Unreachable != 1 {
				t.Errorf("summary.unreachable = %d, want 1", rep.Summary.Unreachable)
			}
			for _, in := range rep.Targets[0].Instances {
				if want := in.ID != "dead"; in.Reachable != want {
					t.Errorf("instance %s reachable = %v, want %v", in.ID, in.Reachable, want)
				}
			}
			var found bool
			for _, fd := range rep.Findings {
				if fd.Kind == diff.KindUnreachable && len(fd.Instances) == 1 && fd.Instances[0] == "dead" {
					found = true
					if fd.Severity != diff.SeverityError {
						t.Errorf("unreachable finding severity = %s, want error: %s", fd.Severity, fd.Message)
					}
				}
			}
			if !found {
				t.Errorf("no unreachable finding for the dead instance: %+v", rep.Findings)
			}
			// One dead instance costs about two timeouts, not one per probe.
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("the audit took %s with one dead instance", d)
			}
		})
	}
}

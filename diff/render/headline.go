package render

import (
	"fmt"
	"slices"
	"strings"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/internal/plural"
)

// headline is the verdict sentence that opens the table: "FAIL: 1 instance
// of 12 blocks GET, PUT from https://app.example.com; the load balancer
// redirects preflights". FAIL when a finding is an error, WARN when the
// worst is a warning, PASS otherwise; it names what the findings of the
// worst severity mean for users (at most three, then how many more). A
// partial run without warnings or errors is INCOMPLETE, never PASS.
func headline(r *diff.Report) (word, sentence string) {
	worst := r.MaxSeverity()
	switch worst {
	case diff.SeverityError:
		word = "FAIL"
	case diff.SeverityWarning:
		word = "WARN"
	default:
		word = "PASS"
	}
	var phrases []string
	for _, f := range r.Findings {
		if f.Severity != worst || worst.Rank() < diff.SeverityWarning.Rank() {
			continue
		}
		if p := findingPhrase(r, f); !slices.Contains(phrases, p) {
			phrases = append(phrases, p)
		}
	}
	switch {
	case len(phrases) > 3:
		sentence = strings.Join(phrases[:3], "; ") + fmt.Sprintf("; and %d more", len(phrases)-3)
	case len(phrases) > 0:
		sentence = strings.Join(phrases, "; ")
	case len(r.Findings) == 0 && r.Incomplete != "":
		// A partial run found nothing in what it saw: not a pass.
		return "INCOMPLETE", noneFound(r)
	case len(r.Findings) == 0:
		sentence = noneFound(r)
	default:
		sentence = "no warning or error"
	}
	if r.Incomplete != "" {
		sentence += " (incomplete run)"
		if word == "PASS" {
			word = "INCOMPLETE"
		}
	}
	return word, sentence
}

// noneFound says that r has no findings: "no findings", or for a partial
// run, which never reads as a clean one, "nothing found before the run
// stopped".
func noneFound(r *diff.Report) string {
	if r.Incomplete != "" {
		return "nothing found before the run stopped"
	}
	return "no findings"
}

// verdictLine is the verdict sentence in one line: "FAIL: ...".
func verdictLine(r *diff.Report) string {
	word, sentence := headline(r)
	return word + ": " + sentence
}

// findingPhrase says what a finding means for users, in a few words.
func findingPhrase(r *diff.Report, f diff.Finding) string {
	n := 0
	for _, id := range f.Instances {
		if id != "lb" {
			n++
		}
	}
	total := f.Compared
	if t := targetByName(r, f.Target); t != nil && total == 0 {
		for _, in := range t.Instances {
			if in.Skip == "" {
				total++
			}
		}
	}
	of := fmt.Sprintf("%d %s", n, plural.Noun(n, "instance"))
	if total > 0 {
		of = fmt.Sprintf("%d %s of %d", n, plural.Noun(n, "instance"), total)
	}
	what := diff.RequestWords(f.AllProbes())
	switch f.Kind {
	case diff.KindVerdictDrift, diff.KindPolicyViolation:
		v := "block"
		if strings.HasPrefix(f.Observed, diff.OutcomeAllowed) {
			v = "allow"
		}
		// A cause also lists the requests it answers otherwise without
		// changing their verdict: name those whose verdict it changes
		// where the policy says (not the disallowed origin it blocks too).
		var changed []diff.ProbeRef
		for _, p := range f.AllProbes() {
			if p.Expect != v+"ed" {
				changed = append(changed, p)
			}
		}
		if len(changed) > 0 {
			what = diff.RequestWords(changed)
		}
		if n == 1 {
			v += "s"
		}
		return fmt.Sprintf("%s %s %s", of, v, what)
	case diff.KindUnreachable:
		if n == 0 {
			return "the load balancer of " + f.Target + " is unreachable"
		}
		isAre := "are"
		if n == 1 {
			isAre = "is"
		}
		return fmt.Sprintf("%s %s unreachable", namedIDs(f.Instances), isAre)
	case diff.KindLBRedirect:
		return "the load balancer redirects preflights"
	case diff.KindLBAnswersOptions:
		return "the load balancer answers preflights itself"
	case diff.KindLBMismatch:
		return "the load balancer's answers differ from the instances' for " + what
	case diff.KindSplit:
		return "no majority answer for " + what
	case diff.KindHeaderDrift:
		return fmt.Sprintf("%s %s other CORS headers for %s", of, plural.Verb(n, "send"), what)
	}
	t := f.Kind.Title()
	if t != "" {
		t = strings.ToLower(t[:1]) + t[1:]
	}
	if n > 0 {
		return fmt.Sprintf("%s: %s", of, t)
	}
	return t
}

// probeKinds says how many probes of each kind a target ran: "2 policy, 1
// disallowed origin, 40 adversarial".
func probeKinds(ps []diff.ProbeRef) string {
	var policy, disallowed, adversarial, other int
	for _, p := range ps {
		switch {
		case p.Class == audit.ClassPolicy:
			policy++
		case p.Class == audit.ClassDisallowed:
			disallowed++
		case audit.IsAdversarial(p.Class):
			adversarial++
		default:
			other++
		}
	}
	var parts []string
	for _, c := range []struct {
		n    int
		name string
	}{{policy, "policy"}, {disallowed, "disallowed origin"}, {adversarial, "adversarial"}, {other, "other"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.name))
		}
	}
	return strings.Join(parts, ", ")
}

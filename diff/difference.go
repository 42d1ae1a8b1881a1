package diff

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/internal/plural"
)

// HeaderDifference is how one header (or the status) of one answer differs
// between the expected answer and the observed one: the tokens a list
// header lacks or adds, or the changed value of any other header.
type HeaderDifference struct {
	// Step is the answer: "preflight" or "actual" (audit.StepPreflight,
	// audit.StepActual).
	Step string `json:"step"`
	// Header is the full header name, or "status".
	Header string `json:"header"`
	// Missing and Extra are, for a list header (Access-Control-Allow-Methods,
	// -Headers, -Expose-Headers), the tokens the observed answer lacks or
	// adds, sorted.
	Missing []string `json:"missing,omitempty"`
	Extra   []string `json:"extra,omitempty"`
	// Expected and Observed are, for any other header, the two values (""
	// when the header is absent).
	Expected string `json:"expected,omitempty"`
	Observed string `json:"observed,omitempty"`
}

// String is the difference in one short phrase: "Access-Control-Allow-Methods
// -DELETE -PUT", "Access-Control-Max-Age 600 -> 60".
func (d HeaderDifference) String() string {
	var parts []string
	for _, t := range d.Missing {
		parts = append(parts, "-"+t)
	}
	for _, t := range d.Extra {
		parts = append(parts, "+"+t)
	}
	if len(parts) == 0 {
		parts = append(parts, orNone(d.Expected)+" -> "+orNone(d.Observed))
	}
	return d.Header + " " + strings.Join(parts, " ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// listHeader says how a list header's tokens compare: methods are
// case-sensitive, header names are not.
var listHeader = map[string]bool{cors.ACAM: false, cors.ACAH: true, cors.ACEH: true}

// answerHeaders are the headers compared per step, in report order.
var answerHeaders = map[string][]string{
	audit.StepPreflight: {cors.ACAO, cors.ACAC, cors.ACAM, cors.ACAH, cors.ACMA, "Vary"},
	audit.StepActual:    {cors.ACAO, cors.ACAC, cors.ACEH, "Vary"},
}

// differences compares two observations of one probe, answer by answer: only
// the steps both sent are compared (a preflight that failed leaves no actual
// request to compare; its absence is the consequence, not the cause).
func differences(want, got audit.Observation) []HeaderDifference {
	var out []HeaderDifference
	steps := []struct {
		name string
		a, b *audit.Exchange
	}{{audit.StepPreflight, want.Preflight, got.Preflight}, {audit.StepActual, want.Actual, got.Actual}}
	for _, s := range steps {
		if s.a == nil || s.b == nil || s.a.Failed() || s.b.Failed() {
			continue
		}
		if s.a.Status != s.b.Status {
			out = append(out, HeaderDifference{Step: s.name, Header: "status",
				Expected: fmt.Sprint(s.a.Status), Observed: fmt.Sprint(s.b.Status)})
		}
		if s.a.Location != s.b.Location {
			out = append(out, HeaderDifference{Step: s.name, Header: "Location", Expected: s.a.Location, Observed: s.b.Location})
		}
		for _, name := range answerHeaders[s.name] {
			if d, ok := headerDifference(name, s.a.Header, s.b.Header); ok {
				d.Step = s.name
				out = append(out, d)
			}
		}
	}
	return out
}

// headerDifference compares one header of two answers.
func headerDifference(name string, a, b http.Header) (HeaderDifference, bool) {
	d := HeaderDifference{Header: name}
	if fold, ok := listHeader[name]; ok {
		ta, va := tokens(a, name, fold)
		tb, vb := tokens(b, name, fold)
		if va && vb {
			for _, t := range ta {
				if !slices.Contains(tb, t) {
					d.Missing = append(d.Missing, t)
				}
			}
			for _, t := range tb {
				if !slices.Contains(ta, t) {
					d.Extra = append(d.Extra, t)
				}
			}
			return d, len(d.Missing)+len(d.Extra) > 0
		}
	}
	if name == "Vary" {
		// Only whether Vary names Origin matters to CORS.
		if varyHasOrigin(a) == varyHasOrigin(b) {
			return d, false
		}
		d.Expected, d.Observed = varyWord(varyHasOrigin(a)), varyWord(varyHasOrigin(b))
		return d, true
	}
	d.Expected = strings.Join(a.Values(name), " | ")
	d.Observed = strings.Join(b.Values(name), " | ")
	return d, d.Expected != d.Observed
}

func varyWord(origin bool) string {
	if origin {
		return "Origin"
	}
	return ""
}

// tokens is a list header's distinct tokens, sorted (lower-cased when
// fold), and whether the list parsed.
func tokens(h http.Header, name string, fold bool) ([]string, bool) {
	items, ok := cors.ParseList(h.Values(name))
	if !ok {
		return nil, false
	}
	var out []string
	for _, it := range items {
		if fold {
			it = strings.ToLower(it)
		}
		if !slices.Contains(out, it) {
			out = append(out, it)
		}
	}
	sort.Strings(out)
	return out, true
}

// differenceKey is a comparable form of a list of differences.
func differenceKey(ds []HeaderDifference) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "%s/%s\x00", d.Step, d.String())
	}
	return b.String()
}

// differenceSentence says in words what the observed answer does
// otherwise, as a verb phrase whose subject is n instances (1: an instance
// or an answer), one clause per header, without repeating a header the preflight and
// actual answers share, clauses with the same verb together: "omits
// DELETE, PUT from Access-Control-Allow-Methods and x-request-id from
// Access-Control-Allow-Headers, and sends Access-Control-Max-Age 60
// instead of 600".
func differenceSentence(ds []HeaderDifference, n int) string {
	type clause struct{ verb, rest string }
	var clauses []clause
	add := func(verb, rest string) {
		if !slices.Contains(clauses, clause{verb, rest}) {
			clauses = append(clauses, clause{verb, rest})
		}
	}
	for _, d := range ds {
		switch {
		case d.Header == "status":
			add("answer", fmt.Sprintf("the %s with %s instead of %s", d.Step, d.Observed, d.Expected))
		case d.Header == "Vary" && d.Observed == "":
			add("omit", "Origin from Vary")
		case d.Header == "Vary":
			add("add", "Origin to Vary")
		case len(d.Missing)+len(d.Extra) > 0:
			if len(d.Missing) > 0 {
				add("omit", strings.Join(d.Missing, ", ")+" from "+d.Header)
			}
			if len(d.Extra) > 0 {
				add("add", strings.Join(d.Extra, ", ")+" to "+d.Header)
			}
		case d.Observed == "":
			add("send", "no "+d.Header+" (expected "+d.Expected+")")
		case d.Expected == "":
			add("send", d.Header+" "+d.Observed+" (expected none)")
		default:
			add("send", d.Header+" "+d.Observed+" instead of "+d.Expected)
		}
	}
	// One phrase per verb, in the order verbs first appear.
	var verbs []string
	rests := map[string][]string{}
	for _, c := range clauses {
		if _, ok := rests[c.verb]; !ok {
			verbs = append(verbs, c.verb)
		}
		rests[c.verb] = append(rests[c.verb], c.rest)
	}
	var phrases []string
	for _, v := range verbs {
		phrases = append(phrases, plural.Verb(n, v)+" "+andList(rests[v]))
	}
	if len(phrases) > 2 || len(phrases) == 2 && strings.Contains(phrases[0], " and ") {
		return strings.Join(phrases[:len(phrases)-1], ", ") + ", and " + phrases[len(phrases)-1]
	}
	return strings.Join(phrases, " and ")
}

// andList joins words as a sentence lists them: "a", "a and b", "a, b and c".
func andList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// unionDifferences merges the differences of several answers into one
// list, one entry per step and header in the order Differences gives
// them: the tokens a list header lacks or adds on any of them (sorted),
// the first changed value of any other header.
func unionDifferences(lists ...[]HeaderDifference) []HeaderDifference {
	var out []HeaderDifference
	for _, ds := range lists {
		for _, d := range ds {
			k := slices.IndexFunc(out, func(e HeaderDifference) bool { return e.Step == d.Step && e.Header == d.Header })
			if k < 0 {
				d.Missing, d.Extra = slices.Clone(d.Missing), slices.Clone(d.Extra)
				out = append(out, d)
				continue
			}
			out[k].Missing = unionSorted(out[k].Missing, d.Missing)
			out[k].Extra = unionSorted(out[k].Extra, d.Extra)
		}
	}
	slices.SortStableFunc(out, func(a, b HeaderDifference) int { return differenceRank(a) - differenceRank(b) })
	return out
}

// differenceRank is where a difference comes in Differences' order: the
// preflight before the actual answer; the status, Location, then the
// headers of answerHeaders.
func differenceRank(d HeaderDifference) int {
	r := 0
	if d.Step == audit.StepActual {
		r = 100
	}
	switch d.Header {
	case "status":
		return r
	case "Location":
		return r + 1
	}
	if k := slices.Index(answerHeaders[d.Step], d.Header); k >= 0 {
		return r + 2 + k
	}
	return r + 99
}

// unionSorted is the sorted tokens of a and b, each once.
func unionSorted(a, b []string) []string {
	for _, t := range b {
		if !slices.Contains(a, t) {
			a = append(a, t)
		}
	}
	sort.Strings(a)
	return a
}

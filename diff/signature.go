package diff

import (
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
)

// signature is the canonical form of what one instance answered for one
// probe: two instances with equal signatures behave the same for browsers.
// Lists are compared with the cors package's list semantics: ACAM as a set
// of case-sensitive methods, ACAH and ACEH as sets of case-insensitive
// names.
type signature struct {
	Verdict   string // "allowed" or "blocked:<reason>"
	Preflight string // canonical preflight answer ("" when none was sent)
	Actual    string // canonical actual answer ("" when none was sent)
}

// Outcome is the verdict without its reason: OutcomeAllowed or
// OutcomeBlocked. Verdict drift is a different outcome; the same outcome for
// another reason is header-level drift.
func (s signature) Outcome() string {
	if s.Verdict == OutcomeAllowed {
		return OutcomeAllowed
	}
	return OutcomeBlocked
}

// Key is a comparable form of the signature.
func (s signature) Key() string { return s.Verdict + "\x00" + s.Preflight + "\x00" + s.Actual }

// verdictString is "allowed" or "blocked (reason)".
func verdictString(v cors.Verdict) string {
	if v.Allowed {
		return OutcomeAllowed
	}
	return OutcomeBlocked + " (" + string(v.Reason) + ")"
}

// signatureOf computes the signature of a completed observation.
func signatureOf(o audit.Observation) signature {
	s := signature{Verdict: verdictString(o.Verdict())}
	if o.Preflight != nil {
		s.Preflight = canonical(o.Preflight, true)
	}
	if o.Actual != nil {
		s.Actual = canonical(o.Actual, false)
	}
	return s
}

// canonicalMemo remembers canonical answers by exchange content: the
// audit interns header sets, so thousands of instances share a few, and
// each distinct answer is rendered once. Headers are read-only once
// recorded; a header set is known by its identity.
type canonicalMemo map[canonicalKey]string

type canonicalKey struct {
	header    uintptr
	status    int
	location  string
	preflight bool
}

// signatureOf is signatureOf(o), rendering each distinct answer once.
func (m canonicalMemo) signatureOf(o audit.Observation) signature {
	s := signature{Verdict: verdictString(o.Verdict())}
	if o.Preflight != nil {
		s.Preflight = m.canonical(o.Preflight, true)
	}
	if o.Actual != nil {
		s.Actual = m.canonical(o.Actual, false)
	}
	return s
}

func (m canonicalMemo) canonical(e *audit.Exchange, preflight bool) string {
	k := canonicalKey{reflect.ValueOf(e.Header).Pointer(), e.Status, e.Location, preflight}
	if s, ok := m[k]; ok {
		return s
	}
	s := canonical(e, preflight)
	m[k] = s
	return s
}

// Describe is the human form of the signature: verdict, then the answers.
func (s signature) Describe() string {
	parts := []string{s.Verdict}
	if s.Preflight != "" {
		parts = append(parts, "preflight: "+s.Preflight)
	}
	if s.Actual != "" {
		parts = append(parts, "actual: "+s.Actual)
	}
	return strings.Join(parts, "; ")
}

// canonical renders the CORS-relevant parts of an answer in a fixed order.
func canonical(e *audit.Exchange, preflight bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", e.Status)
	if e.Location != "" {
		fmt.Fprintf(&b, " Location=%s", e.Location)
	}
	h := e.Header
	raw := func(name, short string) {
		if v, ok := h[http.CanonicalHeaderKey(name)]; ok {
			fmt.Fprintf(&b, " %s=%s", short, strings.Join(v, " | "))
		}
	}
	set := func(name, short string, fold bool) {
		v, ok := h[http.CanonicalHeaderKey(name)]
		if !ok {
			return
		}
		items, valid := cors.ParseList(v)
		if !valid {
			fmt.Fprintf(&b, " %s=invalid(%s)", short, strings.Join(v, " | "))
			return
		}
		seen := map[string]bool{}
		var out []string
		for _, it := range items {
			if fold {
				it = strings.ToLower(it)
			}
			if !seen[it] {
				seen[it] = true
				out = append(out, it)
			}
		}
		sort.Strings(out)
		fmt.Fprintf(&b, " %s=%s", short, strings.Join(out, ","))
	}
	raw(cors.ACAO, "ACAO")
	raw(cors.ACAC, "ACAC")
	if preflight {
		set(cors.ACAM, "ACAM", false)
		set(cors.ACAH, "ACAH", true)
		raw(cors.ACMA, "ACMA")
	} else {
		set(cors.ACEH, "ACEH", true)
	}
	if varyHasOrigin(h) {
		b.WriteString(" Vary=Origin")
	}
	return b.String()
}

// varyHasOrigin reports whether Vary names Origin (or is "*").
func varyHasOrigin(h http.Header) bool {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			if strings.EqualFold(f, "origin") || f == "*" {
				return true
			}
		}
	}
	return false
}

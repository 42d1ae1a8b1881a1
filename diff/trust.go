package diff

import (
	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
)

// classMistake says, per adversarial class, what kind of origin check
// trusts such an origin.
var classMistake = map[string]string{
	audit.ClassArbitrary:       "the origin is reflected without a check",
	audit.ClassNull:            "null is allowed",
	audit.ClassSchemeDowngrade: "the scheme is not checked",
	audit.ClassPostDomain:      "a prefix match, or a regex without a trailing anchor",
	audit.ClassPreDomain:       "a suffix match without a dot boundary",
	audit.ClassUnescapedDot:    "a regex with an unescaped dot",
	audit.ClassSubstring:       "a substring match against the allowlist",
	audit.ClassSubdomain:       "every subdomain of the site is trusted",
	audit.ClassPort:            "the port is not checked",
	audit.ClassSpecialChar:     "a host parser or regex that stops at special characters",
	audit.ClassConcatenation:   "an origin list is accepted when one of its origins is allowed",
	audit.ClassLocalhost:       "development origins are left in the allowlist",
	audit.ClassThirdParty:      "a public hosting service's subdomains are trusted",
}

// trustHit is one adversarial origin an instance trusts.
type trustHit struct {
	p      int
	class  string
	origin string
	// creds: the trusting answer carried Access-Control-Allow-Credentials: true.
	creds bool
	// preflight: the trust was seen on the preflight answer (else the
	// actual answer).
	preflight bool
}

// singleACAO finds the first answer of the observation (actual, then
// preflight) whose one Access-Control-Allow-Origin value satisfies match.
func singleACAO(o audit.Observation, match func(acao string, ex *audit.Exchange) bool) (ex *audit.Exchange, preflight, ok bool) {
	for _, e := range []struct {
		ex        *audit.Exchange
		preflight bool
	}{{o.Actual, false}, {o.Preflight, true}} {
		if e.ex == nil || e.ex.Failed() {
			continue
		}
		if acao := e.ex.Header.Values(cors.ACAO); len(acao) == 1 && match(acao[0], e.ex) {
			return e.ex, e.preflight, true
		}
	}
	return nil, false, false
}

// trusts reports whether an observation trusts the probe's origin: one
// Access-Control-Allow-Origin equal to it, byte for byte as browsers
// compare, on the actual answer or the preflight answer.
func trusts(o audit.Observation, pr audit.Probe) (trustHit, bool) {
	ex, preflight, ok := singleACAO(o, func(acao string, _ *audit.Exchange) bool { return acao == pr.Origin })
	if !ok {
		return trustHit{}, false
	}
	return trustHit{class: pr.Class, origin: pr.Origin, creds: allowsCredentials(ex), preflight: preflight}, true
}

// wildcardWithCredentials reports whether an answer of the observation says
// Access-Control-Allow-Origin: * together with credentials.
func wildcardWithCredentials(o audit.Observation) (trustHit, bool) {
	_, preflight, ok := singleACAO(o, func(acao string, ex *audit.Exchange) bool { return acao == "*" && allowsCredentials(ex) })
	if !ok {
		return trustHit{}, false
	}
	return trustHit{origin: "*", creds: true, preflight: preflight}, true
}

// allowsCredentials: Access-Control-Allow-Credentials is exactly "true",
// the only value browsers accept.
func allowsCredentials(e *audit.Exchange) bool {
	v := e.Header.Values(cors.ACAC)
	return len(v) == 1 && v[0] == "true"
}

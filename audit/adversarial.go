package audit

import (
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/corsaudit/corsaudit/audit/cors"
)

// Adversarial probe classes: the origin-validation mistake each adversarial
// origin exposes when an instance trusts it (answers with an
// Access-Control-Allow-Origin equal to it). With the policy origin
// https://app.example.com, the target host api.example.com and the random
// label r4nd:
const (
	// ClassArbitrary: https://r4nd.example, unrelated to the service; trusted
	// only by a server that reflects any origin.
	ClassArbitrary = "arbitrary"
	// ClassNull: the opaque origin "null" (sandboxed iframes, data: URLs,
	// some redirects), which any page can take.
	ClassNull = "null"
	// ClassPostDomain: https://app.example.com.r4nd.example, trusted by a
	// prefix match or a regex without a trailing anchor.
	ClassPostDomain = "post-domain"
	// ClassPreDomain: https://r4ndapp.example.com and https://r4ndexample.com,
	// trusted by a suffix match without a dot boundary.
	ClassPreDomain = "pre-domain"
	// ClassUnescapedDot: https://appxexample.com, trusted by a regex whose
	// dots are not escaped.
	ClassUnescapedDot = "unescaped-dot"
	// ClassSubstring: https://app.example.co, trusted by a server that checks
	// that the origin is contained in its allowlist string.
	ClassSubstring = "substring"
	// ClassSubdomain: https://r4nd.example.com, trusted by a server that
	// allows every subdomain of the policy origin's site (one subdomain
	// takeover or XSS away from a bypass).
	ClassSubdomain = "subdomain"
	// ClassSchemeDowngrade: http://app.example.com, whose pages a network
	// attacker can inject script into.
	ClassSchemeDowngrade = "scheme-downgrade"
	// ClassPort: https://app.example.com:1337, trusted by a server that
	// compares host names only.
	ClassPort = "port"
	// ClassSpecialChar: https://app.example.com{c}.r4nd.example for the
	// characters some browsers (Safari) accept in host names, trusted by a
	// server whose host parser or regex stops at them.
	ClassSpecialChar = "special-char"
	// ClassConcatenation: two policy origins separated by a space (the
	// origin-list form of RFC 6454), trusted by a server that accepts the
	// header when any listed origin is allowed, or by a substring match.
	ClassConcatenation = "concatenation"
	// ClassLocalhost: development origins (http://localhost:3000) left in
	// the allowlist; any local program can serve them.
	ClassLocalhost = "localhost"
	// ClassThirdParty: https://r4nd.github.io and other hosting services
	// where anyone can publish a page.
	ClassThirdParty = "third-party"
)

// AdversarialClasses lists the adversarial classes in the order
// AdversarialProbes emits their first probe.
var AdversarialClasses = []string{ClassArbitrary, ClassNull, ClassSchemeDowngrade, ClassPostDomain,
	ClassPreDomain, ClassUnescapedDot, ClassSubdomain, ClassPort, ClassSubstring, ClassConcatenation,
	ClassLocalhost, ClassThirdParty, ClassSpecialChar}

// IsAdversarial reports whether a probe class is one of the adversarial
// classes (neither ClassPolicy nor ClassDisallowed).
func IsAdversarial(class string) bool {
	for _, c := range AdversarialClasses {
		if c == class {
			return true
		}
	}
	return false
}

// specialChars are the characters put right after the trusted host in
// ClassSpecialChar origins (Corsy, CORScanner, PortSwigger research on
// Safari host parsing). "%60" is sent as the three characters, like the
// scanners do.
var specialChars = []string{"_", "-", "{", "}", "!", "~", ";", "|", "&", "'", "(", ")", "*", ",", "$", "=", "+", "^", "%60"}

// localhostOrigins are the development origins most often left in
// allowlists.
var localhostOrigins = []string{"http://localhost", "http://localhost:3000", "http://127.0.0.1"}

// thirdPartySuffixes are hosting services where anyone can publish a page
// under a subdomain.
var thirdPartySuffixes = []string{"github.io", "herokuapp.com", "netlify.app", "vercel.app", "pages.dev"}

// originLabel returns the DNS label (8 lower-case letters and digits) that
// AdversarialProbes puts in its made-up origins, derived from the target
// host and the policy: no allowlist holds it, and the same config gives the
// same probes on every run and every shard (so reports merge, and SARIF
// fingerprints and JUnit names stay stable).
func originLabel(targetHost string, pol Policy) string {
	h := sha256.New()
	for _, s := range [][]string{{targetHost}, pol.Origins, pol.Methods, pol.Headers, {strconv.FormatBool(pol.Credentials)}} {
		for _, x := range s {
			h.Write([]byte(x))
			h.Write([]byte{0})
		}
		h.Write([]byte{1})
	}
	sum := h.Sum(nil)
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	for i := range b {
		b[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return string(b)
}

// PlanTarget is a target's whole probe plan: Plan(pol), then, with
// adversarial, AdversarialProbes labelled by originLabel, numbered after
// the policy probes. The plan is bounded by maxProbes: the policy probes
// are never cut (more of them than maxProbes is an error), the adversarial
// ones are cut from the end (the least telling) and dropped says how many.
func PlanTarget(pol Policy, targetHost string, adversarial bool, maxProbes int) (probes []Probe, dropped int, err error) {
	probes = Plan(pol)
	if len(probes) > maxProbes {
		return nil, 0, fmt.Errorf("plan: the policy alone needs %d probes, more than the bound %d (fewer origins or methods, or raise max_probes)", len(probes), maxProbes)
	}
	if !adversarial {
		return probes, 0, nil
	}
	adv := AdversarialProbes(pol, targetHost, originLabel(targetHost, pol))
	if room := maxProbes - len(probes); len(adv) > room {
		dropped = len(adv) - room
		adv = adv[:room]
	}
	for i := range adv {
		adv[i].ID = fmt.Sprintf("p%d", len(probes)+1)
		probes = append(probes, adv[i])
	}
	return probes, dropped, nil
}

// AdversarialProbes returns the probes that look for origin-validation
// mistakes: origins derived from each policy origin and from the target
// host, that the policy does not list. Every probe is a simple GET (no
// preflight; the actual request is sent and its Access-Control-Allow-Origin
// and Access-Control-Allow-Credentials are observed), plus one preflighted
// request from the arbitrary origin when the policy has a non-simple method
// or request headers (preflight handlers are often written apart from the
// main handler). Probes leave ID empty (the caller numbers the whole plan),
// have Expect ExpectNone (they are judged by the misconfig check, not by the
// policy or the majority), and Credentials as the policy says.
//
// rnd is a DNS label (originLabel); no allowlist holds the arbitrary
// origins made with it. Origins are deduplicated and ordered from the most to
// the least telling, so that a caller bounding the plan keeps the best ones:
// arbitrary, null, then per policy origin (and the target host) the
// host-derived classes, concatenation, localhost, third-party hosting, and
// the special characters last (for the first policy origin only). The count
// is at most 8 per policy origin + 3 for the target host + 31.
//
// No case-variant origin is sent: browsers serialize the scheme and host of
// an origin in lower case, so a server that trusts https://APP.example.com
// cannot be exploited through that, and one that does not is behaving.
func AdversarialProbes(pol Policy, targetHost string, rnd string) []Probe {
	rnd = cleanLabel(rnd)
	skip := map[string]bool{}
	for _, o := range pol.Origins {
		skip[normalizeOrigin(o)] = true
	}
	var probes []Probe
	seen := map[string]bool{}
	add := func(class, origin string) {
		if origin == "" || skip[normalizeOrigin(origin)] || seen[origin] {
			return
		}
		seen[origin] = true
		probes = append(probes, Probe{Origin: origin, Method: http.MethodGet, Credentials: pol.Credentials, Class: class})
	}

	arbitrary := "https://" + rnd + ".example"
	add(ClassArbitrary, arbitrary)
	add(ClassNull, "null")
	if pre, ok := preflightedVariant(pol, arbitrary); ok && !skip[normalizeOrigin(arbitrary)] {
		probes = append(probes, pre)
	}

	var bases []*url.URL
	for _, o := range pol.Origins {
		if u := parseOrigin(normalizeOrigin(o)); u != nil {
			bases = append(bases, u)
		}
	}
	for _, u := range bases {
		host := u.Hostname()
		port := ""
		if p := u.Port(); p != "" {
			port = ":" + p
		}
		site := registrable(host)
		if u.Scheme == "https" {
			add(ClassSchemeDowngrade, "http://"+u.Host)
		}
		add(ClassPostDomain, u.Scheme+"://"+host+"."+rnd+".example"+port)
		add(ClassPreDomain, u.Scheme+"://"+rnd+host+port)
		if site != "" && site != host {
			add(ClassPreDomain, u.Scheme+"://"+rnd+site+port)
		}
		if i := strings.IndexByte(host, '.'); i > 0 && net.ParseIP(host) == nil {
			add(ClassUnescapedDot, u.Scheme+"://"+host[:i]+"x"+host[i+1:]+port)
		}
		if site != "" {
			add(ClassSubdomain, u.Scheme+"://"+rnd+"."+site+port)
		}
		if port == "" {
			add(ClassPort, u.Scheme+"://"+host+":1337")
		}
		if len(host) > 1 && strings.Contains(host[:len(host)-1], ".") && net.ParseIP(host) == nil {
			add(ClassSubstring, u.Scheme+"://"+host[:len(host)-1]+port)
		}
	}
	if th := targetHostname(targetHost); th != "" {
		add(ClassPostDomain, "https://"+th+"."+rnd+".example")
		add(ClassPreDomain, "https://"+rnd+th)
		if i := strings.IndexByte(th, '.'); i > 0 && net.ParseIP(th) == nil {
			add(ClassUnescapedDot, "https://"+th[:i]+"x"+th[i+1:])
		}
	}
	if len(bases) > 0 {
		first, second := bases[0], bases[0]
		if len(bases) > 1 {
			second = bases[1]
		}
		add(ClassConcatenation, first.Scheme+"://"+first.Host+" "+second.Scheme+"://"+second.Host)
	}
	for _, o := range localhostOrigins {
		add(ClassLocalhost, o)
	}
	for _, s := range thirdPartySuffixes {
		add(ClassThirdParty, "https://"+rnd+"."+s)
	}
	if len(bases) > 0 {
		u := bases[0]
		port := ""
		if p := u.Port(); p != "" {
			port = ":" + p
		}
		for _, c := range specialChars {
			add(ClassSpecialChar, u.Scheme+"://"+u.Hostname()+c+"."+rnd+".example"+port)
		}
	}
	return probes
}

// preflightedVariant is a request from origin that a browser preflights:
// the policy's first non-simple method, else GET with the policy's request
// headers. ok is false when the policy has neither.
func preflightedVariant(pol Policy, origin string) (Probe, bool) {
	for _, m := range pol.Methods {
		if m != http.MethodGet && m != http.MethodHead && m != http.MethodPost {
			return Probe{Origin: origin, Method: m, Credentials: pol.Credentials, Class: ClassArbitrary}, true
		}
	}
	if len(pol.Headers) == 0 {
		return Probe{}, false
	}
	p := Probe{Origin: origin, Method: http.MethodGet, Credentials: pol.Credentials, Class: ClassArbitrary}
	for _, h := range pol.Headers {
		p.Headers = append(p.Headers, cors.Header{Name: h, Value: headerValue(h)})
	}
	return p, true
}

// cleanLabel keeps the lower-case letters and digits of s (at most 16);
// an empty result becomes "corsaudit".
func cleanLabel(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z' || r >= '0' && r <= '9') && b.Len() < 16 {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "corsaudit"
	}
	return b.String()
}

// parseOrigin parses a serialized http(s) origin; nil for "null", "*" and
// anything else.
func parseOrigin(o string) *url.URL {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	if net.ParseIP(u.Hostname()) == nil && !validHostname(u.Hostname()) {
		return nil
	}
	return u
}

// normalizeOrigin lower-cases the scheme and host of an origin and drops a
// default port, so that policy origins and derived ones compare equal.
func normalizeOrigin(o string) string {
	u := parseOrigin(o)
	if u == nil {
		return o
	}
	host := u.Host
	if (u.Scheme == "https" && u.Port() == "443") || (u.Scheme == "http" && u.Port() == "80") {
		host = u.Hostname()
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	}
	return u.Scheme + "://" + host
}

// registrable is the registrable domain of host (example.com for
// app.example.com, example.co.uk for app.example.co.uk); "" for IP
// addresses and public suffixes.
func registrable(host string) string {
	if net.ParseIP(host) != nil || !strings.Contains(host, ".") {
		return ""
	}
	site, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return ""
	}
	return site
}

// targetHostname is the lower-case host name of a "host" or "host:port"
// target host; "" for IP addresses and empty input.
func targetHostname(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	if net.ParseIP(h) != nil || !validHostname(h) {
		return ""
	}
	return h
}

// validHostname reports whether h is a non-empty DNS name made of letters,
// digits, '-', '_' and '.'.
func validHostname(h string) bool {
	if h == "" {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

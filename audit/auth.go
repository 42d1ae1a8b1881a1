package audit

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
)

// Credential is the secret a logged-in user's browser sends with the
// actual request (a session cookie or an Authorization token). corsaudit
// sends it only where a browser would (see ActAsBrowser), and never
// records, logs or prints its value: every record of a request
// (SentRequest) holds Shown instead, a shell expression that yields the
// value ($CORSAUDIT_TOKEN), so reproduce commands are safe by construction.
type Credential struct {
	// Header is the request header that carries the secret:
	// "Authorization" (or another header name), or "Cookie".
	Header string
	// Cookie is the cookie's name when Header is Cookie.
	Cookie string
	// Value is the secret. It is never recorded (json:"-", String hides it).
	Value string `json:"-"`
	// Shown is what records and curl commands show instead of the value:
	// a shell expression such as $CORSAUDIT_TOKEN or $(cat /run/secrets/token).
	Shown string
	// Adversarial also sends the secret on the probes from origins the
	// policy does not list (adversarial and disallowed-origin probes).
	Adversarial bool

	// forms caches echoForms.
	forms atomic.Pointer[[]string]
}

// Redacted replaces a credential's value wherever an instance echoed it.
const Redacted = "[REDACTED]"

// echoForms are the forms of the value an instance may echo, longest
// first: the value, the token after its scheme ("Bearer TOKEN") when
// that is not short, and both as written in a URL's query or path.
func (c *Credential) echoForms() []string {
	if f := c.forms.Load(); f != nil {
		return *f
	}
	var forms []string
	add := func(s string) {
		if s != "" && !slices.Contains(forms, s) {
			forms = append(forms, s)
		}
	}
	values := []string{c.Value}
	if _, token, ok := strings.Cut(c.Value, " "); ok && len(token) >= 8 {
		values = append(values, token)
	}
	for _, v := range values {
		add(v)
		add(url.QueryEscape(v))
		add(url.PathEscape(v))
	}
	sort.SliceStable(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	c.forms.Store(&forms)
	return forms
}

// Redact returns s with every form of c's value (echoForms) replaced by
// Redacted; s itself when it holds none (or c is nil).
func (c *Credential) Redact(s string) string {
	if c == nil || c.Value == "" {
		return s
	}
	for _, f := range c.echoForms() {
		if strings.Contains(s, f) {
			s = strings.ReplaceAll(s, f, Redacted)
		}
	}
	return s
}

// redactHeader redacts every value of h in place.
func (c *Credential) redactHeader(h http.Header) {
	if c == nil || c.Value == "" {
		return
	}
	for _, vs := range h {
		for i, v := range vs {
			vs[i] = c.Redact(v)
		}
	}
}

// ShownEnv is what records show for a secret read from the environment
// variable name: $NAME.
func ShownEnv(name string) string { return "$" + name }

// ShownFile is what records show for a secret read from the file at path:
// $(cat PATH), the path as written (a curl command quotes it).
func ShownFile(path string) string { return "$(cat " + path + ")" }

// ParseShown splits a recorded credential header value into the literal
// text before the placeholder (a cookie's "NAME=") and the placeholder,
// as ShownEnv or ShownFile wrote it: env or path is set. ok is false when
// v ends with neither, or the variable name is not one a shell expands in
// "$NAME".
func ParseShown(v string) (prefix, env, path string, ok bool) {
	if i := strings.Index(v, "$(cat "); i >= 0 && strings.HasSuffix(v, ")") && len(v) > i+len("$(cat )") {
		return v[:i], "", v[i+len("$(cat ") : len(v)-1], true
	}
	i := strings.LastIndexByte(v, '$')
	if i < 0 || !IsEnvName(v[i+1:]) {
		return "", "", "", false
	}
	return v[:i], v[i+1:], "", true
}

// IsEnvName reports whether s is a variable name a POSIX shell expands in
// "$NAME": a letter or underscore, then letters, digits or underscores.
func IsEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
	})
}

// String describes the credential without its value.
func (c *Credential) String() string {
	if c == nil {
		return "no credential"
	}
	if c.Cookie != "" {
		return fmt.Sprintf("cookie %s from %s", c.Cookie, c.Shown)
	}
	return fmt.Sprintf("header %s from %s", c.Header, c.Shown)
}

// GoString is String, so %#v does not print the value either.
func (c *Credential) GoString() string { return c.String() }

// value is the header value to send (shown: the one to record).
func (c *Credential) value(shown bool) string {
	v := c.Value
	if shown {
		v = c.Shown
	}
	if c.Cookie != "" {
		return c.Cookie + "=" + v
	}
	return v
}

// forProbe is the credential for probe pr: none unless pr is a policy
// probe (or the credential is also for adversarial probes).
func (c *Credential) forProbe(pr Probe) *Credential {
	if c == nil || (pr.Class != ClassPolicy && !c.Adversarial) {
		return nil
	}
	return c
}

// sendsWith reports whether a browser attaches c to the actual request of
// req: cookies with credentials: "include"; a token header when the page
// sets that header or fetches with credentials (HTTP authentication).
func (c *Credential) sendsWith(headers []string, credentials bool) bool {
	if c == nil {
		return false
	}
	if credentials {
		return true
	}
	if c.Cookie != "" {
		return false
	}
	for _, h := range headers {
		if strings.EqualFold(h, c.Header) {
			return true
		}
	}
	return false
}

// Recorded is the header and value a record of a request carrying c
// holds: the placeholder, never the secret.
func (c *Credential) Recorded() (header, value string) {
	return http.CanonicalHeaderKey(c.Header), c.value(true)
}

// attach sets the credential on the header of an actual request: the
// value on sent, the shown placeholder on recorded.
func (c *Credential) attach(sent, recorded http.Header) {
	name := http.CanonicalHeaderKey(c.Header)
	sent.Set(name, c.value(false))
	recorded.Set(name, c.value(true))
}

package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
)

// paths checks a target's paths at path.
func (v *validation) paths(paths []string, path string) {
	seen := make(map[string]bool, len(paths))
	for j, p := range paths {
		field := fmt.Sprintf("%s[%d]", path, j)
		if _, err := audit.ParsePath(p); err != nil {
			v.bad(field, "%s", strings.TrimPrefix(err.Error(), "path: "))
		} else if seen[p] {
			v.bad(field, "%q is listed twice", p)
		}
		seen[p] = true
	}
}

// envName is a variable name a shell expands in "$NAME".
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// auth checks the target's auth at path and reads its secret. Messages
// name the variable or file, never the value.
func (v *validation) auth(t Target, path string) *audit.Credential {
	a := t.Auth
	if a == (Auth{}) {
		return nil
	}
	ok := true
	switch {
	case a.Header == "" && a.Cookie == "":
		v.bad(path, "give header: (e.g. Authorization) or cookie: (the cookie's name)")
		ok = false
	case a.Header != "" && a.Cookie != "":
		v.bad(path, "give header: or cookie:, not both")
		ok = false
	case a.Header != "" && !cors.IsToken(a.Header):
		v.bad(path+".header", "%q is not a header name", a.Header)
		ok = false
	case strings.EqualFold(a.Header, "Cookie"):
		v.bad(path+".header", "write cookie: NAME (the cookie's name) instead of header: Cookie")
		ok = false
	case a.Cookie != "" && !cors.IsToken(a.Cookie):
		v.bad(path+".cookie", "%q is not a cookie name", a.Cookie)
		ok = false
	}
	if a.Header != "" && !t.Policy.Credentials && !slices.ContainsFunc(t.Policy.Headers, func(h string) bool { return strings.EqualFold(h, a.Header) }) {
		v.bad(path, "a browser sends %s only on credentialed requests or when the page sets it: set policy.credentials: true or list it in policy.headers", a.Header)
		ok = false
	}
	if a.Cookie != "" && !t.Policy.Credentials {
		v.bad(path, "a browser sends cookies only on credentialed requests: set policy.credentials: true")
		ok = false
	}
	var value, shown string
	switch {
	case a.ValueFromEnv == "" && a.ValueFromFile == "":
		v.bad(path, "give value_from_env: VARIABLE or value_from_file: PATH (the secret is never written in the config)")
		return nil
	case a.ValueFromEnv != "" && a.ValueFromFile != "":
		v.bad(path, "give value_from_env: or value_from_file:, not both")
		return nil
	case a.ValueFromEnv != "":
		if !envName.MatchString(a.ValueFromEnv) {
			v.bad(path+".value_from_env", "%q is not a variable name", a.ValueFromEnv)
			return nil
		}
		if v.c.noSecrets {
			return nil
		}
		val, set := os.LookupEnv(a.ValueFromEnv)
		if !set || val == "" {
			v.bad(path+".value_from_env", "%s is not set or empty", a.ValueFromEnv)
			return nil
		}
		value, shown = val, "$"+a.ValueFromEnv
	case v.c.noSecrets:
		return nil
	default:
		data, err := ReadFile(a.ValueFromFile)
		if err != nil {
			v.bad(path+".value_from_file", "cannot read %s: %s", a.ValueFromFile, readProblem(err))
			return nil
		}
		value = strings.TrimRight(string(data), "\r\n")
		if value == "" {
			v.bad(path+".value_from_file", "%s is empty", a.ValueFromFile)
			return nil
		}
		shown = "$(cat " + shellWord(a.ValueFromFile) + ")"
	}
	if strings.ContainsFunc(value, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
		v.bad(path, "the secret holds control characters (a line break?): it cannot be sent in a header")
		return nil
	}
	if !ok {
		return nil
	}
	header := a.Header
	if a.Cookie != "" {
		header = "Cookie"
	}
	return &audit.Credential{Header: http.CanonicalHeaderKey(header), Cookie: a.Cookie, Value: value, Shown: shown,
		Adversarial: a.Adversarial}
}

// readProblem is the reason of a read error without the path (already
// named).
func readProblem(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// shellWord quotes s for a POSIX shell when it needs quoting.
func shellWord(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// tls checks the target's tls at path and loads its files.
func (v *validation) tls(t TLS, path string) *tls.Config {
	c, err := audit.TLSFiles{InsecureSkipVerify: t.InsecureSkipVerify, CAFile: t.CAFile, CertFile: t.CertFile,
		KeyFile: t.KeyFile}.Config()
	if err != nil {
		key, msg, _ := strings.Cut(err.Error(), ": ")
		v.bad(path+"."+key, "%s", msg)
		return nil
	}
	return c
}

package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"os"
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

// auth checks the target's auth at path and, when the validation reads
// credentials (Build), reads its secret: the credential is nil when the
// section names none, has a problem, or is not read. Messages name the
// variable or file, never the value.
func (v *validation) auth(t Target, path string) *audit.Credential {
	a := t.Auth
	if a == (Auth{}) {
		return nil
	}
	ok := v.sendable(a, t.Policy, path)
	switch {
	case a.ValueFromEnv == "" && a.ValueFromFile == "":
		v.bad(path, "give value_from_env: VARIABLE or value_from_file: PATH (the secret is never written in the config)")
		return nil
	case a.ValueFromEnv != "" && a.ValueFromFile != "":
		v.bad(path, "give value_from_env: or value_from_file:, not both")
		return nil
	case a.ValueFromEnv != "" && !audit.IsEnvName(a.ValueFromEnv):
		v.bad(path+".value_from_env", "%q is not a variable name", a.ValueFromEnv)
		return nil
	case !v.credentials:
		return nil
	}
	value := v.secret(a, path)
	if !ok || value == "" {
		return nil
	}
	cred := a.Placeholder()
	cred.Value = value
	return cred
}

// sendable checks how the auth section a at path sends its secret: one
// header or cookie, which policy p lets a browser send. It reads nothing.
func (v *validation) sendable(a Auth, p Policy, path string) bool {
	if a == (Auth{}) {
		return true
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
	if a.Header != "" && !p.Credentials && !slices.ContainsFunc(p.Headers, func(h string) bool { return strings.EqualFold(h, a.Header) }) {
		v.bad(path, "a browser sends %s only on credentialed requests or when the page sets it: set policy.credentials: true or list it in policy.headers", a.Header)
		ok = false
	}
	if a.Cookie != "" && !p.Credentials {
		v.bad(path, "a browser sends cookies only on credentialed requests: set policy.credentials: true")
		ok = false
	}
	return ok
}

// secret reads the value of auth section a (at path), named by exactly
// one valid variable or file: "" with a problem recorded when it cannot
// be read or sent.
func (v *validation) secret(a Auth, path string) string {
	var value string
	if a.ValueFromEnv != "" {
		val, set := os.LookupEnv(a.ValueFromEnv)
		if !set || val == "" {
			v.bad(path+".value_from_env", "%s is not set or empty", a.ValueFromEnv)
			return ""
		}
		value = val
	} else {
		data, err := ReadFile(a.ValueFromFile)
		if err != nil {
			v.bad(path+".value_from_file", "cannot read %s: %s", a.ValueFromFile, readProblem(err))
			return ""
		}
		value = strings.TrimRight(string(data), "\r\n")
		if value == "" {
			v.bad(path+".value_from_file", "%s is empty", a.ValueFromFile)
			return ""
		}
	}
	if strings.ContainsFunc(value, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
		v.bad(path, "the secret holds control characters (a line break?): it cannot be sent in a header")
		return ""
	}
	return value
}

// shown is what records show instead of the secret.
func (a Auth) shown() string {
	if a.ValueFromEnv != "" {
		return audit.ShownEnv(a.ValueFromEnv)
	}
	return audit.ShownFile(a.ValueFromFile)
}

// Placeholder is the credential a without its value (nothing is read):
// what corsaudit records in its place. Nil when a names no credential.
func (a Auth) Placeholder() *audit.Credential {
	if a.Header == "" && a.Cookie == "" || a.ValueFromEnv == "" && a.ValueFromFile == "" {
		return nil
	}
	header := a.Header
	if a.Cookie != "" {
		header = "Cookie"
	}
	return &audit.Credential{Header: http.CanonicalHeaderKey(header), Cookie: a.Cookie, Shown: a.shown(),
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

// tls checks the target's tls at path and, when the validation reads
// credentials (Build), loads its files.
func (v *validation) tls(t TLS, path string) *tls.Config {
	files := audit.TLSFiles{InsecureSkipVerify: t.InsecureSkipVerify, CAFile: t.CAFile, CertFile: t.CertFile,
		KeyFile: t.KeyFile}
	err := files.Check()
	var c *tls.Config
	if err == nil && v.credentials {
		c, err = files.Config()
	}
	if err != nil {
		key, msg, _ := strings.Cut(err.Error(), ": ")
		v.bad(path+"."+key, "%s", msg)
		return nil
	}
	return c
}

package config

import (
	"os"
	"strings"
	"testing"
)

// TestAuthValidation: one testdata/invalid-auth-*.yaml per way an auth
// section can be wrong, with the exact message. What only reading the
// secret finds is Build's (readOnBuild); no message holds the secret.
func TestAuthValidation(t *testing.T) {
	t.Setenv("CORSAUDIT_AUTH_TEST_TOKEN", "Bearer tok-1234")
	for _, tc := range []struct {
		desc, file string
		want       []string
	}{
		{"neither header nor cookie", "invalid-auth-no-header-or-cookie.yaml", []string{
			`testdata/invalid-auth-no-header-or-cookie.yaml:6: targets[0].auth: give header: (e.g. Authorization) or cookie: (the cookie's name)`}},
		{"header and cookie", "invalid-auth-header-and-cookie.yaml", []string{
			`testdata/invalid-auth-header-and-cookie.yaml:6: targets[0].auth: give header: or cookie:, not both`}},
		{"a header name that is not one", "invalid-auth-header-name.yaml", []string{
			`testdata/invalid-auth-header-name.yaml:6: targets[0].auth.header: "X Token" is not a header name`}},
		{"the Cookie header", "invalid-auth-cookie-header.yaml", []string{
			`testdata/invalid-auth-cookie-header.yaml:6: targets[0].auth.header: write cookie: NAME (the cookie's name) instead of header: Cookie`}},
		{"a cookie name that is not one", "invalid-auth-cookie-name.yaml", []string{
			`testdata/invalid-auth-cookie-name.yaml:6: targets[0].auth.cookie: "sess;ion" is not a cookie name`}},
		{"a header the policy never lets a browser send", "invalid-auth-header-not-sent.yaml", []string{
			`testdata/invalid-auth-header-not-sent.yaml:6: targets[0].auth: a browser sends Authorization only on credentialed requests or when the page sets it: set policy.credentials: true or list it in policy.headers`}},
		{"a cookie without credentials", "invalid-auth-cookie-not-sent.yaml", []string{
			`testdata/invalid-auth-cookie-not-sent.yaml:6: targets[0].auth: a browser sends cookies only on credentialed requests: set policy.credentials: true`}},
		{"no source", "invalid-auth-no-source.yaml", []string{
			`testdata/invalid-auth-no-source.yaml:6: targets[0].auth: give value_from_env: VARIABLE or value_from_file: PATH (the secret is never written in the config)`}},
		{"two sources", "invalid-auth-two-sources.yaml", []string{
			`testdata/invalid-auth-two-sources.yaml:6: targets[0].auth: give value_from_env: or value_from_file:, not both`}},
		{"a variable name that is not one", "invalid-auth-variable-name.yaml", []string{
			`testdata/invalid-auth-variable-name.yaml:7: targets[0].auth.value_from_env: "1TOKEN" is not a variable name`}},
		{"an unset variable", "invalid-auth-unset-variable.yaml", []string{
			readOnBuild + `testdata/invalid-auth-unset-variable.yaml:7: targets[0].auth.value_from_env: CORSAUDIT_AUTH_TEST_UNSET is not set or empty`}},
		{"a missing file", "invalid-auth-missing-file.yaml", []string{
			readOnBuild + `testdata/invalid-auth-missing-file.yaml:7: targets[0].auth.value_from_file: cannot read testdata/auth-missing-token: no such file or directory`}},
		{"an empty file", "invalid-auth-empty-file.yaml", []string{
			readOnBuild + `testdata/invalid-auth-empty-file.yaml:7: targets[0].auth.value_from_file: testdata/auth-empty-token is empty`}},
		{"a secret of two lines", "invalid-auth-control-characters.yaml", []string{
			readOnBuild + `testdata/invalid-auth-control-characters.yaml:6: targets[0].auth: the secret holds control characters (a line break?): it cannot be sent in a header`}},
	} {
		checkProblems(t, tc.desc, tc.file, tc.want)
	}
	// No message shows a secret, read or not.
	for _, file := range []string{"invalid-auth-control-characters.yaml", "invalid-auth-header-not-sent.yaml"} {
		c, err := parseFile(t, "testdata/"+file)
		if err == nil {
			_, err = c.Build()
		}
		if err == nil || strings.Contains(err.Error(), "tok") || strings.Contains(err.Error(), "second-line") {
			t.Errorf("%s: Build = %v; want an error that shows no secret", file, err)
		}
	}
}

// TestAuthCredential: a valid auth section's secret is read by Build (a
// final newline dropped), sent in the canonical header, and recorded as
// its placeholder; Validate and BuildDiscovery read nothing.
func TestAuthCredential(t *testing.T) {
	c, err := parseFile(t, "testdata/valid-auth-header.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	d, err := c.BuildDiscovery()
	if err != nil || d.Targets[0].Auth != nil {
		t.Fatalf("BuildDiscovery = %v, %v; want no credential read", d, err)
	}
	b, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	cred := b.Targets[0].Auth
	data, _ := os.ReadFile("testdata/auth-token")
	if cred == nil || cred.Value != strings.TrimSuffix(string(data), "\n") || cred.Header != "Authorization" || cred.Cookie != "" {
		t.Fatalf("credential = %+v, want the file's value in Authorization", cred)
	}
	if p := c.Targets[0].Auth.Placeholder(); p == nil || p.Value != "" || p.Shown != cred.Shown || strings.Contains(p.Shown, "tok-1234") {
		t.Errorf("placeholder = %+v, want the credential without its value, shown as %q", p, cred.Shown)
	}
}

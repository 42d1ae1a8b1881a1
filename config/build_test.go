package config

import (
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretsConfig is a config whose two targets read a secret each, one
// from a variable and one from a file, and a CA file.
func secretsConfig(t *testing.T, tokenFile, caFile string) *Config {
	t.Helper()
	c, err := Parse([]byte(`targets:
  - name: env
    url: https://api.example.com/
    discover: {static: {instances: [{addr: "127.0.0.1:1"}]}}
    policy: {origins: [https://app.example.com], credentials: true}
    auth: {header: Authorization, value_from_env: CORSAUDIT_BUILD_TEST_TOKEN}
  - name: file
    url: https://api.example.com/
    discover: {static: {instances: [{addr: "127.0.0.1:2"}]}}
    policy: {origins: [https://app.example.com], credentials: true}
    auth: {cookie: session, value_from_file: `+tokenFile+`}
    tls: {ca_file: `+caFile+`}
`), "build.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestValidateReadsNothing: Validate and BuildDiscovery read no secret and
// no certificate (config check, discover); Build reads each once and
// reports what it could not read, as Validate's problems are reported.
func TestValidateReadsNothing(t *testing.T) {
	dir := t.TempDir()
	token, ca := filepath.Join(dir, "token"), filepath.Join(dir, "ca.pem")
	c := secretsConfig(t, token, ca) // neither file exists yet, the variable is unset
	if err := c.Validate(); err != nil {
		t.Errorf("Validate = %v, want nil: it reads no secret and no file", err)
	}
	d, err := c.BuildDiscovery()
	if err != nil {
		t.Fatalf("BuildDiscovery = %v, want nil: it reads no secret and no file", err)
	}
	if d.Probes() || len(d.Targets) != 2 {
		t.Fatalf("BuildDiscovery: %d targets, Probes %v; want 2 targets, not for probing", len(d.Targets), d.Probes())
	}
	for _, bt := range d.Targets {
		if bt.Provider == nil || bt.Auth != nil || bt.TLS != nil {
			t.Errorf("BuildDiscovery: target %s: provider %v, auth %v, tls %v; want a provider, no secret, no TLS", bt.Label, bt.Provider, bt.Auth, bt.TLS)
		}
	}
	_, err = c.Build()
	want := strings.Join([]string{
		"build.yaml:6: targets[0].auth.value_from_env: CORSAUDIT_BUILD_TEST_TOKEN is not set or empty",
		"build.yaml:11: targets[1].auth.value_from_file: cannot read " + token + ": no such file or directory",
		"build.yaml:12: targets[1].tls.ca_file: open " + ca + ": no such file or directory",
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("Build without the secrets:\n got: %v\nwant: %s", err, want)
	}

	t.Setenv("CORSAUDIT_BUILD_TEST_TOKEN", "Bearer env-token")
	if err := os.WriteFile(token, []byte("file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(nil)
	srv.Close()
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	if !b.Probes() || b.Config != c || len(b.Targets) != 2 {
		t.Fatalf("Build: Probes %v, %d targets; want both, for probing, of c", b.Probes(), len(b.Targets))
	}
	env, file := b.Targets[0], b.Targets[1]
	if env.Auth == nil || env.Auth.Value != "Bearer env-token" || env.Auth.Header != "Authorization" {
		t.Errorf("env target's credential = %+v, want the variable's value in Authorization", env.Auth)
	}
	if file.Auth == nil || file.Auth.Value != "file-token" || file.Auth.Cookie != "session" {
		t.Errorf("file target's credential = %+v, want the file's value (final newline dropped) as cookie session", file.Auth)
	}
	if file.TLS == nil || file.TLS.RootCAs == nil || env.TLS != nil {
		t.Errorf("TLS: file target %v, env target %v; want the CA file's pool on the file target only", file.TLS, env.TLS)
	}
}

// TestWithPolicy: gate --policy replaces every target's policy of a built
// config, keeping its providers and secrets, and refuses a policy under
// which a browser would never send the configured secret.
func TestWithPolicy(t *testing.T) {
	t.Setenv("CORSAUDIT_BUILD_TEST_TOKEN", "Bearer env-token")
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("file-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := secretsConfig(t, token, "")
	c.Targets[1].TLS = TLS{}
	b, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	pol := Policy{Origins: []string{"https://shop.example.com"}, Methods: []string{"get", "PUT"}, Credentials: true}
	g, err := b.WithPolicy(pol)
	if err != nil {
		t.Fatal(err)
	}
	for i, bt := range g.Targets {
		if strings.Join(bt.Policy.Origins, ",") != "https://shop.example.com" || strings.Join(bt.Policy.Methods, ",") != "GET,PUT" {
			t.Errorf("target %d: policy %+v, want the gate's (methods normalised)", i, bt.Policy)
		}
		if bt.Provider != b.Targets[i].Provider || bt.Auth != b.Targets[i].Auth {
			t.Errorf("target %d: provider or secret rebuilt; want b's own", i)
		}
		if g.Config.Targets[i].Policy.Origins[0] != "https://shop.example.com" {
			t.Errorf("target %d: the config's policy is %+v, want the gate's", i, g.Config.Targets[i].Policy)
		}
	}
	if !g.Probes() {
		t.Error("WithPolicy lost Probes")
	}
	if b.Targets[0].Policy.Origins[0] != "https://app.example.com" || c.Targets[0].Policy.Origins[0] != "https://app.example.com" {
		t.Errorf("WithPolicy changed b: %+v, %+v", b.Targets[0].Policy, c.Targets[0].Policy)
	}

	_, err = b.WithPolicy(Policy{Origins: []string{"https://shop.example.com"}})
	want := strings.Join([]string{
		"build.yaml:6: targets[0].auth: a browser sends Authorization only on credentialed requests or when the page sets it: set policy.credentials: true or list it in policy.headers",
		"build.yaml:11: targets[1].auth: a browser sends cookies only on credentialed requests: set policy.credentials: true",
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("WithPolicy without credentials:\n got: %v\nwant: %s", err, want)
	}
}

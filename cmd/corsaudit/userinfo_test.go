package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTargetURLUserinfoRefused: a target URL with a user name or password
// is a usage error (exit 2) wherever it is given — config, command line,
// check, inventory — because browsers never send one with fetch(); and no
// message echoes it.
func TestTargetURLUserinfoRefused(t *testing.T) {
	const pw = "s3cretPW"
	cfg := func(url string) string {
		return writeConfig(t, `targets:
  - url: `+url+`
    discover: {static: {instances: [{id: a, addr: "127.0.0.1:1"}]}}
    policy: {origins: [https://app.example.com]}
`)
	}
	good := cfg("http://api.example.com/v1")
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.json")
	if code, _, stderr := runCLI("discover", "--config", good, "--output", inv); code != exitClean {
		t.Fatalf("discover: exit %d\n%s", code, stderr)
	}
	b, err := os.ReadFile(inv)
	if err != nil {
		t.Fatal(err)
	}
	edited := filepath.Join(dir, "edited.json")
	os.WriteFile(edited, []byte(strings.Replace(string(b), `"url": "http://api.example.com/v1"`, `"url": "http://user:`+pw+`@api.example.com/v1"`, 1)), 0o644)
	if !strings.Contains(string(b), `"url": "http://api.example.com/v1"`) {
		t.Fatalf("the inventory does not hold the URL as expected:\n%s", b)
	}
	adHoc := []string{"--instance", "127.0.0.1:1", "--origin", "https://app.example.com"}
	for _, tc := range []struct {
		desc string
		args []string
		want string // in stderr
	}{
		{"config", []string{"audit", "--config", cfg("http://user:" + pw + "@api.example.com/v1")}, "targets[0].url"},
		{"config check", []string{"config", "check", cfg("https://" + pw + "@api.example.com/")}, "targets[0].url"},
		{"command line", append([]string{"audit", "http://user:" + pw + "@api.example.com/v1"}, adHoc...), "URL"},
		{"command line, not http", append([]string{"audit", "ftp://user:" + pw + "@api.example.com/v1"}, adHoc...), "URL"},
		{"command line, no scheme", append([]string{"audit", "user:" + pw + "@api.example.com/v1"}, adHoc...), "URL"},
		{"check", []string{"check", "https://user:" + pw + "@api.example.com/", "--origin", "https://app.example.com"}, "url"},
		{"check, unparsable", []string{"check", "https://user:" + pw + "@api.example.com/%zz", "--origin", "https://app.example.com"}, "url"},
		{"inventory", []string{"audit", "--inventory", edited, "--shard", "0/1"}, "url"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d\n%s", code, exitUsage, stderr)
			}
			if !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "user name or password") && !strings.Contains(tc.desc, "not http") && !strings.Contains(tc.desc, "unparsable") {
				t.Errorf("stderr does not name %s and the user name or password:\n%s", tc.want, stderr)
			}
			if strings.Contains(stdout+stderr, pw) {
				t.Errorf("the password is printed:\n%s%s", stdout, stderr)
			}
		})
	}
}

package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

// TestCompletion: cobra's completion offers formats, checks and browsers,
// and, from the --config file (nothing probed), target names and the
// static instances' groups.
func TestCompletion(t *testing.T) {
	for _, tc := range []struct {
		desc string
		args []string
		want []string
	}{
		{"audit formats", []string{"audit", "--format", ""}, []string{"html", "json", "junit", "sarif", "table"}},
		{"discover formats", []string{"discover", "--format", ""}, []string{"table", "json"}},
		{"checks", []string{"audit", "--checks", ""}, []string{"drift", "lb", "cache", "misconfig"}},
		{"browsers", []string{"check", "--browser", ""}, []string{"chromium", "firefox", "webkit", "spec", "safari"}},
		{"gate groups from the config", []string{"gate", "--config", "testdata/valid.yaml", "--baseline", ""}, []string{"blue", "green"}},
		{"gate targets from the config", []string{"gate", "--config", "testdata/valid.yaml", "--target", ""}, []string{"shop-api"}},
		{"no config, no groups", []string{"gate", "--candidate", ""}, nil},
	} {
		code, stdout, stderr := runCLI(append([]string{"__complete"}, tc.args...)...)
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		got := lines[:len(lines)-1] // the last line is the directive
		if code != exitClean || strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: exit %d, completions %q (stderr %q), want %q", tc.desc, code, got, stderr, tc.want)
		}
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		if code, stdout, _ := runCLI("completion", shell); code != exitClean || !strings.Contains(stdout, "corsaudit") {
			t.Errorf("completion %s: exit %d, %d bytes", shell, code, len(stdout))
		}
	}
}

// TestManPage: corsaudit man writes corsaudit(1) as troff; --dir writes
// one page per command, the audit page naming its flags.
func TestManPage(t *testing.T) {
	code, stdout, _ := runCLI("man")
	if code != exitClean || !strings.HasPrefix(stdout, ".nh\n.TH \"CORSAUDIT\" \"1\"") || !strings.Contains(stdout, "corsaudit-audit(1)") {
		t.Errorf("man: exit %d, %.200q; want troff naming corsaudit-audit(1)", code, stdout)
	}
	dir := t.TempDir()
	if code, _, stderr := runCLI("man", "--dir", dir); code != exitClean || !strings.Contains(stderr, "wrote the manual pages to "+dir) {
		t.Fatalf("man --dir: exit %d, %q", code, stderr)
	}
	page, err := os.ReadFile(filepath.Join(dir, "corsaudit-audit.1"))
	if err != nil || !strings.Contains(string(page), "--inventory") {
		t.Errorf("corsaudit-audit.1: %v; want the page with --inventory", err)
	}
	if code, _, stderr := runCLI("man", "--dir", filepath.Join(dir, "nope")); code != exitUsage {
		t.Errorf("man --dir missing: exit %d, %q; want %d", code, stderr, exitUsage)
	}
}

// TestQuietAndVerbose: --quiet leaves stderr empty on success; --verbose
// prints each request as a curl line with the secret's placeholder, never
// the secret.
func TestQuietAndVerbose(t *testing.T) {
	// Not newFleet: its instances assert that no Authorization arrives.
	srv := httptest.NewServer(labserver.New(currentCORS))
	defer srv.Close()
	a := srv.Listener.Addr().String()
	t.Setenv("SHOP_TOKEN", "s3cr3t-value")
	out := filepath.Join(t.TempDir(), "r.json")
	base := []string{"audit", "http://127.0.0.1:1/", "--instance", "a=" + a, "--origin", pageOrigin, "--no-lb",
		"--credentials", "--auth-header", "Authorization", "--auth-from-env", "SHOP_TOKEN", "--output", out}
	code, stdout, stderr := runCLI(append(base, "--quiet")...)
	if code != exitClean || stdout != "" || stderr != "" {
		t.Errorf("--quiet: exit %d, stdout %q, stderr %q; want 0 and nothing", code, stdout, stderr)
	}
	code, _, stderr = runCLI(append(base, "--verbose")...)
	if code != exitClean || !strings.Contains(stderr, "corsaudit: > curl ") || !strings.Contains(stderr, `-H 'Authorization: '"$SHOP_TOKEN"`) {
		t.Errorf("--verbose: exit %d, stderr %q; want curl lines and the placeholder $SHOP_TOKEN", code, stderr)
	}
	if strings.Contains(stderr, "s3cr3t-value") {
		t.Errorf("--verbose printed the secret:\n%s", stderr)
	}
	if code, _, stderr = runCLI(base...); strings.Contains(stderr, "> curl") || !strings.Contains(stderr, "wrote "+out) {
		t.Errorf("default: exit %d, stderr %q; want the summary line and no request lines", code, stderr)
	}
}

// TestShardQuietAndVerbose: with --inventory and --shard, --verbose
// prints each request the shard sends as a curl line with the secret's
// placeholder (one line per request the shard file counts), and --quiet
// leaves stderr empty.
func TestShardQuietAndVerbose(t *testing.T) {
	// Not newFleet: its instances assert that no Authorization arrives.
	srv := httptest.NewServer(labserver.New(currentCORS))
	defer srv.Close()
	t.Setenv("SHOP_TOKEN", "s3cr3t-value")
	dir := t.TempDir()
	cfg := writeConfig(t, "targets:\n"+staticTarget("shop", "http://api.example.com/v1/cart", "{disabled: true}",
		map[string]string{"a": srv.Listener.Addr().String()})+
		"    auth: {header: Authorization, value_from_env: SHOP_TOKEN}\n")
	inv := filepath.Join(dir, "inventory.json")
	if code, _, stderr := runCLI("discover", "--config", cfg, "--output", inv); code != exitClean {
		t.Fatalf("discover: exit %d\n%s", code, stderr)
	}
	out := filepath.Join(dir, "shard.json")
	base := []string{"audit", "--inventory", inv, "--shard", "0/1", "--output", out}
	if code, stdout, stderr := runCLI(append(base, "--quiet")...); code != exitClean || stdout != "" || stderr != "" {
		t.Errorf("--quiet: exit %d, stdout %q, stderr %q; want 0 and nothing", code, stdout, stderr)
	}
	code, _, stderr := runCLI(append(base, "--verbose")...)
	if code != exitClean || !strings.Contains(stderr, `-H 'Authorization: '"$SHOP_TOKEN"`) {
		t.Fatalf("--verbose: exit %d, stderr %q; want curl lines and the placeholder $SHOP_TOKEN", code, stderr)
	}
	var shard struct {
		Targets []struct {
			Requests int `json:"requests_sent"`
		} `json:"targets"`
	}
	data, err := os.ReadFile(out)
	if err != nil || json.Unmarshal(data, &shard) != nil || len(shard.Targets) != 1 {
		t.Fatalf("shard file: %v\n%s", err, data)
	}
	if n := strings.Count(stderr, "corsaudit: > curl "); n != shard.Targets[0].Requests || n == 0 {
		t.Errorf("--verbose printed %d requests, the shard sent %d:\n%s", n, shard.Targets[0].Requests, stderr)
	}
	if strings.Contains(stderr, "s3cr3t-value") || strings.Contains(string(data), "s3cr3t-value") {
		t.Errorf("the secret was printed or written:\n%s", stderr)
	}
	if _, _, stderr := runCLI(base...); strings.Contains(stderr, "> curl") {
		t.Errorf("default: stderr %q; want no request lines", stderr)
	}
}

// TestFlagDidYouMean: a mistyped flag names the closest one.
func TestFlagDidYouMean(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "--instances", "x"}, "unknown flag: --instances; did you mean --instance?"},
		{[]string{"gate", "--basline", "blue"}, "did you mean --baseline?"},
		{[]string{"check", "--orgin", pageOrigin}, "did you mean --origin?"},
	} {
		code, _, stderr := runCLI(tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, %q; want %d and %q", tc.args, code, stderr, exitUsage, tc.want)
		}
	}
	if _, _, stderr := runCLI("audit", "--zzzzzzzz"); strings.Contains(stderr, "did you mean") {
		t.Errorf("a flag close to none got a suggestion: %q", stderr)
	}
}

// TestUnknownVariable: a CORSAUDIT_* variable that is a setting misspelt
// is a usage error naming the setting, also when a config names other
// variables; a secret's variable is not a setting, even one close to a
// setting's name, when the config reads the secret from it.
func TestUnknownVariable(t *testing.T) {
	data, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	withSecret := func(name string) string {
		return writeConfig(t, strings.Replace(string(data), "    policy:\n", "    auth: {header: Authorization, value_from_env: "+name+"}\n    policy:\n", 1))
	}
	for _, tc := range []struct {
		desc, name, config string
		code               int
		want               string
	}{
		{"a setting misspelt", "CORSAUDIT_FAILON", "testdata/valid.yaml", exitUsage, "CORSAUDIT_FAILON: not a corsaudit setting; did you mean CORSAUDIT_FAIL_ON?"},
		{"another misspelt", "CORSAUDIT_TIMOUT", withSecret("CORSAUDIT_TOKEN"), exitUsage, "did you mean CORSAUDIT_TIMEOUT?"},
		{"a secret close to a setting, named by auth.value_from_env", "CORSAUDIT_CHECK", withSecret("CORSAUDIT_CHECK"), exitClean, "ok (1 target)"},
		{"a secret named by nothing here", "CORSAUDIT_TOKEN", "testdata/valid.yaml", exitClean, "ok (1 target)"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			t.Setenv(tc.name, "x")
			code, stdout, stderr := runCLI("config", "check", tc.config)
			if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
				t.Errorf("%s set: exit %d, %q %q; want %d and %q", tc.name, code, stdout, stderr, tc.code, tc.want)
			}
		})
	}
}

// TestAdHocAdviceNamesFlags: an ad hoc audit's advice names flags, and
// bad flag values are not called an invalid config.
func TestAdHocAdviceNamesFlags(t *testing.T) {
	f := newFleet(t)
	a := f.start("a", currentCORS)
	// The instance speaks plain HTTP; the URL says https.
	code, stdout, stderr := runCLI("audit", "https://api.example.com/", "--instance", "a="+a, "--origin", pageOrigin, "--no-lb", "--format", "json")
	if !strings.Contains(stdout, "set --direct-scheme http") || strings.Contains(stdout, "direct.scheme") {
		t.Errorf("exit %d, stderr %q: the finding should say --direct-scheme http, not direct.scheme:\n%s", code, stderr, stdout)
	}
	code, _, stderr = runCLI("audit", "https://api.example.com/", "--instance", "a="+a, "--origin", "app.example.com")
	if code != exitUsage || strings.Contains(stderr, "invalid config") || !strings.Contains(stderr, "invalid arguments") || !strings.Contains(stderr, "--origin") {
		t.Errorf("bad --origin: exit %d, %q; want %d, invalid arguments naming --origin", code, stderr, exitUsage)
	}
}

// TestDiscoverWithoutSecret: discover probes nothing, so it neither reads
// nor needs the secret or the certificates the audit uses
// (config.BuildDiscovery); with --output it says what it wrote.
func TestDiscoverWithoutSecret(t *testing.T) {
	data, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, strings.Replace(string(data), "    policy:\n", "    auth: {header: Authorization, value_from_file: /nonexistent/token}\n    tls: {ca_file: /nonexistent/ca.pem}\n    policy:\n", 1))
	if code, stdout, stderr := runCLI("discover", "--config", cfg); code != exitClean || !strings.Contains(stdout, "web-1") {
		t.Errorf("discover: exit %d, %q %q; want 0 and the instances", code, stdout, stderr)
	}
	if code, _, stderr := runCLI("audit", "--config", cfg); code != exitUsage || !strings.Contains(stderr, "/nonexistent/token") || !strings.Contains(stderr, "ca_file: open /nonexistent/ca.pem") {
		t.Errorf("audit without the secret: exit %d, %q; want %d naming the two files", code, stderr, exitUsage)
	}
	out := filepath.Join(t.TempDir(), "fleet.json")
	code, stdout, stderr := runCLI("discover", "--config", cfg, "--output", out)
	if code != exitClean || stdout != "" || strings.TrimSpace(stderr) != "corsaudit: wrote "+out+": inventory of 1 target, 2 instances" {
		t.Errorf("discover --output: exit %d, stdout %q, stderr %q; want one line saying what it wrote", code, stdout, stderr)
	}
}

// TestHelpValueNames: --help names values by what they are.
func TestHelpValueNames(t *testing.T) {
	_, stdout, _ := runCLI("audit", "--help")
	for _, want := range []string{"--inventory FILE", "--shard K/N", "--config FILE", "--output FILE", "--fail-on SEVERITY", "--instance [ID=]HOST:PORT"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("audit --help lacks %q", want)
		}
	}
	if strings.Contains(stdout, " string ") {
		t.Errorf("audit --help still names a value \"string\":\n%s", stdout)
	}
}

package conformance

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/internal/testinfra/testenv"
)

// engine is one browser engine the suite runs every scenario in.
type engine struct {
	// name names the record, testdata/<name>.json, and the subtest.
	name string
	// model is the cors.Browser that must agree with the engine.
	model cors.Browser
	// bins are the executables to look for: names on PATH or absolute paths.
	bins []string
	// launch starts the engine on pageURL with a fresh, throw-away profile
	// and everything that would talk to the internet turned off.
	launch func(t *testing.T, bin, pageURL string) *browserProc
	// console returns the CORS console line the engine logged for url, as
	// its console shows it (cors.ConsoleMessage's wording).
	console func(p *browserProc, url string) string
	// cannot lists the scenarios (by description) the engine cannot run, and why.
	cannot map[string]string
	// checkDiffs lists the scenarios (by description) where `corsaudit
	// check`, which reads responses with one HTTP parser for every
	// --browser, cannot reach the engine's verdict, and why. An entry that
	// stops disagreeing fails the test.
	checkDiffs map[string]string
}

// engines are the browser engines of the suite, in cors.Engines() order.
var engines = []*engine{
	{name: "chromium", model: cors.Chromium, bins: []string{"chromium", "chromium-browser", "google-chrome"},
		launch: launchChromium, console: chromiumConsole},
	{name: "firefox", model: cors.Firefox, bins: []string{"firefox-esr", "firefox"}, launch: launchFirefox, console: firefoxConsole},
	{name: "webkit", model: cors.Webkit, bins: []string{"/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
		"/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser", "MiniBrowser"}, launch: launchWebkit, console: webkitConsole},
}

// find returns the engine's executable. When none is found it fails the
// test in CI (CI=true) and skips it elsewhere.
func (e *engine) find(t *testing.T) string {
	t.Helper()
	for _, b := range e.bins {
		if p, err := exec.LookPath(b); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s conformance: none of %s is installed (bash .ci/run installs it)", e.name, strings.Join(e.bins, ", "))
	if testenv.InCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// launchChromium starts headless Chromium on pageURL; it logs console
// messages on stderr.
func launchChromium(t *testing.T, bin, pageURL string) *browserProc {
	t.Helper()
	cmd := exec.Command(bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-extensions", "--no-default-browser-check",
		"--disable-dev-shm-usage", "--enable-logging=stderr", "--v=0",
		"--user-data-dir="+t.TempDir(), pageURL)
	return startProc(t, "chromium", cmd, nil)
}

// consoleLine matches Chromium's stderr log of a console message:
// [...:INFO:CONSOLE:0] "Access to fetch at ...", source: http://... (0)
var consoleLine = regexp.MustCompile(`CONSOLE[:(]\d+\)?\] "(.*)", source: `)

// chromiumConsole returns the CORS console message Chromium logged for url.
func chromiumConsole(p *browserProc, url string) string {
	for _, line := range strings.Split(p.log(), "\n") {
		m := consoleLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		msg := unescapeLog(m[1])
		if strings.Contains(msg, "'"+url+"'") && strings.Contains(msg, "CORS policy") {
			return msg
		}
	}
	return ""
}

// logEscape matches the \uXXXX escapes Chromium's log uses for non-ASCII.
var logEscape = regexp.MustCompile(`\\u[0-9A-Fa-f]{4}`)

// unescapeLog undoes the log's escaping so that the message reads as the
// console shows it.
func unescapeLog(s string) string {
	return logEscape.ReplaceAllStringFunc(s, func(e string) string {
		n, err := strconv.ParseUint(e[2:], 16, 32)
		if err != nil {
			return e
		}
		return string(rune(n))
	})
}

// firefoxPrefs keep Firefox on loopback: no updates, telemetry, safe
// browsing, connectivity or captive-portal checks, remote settings or
// first-run pages.
var firefoxPrefs = map[string]string{
	"app.update.enabled":                              "false",
	"app.update.auto":                                 "false",
	"app.normandy.enabled":                            "false",
	"datareporting.policy.dataSubmissionEnabled":      "false",
	"datareporting.healthreport.uploadEnabled":        "false",
	"datareporting.usage.uploadEnabled":               "false",
	"toolkit.telemetry.enabled":                       "false",
	"toolkit.telemetry.unified":                       "false",
	"browser.safebrowsing.malware.enabled":            "false",
	"browser.safebrowsing.phishing.enabled":           "false",
	"browser.safebrowsing.downloads.enabled":          "false",
	"browser.safebrowsing.blockedURIs.enabled":        "false",
	"browser.safebrowsing.provider.mozilla.updateURL": `""`,
	"network.connectivity-service.enabled":            "false",
	"network.captive-portal-service.enabled":          "false",
	"network.dns.disablePrefetch":                     "true",
	"network.prefetch-next":                           "false",
	"network.http.speculative-parallel-limit":         "0",
	"network.proxy.type":                              "0",
	"extensions.update.enabled":                       "false",
	"extensions.getAddons.cache.enabled":              "false",
	"services.settings.server":                        `"http://127.0.0.1:1/"`,
	"browser.region.network.url":                      `""`,
	"browser.search.geoip.url":                        `""`,
	"browser.shell.checkDefaultBrowser":               "false",
	"browser.startup.homepage_override.mstone":        `"ignore"`,
	"browser.aboutwelcome.enabled":                    "false",
	"browser.newtabpage.enabled":                      "false",
	"browser.ping-centre.telemetry":                   "false",
}

// writeFirefoxProfile writes a fresh profile with firefoxPrefs.
func writeFirefoxProfile(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	for k, v := range firefoxPrefs {
		fmt.Fprintf(&b, "user_pref(%q, %s);\n", k, v)
	}
	if err := os.WriteFile(filepath.Join(dir, "user.js"), []byte(b.String()), 0o644); err != nil {
		t.Fatalf("firefox: profile: %v", err)
	}
	return dir
}

// launchFirefox starts headless Firefox with its WebDriver BiDi server on
// a free loopback port, subscribes to the console (log.entryAdded), then
// navigates to pageURL.
func launchFirefox(t *testing.T, bin, pageURL string) *browserProc {
	t.Helper()
	profile := writeFirefoxProfile(t)
	cmd := exec.Command(bin, "--headless", "--no-remote", "--profile", profile,
		"--remote-debugging-port=0", "--remote-allow-origins=http://127.0.0.1", "about:blank")
	cmd.Env = append(os.Environ(), "MOZ_CRASHREPORTER_DISABLE=1", "HOME="+profile)
	lines := make(chan string, 256)
	p := startProc(t, "firefox", cmd, lines)
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line := <-lines:
			m := bidiListening.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			b := dialBiDi(t, m[1])
			if err := b.open(pageURL); err != nil {
				t.Fatalf("firefox: %v\n%s", err, tail(p.log(), 2000))
			}
			p.console = b.logged
			return p
		case <-p.waited:
			t.Fatalf("firefox: exited before its BiDi server was up:\n%s", tail(p.log(), 2000))
		case <-timeout:
			t.Fatalf("firefox: no BiDi server after 30s:\n%s", tail(p.log(), 2000))
		}
	}
}

// launchWebkit starts WebKitGTK's MiniBrowser on pageURL with a
// throw-away HOME (cache, data and config in it), under its own Xvfb,
// writing console messages on stdout. Not in private browsing mode: an
// ephemeral session writes no console message there.
func launchWebkit(t *testing.T, bin, pageURL string) *browserProc {
	t.Helper()
	display := startXvfb(t)
	home := t.TempDir()
	cmd := exec.Command(bin, "--enable-write-console-messages-to-stdout=true", pageURL)
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+home,
		"XDG_CACHE_HOME="+filepath.Join(home, "cache"), "XDG_DATA_HOME="+filepath.Join(home, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"), "WEBKIT_DISABLE_COMPOSITING_MODE=1",
		"GST_REGISTRY="+filepath.Join(home, "gst.bin"))
	return startProc(t, "webkit", cmd, nil)
}

// webkitSecurityLine and webkitFetchLine match WebKit's console on stdout:
// the reason of a blocked fetch() ("CONSOLE SECURITY ERROR Origin ... is
// not allowed by Access-Control-Allow-Origin. Status code: 200"), then the
// line naming its URL ("CONSOLE JS ERROR Fetch API cannot load URL due to
// access control checks.").
var (
	webkitSecurityLine = regexp.MustCompile(`^CONSOLE SECURITY ERROR (.*)$`)
	webkitFetchLine    = regexp.MustCompile(`^CONSOLE JS ERROR Fetch API cannot load (\S+) due to access control checks\.$`)
)

// webkitConsole returns the reason WebKit logged for the first blocked
// fetch() of url: the security error just before the line naming url ("" if
// none came between it and the previous fetch's line).
func webkitConsole(p *browserProc, url string) string {
	reason := ""
	for _, line := range strings.Split(p.log(), "\n") {
		if m := webkitSecurityLine.FindStringSubmatch(line); m != nil {
			reason = m[1]
			continue
		}
		if m := webkitFetchLine.FindStringSubmatch(line); m != nil {
			if m[1] == url {
				return reason
			}
			reason = ""
		}
	}
	return ""
}

// startXvfb starts an Xvfb on a free display and returns it (":N").
func startXvfb(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("Xvfb")
	if err != nil {
		msg := "webkit conformance: Xvfb is not installed (bash .ci/run installs xvfb)"
		if testenv.InCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatalf("xvfb: pipe: %v", err)
	}
	defer pr.Close()
	cmd := exec.Command(bin, "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "1024x768x24")
	cmd.ExtraFiles = []*os.File{pw}
	p := startProc(t, "xvfb", cmd, nil)
	pw.Close()
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(pr).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if n == "" {
			t.Fatalf("xvfb: no display number:\n%s", tail(p.log(), 2000))
		}
		return ":" + n
	case <-p.waited:
		t.Fatalf("xvfb: exited:\n%s", tail(p.log(), 2000))
	case <-time.After(20 * time.Second):
		t.Fatalf("xvfb: no display after 20s:\n%s", tail(p.log(), 2000))
	}
	return ""
}

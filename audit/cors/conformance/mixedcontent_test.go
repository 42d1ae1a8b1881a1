package conformance

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/internal/testinfra/testenv"
)

// mixedPageHTML fetches each URL of /urls in turn from an https page and
// posts what happened to /result, then /done.
const mixedPageHTML = `<!doctype html>
<meta charset="utf-8">
<title>corsaudit mixed content</title>
<script>
(async () => {
  const post = (path, v) => fetch(path, {method: 'POST', body: JSON.stringify(v)});
  const urls = await (await fetch('/urls')).json();
  for (const u of urls) {
    const r = {url: u, ok: false, error: ''};
    try { const resp = await fetch(u, {mode: 'cors'}); r.ok = true; await resp.text(); }
    catch (e) { r.error = String(e); }
    await post('/result', r);
  }
  await post('/done', {});
})();
</script>
`

// mixedConsole matches a console message in Chromium's stderr log.
var mixedConsole = regexp.MustCompile(`CONSOLE[:(]\d+\)?\] "(.*)", source: `)

// TestChromiumMixedContent runs fetch() from a page on an https origin to
// an http URL on a public-looking host name (mapped to loopback by
// Chromium's resolver rules, so nothing leaves the machine), and to
// loopback and localhost http URLs; it checks that audit.ActAsBrowser (what
// `corsaudit check` runs) blocks exactly what Chromium blocks, sends
// nothing for it, and prints Chromium's console line.
func TestChromiumMixedContent(t *testing.T) {
	bin := testenv.LookTool(t, "browser conformance suite", "chromium", "chromium-browser", "google-chrome")

	// The API: plain http, allows every origin, counts requests by Host.
	var mu sync.Mutex
	hits := map[string]int{}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.Host]++
		mu.Unlock()
		w.Header().Set(cors.ACAO, "*")
	}))
	defer api.Close()
	_, port, _ := net.SplitHostPort(api.Listener.Addr().String())
	urls := []string{
		"http://api.mixed.test:" + port + "/x", // public-looking: mixed content
		"http://127.0.0.1:" + port + "/x",      // loopback: potentially trustworthy
		"http://localhost:" + port + "/x",      // localhost: potentially trustworthy
	}
	wantBlocked := map[string]bool{urls[0]: true}

	type result struct {
		URL   string `json:"url"`
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	results := make(chan result, len(urls))
	done := make(chan struct{})
	var once sync.Once
	page := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, mixedPageHTML)
		case "/urls":
			json.NewEncoder(w).Encode(urls)
		case "/result":
			var res result
			if json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&res) == nil {
				results <- res
			}
		case "/done":
			once.Do(func() { close(done) })
		default:
			http.NotFound(w, r)
		}
	}))
	defer page.Close()
	origin := page.URL // https://127.0.0.1:PORT

	profile := t.TempDir()
	cmd := exec.Command(bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-extensions", "--no-default-browser-check",
		"--disable-dev-shm-usage", "--enable-logging=stderr", "--v=0",
		"--ignore-certificate-errors", "--host-resolver-rules=MAP *.mixed.test 127.0.0.1",
		"--user-data-dir="+profile, origin+"/")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	console := make(chan string, 1024)
	exited := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if m := mixedConsole.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case console <- m[1]:
				default: // the test reads only a few lines
				}
			}
		}
		cmd.Wait()
		close(exited)
	}()
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}()

	select {
	case <-done:
	case <-exited:
		t.Fatal("chromium exited before the page finished")
	case <-time.After(deadline):
		t.Fatal("chromium: the page did not finish in time")
	}
	got := map[string]result{}
	for len(results) > 0 {
		r := <-results
		got[r.URL] = r
	}
	// Console lines are logged asynchronously: wait for the expected one,
	// with a deadline.
	var seen []string
	waitConsole := func(want string) bool {
		for _, l := range seen {
			if l == want {
				return true
			}
		}
		timeout := time.After(10 * time.Second)
		for {
			select {
			case l := <-console:
				seen = append(seen, l)
				if l == want {
					return true
				}
			case <-timeout:
				return false
			case <-exited:
				return false
			}
		}
	}

	for _, raw := range urls {
		u, _ := url.Parse(raw)
		browser, ok := got[raw]
		if !ok {
			t.Errorf("%s: no result from the page", raw)
			continue
		}
		mu.Lock()
		received := hits[u.Host]
		mu.Unlock()

		to := audit.NewEndpoint(u, api.Listener.Addr().String(), "", audit.TransportOptions{Timeout: 5 * time.Second})
		f := audit.ActAsBrowser(context.Background(), to, cors.Request{Origin: origin, Method: http.MethodGet}, audit.FetchOptions{Browser: cors.Chromium, Timeout: 5 * time.Second})
		to.Client.CloseIdleConnections()

		if browser.OK == wantBlocked[raw] {
			t.Errorf("%s: Chromium ok=%v (%s), want blocked=%v", raw, browser.OK, browser.Error, wantBlocked[raw])
		}
		if f.Verdict.Allowed != browser.OK {
			t.Errorf("%s: corsaudit allowed=%v (%s), Chromium ok=%v (%s)", raw, f.Verdict.Allowed, f.Verdict.Reason, browser.OK, browser.Error)
		}
		if browser.OK {
			continue
		}
		if received != 0 {
			t.Errorf("%s: Chromium blocked it but the server received %d requests", raw, received)
		}
		if f.Verdict.Reason != cors.ReasonMixedContent || f.Preflight != nil || f.Actual != nil {
			t.Errorf("%s: corsaudit reason %q, sent preflight=%v actual=%v; want mixed-content and nothing sent", raw, f.Verdict.Reason, f.Preflight != nil, f.Actual != nil)
		}
		if want := cors.ConsoleMessage(cors.Chromium, raw, origin, f.Verdict); !waitConsole(want) {
			t.Errorf("%s: Chromium's console lacks\n  %s\ngot:\n  %s", raw, want, strings.Join(seen, "\n  "))
		}
	}
}

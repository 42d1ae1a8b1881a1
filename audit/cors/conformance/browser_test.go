package conformance

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// browserResult is what the page reports for one scenario's fetch().
type browserResult struct {
	ID      string   `json:"id"`
	OK      bool     `json:"ok"`
	Status  int      `json:"status"`
	Error   string   `json:"error"`
	Headers []string `json:"headers"` // response header names the page can read
}

// pageScenario is a scenario as the page's script sees it.
type pageScenario struct {
	ID          string      `json:"id"`
	URL         string      `json:"url"`
	Method      string      `json:"method"`
	Headers     [][2]string `json:"headers"`
	Credentials bool        `json:"credentials"`
}

// pageHTML runs every scenario's fetch() in turn and posts each outcome
// back to its own origin, then posts /done.
const pageHTML = `<!doctype html>
<meta charset="utf-8">
<title>corsaudit conformance</title>
<script>
(async () => {
  const post = (path, v) => fetch(path, {method: 'POST', body: JSON.stringify(v)});
  try {
    const list = await (await fetch('/scenarios')).json();
    for (const s of list) {
      const r = {id: s.id, ok: false, status: 0, error: '', headers: []};
      try {
        const resp = await fetch(s.url, {method: s.method, headers: s.headers,
          credentials: s.credentials ? 'include' : 'same-origin', mode: 'cors'});
        r.ok = true;
        r.status = resp.status;
        r.headers = [...resp.headers.keys()];
        await resp.text();
      } catch (e) {
        r.error = String(e);
      }
      await post('/result', r);
    }
    await post('/done', {});
  } catch (e) {
    await post('/done', {error: String(e)});
  }
})();
</script>
`

// pageServer serves the page and collects its results.
type pageServer struct {
	srv *httptest.Server

	mu        sync.Mutex
	scenarios []pageScenario
	results   chan browserResult
	done      chan string // page-level error, "" on success
	doneOnce  sync.Once
}

func newPageServer(t *testing.T) *pageServer {
	t.Helper()
	p := &pageServer{results: make(chan browserResult, 1024), done: make(chan string, 1)}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *pageServer) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, pageHTML)
	case r.Method == http.MethodGet && r.URL.Path == "/scenarios":
		p.mu.Lock()
		list := p.scenarios
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(list)
	case r.Method == http.MethodPost && r.URL.Path == "/result":
		var res browserResult
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&res); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p.results <- res
	case r.Method == http.MethodPost && r.URL.Path == "/done":
		var v struct {
			Error string `json:"error"`
		}
		json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&v)
		p.doneOnce.Do(func() { p.done <- v.Error })
	default:
		http.NotFound(w, r)
	}
}

// add queues scenarios for the page to run.
func (p *pageServer) add(s ...pageScenario) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.scenarios = append(p.scenarios, s...)
}

// consoleLine matches Chromium's stderr log of a console message:
// [...:INFO:CONSOLE:0] "Access to fetch at ...", source: http://... (0)
var consoleLine = regexp.MustCompile(`CONSOLE[:(]\d+\)?\] "(.*)", source: `)

// chromium is a running headless Chromium.
type chromium struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	waited chan struct{}
}

// startChromium launches headless Chromium on pageURL with a fresh profile
// and everything that would talk to the internet turned off. It is killed
// (with its whole process group) when the test ends.
func startChromium(t *testing.T, bin, pageURL string) *chromium {
	t.Helper()
	profile := t.TempDir()
	c := &chromium{waited: make(chan struct{})}
	c.cmd = exec.Command(bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-extensions", "--no-default-browser-check",
		"--disable-dev-shm-usage", "--enable-logging=stderr", "--v=0",
		"--user-data-dir="+profile, pageURL)
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.cmd.Stdout = io.Discard
	pipe, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatalf("chromium: stderr pipe: %v", err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("chromium: start: %v", err)
	}
	go func() {
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			c.mu.Lock()
			c.stderr.Write(sc.Bytes())
			c.stderr.WriteByte('\n')
			c.mu.Unlock()
		}
		c.cmd.Wait()
		close(c.waited)
	}()
	// Cleanups run last-in first-out: the browser is gone before the
	// profile directory is removed.
	t.Cleanup(func() {
		syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.waited
	})
	return c
}

// log returns what Chromium printed on stderr so far.
func (c *chromium) log() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stderr.String()
}

// consoleMessages returns the console messages Chromium logged, in order.
func (c *chromium) consoleMessages() []string {
	var out []string
	for _, line := range strings.Split(c.log(), "\n") {
		if m := consoleLine.FindStringSubmatch(line); m != nil {
			out = append(out, unescapeLog(m[1]))
		}
	}
	return out
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

// runInBrowser runs every scenario in one Chromium launch and returns the
// results by scenario id.
func runInBrowser(ctx context.Context, t *testing.T, bin string, page *pageServer, n int) (map[string]browserResult, *chromium, error) {
	t.Helper()
	c := startChromium(t, bin, page.srv.URL+"/")
	results := map[string]browserResult{}
	for {
		select {
		case r := <-page.results:
			results[r.ID] = r
		case msg := <-page.done:
			// Drain results posted before /done (they are sequential, so
			// all of them are already in the channel).
			for len(page.results) > 0 {
				r := <-page.results
				results[r.ID] = r
			}
			if msg != "" {
				return results, c, fmt.Errorf("page: %s", msg)
			}
			if len(results) != n {
				return results, c, fmt.Errorf("page: %d results for %d scenarios", len(results), n)
			}
			return results, c, nil
		case <-c.waited:
			return results, c, errors.New("chromium: exited before the page finished:\n" + tail(c.log(), 4000))
		case <-ctx.Done():
			return results, c, fmt.Errorf("chromium: %d of %d scenarios done: %w\n%s", len(results), n, ctx.Err(), tail(c.log(), 4000))
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// deadline is how long the whole browser run may take.
const deadline = 90 * time.Second

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
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// browserResult is what the page reports for one scenario's fetch() (the
// last one when the scenario repeats it).
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
	// Repeat is how many times fetch() runs, one after the other (0: once).
	Repeat int `json:"repeat,omitempty"`
	// Cache is fetch()'s cache mode ("": default).
	Cache string `json:"cache,omitempty"`
	// Sandboxed runs the fetch() from a sandboxed iframe (origin "null").
	Sandboxed bool `json:"sandboxed,omitempty"`
}

// pageHTML runs every scenario's fetch() in turn and posts each outcome
// back to its own origin, then posts /done. A sandboxed scenario runs in an
// <iframe sandbox="allow-scripts">, whose origin is opaque ("null"), and
// hands its outcome to the page with postMessage.
const pageHTML = `<!doctype html>
<meta charset="utf-8">
<title>corsaudit conformance</title>
<script>
const run = async (s) => {
  const r = {id: s.id, ok: false, status: 0, error: '', headers: []};
  for (let i = 0; i < (s.repeat || 1); i++) {
    r.ok = false; r.status = 0; r.error = ''; r.headers = [];
    try {
      const opts = {method: s.method, headers: s.headers,
        credentials: s.credentials ? 'include' : 'same-origin', mode: 'cors'};
      if (s.cache) opts.cache = s.cache;
      const resp = await fetch(s.url, opts);
      r.ok = true;
      r.status = resp.status;
      r.headers = [...resp.headers.keys()];
      await resp.text();
    } catch (e) {
      r.error = String(e);
    }
  }
  return r;
};
const sandboxed = (s) => new Promise((resolve) => {
  const f = document.createElement('iframe');
  f.sandbox = 'allow-scripts';
  f.srcdoc = '<script>const run = ' + run.toString() +
    ';\nwindow.onmessage = async (e) => parent.postMessage(await run(e.data), "*");<\/script>';
  const onResult = (e) => {
    if (e.source !== f.contentWindow) return;
    window.removeEventListener('message', onResult);
    f.remove();
    resolve(e.data);
  };
  window.addEventListener('message', onResult);
  f.onload = () => f.contentWindow.postMessage(s, '*');
  document.documentElement.appendChild(f);
});
(async () => {
  const post = (path, v) => fetch(path, {method: 'POST', body: JSON.stringify(v)});
  try {
    const list = await (await fetch('/scenarios')).json();
    for (const s of list) {
      await post('/result', s.sandboxed ? await sandboxed(s) : await run(s));
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

// browserProc is a running browser (and its helpers, such as Xvfb): its
// stderr (and stdout) collected, killed with its whole process group when
// the test ends.
type browserProc struct {
	name   string
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	waited chan struct{}
	// lines, when set, receives every output line as it arrives.
	lines chan string
	// console, when set, returns the console texts collected so far.
	console func() []string
}

// startProc starts cmd in its own process group, collecting its output.
func startProc(t *testing.T, name string, cmd *exec.Cmd, lines chan string) *browserProc {
	t.Helper()
	p := &browserProc{name: name, cmd: cmd, waited: make(chan struct{}), lines: lines}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatalf("%s: pipe: %v", name, err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		t.Fatalf("%s: start: %v", name, err)
	}
	pw.Close()
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.out.Write(sc.Bytes())
			p.out.WriteByte('\n')
			p.mu.Unlock()
			if p.lines != nil {
				select {
				case p.lines <- sc.Text():
				default:
				}
			}
		}
		pr.Close()
		cmd.Wait()
		close(p.waited)
	}()
	// Cleanups run last-in first-out: the browser is gone before its
	// profile directory is removed.
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.waited
	})
	return p
}

// log returns what the process printed so far.
func (p *browserProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// runInBrowser runs every scenario in one launch of engine e and returns the
// results by scenario id.
func runInBrowser(ctx context.Context, t *testing.T, e *engine, bin string, page *pageServer, n int) (map[string]browserResult, *browserProc, error) {
	t.Helper()
	c := e.launch(t, bin, page.srv.URL+"/")
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
			return results, c, errors.New(e.name + ": exited before the page finished:\n" + tail(c.log(), 4000))
		case <-ctx.Done():
			return results, c, fmt.Errorf("%s: %d of %d scenarios done: %w\n%s", e.name, len(results), n, ctx.Err(), tail(c.log(), 4000))
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// deadline is how long one engine's browser run may take.
const deadline = 90 * time.Second

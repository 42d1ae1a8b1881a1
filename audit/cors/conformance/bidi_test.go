package conformance

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// bidiListening matches the line Firefox prints when its WebDriver BiDi
// server is up: "WebDriver BiDi listening on ws://127.0.0.1:PORT".
var bidiListening = regexp.MustCompile(`WebDriver BiDi listening on (ws://127\.0\.0\.1:\d+)`)

// bidi is a WebDriver BiDi session that collects the texts of
// log.entryAdded events: what the web console shows.
type bidi struct {
	ws *websocket.Conn

	mu      sync.Mutex
	next    int
	replies map[int]chan bidiMessage
	entries []string
}

type bidiMessage struct {
	ID     int             `json:"id"`
	Type   string          `json:"type"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  string          `json:"error"`
	Msg    string          `json:"message"`
}

// dialBiDi connects to Firefox's BiDi server at base (ws://host:port).
func dialBiDi(t *testing.T, base string) *bidi {
	t.Helper()
	cfg, err := websocket.NewConfig(base+"/session", "http://127.0.0.1")
	if err != nil {
		t.Fatalf("firefox: bidi: %v", err)
	}
	ws, err := websocket.DialConfig(cfg)
	if err != nil {
		t.Fatalf("firefox: bidi: dial %s: %v", base, err)
	}
	b := &bidi{ws: ws, replies: map[int]chan bidiMessage{}}
	t.Cleanup(func() { ws.Close() })
	go b.read()
	return b
}

func (b *bidi) read() {
	for {
		var m bidiMessage
		if err := websocket.JSON.Receive(b.ws, &m); err != nil {
			b.mu.Lock()
			for id, c := range b.replies {
				close(c)
				delete(b.replies, id)
			}
			b.mu.Unlock()
			return
		}
		b.mu.Lock()
		switch {
		case m.Method == "log.entryAdded":
			var p struct {
				Text string `json:"text"`
			}
			if json.Unmarshal(m.Params, &p) == nil {
				b.entries = append(b.entries, p.Text)
			}
		case m.Type == "success" || m.Type == "error":
			if c, ok := b.replies[m.ID]; ok {
				c <- m
				delete(b.replies, m.ID)
			}
		}
		b.mu.Unlock()
	}
}

// call sends one command and waits for its result.
func (b *bidi) call(method string, params any) (json.RawMessage, error) {
	b.mu.Lock()
	b.next++
	id := b.next
	c := make(chan bidiMessage, 1)
	b.replies[id] = c
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method, "params": params}
	if err := websocket.JSON.Send(b.ws, msg); err != nil {
		return nil, fmt.Errorf("bidi: %s: %w", method, err)
	}
	select {
	case m, ok := <-c:
		if !ok {
			return nil, fmt.Errorf("bidi: %s: connection closed", method)
		}
		if m.Type == "error" {
			return nil, fmt.Errorf("bidi: %s: %s: %s", method, m.Error, m.Msg)
		}
		return m.Result, nil
	case <-time.After(20 * time.Second):
		return nil, fmt.Errorf("bidi: %s: no answer in 20s", method)
	}
}

// open starts a session that subscribes to log.entryAdded, then navigates
// the first browsing context to url.
func (b *bidi) open(url string) error {
	if _, err := b.call("session.new", map[string]any{"capabilities": map[string]any{}}); err != nil {
		return err
	}
	if _, err := b.call("session.subscribe", map[string]any{"events": []string{"log.entryAdded"}}); err != nil {
		return err
	}
	res, err := b.call("browsingContext.getTree", map[string]any{})
	if err != nil {
		return err
	}
	var tree struct {
		Contexts []struct {
			Context string `json:"context"`
		} `json:"contexts"`
	}
	if err := json.Unmarshal(res, &tree); err != nil || len(tree.Contexts) == 0 {
		return fmt.Errorf("bidi: no browsing context in %s", res)
	}
	_, err = b.call("browsingContext.navigate", map[string]any{"context": tree.Contexts[0].Context, "url": url, "wait": "none"})
	return err
}

// logged returns the console texts received so far.
func (b *bidi) logged() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.entries...)
}

// firefoxLine matches Firefox's CORS console line for a URL:
// "Cross-Origin Request Blocked: ... at URL. (Reason: ...)." (the URL is
// quoted ‘’ in one of them).
var firefoxLine = regexp.MustCompile(`^Cross-Origin Request Blocked: .* at ‘?(\S+?)’?\. \(Reason: `)

// firefoxConsole returns the first CORS console line Firefox logged for
// url, as the console shows it (cors.ConsoleMessage's wording).
func firefoxConsole(p *browserProc, url string) string {
	if p.console == nil {
		return ""
	}
	for _, text := range p.console() {
		if m := firefoxLine.FindStringSubmatch(text); m != nil && m[1] == url {
			return text
		}
	}
	return ""
}

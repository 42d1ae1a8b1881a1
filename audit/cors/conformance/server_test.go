package conformance

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// field is one response header line exactly as the scripted server writes
// it: "Name: value" with the name and value untouched, so repeated and
// malformed headers reach the client byte for byte.
// A field with line set is written as that raw line instead.
type field struct{ name, value, line string }

// scripted is the response to one request of a scenario.
type scripted struct {
	status int
	fields []field
}

// received is what the scripted server saw for one request.
type received struct {
	method string
	acrm   string // Access-Control-Request-Method
	acrh   string // Access-Control-Request-Headers
	hasACRM,
	hasACRH bool
	origin string
	cookie string
	header http.Header
}

// isPreflight reports whether the request is a CORS preflight (an OPTIONS
// request of fetch(..., {method: 'OPTIONS'}) carries no ACRM).
func (r received) isPreflight() bool { return r.method == http.MethodOptions && r.hasACRM }

// Placeholders in scripted header values, replaced when the response is
// written.
const (
	phOrigin = "{origin}" // the page origin, e.g. http://127.0.0.1:40123
	phUpper  = "{ORIGIN}" // the page origin upper-cased
	phSelf   = "{self}"   // the absolute URL of the request itself
	// phHostPort is the page origin without its scheme.
	phHostPort = "{hostport}"
)

// scriptServer answers /<ns>/<scenario id> with the scenario's scripted
// preflight (OPTIONS) or actual response and records every request.
type scriptServer struct {
	srv        *httptest.Server
	pageOrigin string
	scenarios  map[string]*scenario

	mu   sync.Mutex
	seen map[string][]received // key: path
}

func newScriptServer(t *testing.T, pageOrigin string, scenarios []*scenario) *scriptServer {
	t.Helper()
	s := &scriptServer{pageOrigin: pageOrigin, scenarios: map[string]*scenario{}, seen: map[string][]received{}}
	for _, sc := range scenarios {
		s.scenarios[sc.id] = sc
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// url is the scenario's URL in namespace ns ("b" for the browser, "c" and
// "n" for corsaudit check), so that each client's requests are recorded
// apart and no preflight cache entry is ever shared.
func (s *scriptServer) url(ns, id string) string { return s.srv.URL + "/" + ns + "/" + id }

func (s *scriptServer) requests(ns, id string) []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.seen["/"+ns+"/"+id]...)
}

func (s *scriptServer) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) != 2 || s.scenarios[parts[1]] == nil {
		http.NotFound(w, r)
		return
	}
	sc := s.scenarios[parts[1]]
	rec := received{method: r.Method, origin: r.Header.Get("Origin"), cookie: r.Header.Get("Cookie"), header: r.Header.Clone()}
	if v, ok := r.Header["Access-Control-Request-Method"]; ok {
		rec.hasACRM, rec.acrm = true, strings.Join(v, ", ")
	}
	if v, ok := r.Header["Access-Control-Request-Headers"]; ok {
		rec.hasACRH, rec.acrh = true, strings.Join(v, ", ")
	}
	s.mu.Lock()
	s.seen[r.URL.Path] = append(s.seen[r.URL.Path], rec)
	s.mu.Unlock()

	resp := sc.actual
	if r.Method == http.MethodOptions && rec.hasACRM {
		resp = sc.preflight
	}
	self := "http://" + r.Host + r.URL.Path
	s.writeRaw(w, r, resp, self)
}

// writeRaw hijacks the connection and writes the scripted response byte
// for byte (net/http would canonicalize, merge or reject some headers).
func (s *scriptServer) writeRaw(w http.ResponseWriter, r *http.Request, resp scripted, self string) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "conformance: cannot hijack", http.StatusInternalServerError)
		return
	}
	conn, bw, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	body := "ok"
	if r.Method == http.MethodHead || resp.status == http.StatusNoContent || resp.status == http.StatusNotModified {
		body = ""
	}
	writeResponse(bw.Writer, resp, s.expand, self, body)
	bw.Flush()
}

func writeResponse(w *bufio.Writer, resp scripted, expand func(string, string) string, self, body string) {
	fmt.Fprintf(w, "HTTP/1.1 %d %s\r\n", resp.status, http.StatusText(resp.status))
	for _, f := range append(append([]field(nil), resp.fields...), framing(resp.status)...) {
		if f.line != "" {
			fmt.Fprintf(w, "%s\r\n", expand(f.line, self))
			continue
		}
		fmt.Fprintf(w, "%s: %s\r\n", f.name, expand(f.value, self))
	}
	w.WriteString("\r\n")
	w.WriteString(body)
}

// framing is the header lines the scripted server adds after the scenario's:
// every body is "ok" (none for 204 and 304; HEAD announces it but sends none).
func framing(status int) []field {
	var f []field
	if status != http.StatusNoContent && status != http.StatusNotModified {
		f = append(f, field{name: "Content-Type", value: "text/plain"}, field{name: "Content-Length", value: "2"})
	}
	return append(f, field{name: "Connection", value: "close"})
}

// expand replaces the placeholders in a scripted header value.
func (s *scriptServer) expand(v, self string) string {
	v = strings.ReplaceAll(v, phOrigin, s.pageOrigin)
	v = strings.ReplaceAll(v, phUpper, strings.ToUpper(s.pageOrigin))
	v = strings.ReplaceAll(v, phHostPort, strings.TrimPrefix(s.pageOrigin, "http://"))
	return strings.ReplaceAll(v, phSelf, self)
}

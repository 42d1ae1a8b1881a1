package labserver

import (
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/corsaudit/corsaudit/audit/cors"
)

// InstanceHeader is the response header that names the instance that
// answered (Behavior.ID), so requests through a load balancer can be
// attributed.
const InstanceHeader = "X-Instance-Id"

// Behavior is the CORS policy of one instance, including the common mistakes.
type Behavior struct {
	// ID is sent as the X-Instance-Id response header on every response.
	ID string
	// AllowOrigins is the exact-match allow list.
	AllowOrigins []string
	// AllowAnyOrigin answers Access-Control-Allow-Origin: * (no reflection).
	AllowAnyOrigin bool
	// ReflectOrigin is a mistake: echo any Origin.
	ReflectOrigin bool
	// AllowNull is a mistake: allow the "null" origin.
	AllowNull bool
	// OriginMatch is a custom matcher (unanchored regexp, suffix or prefix
	// mistakes). Allowed origins are echoed.
	OriginMatch func(origin string) bool
	// Match is OriginMatch written as text: "suffix:S", "prefix:P" or
	// "regexp:R" (R unanchored, as the mistake usually is). New turns it into a
	// matcher when OriginMatch is nil.
	Match string
	// AllowMethods is sent as Access-Control-Allow-Methods on preflights,
	// joined with ", " verbatim.
	AllowMethods []string
	// AllowHeaders is sent as Access-Control-Allow-Headers on preflights.
	AllowHeaders []string
	// ExposeHeaders is sent as Access-Control-Expose-Headers on actual responses.
	ExposeHeaders []string
	// Credentials sends Access-Control-Allow-Credentials: true.
	Credentials bool
	// MaxAge is Access-Control-Max-Age in seconds; 0 omits the header.
	MaxAge int
	// NoVary is a mistake: omit Vary: Origin.
	NoVary bool
	// PreflightStatus is the status of preflight answers; 0 means 204.
	PreflightStatus int
	// RedirectPreflight, when set, answers every OPTIONS with a 301 to it.
	RedirectPreflight string
	// ExtraHeaders are added to every response (e.g. a second ACAO value).
	ExtraHeaders http.Header
	// ReflectRequest answers an allowed preflight with the requested
	// method and headers (Access-Control-Request-Method and -Headers) in
	// Access-Control-Allow-Methods and -Headers, as many frameworks do,
	// instead of AllowMethods and AllowHeaders, and says Vary on them.
	ReflectRequest bool
	// ETag gives actual answers a strong ETag and answers a request whose
	// If-None-Match names it with a 304 carrying the same CORS headers.
	ETag bool
}

// etag is the ETag of every actual answer when Behavior.ETag is set.
const etag = `"corsaudit-lab-1"`

// ParseMatch turns "suffix:S", "prefix:P" or "regexp:R" into an origin
// matcher. The regexp is not anchored: "regexp:https://app.example.com"
// also matches "https://app.example.com.evil.test" and "https://appXexample.com".
func ParseMatch(rule string) (func(origin string) bool, error) {
	kind, arg, ok := strings.Cut(rule, ":")
	if !ok || arg == "" {
		return nil, fmt.Errorf("labserver: match %q: want suffix:S, prefix:P or regexp:R", rule)
	}
	switch kind {
	case "suffix":
		return func(o string) bool { return strings.HasSuffix(o, arg) }, nil
	case "prefix":
		return func(o string) bool { return strings.HasPrefix(o, arg) }, nil
	case "regexp":
		re, err := regexp.Compile(arg)
		if err != nil {
			return nil, fmt.Errorf("labserver: match %q: %w", rule, err)
		}
		return re.MatchString, nil
	}
	return nil, fmt.Errorf("labserver: match %q: unknown kind %q (suffix, prefix or regexp)", rule, kind)
}

// Stats counts what a Server received.
type Stats struct {
	// Preflights counts OPTIONS requests with Origin and
	// Access-Control-Request-Method.
	Preflights int
	// Actual counts every other request by method.
	Actual map[string]int
	// Cookies counts requests that carried a Cookie header.
	Cookies int
	// Authorization counts requests that carried an Authorization header.
	Authorization int
	// Unsafe counts actual (non-preflight) requests that could change state:
	// PUT, DELETE, PATCH, or POST with a body.
	Unsafe int
}

// Server is an http.Handler answering as one instance with a Behavior.
type Server struct {
	b     Behavior
	match func(string) bool

	mu    sync.Mutex
	stats Stats
}

// New returns a Server for b. A Match rule that does not parse matches
// nothing; use ParseMatch or ParseBehavior to see the error.
func New(b Behavior) *Server {
	s := &Server{b: b, match: b.OriginMatch, stats: Stats{Actual: map[string]int{}}}
	if s.match == nil && b.Match != "" {
		s.match, _ = ParseMatch(b.Match)
	}
	if s.b.PreflightStatus == 0 {
		s.b.PreflightStatus = http.StatusNoContent
	}
	return s
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Actual = maps.Clone(s.stats.Actual)
	return st
}

// allowOrigin returns the Access-Control-Allow-Origin value for origin, or
// "" when the origin is not allowed.
func (s *Server) allowOrigin(origin string) string {
	b := &s.b
	switch {
	case origin == "":
		return ""
	case b.AllowAnyOrigin:
		return "*"
	case b.ReflectOrigin:
		return origin
	case origin == "null":
		if b.AllowNull {
			return origin
		}
	}
	for _, o := range b.AllowOrigins {
		if o == origin {
			return origin
		}
	}
	if s.match != nil && s.match(origin) {
		return origin
	}
	return ""
}

// ServeHTTP answers preflights and actual requests following the Behavior.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get(cors.Origin)
	preflight := r.Method == http.MethodOptions && origin != "" &&
		r.Header.Get(cors.ACRM) != ""
	s.record(r, preflight)

	h := w.Header()
	if s.b.ID != "" {
		h.Set(InstanceHeader, s.b.ID)
	}
	// writeHeader adds ExtraHeaders after the instance's own headers, so a
	// duplicated header follows the real one, as a proxy's add_header does.
	writeHeader := func(code int) {
		for k, vs := range s.b.ExtraHeaders {
			for _, v := range vs {
				h.Add(k, v)
			}
		}
		w.WriteHeader(code)
	}
	if r.Method == http.MethodOptions && s.b.RedirectPreflight != "" {
		h.Set("Location", s.b.RedirectPreflight)
		writeHeader(http.StatusMovedPermanently)
		return
	}
	// Every answer depends on the Origin (allowed or not), so every answer
	// says so, or a cache could serve a refusal to an allowed origin.
	if !s.b.NoVary {
		h.Add("Vary", cors.Origin)
	}
	acao := s.allowOrigin(origin)
	if acao != "" {
		h.Set(cors.ACAO, acao)
		if s.b.Credentials {
			h.Set(cors.ACAC, "true")
		}
	}
	if preflight {
		if s.b.ReflectRequest && !s.b.NoVary {
			h.Add("Vary", cors.ACRM+", "+cors.ACRH)
		}
		switch {
		case acao != "" && s.b.ReflectRequest:
			h.Set(cors.ACAM, r.Header.Get(cors.ACRM))
			if v := r.Header.Get(cors.ACRH); v != "" {
				h.Set(cors.ACAH, v)
			}
		case acao != "":
			if len(s.b.AllowMethods) > 0 {
				h.Set(cors.ACAM, strings.Join(s.b.AllowMethods, ", "))
			}
			if len(s.b.AllowHeaders) > 0 {
				h.Set(cors.ACAH, strings.Join(s.b.AllowHeaders, ", "))
			}
		}
		if acao != "" && s.b.MaxAge != 0 {
			h.Set(cors.ACMA, strconv.Itoa(s.b.MaxAge))
		}
		writeHeader(s.b.PreflightStatus)
		return
	}
	if acao != "" && len(s.b.ExposeHeaders) > 0 {
		h.Set(cors.ACEH, strings.Join(s.b.ExposeHeaders, ", "))
	}
	if s.b.ETag {
		h.Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			writeHeader(http.StatusNotModified)
			return
		}
	}
	body := fmt.Sprintf("{\"instance\":%q}\n", s.b.ID)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	writeHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(body))
	}
}

func (s *Server) record(r *http.Request, preflight bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Header.Get("Cookie") != "" {
		s.stats.Cookies++
	}
	if r.Header.Get("Authorization") != "" {
		s.stats.Authorization++
	}
	if preflight {
		s.stats.Preflights++
		return
	}
	s.stats.Actual[r.Method]++
	switch r.Method {
	case http.MethodPut, http.MethodDelete, http.MethodPatch:
		s.stats.Unsafe++
	case http.MethodPost:
		if r.ContentLength != 0 { // -1: chunked, unknown length
			s.stats.Unsafe++
		}
	}
}

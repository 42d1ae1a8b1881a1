package main

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/internal/escape"
)

// checkExchange is one request check sent and the response it got.
type checkExchange struct {
	Method string `json:"method"`
	Status int    `json:"status,omitempty"`
	// Header holds the CORS-relevant response headers exactly as received.
	Header http.Header `json:"header,omitempty"`
}

// checkResult is the JSON output of `corsaudit check`.
type checkResult struct {
	URL         string        `json:"url"`
	Origin      string        `json:"origin"`
	Method      string        `json:"method"`
	Headers     []cors.Header `json:"headers,omitempty"`
	Credentials bool          `json:"credentials"`
	Browser     cors.Browser  `json:"browser"`

	Allowed bool `json:"allowed"`
	// Preflight is whether a browser sends a preflight for this request.
	Preflight    bool   `json:"preflight"`
	PreflightWhy string `json:"preflight_why,omitempty"`
	// PreflightMethod and PreflightHeaders are the ACRM and ACRH values sent.
	PreflightMethod  string `json:"preflight_method,omitempty"`
	PreflightHeaders string `json:"preflight_headers,omitempty"`
	Stage            string `json:"stage,omitempty"`
	Reason           string `json:"reason"`
	Message          string `json:"message"`
	SpecNote         string `json:"spec_note,omitempty"`
	// CacheLifetime is how long the browser caches the passing preflight.
	CacheLifetime string   `json:"cache_lifetime,omitempty"`
	Exposed       []string `json:"exposed,omitempty"`
	// ActualSkipped says why the actual request was not sent, when it was not.
	ActualSkipped string `json:"actual_skipped,omitempty"`
	// NotSent says why no request was sent at all (mixed content).
	NotSent string `json:"not_sent,omitempty"`
	// Reproduce is the curl command for the request that decided the
	// verdict, as it was sent.
	Reproduce string `json:"reproduce,omitempty"`

	PreflightResponse *checkExchange `json:"preflight_response,omitempty"`
	ActualResponse    *checkExchange `json:"actual_response,omitempty"`

	// Engines holds every engine's verdict when check acted as several
	// (no --browser); the fields above are the first engine's. Differ
	// says whether they disagree.
	Engines []engineVerdict `json:"engines,omitempty"`
	Differ  bool            `json:"engines_differ,omitempty"`
	// Note says why fewer engines were checked than asked.
	Note string `json:"note,omitempty"`
}

// engineVerdict is one engine's verdict in a multi-engine check.
type engineVerdict struct {
	Browser   cors.Browser `json:"browser"`
	Allowed   bool         `json:"allowed"`
	Preflight bool         `json:"preflight"`
	Reason    string       `json:"reason,omitempty"`
	Message   string       `json:"message,omitempty"`
	SpecNote  string       `json:"spec_note,omitempty"`
}

// exchangeOf is the part of an exchange check prints (nil when not sent).
func exchangeOf(ex *audit.Exchange) *checkExchange {
	if ex == nil {
		return nil
	}
	return &checkExchange{Method: ex.Sent().Method, Status: ex.Status, Header: ex.Header}
}

// writeCheckText prints the verdict for a person.
func writeCheckText(w io.Writer, r *checkResult) error {
	var b strings.Builder
	if len(r.Engines) > 1 {
		for _, e := range r.Engines {
			if e.Allowed {
				fmt.Fprintf(&b, "%-9s allowed\n", string(e.Browser)+":")
			} else {
				fmt.Fprintf(&b, "%-9s BLOCKED (%s): %s\n", string(e.Browser)+":", e.Reason, e.Message)
			}
		}
		if r.Differ {
			b.WriteString("the engines differ: users of some browsers see another outcome (details below are " + string(r.Browser) + "'s; --browser shows another's)\n")
		} else {
			b.WriteString("the engines agree; details below are " + string(r.Browser) + "'s\n")
		}
	}
	if r.Note != "" {
		fmt.Fprintf(&b, "note: %s\n", r.Note)
	}
	if r.Allowed {
		fmt.Fprintf(&b, "ALLOWED: %s would let a page on %s read the response to %s %s\n", r.Browser, r.Origin, r.Method, r.URL)
	} else {
		fmt.Fprintf(&b, "BLOCKED (%s): %s\n", r.Reason, r.Message)
	}
	switch {
	case r.NotSent != "":
		fmt.Fprintf(&b, "requests: none sent (%s)\n", r.NotSent)
	case r.Preflight:
		fmt.Fprintf(&b, "preflight: sent, because %s (Access-Control-Request-Method: %s", r.PreflightWhy, r.PreflightMethod)
		if r.PreflightHeaders != "" {
			fmt.Fprintf(&b, ", Access-Control-Request-Headers: %s", r.PreflightHeaders)
		}
		b.WriteString(")\n")
	default:
		why := r.PreflightWhy
		if why == "" {
			why = "a simple request"
		}
		fmt.Fprintf(&b, "preflight: not sent (%s)\n", why)
	}
	writeExchangeText(&b, r.PreflightResponse)
	if r.ActualSkipped != "" {
		fmt.Fprintf(&b, "actual request: not sent (%s)\n", r.ActualSkipped)
	}
	writeExchangeText(&b, r.ActualResponse)
	if r.Allowed && r.CacheLifetime != "" {
		fmt.Fprintf(&b, "preflight cached for %s\n", r.CacheLifetime)
	}
	if r.Allowed && len(r.Exposed) > 0 {
		fmt.Fprintf(&b, "readable response headers: %s\n", strings.Join(r.Exposed, ", "))
	}
	if r.SpecNote != "" {
		fmt.Fprintf(&b, "note: %s\n", r.SpecNote)
	}
	if r.Reproduce != "" {
		fmt.Fprintf(&b, "reproduce: %s\n", r.Reproduce)
	}
	// The lines are check's; what they quote (header values, messages
	// naming them) is the instance's: escaped for the terminal.
	_, err := io.WriteString(w, escape.Lines(b.String()))
	return err
}

func writeExchangeText(b *strings.Builder, ex *checkExchange) {
	if ex == nil {
		return
	}
	fmt.Fprintf(b, "  %s -> %d\n", ex.Method, ex.Status)
	names := make([]string, 0, len(ex.Header))
	for k := range ex.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range ex.Header[k] {
			fmt.Fprintf(b, "    %s: %s\n", k, v)
		}
	}
}

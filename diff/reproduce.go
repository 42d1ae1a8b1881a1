package diff

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
)

// Curl returns a curl command that sends the request a browser sends for
// the probe: the preflight when one is needed (and preflight is true), else
// the actual request. With addr set it goes straight to that instance
// address while keeping the public Host and SNI (--connect-to); scheme
// replaces the URL's scheme for direct access. curl prints the response
// headers and never follows redirects.
func Curl(public *url.URL, addr, scheme string, pr audit.Probe, preflight bool) string {
	u := *public
	if scheme != "" {
		u.Scheme = scheme
	}
	args := []string{"curl", "-sS", "-o", "/dev/null", "-D", "-"}
	plan := cors.PlanPreflight(pr.Request())
	if preflight && plan.Needed {
		args = append(args, "-X", "OPTIONS", shellQuote(u.String()))
	} else {
		if pr.Method == "HEAD" {
			args = append(args, "-I", shellQuote(u.String()))
		} else {
			args = append(args, "-X", pr.Method, shellQuote(u.String()))
		}
	}
	if addr != "" {
		args = append(args, "--connect-to", shellQuote(u.Hostname()+":"+portOf(&u)+":"+addr))
	}
	args = append(args, "-H", shellQuote("Origin: "+pr.Origin))
	if preflight && plan.Needed {
		args = append(args, "-H", shellQuote("Access-Control-Request-Method: "+plan.Method))
		if plan.Headers != "" {
			args = append(args, "-H", shellQuote("Access-Control-Request-Headers: "+plan.Headers))
		}
	} else {
		for _, h := range pr.Headers {
			if strings.EqualFold(h.Name, "Authorization") {
				continue // corsaudit never sends credentials, not even dummy ones
			}
			args = append(args, "-H", shellQuote(h.Name+": "+h.Value))
		}
	}
	return strings.Join(args, " ")
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@,+=%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Reproduce is the curl command for the step that decided o's outcome: the
// exchange that failed, else the stage where the browser blocked, else the
// last request sent. It is printed from the record of what was actually
// sent (Exchange.Request); "" when nothing was recorded.
func Reproduce(o audit.Observation) string {
	if e := DecidingExchange(o); e != nil && e.Request != nil {
		return CurlRequest(e.Request)
	}
	return ""
}

// DecidingExchange is the exchange that decided o's outcome: the one that
// got no response, else the preflight when the browser blocked there, else
// the actual request when it was sent, else the preflight. It is nil when
// nothing was observed (o not Done: nothing sent, or cut off).
func DecidingExchange(o audit.Observation) *audit.Exchange {
	switch {
	case !o.Done:
		return nil
	case o.Preflight.Failed():
		return o.Preflight
	case o.Actual.Failed():
		return o.Actual
	case !o.Verdict.Allowed && o.Verdict.Stage == cors.StagePreflight && o.Preflight != nil:
		return o.Preflight
	case o.Actual != nil:
		return o.Actual
	}
	return o.Preflight
}

// CurlRequest renders a sent request as a curl command: same method, URL,
// headers (sorted by name), and --connect-to for a request dialled to
// another address than the URL's host. curl prints the response headers
// and never follows redirects.
func CurlRequest(r *audit.SentRequest) string {
	args := []string{"curl", "-sS", "-o", "/dev/null", "-D", "-"}
	if r.Method == http.MethodHead {
		args = append(args, "-I")
	} else if r.Method != http.MethodGet {
		args = append(args, "-X", r.Method)
	}
	args = append(args, shellQuote(r.URL))
	if r.ConnectTo != "" {
		if u, err := url.Parse(r.URL); err == nil {
			host := u.Hostname()
			if strings.Contains(host, ":") {
				host = "[" + host + "]" // IPv6 literal, as curl wants it
			}
			args = append(args, "--connect-to", shellQuote(host+":"+portOf(u)+":"+r.ConnectTo))
		}
	}
	names := make([]string, 0, len(r.Header))
	for k := range r.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range r.Header[k] {
			args = append(args, "-H", shellQuote(k+": "+v))
		}
	}
	return strings.Join(args, " ")
}

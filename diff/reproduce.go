package diff

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
)

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
// sent (Observation.Sent); "" when nothing was recorded.
func Reproduce(o audit.Observation) string {
	if r := o.Sent(DecidingExchange(o)); r != nil {
		return CurlRequest(r)
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
	case !o.Verdict().Allowed && o.Verdict().Stage == cors.StagePreflight && o.Preflight != nil:
		return o.Preflight
	case o.Actual != nil:
		return o.Actual
	}
	return o.Preflight
}

// CurlRequest renders a sent request as a curl command: same method, URL,
// headers (sorted by name), and --connect-to for a request dialled to
// another address than the URL's host. curl prints the response headers
// and never follows redirects. A header named in Placeholders is
// double-quoted so that the shell expands its secret's placeholder.
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
			if slices.Contains(r.Placeholders, k) {
				// A shell expression standing for a secret: the shell
				// expands it, the command never holds the secret.
				args = append(args, "-H", `"`+k+": "+v+`"`)
				continue
			}
			args = append(args, "-H", shellQuote(k+": "+v))
		}
	}
	return strings.Join(args, " ")
}

package diff

import (
	"net/url"
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

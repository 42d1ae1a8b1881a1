package diff

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/internal/escape"
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

// Reproduce is the curl command for the step that decided o's outcome: the
// exchange that failed, else the stage where the browser blocked, else the
// last request sent. It is printed from the record of what was actually
// sent (Observation.Sent); "" when nothing was recorded.
func Reproduce(o audit.Observation) string {
	if r := o.Sent(decidingExchange(o)); r != nil {
		return CurlRequest(r)
	}
	return ""
}

// reproduceDifference is the curl command for the step of o that shows
// the differences ds from the expected answer: the step that decided o's
// outcome when a difference is in it, else the first step a difference is
// in (an instance allowing the same GET with a preflight that lacks PUT is
// reproduced by its OPTIONS, not by the GET, which shows nothing); without
// differences, Reproduce(o).
func reproduceDifference(o audit.Observation, ds []HeaderDifference) string {
	deciding := decidingExchange(o)
	if len(ds) == 0 || deciding == nil || deciding.Failed() {
		return Reproduce(o)
	}
	step := func(e *audit.Exchange) string {
		if e == o.Preflight {
			return audit.StepPreflight
		}
		return audit.StepActual
	}
	if slices.ContainsFunc(ds, func(d HeaderDifference) bool { return d.Step == step(deciding) }) {
		return Reproduce(o)
	}
	e := o.Actual
	if ds[0].Step == audit.StepPreflight {
		e = o.Preflight
	}
	if r := o.Sent(e); r != nil {
		return CurlRequest(r)
	}
	return Reproduce(o)
}

// decidingExchange is the exchange that decided o's outcome: the one that
// got no response, else the preflight when the browser blocked there, else
// the actual request when it was sent, else the preflight. It is nil when
// nothing was observed (o not Done: nothing sent, or cut off).
func decidingExchange(o audit.Observation) *audit.Exchange {
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
// another address than the URL's host. curl prints the response headers,
// never follows redirects and gives up after the request's timeout
// (--max-time), as corsaudit did. Every word is quoted by escape.Shell,
// whatever its bytes. A header named in Placeholders whose value ends with
// a credential placeholder (ParseShown) expands it in the user's shell:
// the value is read from the variable or file, the command never holds
// the secret; any other value is printed as it is.
func CurlRequest(r *audit.SentRequest) string {
	args := []string{"curl", "-sS", "-o", "/dev/null", "-D", "-"}
	if r.Timeout > 0 {
		args = append(args, "--max-time", strconv.FormatFloat(r.Timeout.Seconds(), 'f', -1, 64))
	}
	if r.Method == http.MethodHead {
		args = append(args, "-I")
	} else if r.Method != http.MethodGet {
		args = append(args, "-X", escape.Shell(r.Method))
	}
	args = append(args, escape.Shell(r.URL))
	if r.ConnectTo != "" {
		if u, err := url.Parse(r.URL); err == nil {
			host := u.Hostname()
			if strings.Contains(host, ":") {
				host = "[" + host + "]" // IPv6 literal, as curl wants it
			}
			args = append(args, "--connect-to", escape.Shell(host+":"+portOf(u)+":"+r.ConnectTo))
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
				if word, ok := credentialWord(k+": ", v); ok {
					args = append(args, "-H", word)
					continue
				}
			}
			args = append(args, "-H", escape.Shell(k+": "+v))
		}
	}
	return strings.Join(args, " ")
}

// credentialWord is the shell word for the header line head+v when v ends
// with a credential placeholder: the literal part quoted by escape.Shell,
// then the placeholder in double quotes, its only expansion the variable
// ("$NAME", a name checked by ParseShown) or the file read by cat (its
// path quoted by escape.Shell inside the command substitution).
func credentialWord(head, v string) (string, bool) {
	prefix, env, path, ok := audit.ParseShown(v)
	if !ok {
		return "", false
	}
	if env != "" {
		return escape.Shell(head+prefix) + `"$` + env + `"`, true
	}
	if strings.HasPrefix(path, "-") {
		path = "./" + path // a path, not an option of cat
	}
	return escape.Shell(head+prefix) + `"$(cat ` + escape.Shell(path) + `)"`, true
}

// Untrusted is what may be printed of a reproduce line read from a file
// (a report being merged): the curl commands CurlRequest would write for
// the requests the line describes, with no placeholder expanded (a file
// cannot say which header holds a credential: its value is printed as
// written); "" when the line is not made of CurlRequest's commands.
func Untrusted(line string) string {
	if line == "" {
		return ""
	}
	cmds, ok := shellCommands(line)
	if !ok {
		return ""
	}
	out := make([]string, len(cmds))
	for i, words := range cmds {
		r, ok := curlRequestOf(words)
		if !ok {
			return ""
		}
		out[i] = CurlRequest(r)
	}
	return strings.Join(out, " && ")
}

// curlRequestOf is the request of a curl command CurlRequest wrote, given
// as the words a shell reads (placeholders not expanded); ok is false for
// any other command.
func curlRequestOf(words []string) (*audit.SentRequest, bool) {
	fixed := []string{"curl", "-sS", "-o", "/dev/null", "-D", "-"}
	if len(words) < len(fixed)+1 || !slices.Equal(words[:len(fixed)], fixed) {
		return nil, false
	}
	w := words[len(fixed):]
	r := &audit.SentRequest{Method: http.MethodGet}
	if len(w) > 2 && w[0] == "--max-time" {
		secs, err := strconv.ParseFloat(w[1], 64)
		if err != nil || !(secs > 0 && secs < 1e6) {
			return nil, false
		}
		r.Timeout, w = time.Duration(secs*float64(time.Second)), w[2:]
	}
	switch {
	case w[0] == "-I":
		r.Method, w = http.MethodHead, w[1:]
	case w[0] == "-X" && len(w) > 1:
		r.Method, w = w[1], w[2:]
	}
	if len(w) == 0 || strings.HasPrefix(w[0], "-") {
		return nil, false
	}
	r.URL, w = w[0], w[1:]
	if len(w) >= 2 && w[0] == "--connect-to" {
		u, err := url.Parse(r.URL)
		if err != nil {
			return nil, false
		}
		host := u.Hostname()
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		to, ok := strings.CutPrefix(w[1], host+":"+portOf(u)+":")
		if !ok || to == "" {
			return nil, false
		}
		r.ConnectTo, w = to, w[2:]
	}
	for ; len(w) > 0; w = w[2:] {
		if len(w) < 2 || w[0] != "-H" {
			return nil, false
		}
		name, value, ok := strings.Cut(w[1], ": ")
		if !ok || name == "" {
			return nil, false
		}
		if r.Header == nil {
			r.Header = http.Header{}
		}
		r.Header[name] = append(r.Header[name], value)
	}
	return r, true
}

// shellCommands splits a line of commands joined by " && " into their
// words as a POSIX shell reads them, reading only what escape.Shell and
// credentialWord write: bare words, single-quoted parts, \' and the
// double-quoted placeholders "$NAME" and "$(cat PATH)" (kept as
// audit.ShownEnv and audit.ShownFile write them, not expanded). ok is
// false for anything else: no other expansion, operator or redirection.
func shellCommands(line string) (cmds [][]string, ok bool) {
	var words []string
	for s := line; ; {
		if rest, ok := strings.CutPrefix(s, "&& "); ok && len(words) > 0 {
			cmds, words, s = append(cmds, words), nil, rest
			continue
		}
		w, rest, ok := readShellWord(s, false)
		if !ok {
			return nil, false
		}
		words = append(words, w)
		if rest == "" {
			return append(cmds, words), true
		}
		if s, ok = strings.CutPrefix(rest, " "); !ok || s == "" {
			return nil, false
		}
	}
}

// readShellWord reads one word from the start of s up to a space or the end,
// or up to a ")" when inCat (the path of "$(cat PATH)"), and returns the
// rest.
func readShellWord(s string, inCat bool) (word, rest string, ok bool) {
	var b strings.Builder
	if s == "" || s[0] == ' ' {
		return "", "", false
	}
	for s != "" {
		switch c := s[0]; {
		case c == '\'':
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return "", "", false
			}
			b.WriteString(s[1 : 1+end])
			s = s[2+end:]
		case c == '\\' && strings.HasPrefix(s, `\'`):
			b.WriteByte('\'')
			s = s[2:]
		case c == ')' && inCat:
			return b.String(), s, b.Len() > 0
		case c == ' ' && !inCat:
			return b.String(), s, true
		case c == '"' && !inCat && strings.HasPrefix(s, `"$(cat `):
			path, after, ok := readShellWord(s[len(`"$(cat `):], true)
			if !ok || !strings.HasPrefix(after, `)"`) {
				return "", "", false
			}
			b.WriteString(audit.ShownFile(path))
			s = after[2:]
		case c == '"' && !inCat && strings.HasPrefix(s, `"$`):
			end := strings.IndexByte(s[2:], '"')
			if end < 0 || !audit.IsEnvName(s[2:2+end]) {
				return "", "", false
			}
			b.WriteString(audit.ShownEnv(s[2 : 2+end]))
			s = s[3+end:]
		case c < 0x80 && !escape.NeedsQuote(rune(c)):
			b.WriteByte(c)
			s = s[1:]
		default:
			return "", "", false
		}
	}
	if inCat {
		return "", "", false
	}
	return b.String(), "", true
}

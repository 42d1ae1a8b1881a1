package cors

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// serializeOrigin returns the ASCII serialization of the origin of rawURL
// (https://html.spec.whatwg.org/multipage/browsers.html#ascii-serialisation-of-an-origin):
// scheme "://" host [":" port], scheme and host lower-cased, the scheme's
// default port dropped, no path. "null" serializes to "null". ok is false
// when rawURL is not an absolute http, https, ws or wss URL with an ASCII
// host (other schemes have opaque origins, which serialize to "null" and
// cannot be told apart).
func serializeOrigin(rawURL string) (string, bool) {
	if rawURL == "null" {
		return "null", true
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	def := map[string]string{"http": "80", "https": "443", "ws": "80", "wss": "443"}[scheme]
	if def == "" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", false
	}
	if !strings.Contains(host, ":") && strings.Trim(host, "abcdefghijklmnopqrstuvwxyz0123456789-._") != "" {
		// Only ASCII letters, digits, "-", "." and "_": IDNs must be given
		// in their ASCII (punycode) form.
		return "", false
	}
	if strings.Contains(host, ":") {
		if net.ParseIP(host) == nil {
			return "", false
		}
		host = "[" + host + "]"
	}
	out := scheme + "://" + host
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			return "", false
		}
		if ps := strconv.Itoa(n); ps != def {
			out += ":" + ps
		}
	} else if strings.HasSuffix(u.Host, ":") {
		// "http://h:" has an empty port; the URL parser drops it.
		return out, true
	}
	return out, true
}

// ParseOrigin checks that o is a serialized origin a page can have and a
// user can write in a policy: "null", or scheme://host[:port] with scheme
// http or https and nothing after the host (no path, query, fragment,
// user info or trailing slash). It returns o unchanged, or an error that
// quotes o and says what is wrong. It is the one check of origin syntax
// for the config, the gate's policy file and `corsaudit check`.
func ParseOrigin(o string) (string, error) {
	if o == "null" {
		return o, nil
	}
	u, err := url.Parse(o)
	switch {
	case err != nil || !strings.Contains(o, "://"):
		return "", fmt.Errorf("%q has no scheme", o)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("%q: scheme must be http or https", o)
	case u.Host == "":
		return "", fmt.Errorf("%q has no host", o)
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return "", fmt.Errorf("%q is not an origin (scheme://host[:port] only)", o)
	case strings.HasSuffix(o, "/"):
		return "", fmt.Errorf("%q: an origin has no trailing slash (browsers send %q)", o, strings.TrimSuffix(o, "/"))
	}
	return o, nil
}

// originMatches reports whether an ACAO value allows origin, as the CORS
// check compares them: byte for byte, after the header value is trimmed
// (https://fetch.spec.whatwg.org/#cors-check step 5). No case folding, no
// default-port or trailing-slash tolerance: "http://A.example" does not
// match "http://a.example". "null" matches the opaque origin "null".
func originMatches(acao, origin string) bool {
	return trimHTTPWhitespace(acao) == origin
}

// acaoValueValid approximates Chromium's GURL validity check on an ACAO
// value that did not match (services/network/public/cpp/cors/cors.cc,
// CheckAccess), which decides between the "invalid value" and the "not
// equal to the supplied origin" messages: a scheme (a letter, then letters,
// digits, "+", "-", "."), ":", then for special schemes a host after "//"
// with an optional numeric port. "null" is valid (a mismatch). As the URL
// parser does first (https://url.spec.whatwg.org/#concept-basic-url-parser
// step 1), leading and trailing C0 control bytes and spaces are removed:
// an origin followed by a control byte is "not equal", not "invalid".
func acaoValueValid(v string) bool {
	v = strings.Trim(v, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	if v == "null" {
		return true
	}
	colon := strings.IndexByte(v, ':')
	if colon <= 0 {
		return false
	}
	scheme := v[:colon]
	for i := 0; i < len(scheme); i++ {
		c := scheme[i]
		alpha := 'a' <= c|0x20 && c|0x20 <= 'z'
		if i == 0 && !alpha || !alpha && !('0' <= c && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] >= 0x7f {
			return false
		}
	}
	switch strings.ToLower(scheme) {
	case "http", "https", "ws", "wss", "ftp":
	default:
		return true
	}
	rest := strings.TrimLeft(v[colon+1:], "/\\")
	if end := strings.IndexAny(rest, "/\\?#"); end >= 0 {
		rest = rest[:end]
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = rest[at+1:]
	}
	host, port := rest, ""
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 || net.ParseIP(rest[1:end]) == nil {
			return false
		}
		host, port = rest[:end+1], strings.TrimPrefix(rest[end+1:], ":")
		if rest[end+1:] != "" && !strings.HasPrefix(rest[end+1:], ":") {
			return false
		}
	} else if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		host, port = rest[:i], rest[i+1:]
	}
	if host == "" || strings.ContainsAny(host, "<>^|%\"`{}") {
		return false
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 0 || n > 65535 || port[0] == '+' || port[0] == '-' {
			return false
		}
	}
	return true
}

package diff

import (
	"strings"

	"github.com/corsaudit/corsaudit/audit"
)

// SchemeHint says what to change when e failed because the address speaks
// the other scheme: plain HTTP answering a TLS handshake, or TLS answering
// plain HTTP. set is how the user sets the scheme ("direct.scheme: ",
// "--direct-scheme "). It is "" for any other failure.
func SchemeHint(e *audit.Exchange, set string) string {
	if e == nil || !e.Failed() {
		return ""
	}
	switch msg := e.ErrMsg; {
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"),
		strings.Contains(msg, "first record does not look like a TLS handshake"):
		return "; it answers plain HTTP, not TLS: set " + set + "http"
	case strings.Contains(msg, `malformed HTTP response "\x15\x03`), strings.Contains(msg, `malformed HTTP response "\x16\x03`):
		return "; it answers TLS, not plain HTTP: set " + set + "https"
	}
	return ""
}

package audit

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"
)

// UserAgent is sent on every request so that all instances see identical
// requests and operators can recognise corsaudit in their logs.
const UserAgent = "corsaudit/1 (+https://github.com/corsaudit/corsaudit)"

// maxResponseHeaderBytes bounds the response header block read from a server.
const maxResponseHeaderBytes = 64 << 10

// MaxBodyBytes bounds how much of a response body is read (and discarded) so
// that keep-alive connections can be reused.
const MaxBodyBytes = 64 << 10

// TransportOptions configure newClient.
type TransportOptions struct {
	// ConnectTo, when set, is the host:port every connection is dialled to,
	// whatever the URL's host (like curl --connect-to). The request keeps the
	// URL's Host header and TLS SNI.
	ConnectTo string
	// InsecureSkipVerify disables TLS certificate verification (direct
	// access to instances whose certificate names only the public host is
	// verified against that public host, so this is rarely needed).
	InsecureSkipVerify bool
	// Timeout bounds dialling, the TLS handshake and the wait for the
	// response header (0: none, as in net/http); the per-request timeout
	// is a context deadline set by the caller.
	Timeout time.Duration
	// MaxConnsPerHost bounds connections per dialled address (0 = unlimited).
	MaxConnsPerHost int
	// ServerName, when set, is the TLS SNI and the name the certificate is
	// verified against, whatever host the URL names (direct requests put the
	// instance address in the URL).
	ServerName string
	// DisableKeepAlives opens a new connection per request.
	DisableKeepAlives bool
	// TLSConfig, when set, is the base TLS configuration (tests use it to
	// trust a test CA).
	TLSConfig *tls.Config
	// HTTP1Only offers HTTP/1.1 alone in TLS's ALPN; otherwise HTTP/2 is
	// used when the server offers it over TLS, as browsers do.
	HTTP1Only bool
}

// newClient returns an HTTP client that never follows redirects, sends no
// cookies, bounds response headers, and optionally dials a fixed address
// while keeping the URL's Host and SNI.
func newClient(o TransportOptions) *http.Client {
	timeout := o.Timeout
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	tlsConf := &tls.Config{InsecureSkipVerify: o.InsecureSkipVerify} //nolint:gosec // user's explicit choice
	if o.TLSConfig != nil {
		tlsConf = o.TLSConfig.Clone()
		tlsConf.InsecureSkipVerify = tlsConf.InsecureSkipVerify || o.InsecureSkipVerify
	}
	if o.ServerName != "" {
		tlsConf.ServerName = o.ServerName
	}
	tr := &http.Transport{
		DisableKeepAlives:      o.DisableKeepAlives,
		Proxy:                  nil, // a proxy would hide which instance answered
		TLSClientConfig:        tlsConf,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
		MaxIdleConns:           0,
		MaxIdleConnsPerHost:    16,
		MaxConnsPerHost:        o.MaxConnsPerHost,
		IdleConnTimeout:        30 * time.Second,
		DisableCompression:     true,
		ForceAttemptHTTP2:      true,
		ReadBufferSize:         readBufferSize,
		WriteBufferSize:        writeBufferSize,
	}
	if o.HTTP1Only {
		tr.ForceAttemptHTTP2 = false
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetHTTP1(true)
	}
	connectTo := o.ConnectTo
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if connectTo != "" {
			addr = connectTo
		}
		return dialer.DialContext(ctx, network, addr)
	}
	return &http.Client{
		Transport: tr,
		Jar:       nil,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a 3xx is an observation, never a hop
		},
	}
}

// The buffers of each HTTP/1.1 connection (net/http's default is 4 KiB
// each): corsaudit opens per_instance connections to every instance and
// sends a few small requests over each, so a run allocates them thousands
// of times, and they make up much of what the garbage collector has to
// keep up with. A CORS answer's head fits in 2 KiB (a longer one is read
// in more than one go; maxResponseHeaderBytes still bounds it), and the
// requests corsaudit writes in 1 KiB (a longer one, say with a credential,
// is written in more than one go). HTTP/2 keeps its own buffers.
const (
	readBufferSize  = 2 << 10
	writeBufferSize = 1 << 10
)

// roundTrip sends req once and returns the response as received: what
// c.Do does for a client of newClient (no redirect ever followed, no
// cookies, no client timeout), without the copy of the request's headers
// that c.Do makes for redirects. Errors are wrapped as c.Do wraps them
// (*url.Error), which classify reads.
func roundTrip(c *http.Client, req *http.Request) (*http.Response, error) {
	if c.Jar != nil || c.Timeout != 0 || c.Transport == nil {
		return c.Do(req)
	}
	resp, err := c.Transport.RoundTrip(req)
	if err != nil {
		op := req.Method[:1] + strings.ToLower(req.Method[1:])
		return nil, &url.Error{Op: op, URL: req.URL.Redacted(), Err: err}
	}
	return resp, nil
}

// ErrorClass names why a request produced no response.
type ErrorClass string

// Error classes, stable names used in JSON.
const (
	ErrNone        ErrorClass = ""
	ErrRefused     ErrorClass = "refused"
	ErrTimeout     ErrorClass = "timeout"
	ErrTLS         ErrorClass = "tls"
	ErrReset       ErrorClass = "reset"
	ErrDNS         ErrorClass = "dns"
	ErrBadResponse ErrorClass = "bad-response"
	ErrCanceled    ErrorClass = "canceled"
	ErrOther       ErrorClass = "error"
)

// classify maps a transport error to an ErrorClass.
func classify(err error) ErrorClass {
	if err == nil {
		return ErrNone
	}
	var (
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		recErr  tls.RecordHeaderError
		alert   tls.AlertError
		urlErr  *url.Error
		netErr  net.Error
	)
	switch {
	case errors.Is(err, context.Canceled):
		return ErrCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return ErrTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return ErrReset
	case errors.As(err, &dnsErr):
		return ErrDNS
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &alert):
		return ErrTLS
	case errors.As(err, &netErr) && netErr.Timeout():
		return ErrTimeout
	}
	if errors.As(err, &urlErr) {
		msg := urlErr.Err.Error()
		switch {
		case strings.Contains(msg, "tls:"), strings.Contains(msg, "x509:"),
			strings.Contains(msg, "server gave HTTP response to HTTPS client"):
			return ErrTLS
		case strings.Contains(msg, "malformed HTTP"), strings.Contains(msg, "header"), strings.Contains(msg, "EOF"):
			return ErrBadResponse
		}
	}
	return ErrOther
}

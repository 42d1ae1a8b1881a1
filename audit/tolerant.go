package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/corsaudit/corsaudit/audit/cors"
)

// Go's HTTP/1.1 client rejects a whole response when a header line holds a
// byte outside HTTP's field syntax (a NUL or another control byte, a line
// without a colon), while a browser reads the response and decides: it
// keeps most such lines, and treats a NUL as a network error (see
// cors.ReadResponseHead). So that such an answer is an observation with
// the browser's verdict, not "could not be reached", the request is sent
// once more on a connection of its own, HTTP/1.1 only, and the response
// head is read the way the browser reads it, within the same header size
// bound; the body is not read.

// malformedHeader reports whether err is Go's HTTP/1.x client rejecting a
// response's header lines (as opposed to a connection failure or a
// response that is not HTTP at all).
func malformedHeader(err error) bool {
	return err != nil && strings.Contains(err.Error(), "malformed MIME header")
}

// errHeadTooLarge: the response head exceeds maxResponseHeaderBytes.
var errHeadTooLarge = fmt.Errorf("response headers exceed %d bytes", maxResponseHeaderBytes)

// readTolerantly sends req again to to on a new HTTP/1.1 connection (TLS
// with the endpoint's configuration) and reads the response head as browser
// b does, bounded by maxResponseHeaderBytes and ctx. It uses to's own
// dialer, so the connection goes where the endpoint's requests go.
func readTolerantly(ctx context.Context, to Endpoint, req *http.Request, b cors.Browser) (cors.Response, []cors.MalformedLine, error) {
	tr, ok := to.Client.Transport.(*http.Transport)
	if !ok || tr.DialContext == nil {
		return cors.Response{}, nil, errors.New("no transport to read the response again")
	}
	u := req.URL
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	conn, err := tr.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return cors.Response{}, nil, err
	}
	defer conn.Close()
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if u.Scheme == "https" {
		conf := &tls.Config{}
		if tr.TLSClientConfig != nil {
			conf = tr.TLSClientConfig.Clone()
		}
		conf.NextProtos = []string{"http/1.1"}
		if conf.ServerName == "" {
			conf.ServerName = u.Hostname()
		}
		tc := tls.Client(conn, conf)
		if err := tc.HandshakeContext(ctx); err != nil {
			return cors.Response{}, nil, err
		}
		conn = tc
	}
	out := req.Clone(ctx)
	out.Body, out.ContentLength = nil, 0
	if err := out.Write(conn); err != nil {
		return cors.Response{}, nil, err
	}
	head, err := readHead(bufio.NewReader(io.LimitReader(conn, maxResponseHeaderBytes+1)))
	if err != nil {
		return cors.Response{}, nil, err
	}
	return cors.ReadResponseHead(b, head)
}

// readHead reads up to and including the empty line that ends a response
// head ("\r\n" or "\n" line ends).
func readHead(r *bufio.Reader) ([]byte, error) {
	var head []byte
	for {
		line, err := r.ReadSlice('\n')
		head = append(head, line...)
		if len(head) > maxResponseHeaderBytes {
			return nil, errHeadTooLarge
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) && len(head) > maxResponseHeaderBytes {
				return nil, errHeadTooLarge
			}
			return nil, err
		}
		if t := bytes.TrimRight(line, "\r\n"); len(t) == 0 && len(head) > len(line) {
			return head, nil
		}
	}
}

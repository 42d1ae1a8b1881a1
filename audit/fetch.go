package audit

import (
	"context"
	"net/url"
	"slices"
	"time"

	"github.com/corsaudit/corsaudit/audit/cors"
)

// Fetch is one fetch() from a page, acted out as a browser would
// (`corsaudit check`): what the page asks, the public URL it fetches, and
// how corsaudit reaches the server behind it. Its rules are the engine's:
// what is sent (SendsActual), where (Endpoint), what a browser judges.
type Fetch struct {
	// Request is what the page passes to fetch().
	Request cors.Request
	// URL is the public URL the page fetches.
	URL *url.URL
	// ConnectTo, when set, is the address dialled instead of URL's host,
	// and Scheme, when set, the scheme spoken to it (Endpoint).
	ConnectTo, Scheme string
	// SendUnsafeActual also sends the actual request of a method other
	// than GET and HEAD, which may change server state (SendsActual).
	SendUnsafeActual bool
	// InsecureSkipVerify does not verify TLS certificates.
	InsecureSkipVerify bool
	// Timeout bounds each request (required).
	Timeout time.Duration
}

// sendsActual says whether the actual request is sent, if a browser gets
// that far.
func (f Fetch) sendsActual() bool {
	return sendsActual(cors.NormalizeMethod(f.Request.Method), f.SendUnsafeActual)
}

// Engines are the browsers of asked that f may be acted out as: all of
// them, or only the first when f sends an actual request that may change
// server state, so that it is sent once.
func (f Fetch) Engines(asked []cors.Browser) []cors.Browser {
	if len(asked) > 1 && f.SendUnsafeActual && !sendsActual(cors.NormalizeMethod(f.Request.Method), false) {
		return asked[:1]
	}
	return slices.Clone(asked)
}

// Judged says whether browser b's verdict on f follows from what corsaudit
// sends. It does not for a request b sends without a preflight whose
// actual request is not sent (SendsActual): its actual response alone
// would decide. A fetch blocked as mixed content is judged without
// sending anything.
func (f Fetch) Judged(b cors.Browser) bool {
	if _, mixed := cors.MixedContent(f.Request.Origin, f.URL); mixed {
		return true
	}
	return f.sendsActual() || cors.PlanPreflightFor(b, f.Request).Needed
}

// Act acts out f as browser b (ActAsBrowser), over an endpoint that keeps
// the public URL apart from the address dialled and the scheme spoken to
// it: mixed content is judged on the public URL, as a browser judges it.
func (f Fetch) Act(ctx context.Context, b cors.Browser) Fetched {
	to := NewEndpoint(f.URL, f.ConnectTo, f.Scheme, TransportOptions{Timeout: f.Timeout, InsecureSkipVerify: f.InsecureSkipVerify})
	defer to.Client.CloseIdleConnections()
	return ActAsBrowser(ctx, to, f.Request, FetchOptions{Browser: b, Timeout: f.Timeout, SendUnsafeActual: f.SendUnsafeActual})
}

package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/corsaudit/corsaudit/audit/cors"
)

// Endpoint is where the requests of one fetch go: the public URL the page
// fetches, kept apart from the address dialled and the scheme spoken to it
// when corsaudit reaches an instance directly (like curl --connect-to).
type Endpoint struct {
	// URL is the public URL: the Host header, the TLS SNI and what a
	// browser judges (mixed content) come from it.
	URL *url.URL
	// ConnectTo is the address Client dials whatever URL's host (an
	// instance); empty through the load balancer.
	ConnectTo string
	// Scheme, when set, is the scheme spoken to ConnectTo instead of URL's
	// (an instance serving plain HTTP behind a TLS load balancer): the
	// requests carry it (RequestURL), the browser's judgement does not.
	Scheme string
	Client *http.Client

	// url is RequestURL as a string, computed once by NewEndpoint from
	// urlOf: every record of a request to the endpoint shares it while URL
	// is still urlOf.
	url   string
	urlOf *url.URL
}

// NewEndpoint returns the endpoint for the public URL u whose client dials
// connectTo when it is set, speaking scheme when it is set (one of
// discovery.CheckScheme's).
func NewEndpoint(u *url.URL, connectTo, scheme string, o TransportOptions) Endpoint {
	o.ConnectTo = connectTo
	e := Endpoint{URL: u, ConnectTo: connectTo, Scheme: scheme, Client: newClient(o), urlOf: u}
	e.url = e.RequestURL().String()
	return e
}

// RequestURL is the URL the requests carry: the public URL, with Scheme
// when it is set (the scheme spoken to the address dialled).
func (e Endpoint) RequestURL() *url.URL {
	if e.Scheme == "" || e.Scheme == e.URL.Scheme {
		return e.URL
	}
	u := *e.URL
	u.Scheme = e.Scheme
	return &u
}

// FetchOptions tune ActAsBrowser.
type FetchOptions struct {
	// Browser selects whose rules decide what is sent and the verdict.
	Browser cors.Browser
	// Timeout bounds each request (inside ctx). Required, like Browser:
	// the caller gives config's value (a zero gives up every request).
	Timeout time.Duration
	// InstanceHeader names a response header carrying the id of the
	// instance that served the request (load balancer samples).
	InstanceHeader string
	// SendUnsafeActual sends the actual request for methods other than GET
	// and HEAD (`corsaudit check --send-actual`). The audit never sets it.
	SendUnsafeActual bool
	// Sent, when set, counts the requests sent.
	Sent *int64
	// OnSend, when set, is told each request as it is sent: its record,
	// which shows a credential's placeholder, never its value. It may be
	// called from several goroutines at once.
	OnSend func(*SentRequest)
	// Credential, when set, is attached to the actual request when the
	// browser would attach it (never to a preflight); records show its
	// placeholder, never its value.
	Credential *Credential
	// Secret, when set, is the target's credential, whether or not it
	// goes on this fetch: an instance may echo it on any answer, so its
	// value is redacted (Credential.Redact) from every byte read from the
	// network (response headers, error messages) before anything reads
	// or stores them. Credential is redacted too.
	Secret *Credential
	// IgnoreMixedContent sends the requests even when a browser would
	// block them as mixed content (cors.MixedContent, judged on the
	// endpoint's public URL, never on the scheme spoken to an instance).
	// The audit sets it: it reports mixed content once per target and
	// still probes what the instances answer.
	IgnoreMixedContent bool
	// Step, when set, sends one step of the fetch only (Probe.Step):
	// StepPreflight the preflight, judged alone; StepActual the actual
	// request, as a browser sends it once the preflight passed, judged
	// with cors.EvaluateActual.
	Step string

	// health, when set, is asked before each request and told each
	// outcome: the engine gives up on an instance that keeps failing.
	health *instanceHealth
	// intern, when set, shares identical recorded header sets.
	intern *headerInterner
	// memo, when set, is the probe's plan and verdicts, shared by every
	// instance of the run (the engine sets it with intern).
	memo *probeMemo
	// share: exchanges alike (answer and request, ConnectTo apart) are
	// one, shared by every instance (with memo; Options.Latencies unset).
	share bool
}

// Fetched is what ActAsBrowser did for one request.
type Fetched struct {
	// Plan is whether the browser sends a preflight, and what it sends.
	Plan      cors.PreflightPlan
	Preflight *Exchange
	Actual    *Exchange
	// ActualSkipped says why the actual request was not sent after a
	// preflight that was answered.
	ActualSkipped string
	// Verdict is the browser's decision; zero unless Done and every
	// request sent was answered, or the browser blocked the fetch before
	// sending anything (mixed content: Done false, NotRun says so).
	Verdict cors.Verdict
	// Done and NotRun have the meaning of Observation's.
	Done   bool
	NotRun string

	// decided is Verdict as shared by the run (nil: the zero verdict),
	// what an Observation keeps.
	decided *cors.Verdict
}

// decide sets the verdict to *v (nil: the zero verdict).
func (f *Fetched) decide(v *cors.Verdict) {
	f.decided = v
	if v == nil {
		f.Verdict = cors.Verdict{}
		return
	}
	f.Verdict = *v
}

// ActAsBrowser is the one place that acts as browser o.Browser for a page
// on req.Origin calling fetch() on to.URL (the public URL; the requests go
// to to.ConnectTo in to.Scheme when set): it decides what is sent
// (cors.PlanPreflightFor), sends the preflight when the browser would, then
// the actual request only for GET and HEAD (or any method with
// SendUnsafeActual) and only after a passing preflight, reads the response
// headers as the browser reads them (readResponseHeader), and decides the
// verdict (cors.Evaluate). Each exchange records the request exactly as sent.
//
// A page on an https origin fetching an http URL that is not potentially
// trustworthy is blocked as mixed content before anything is sent: the
// verdict says so, Done is false (unless IgnoreMixedContent).
//
// Nothing answered means nothing observed: when no request may be sent (a
// simple POST is sent by a browser without preflight, and corsaudit never
// sends it), when ctx ended (the run's deadline or an interrupt, as opposed
// to the per-request Timeout) before a request was sent or while it was in
// flight (notAnswered*), or when the instance was given up, Done is false
// and NotRun says why in plain words. A request that got no response for
// another reason is an observation of the instance: Done, with the
// exchange's error class and a zero verdict.
func ActAsBrowser(ctx context.Context, to Endpoint, req cors.Request, o FetchOptions) Fetched {
	f := Fetched{Plan: o.planFor(req)}
	method := cors.NormalizeMethod(req.Method)
	sendsActual := sendsActual(method, o.SendUnsafeActual) && o.Step != StepPreflight
	sendsPreflight := f.Plan.Needed && o.Step != StepActual
	switch {
	case cors.IsForbiddenMethod(req.Method) || !cors.IsToken(req.Method):
		f.NotRun = o.notRun(func() string { return "not run: " + f.Plan.Why })
		return f
	case !o.IgnoreMixedContent && blockMixedContent(&f, req.Origin, to.URL):
		return f
	case o.Step == StepPreflight && !f.Plan.Needed:
		f.NotRun = o.notRun(func() string { return "not run: a browser sends no preflight for this request" })
		return f
	case !sendsPreflight && !sendsActual:
		f.NotRun = o.notRun(func() string {
			how := "without a preflight"
			if f.Plan.Needed {
				how = "after a preflight that another probe judges"
			}
			return fmt.Sprintf("not run: a browser sends this %s %s and corsaudit never sends %s (it can change server state), so no request may be sent", method, how, method)
		})
		return f
	}
	var pre *cors.Response
	if sendsPreflight {
		h := o.requestHeader(http.MethodOptions, func() http.Header { return preflightHeader(req, f.Plan) })
		if f.Preflight, pre, f.NotRun = o.send(ctx, to, http.MethodOptions, h, nil); f.NotRun != "" {
			return f
		}
		if f.Preflight.Failed() {
			f.Done = true
			return f
		}
		f.decide(o.evaluate(req, f.Preflight, pre, nil, nil))
		switch {
		case !f.Verdict.Allowed:
			// A browser stops at a failed preflight.
			f.ActualSkipped = "the preflight failed"
			f.Done = true
			return f
		case o.Step == StepPreflight:
			f.ActualSkipped = "the load balancer routes the actual request to other pools: another probe judges it"
			f.Done = true
			return f
		case !sendsActual:
			f.ActualSkipped = method + " can change server state"
			f.Done = true
			return f
		}
	}
	var act *cors.Response
	var cred *Credential
	if o.Credential != nil && o.Credential.sendsWith(headerNames(req.Headers), req.Credentials) {
		cred = o.Credential
	}
	h := o.requestHeader(method, func() http.Header { return actualHeader(req) })
	if f.Actual, act, f.NotRun = o.send(ctx, to, method, h, cred); f.NotRun != "" {
		f.decide(nil)
		return f
	}
	if f.Actual.Failed() {
		f.decide(nil)
		f.Done = true
		return f
	}
	f.decide(o.evaluate(req, f.Preflight, pre, f.Actual, act))
	f.Done = true
	return f
}

// sendsActual says whether corsaudit sends the actual request of method
// (normalised, as cors.NormalizeMethod): only GET and HEAD, which cannot
// change server state, unless sendUnsafe (`check --send-actual`). Any
// other method is only ever preflighted.
func sendsActual(method string, sendUnsafe bool) bool {
	return method == http.MethodGet || method == http.MethodHead || sendUnsafe
}

// blockMixedContent fills f and reports true when a browser blocks a
// fetch() from origin to u as mixed content: nothing is sent, and the
// verdict is decided without any observation.
func blockMixedContent(f *Fetched, origin string, u *url.URL) bool {
	v, blocked := cors.MixedContent(origin, u)
	if !blocked {
		return false
	}
	f.Plan = cors.PreflightPlan{}
	f.decide(&v)
	f.NotRun = "not run: a page on " + origin + " may not fetch the insecure " + u.Scheme + ": URL (mixed content), so a browser sends nothing"
	return true
}

// preflightHeader is the header of the OPTIONS request a browser sends for
// req under plan (https://fetch.spec.whatwg.org/#cors-preflight-fetch),
// the browser's own headers included.
func preflightHeader(req cors.Request, plan cors.PreflightPlan) http.Header {
	h := http.Header{}
	h.Set(cors.Origin, req.Origin)
	h.Set(cors.ACRM, plan.Method)
	if plan.Headers != "" {
		h.Set(cors.ACRH, plan.Headers)
	}
	browserHeaders(h)
	return h
}

// actualHeader is the header of the actual request: the page's headers,
// except credentials, which corsaudit sends only from a configured
// Credential, never dummy ones (a preflight still lists them, as a browser
// does), and the browser's own headers.
func actualHeader(req cors.Request) http.Header {
	h := http.Header{}
	for _, hd := range req.Headers {
		if isCredentialHeader(hd.Name) {
			continue
		}
		h.Add(hd.Name, hd.Value)
	}
	h.Set(cors.Origin, req.Origin)
	browserHeaders(h)
	return h
}

// browserHeaders sets the headers every request corsaudit sends carries,
// as a browser's fetch() does (preflightHeader and actualHeader set them).
func browserHeaders(h http.Header) {
	h.Set("User-Agent", UserAgent)
	h.Set("Accept", "*/*")
	h.Set("Sec-Fetch-Mode", "cors")
}

func headerNames(hs []cors.Header) []string {
	names := make([]string, len(hs))
	for i, h := range hs {
		names[i] = h.Name
	}
	return names
}

func isCredentialHeader(name string) bool {
	switch strings.ToLower(name) {
	case "authorization", "cookie", "proxy-authorization":
		return true
	}
	return false
}

// notRunReason says in plain words why ctx ended a run.
func notRunReason(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return NotRunDeadline
	}
	return NotRunInterrupted
}

// unanswered says in plain words that a request was in flight when ctx
// ended the run.
func unanswered(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return notAnsweredDeadline
	}
	return notAnsweredInterrupted
}

// Reasons a probe observed nothing (Observation.NotRun): not sent, or sent
// and not answered before the run stopped (Observation.Unanswered).
const (
	NotRunDeadline         = "not run: the run's deadline passed"
	NotRunInterrupted      = "not run: interrupted"
	notAnsweredDeadline    = "not answered before the run stopped: its deadline passed"
	notAnsweredInterrupted = "not answered before the run stopped: interrupted"
)

// send sends one request, whose header h (preflightHeader, actualHeader)
// it does not change, with the per-request timeout and records it; resp
// is the response as the browser reads it, with every header (the record
// keeps only the relevant ones), nil when none came. It returns a non-empty
// reason instead of an exchange when the request was not sent, or was cut
// off by ctx ending: that is no observation. cred, when set, is attached:
// its value to the request, its placeholder to the record.
func (o *FetchOptions) send(ctx context.Context, to Endpoint, method string, h http.Header, cred *Credential) (ex *Exchange, resp *cors.Response, notRun string) {
	if why := o.health.admit(); why != "" {
		return nil, nil, why
	}
	if ctx.Err() != nil {
		return nil, nil, notRunReason(ctx)
	}
	// The transport does not change h and nothing does after: the record
	// shares it (interned across instances when the engine sends), unless
	// a credential's value goes out and its placeholder is recorded.
	sent := SentRequest{Method: method, URL: to.url, ConnectTo: to.ConnectTo, Header: h, Timeout: o.Timeout}
	if to.URL != to.urlOf {
		sent.URL = to.RequestURL().String()
	}
	if cred != nil {
		sent.Header = h.Clone()
		h = h.Clone()
		cred.attach(h, sent.Header)
		sent.Placeholders = []string{http.CanonicalHeaderKey(cred.Header)}
	}
	if o.intern != nil {
		sent.Header = o.sharedRequest(method, sent.Header)
	}
	rctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, sent.URL, nil)
	if err != nil {
		ex = &Exchange{Err: ErrOther, ErrMsg: err.Error()}
		o.record(ex, sent)
		return ex, nil, ""
	}
	req.Header = h
	if o.Sent != nil {
		atomic.AddInt64(o.Sent, 1)
	}
	if o.OnSend != nil {
		told := sent // sent stays on the stack
		o.OnSend(&told)
	}
	start := time.Now()
	secret := o.Secret
	if secret == nil {
		secret = o.Credential
	}
	r, err := roundTrip(to.Client, req)
	if err != nil {
		if ctx.Err() != nil {
			// The run ended, not the instance: the request was sent (or
			// was being sent) and nobody waited for the answer.
			return nil, nil, unanswered(ctx)
		}
		if malformedHeader(err) {
			if ex, resp, ok := o.sendTolerantly(rctx, to, req, sent, start); ok {
				return ex, resp, ""
			}
		}
		got := Exchange{Err: classify(err), ErrMsg: secret.Redact(err.Error()), Latency: time.Since(start)}
		o.record(&got, sent)
		o.health.record(&got)
		return o.shareExchange(got), nil, ""
	}
	secret.redactHeader(r.Header)
	header := readResponseHeader(o.Browser, r.Header)
	// got is on the stack: most instances answer as another did, and get
	// that one's exchange (shareExchange).
	got := Exchange{Status: r.StatusCode, Location: header.Get("Location"), Latency: time.Since(start), Proto: protoOf(r)}
	o.record(&got, sent)
	if o.intern != nil {
		got.Header, got.answer = o.sharedResponse(method, header)
	} else {
		got.Header = relevantHeaders(header, "")
	}
	if o.InstanceHeader != "" {
		got.ServedBy = header.Get(o.InstanceHeader)
	}
	// Drain a bounded amount so the connection can be reused.
	_, err = io.Copy(io.Discard, io.LimitReader(r.Body, MaxBodyBytes))
	r.Body.Close()
	if err != nil && !errors.Is(err, context.Canceled) {
		got.ErrMsg = "body: " + secret.Redact(err.Error())
	}
	if err != nil && ctx.Err() == nil && classify(err) == ErrTimeout {
		o.health.bodyTimedOut() // the answer counts; the instance's slowness too
	} else {
		o.health.record(&got)
	}
	return o.shareExchange(got), &cors.Response{Status: r.StatusCode, Header: header}, ""
}

// Protocols an answer came over (Exchange.Proto).
const (
	ProtoHTTP1  = "HTTP/1.1"
	ProtoHTTP10 = "HTTP/1.0"
	ProtoHTTP2  = "HTTP/2.0"
)

// protoOf is the protocol of r as one of the Proto constants (the
// server's own spelling is not kept: every exchange shares three strings).
func protoOf(r *http.Response) string {
	switch {
	case r.ProtoMajor == 2:
		return ProtoHTTP2
	case r.ProtoMajor == 1 && r.ProtoMinor == 0:
		return ProtoHTTP10
	}
	return ProtoHTTP1
}

// sendTolerantly sends req again when Go's client rejected the response's
// header lines, and reads the answer as the browser does (readTolerantly):
// an observation with the browser's verdict, the malformed line recorded in
// the exchange. ok is false when no answer could be read that way either
// (the first failure then stands).
func (o *FetchOptions) sendTolerantly(ctx context.Context, to Endpoint, req *http.Request, sent SentRequest, start time.Time) (ex *Exchange, resp *cors.Response, ok bool) {
	if o.Sent != nil {
		atomic.AddInt64(o.Sent, 1)
	}
	r, malformed, err := readTolerantly(ctx, to, req, o.Browser)
	if err != nil {
		return nil, nil, false
	}
	// Not interned (answer 0): each such answer is judged on its own.
	ex = &Exchange{Status: r.Status, Location: r.Header.Get("Location"), Header: relevantHeaders(r.Header, ""),
		Malformed: malformedDetail(r, malformed), Latency: time.Since(start), Proto: ProtoHTTP1}
	o.record(ex, sent)
	if o.InstanceHeader != "" {
		ex.ServedBy = r.Header.Get(o.InstanceHeader)
	}
	o.health.record(ex)
	return ex, &r, true
}

// malformedDetail is what an exchange records of the malformed lines of a
// response: the one that makes the browser reject it, else the first one
// in a header that matters to CORS, else nothing (a browser reads the
// response, and the junk line is none of CORS's business).
func malformedDetail(r cors.Response, malformed []cors.MalformedLine) string {
	if r.Invalid != "" {
		return r.Invalid + ": browsers treat the response as a network error"
	}
	for _, m := range malformed {
		if m.Name != "" && isRelevantHeader(m.Name, "") {
			return m.Problem
		}
	}
	return ""
}

// readResponseHeader reads header names as browser b does
// (cors.ResponseHeaderName): a name followed by whitespace before its colon
// ("Access-Control-Allow-Origin : *"), which Go keeps as a distinct,
// non-canonical key, still names the header for Chromium and is dropped by
// Firefox and WebKit. Keys are merged in sorted order so the result does
// not depend on map order. Every record (Exchange.Header) and every verdict
// uses this reading.
func readResponseHeader(b cors.Browser, h http.Header) http.Header {
	if !spacedName(h) {
		return h // every name reads as Go read it (ResponseHeaderName keeps it)
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(http.Header, len(h))
	for _, k := range keys {
		name, ok := cors.ResponseHeaderName(b, k)
		if !ok {
			continue
		}
		name = http.CanonicalHeaderKey(name)
		out[name] = append(out[name], h[k]...)
	}
	return out
}

// relevantHeaders keeps the response headers that matter to CORS and caching,
// values as received.
func relevantHeaders(h http.Header, instanceHeader string) http.Header {
	out := http.Header{}
	for k, v := range h {
		if isRelevantHeader(k, instanceHeader) {
			out[k] = append([]string(nil), v...)
		}
	}
	return out
}

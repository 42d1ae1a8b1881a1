package audit

import (
	"net/http"
	"net/url"
	"time"

	"github.com/corsaudit/corsaudit/audit/cors"
)

// SentRequest is a request exactly as corsaudit sent it: what a curl
// command reproduces.
type SentRequest struct {
	Method string `json:"method"`
	// URL is the URL requested; for direct requests its host is the
	// public host and ConnectTo the instance address (like curl
	// --connect-to), so Host header and TLS SNI are the public ones.
	URL       string      `json:"url"`
	ConnectTo string      `json:"connect_to,omitempty"`
	Header    http.Header `json:"header,omitempty"`
	// Placeholders names the headers whose recorded value is a shell
	// expression standing for a secret ($CORSAUDIT_TOKEN), never the
	// secret itself: a curl command leaves them unquoted for the shell.
	Placeholders []string `json:"placeholders,omitempty"`
	// Timeout bounded the request (the run's per-request timeout): curl's
	// --max-time. Zero in records written before it existed.
	Timeout time.Duration `json:"timeout,omitempty"`
}

// Exchange is one HTTP request and what came back.
type Exchange struct {
	// Request is what was sent (nil in reports written before it existed,
	// and in the engine's records, which keep it shared: read Sent).
	Request *SentRequest `json:"request,omitempty"`
	Status  int          `json:"status,omitempty"`
	// Header holds the CORS-relevant response headers as received,
	// repeated headers kept, with names read as a browser reads them (a
	// name with whitespace before its colon names the header): the
	// verdict and every check read the same headers.
	Header   http.Header `json:"header,omitempty"`
	Location string      `json:"location,omitempty"`
	// ServedBy is the value of the LB's instance header, when configured.
	ServedBy string     `json:"served_by,omitempty"`
	Err      ErrorClass `json:"error,omitempty"`
	ErrMsg   string     `json:"error_message,omitempty"`
	// Malformed, when set, says which response header line is outside
	// HTTP's field syntax (quoted): Go's parser rejected the response, and
	// it was read again the way the browser reads it (a NUL byte: the
	// browser rejects it as a network error).
	Malformed string `json:"malformed,omitempty"`
	// Latency is the request's, or the first request's of an exchange
	// shared by instances answered alike (Options.Latencies).
	Latency time.Duration `json:"latency"`
	// Proto is the protocol the answer came over: ProtoHTTP2 when the
	// server offered HTTP/2 over TLS (ALPN, as browsers negotiate it),
	// else HTTP/1.x ("" in reports written before it was recorded).
	Proto string `json:"proto,omitempty"`

	// answer numbers the distinct response header sets of a run (0: not
	// interned); equal numbers read alike to a browser (verdictCache).
	answer uint32
	// shape is the request sent, shared by every instance sent the same
	// one, with ConnectTo empty; connectTo is this exchange's (Sent).
	shape     *SentRequest
	connectTo string
}

// Sent is the request exactly as sent: Request, or the shared record the
// engine keeps with this exchange's ConnectTo (nil when none was recorded).
// An exchange that instances answered alike share says no ConnectTo: read
// Observation.Sent.
func (e *Exchange) Sent() *SentRequest {
	if e == nil || e.Request != nil || e.shape == nil {
		if e == nil {
			return nil
		}
		return e.Request
	}
	r := *e.shape
	r.ConnectTo = e.connectTo
	return &r
}

// Failed reports whether no response was received.
func (e *Exchange) Failed() bool { return e != nil && e.Err != ErrNone }

// Response converts the exchange for the cors package.
func (e *Exchange) Response() *cors.Response {
	if e == nil || e.Failed() {
		return nil
	}
	return &cors.Response{Status: e.Status, Header: e.Header}
}

// Observation is what one instance (or one LB sample) did for one probe.
type Observation struct {
	Probe    int    `json:"probe"` // index into TargetSpec.Probes
	Instance string `json:"instance,omitempty"`
	// Sample numbers the LB samples of a probe; -1 for direct observations.
	Sample    int       `json:"sample"`
	Preflight *Exchange `json:"preflight,omitempty"`
	Actual    *Exchange `json:"actual,omitempty"`
	// connectTo is where direct requests were dialled: an exchange shared
	// by instances answered alike does not say (Sent).
	connectTo string
	// verdict is the browser's decision (Verdict); nil reads as the zero
	// verdict. Read-only and shared: a run keeps one per distinct pair of
	// answers to a probe (verdictCache), not one per observation.
	verdict *cors.Verdict
	// Done is true when at least one request was sent and the observation
	// completed (with answers, or with a failure of the instance). A probe
	// that sent nothing observed nothing: Done stays false.
	Done bool `json:"done"`
	// NotRun says in plain words why Done is false: no request a browser
	// would send may be sent for this probe, the run's deadline passed or
	// it was interrupted (before a request was sent, or while one was in
	// flight: Unanswered), or the instance was given up after consecutive
	// failures. Empty when Done.
	NotRun string `json:"not_run,omitempty"`
}

// Unanswered reports whether a request of o was sent, or being sent, when
// the run stopped (its deadline or an interrupt), and got no answer: o is
// not an observation of the instance, but not "nothing sent" either.
func (o Observation) Unanswered() bool {
	return !o.Done && (o.NotRun == notAnsweredDeadline || o.NotRun == notAnsweredInterrupted)
}

// Verdict is the browser's decision; zero (never allowed) when not Done,
// and when a request got no response (see Err).
func (o Observation) Verdict() cors.Verdict {
	if o.verdict == nil {
		return cors.Verdict{}
	}
	return *o.verdict
}

// WithVerdict is o with the browser's decision v.
func (o Observation) WithVerdict(v cors.Verdict) Observation {
	o.verdict = &v
	return o
}

// WithSharedVerdict is o with the browser's decision *v, shared with
// other observations (nobody may change it): a decoder keeps one per
// distinct verdict.
func (o Observation) WithSharedVerdict(v *cors.Verdict) Observation {
	o.verdict = v
	return o
}

// Sent is the request of e, o's preflight or actual exchange, exactly as
// sent (nil when none was recorded).
func (o Observation) Sent(e *Exchange) *SentRequest {
	r := e.Sent()
	if r == nil || r.ConnectTo != "" || o.connectTo == "" || e.Request != nil {
		return r
	}
	r.ConnectTo = o.connectTo // a copy: e is shared
	return r
}

// Err is the error class of the first failed exchange (ErrNone if none).
func (o Observation) Err() ErrorClass {
	if o.Preflight.Failed() {
		return o.Preflight.Err
	}
	if o.Actual.Failed() {
		return o.Actual.Err
	}
	return ErrNone
}

// ServedBy is the instance that served an LB sample, when known.
func (o Observation) ServedBy() string {
	if o.Preflight != nil && o.Preflight.ServedBy != "" {
		return o.Preflight.ServedBy
	}
	if o.Actual != nil {
		return o.Actual.ServedBy
	}
	return ""
}

// CachePair is one order of the cache probe matrix sent through one front
// (cache.go): a request from origin First, then at once, over the same
// connection, a request from origin Second (the revalidation order: the
// same request again with the first answer's validators), both with one
// cache-busting query parameter of their own; then Fresh, the second
// request alone under another such parameter: what it gets when nothing
// is cached. A shared cache that keys on the URL alone hands Second the
// answer made for First.
type CachePair struct {
	CacheCase
	FirstAnswer  *Exchange `json:"first"`
	SecondAnswer *Exchange `json:"second"`
	Fresh        *Exchange `json:"fresh,omitempty"`
}

// CacheCase says what a CachePair sends: through which front, in which
// order, which probes from which origins (the shard file keeps it
// beside its own form of the exchanges).
type CacheCase struct {
	// Front names the layer the requests went through (Front.Name;
	// "lb", or "" in reports written before fronts existed: the load
	// balancer at the public URL).
	Front string `json:"front,omitempty"`
	// Order is one of the Cache* orders ("" in reports written before
	// orders existed: CacheOtherOrigin).
	Order     string `json:"order,omitempty"`
	Probe     int    `json:"probe"`
	Preflight bool   `json:"preflight"`
	// First and Second are the origins of the two requests ("": no
	// Origin header).
	First  string `json:"first_origin"`
	Second string `json:"second_origin"`
	// SecondProbe is the probe whose request the second step sends from
	// Second (another method and request headers in the CachePreflightKey
	// order; Probe otherwise, and in reports written before it existed).
	SecondProbe int `json:"second_probe,omitempty"`
}

// Orders of the cache probe matrix (CachePair.Order).
const (
	// CacheNoOrigin: a GET without Origin, then from an allowed origin.
	CacheNoOrigin = "no-origin-then-allowed"
	// CacheRefusal: a request from a disallowed origin, then from an
	// allowed one.
	CacheRefusal = "disallowed-then-allowed"
	// CacheOtherOrigin: a request from an allowed origin, then from
	// another allowed origin or a disallowed one.
	CacheOtherOrigin = "allowed-then-other-origin"
	// CachePreflightKey: a preflight for one method and request headers,
	// then for others from the same origin.
	CachePreflightKey = "preflight-then-other-request"
	// CacheRevalidation: a GET from an allowed origin, then the same GET
	// with If-None-Match or If-Modified-Since from the first answer.
	CacheRevalidation = "revalidation"
)

// TargetResult holds everything observed for one target.
type TargetResult struct {
	Spec TargetSpec
	// URL is the parsed public URL.
	URL *url.URL
	// Direct holds instance i's observation for probe p (instances in
	// Spec.Target.Instances order; rows of instances not probed are
	// empty).
	Direct *DirectMatrix
	// LB[p] are the samples for probe p through the first layer: the load
	// balancer at the public URL, or Spec.Fronts[0].
	LB [][]Observation
	// Cache are the orders of the cache probe matrix through every layer.
	Cache []CachePair
	// Fronts are the samples through the fronts behind the first
	// (Spec.Fronts[1:]), in order; Layers lists every layer.
	Fronts []FrontSamples
	// Requests counts HTTP requests sent.
	Requests int64
}

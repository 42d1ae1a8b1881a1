package audit

import (
	"net/http"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/corsaudit/corsaudit/audit/cors"
)

// probeMemo is what every instance shares for one probe of a run: the
// browser's preflight plan (a pure function of the browser and the
// request), the verdicts of the answers seen so far, and per step
// (stepOf) the first request header recorded and the first answers
// (answerSlots), which most instances repeat: checking that is cheaper
// than interning again.
type probeMemo struct {
	plan     cors.PreflightPlan
	verdicts *verdictCache
	probe    int
	request  [2]atomic.Pointer[http.Header]
	answer   [2][answerSlots]atomic.Pointer[recordedAnswer]
	sent     [2]atomic.Pointer[SentRequest]
	// notRun is why the probe sends nothing, when it sends nothing.
	notRun atomic.Pointer[string]
	// exchanges are the distinct exchanges of the probe (share).
	exchanges struct {
		mu sync.Mutex
		m  map[exchangeKey]*Exchange
	}
}

// exchangeKey is an exchange recorded with a shared request (record) but
// for its latency and ConnectTo.
type exchangeKey struct {
	shape                      *SentRequest
	answer                     uint32
	status                     int
	location, servedBy, errMsg string
	err                        ErrorClass
	proto                      string
}

// shareExchange is the probe's shared exchange alike ex (a copy of ex the
// first time), when exchanges are shared (o.share) and ex can be keyed:
// its request is the probe's shared record and its answer interned; else
// a copy of ex. Only an exchange kept is allocated.
func (o *FetchOptions) shareExchange(ex Exchange) *Exchange {
	if !o.share || o.memo == nil || ex.shape == nil || (ex.answer == 0 && ex.Err == ErrNone) {
		return kept(ex)
	}
	k := exchangeKey{shape: ex.shape, answer: ex.answer, status: ex.Status, location: ex.Location,
		servedBy: ex.ServedBy, errMsg: ex.ErrMsg, err: ex.Err, proto: ex.Proto}
	m := &o.memo.exchanges
	m.mu.Lock()
	defer m.mu.Unlock()
	if shared, ok := m.m[k]; ok {
		return shared
	}
	if m.m == nil {
		m.m = map[exchangeKey]*Exchange{}
	}
	ex.connectTo = "" // Observation.Sent says each instance's
	shared := kept(ex)
	m.m[k] = shared
	return shared
}

// kept is a copy of ex on the heap (ex itself stays where it is).
func kept(ex Exchange) *Exchange {
	p := new(Exchange)
	*p = ex
	return p
}

// notRun is why the probe may send nothing, in the words say returns;
// the probe's instances share one copy of them.
func (o *FetchOptions) notRun(say func() string) string {
	if o.memo == nil {
		return say()
	}
	if p := o.memo.notRun.Load(); p != nil {
		return *p
	}
	s := say()
	o.memo.notRun.CompareAndSwap(nil, &s)
	return *o.memo.notRun.Load()
}

// answerSlots is how many distinct answers to a step of a probe its memo
// keeps: a drifting fleet answers a probe in a few ways (the current
// config, an older one, a broken instance), and each answer kept is one
// the instances that give it need not intern.
const answerSlots = 4

// recordedAnswer is an answer as read (raw) and as recorded.
type recordedAnswer struct {
	raw, relevant http.Header
	id            uint32
}

// stepOf is the memo slot of a request: the preflight or the actual one.
func stepOf(method string) int {
	if method == http.MethodOptions {
		return 0
	}
	return 1
}

// requestHeader is the header of the fetch's preflight (method OPTIONS)
// or actual request that build makes. When the engine sends (memo and
// intern set) it is the probe's shared copy, built by the first instance
// and sent by every one (a probe's plan and headers are the probe's, the
// same for every instance and load balancer sample), which nothing may
// change; build is not called again.
func (o *FetchOptions) requestHeader(method string, build func() http.Header) http.Header {
	if o.memo == nil || o.intern == nil {
		return build()
	}
	if p := o.memo.request[stepOf(method)].Load(); p != nil {
		return *p
	}
	return o.sharedRequest(method, build())
}

// sharedRequest is the shared copy of request header h (intern is set).
func (o *FetchOptions) sharedRequest(method string, h http.Header) http.Header {
	if o.memo == nil {
		return o.intern.requestHeaders(h)
	}
	slot := &o.memo.request[stepOf(method)]
	if p := slot.Load(); p != nil && (sameMap(*p, h) || sameRequest(*p, h)) {
		return *p
	}
	shared := o.intern.requestHeaders(h)
	slot.CompareAndSwap(nil, &shared)
	return shared
}

// sharedResponse is the shared copy of the relevant headers of h and
// its answer number (intern is set).
func (o *FetchOptions) sharedResponse(method string, h http.Header) (http.Header, uint32) {
	if o.memo == nil {
		return o.intern.responseHeaders(h)
	}
	slots := &o.memo.answer[stepOf(method)]
	free := -1
	for i := range slots {
		a := slots[i].Load()
		if a == nil {
			free = i
			break
		}
		if sameAnswer(a.raw, h) {
			return a.relevant, a.id
		}
	}
	relevant, id := o.intern.responseHeaders(h)
	if free >= 0 {
		slots[free].CompareAndSwap(nil, &recordedAnswer{raw: h, relevant: relevant, id: id})
	}
	return relevant, id
}

// record sets what ex keeps of the request sent: when the engine sends,
// the probe's shared record of it (ConnectTo apart) if sent is the same
// request, else sent itself.
func (o *FetchOptions) record(ex *Exchange, sent SentRequest) {
	if o.memo == nil {
		ex.Request = new(sent)
		return
	}
	slot := &o.memo.sent[stepOf(sent.Method)]
	p := slot.Load()
	if p == nil {
		shape := sent
		shape.ConnectTo = ""
		slot.CompareAndSwap(nil, &shape)
		p = slot.Load()
	}
	if !sameShape(p, &sent) {
		ex.Request = new(sent)
		return
	}
	ex.shape, ex.connectTo = p, sent.ConnectTo
}

// sameShape reports whether a and b are the same request, ConnectTo
// apart. Headers are interned (sharedRequest): equal ones are one map.
func sameShape(a, b *SentRequest) bool {
	return a.Method == b.Method && a.URL == b.URL && a.Timeout == b.Timeout &&
		sameMap(a.Header, b.Header) &&
		slices.Equal(a.Placeholders, b.Placeholders)
}

// sameMap reports whether a and b are one map.
func sameMap(a, b http.Header) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// sameRequest reports whether a and b hold the same headers and values.
func sameRequest(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if w, ok := a[k]; !ok || !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

// sameAnswer reports whether a and b are the same answer to the
// headerInterner: the same header names, and the same values of the relevant
// ones (responseHeaders' key).
func sameAnswer(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		w, ok := a[k]
		if !ok || (!slices.Equal(v, w) && isRelevantHeader(k, "")) {
			return false
		}
	}
	return true
}

// verdictKey names a verdict: the probe, and each response by its status
// and interned answer number (0: no response).
type verdictKey struct {
	probe                int
	preStatus, actStatus int
	pre, act             uint32
}

// verdictCache keeps the verdict of each distinct pair of answers to a
// probe. cors.Evaluate reads the status, the values of the CORS headers
// (access-control-*, Location: all kept in the relevant headers) and the
// names of the headers (which ones a page can read): an interned answer
// number stands for exactly that, so equal keys give equal verdicts.
// Verdicts are shared read-only.
type verdictCache struct {
	mu sync.Mutex
	m  map[verdictKey]*cors.Verdict
}

// planFor is the browser's preflight plan for req.
func (o *FetchOptions) planFor(req cors.Request) cors.PreflightPlan {
	if o.memo != nil {
		return o.memo.plan
	}
	return cors.PlanPreflightFor(o.Browser, req)
}

// evaluate is cors.Evaluate, remembered per distinct answers when the
// engine sends (every response interned). The verdict is shared: read only.
func (o *FetchOptions) evaluate(req cors.Request, preEx *Exchange, pre *cors.Response, actEx *Exchange, act *cors.Response) *cors.Verdict {
	if o.memo == nil || (pre != nil && (preEx == nil || preEx.answer == 0)) || (act != nil && (actEx == nil || actEx.answer == 0)) {
		v := o.judge(req, pre, act)
		return &v
	}
	k := verdictKey{probe: o.memo.probe}
	if pre != nil {
		k.pre, k.preStatus = preEx.answer, pre.Status
	}
	if act != nil {
		k.act, k.actStatus = actEx.answer, act.Status
	}
	c := o.memo.verdicts
	c.mu.Lock()
	v, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return v
	}
	decided := o.judge(req, pre, act)
	v = &decided
	c.mu.Lock()
	if seen, ok := c.m[k]; ok {
		v = seen // another instance decided it meanwhile: keep one copy
	} else {
		c.m[k] = v
	}
	c.mu.Unlock()
	return v
}

// judge is the browser's verdict on the responses: cors.Evaluate, or
// cors.EvaluateActual for a probe of the actual request alone.
func (o *FetchOptions) judge(req cors.Request, pre, act *cors.Response) cors.Verdict {
	if o.Step == StepActual {
		return cors.EvaluateActual(o.Browser, req, act)
	}
	return cors.Evaluate(o.Browser, req, pre, act)
}

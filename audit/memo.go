package audit

import (
	"sync"

	"github.com/corsaudit/corsaudit/audit/cors"
)

// probeMemo is what every instance shares for one probe of a run: the
// browser's preflight plan (a pure function of the browser and the
// request) and the verdicts of the answers seen so far.
type probeMemo struct {
	plan     cors.PreflightPlan
	verdicts *verdictCache
	probe    int
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
	m  map[verdictKey]cors.Verdict
}

// planFor is the browser's preflight plan for req.
func (o *FetchOptions) planFor(req cors.Request) cors.PreflightPlan {
	if o.memo != nil {
		return o.memo.plan
	}
	return cors.PlanPreflightFor(o.Browser, req)
}

// evaluate is cors.Evaluate, remembered per distinct answers when the
// engine sends (every response interned).
func (o *FetchOptions) evaluate(req cors.Request, preEx *Exchange, pre *cors.Response, actEx *Exchange, act *cors.Response) cors.Verdict {
	if o.memo == nil || (pre != nil && (preEx == nil || preEx.answer == 0)) || (act != nil && (actEx == nil || actEx.answer == 0)) {
		return cors.Evaluate(o.Browser, req, pre, act)
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
	v = cors.Evaluate(o.Browser, req, pre, act)
	c.mu.Lock()
	c.m[k] = v
	c.mu.Unlock()
	return v
}

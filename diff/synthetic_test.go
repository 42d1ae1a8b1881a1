package diff

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/discovery"
)

// Synthetic results: what instances answered, built without HTTP. Each
// exchange records the request sent, as the engine does, and each verdict
// is the cors package's for the answers.

const (
	testURL     = "https://api.example.com/data"
	adminOrigin = "https://admin.example.com"
)

// testProbes is the plan for a policy allowing GET and PUT from two origins
// with credentials: p1 GET app, p2 PUT app, p3 GET admin, p4 PUT admin, p5
// GET and p6 PUT from the disallowed origin.
func testProbes() []audit.Probe {
	return audit.Plan(audit.Policy{Origins: []string{appOrigin, adminOrigin}, Methods: []string{"GET", "PUT"}, Credentials: true})
}

// behaviour gives an instance's preflight and actual answer headers for a
// probe.
type behaviour func(pr audit.Probe) (pre, act http.Header)

// edit changes the answers of a behaviour.
type edit func(pr audit.Probe, pre, act http.Header)

// policyAnswers answers as the policy says, then applies the edits.
func policyAnswers(edits ...edit) behaviour {
	return func(pr audit.Probe) (http.Header, http.Header) {
		pre, act := http.Header{}, http.Header{}
		if pr.Origin == appOrigin || pr.Origin == adminOrigin {
			for _, h := range []http.Header{pre, act} {
				h.Set(cors.ACAO, pr.Origin)
				h.Set(cors.ACAC, "true")
				h.Set("Vary", "Origin")
			}
			pre.Set(cors.ACAM, "GET, PUT")
		}
		for _, e := range edits {
			e(pr, pre, act)
		}
		return pre, act
	}
}

// on applies e only to probes of the method.
func on(method string, e edit) edit {
	return func(pr audit.Probe, pre, act http.Header) {
		if pr.Method == method {
			e(pr, pre, act)
		}
	}
}

func setPre(name, value string) edit {
	return func(_ audit.Probe, pre, _ http.Header) { pre.Set(name, value) }
}

func setAct(name, value string) edit {
	return func(_ audit.Probe, _, act http.Header) { act.Set(name, value) }
}

func delAct(name string) edit {
	return func(_ audit.Probe, _, act http.Header) { act.Del(name) }
}

// sentTo is the request record of a request sent to addr ("" through the
// load balancer).
func sentTo(method, addr string, pr audit.Probe) *audit.SentRequest {
	h := http.Header{cors.Origin: {pr.Origin}}
	if method == http.MethodOptions {
		h.Set(cors.ACRM, pr.Method)
	}
	return &audit.SentRequest{Method: method, URL: testURL, ConnectTo: addr, Header: h}
}

// observe is what a browser observes when pr is answered with pre (status
// preStatus) and act, as the engine does it: the preflight when needed,
// the actual request only for GET/HEAD after a passing preflight.
func observe(pr audit.Probe, addr string, preStatus int, pre, act http.Header) audit.Observation {
	o := audit.Observation{Sample: -1}
	req := pr.Request()
	plan := cors.PlanPreflightFor(cors.Chromium, req)
	if plan.Needed {
		o.Preflight = &audit.Exchange{Status: preStatus, Header: pre, Request: sentTo(http.MethodOptions, addr, pr)}
		if preStatus >= 300 && preStatus < 400 {
			o.Preflight.Location = "https://www.example.com/data"
		}
	}
	if pr.SendsActual() && (!plan.Needed || cors.Evaluate(cors.Chromium, req, o.Preflight.Response(), nil).Allowed) {
		o.Actual = &audit.Exchange{Status: 200, Header: act, Request: sentTo(pr.Method, addr, pr)}
	}
	if o.Preflight == nil && o.Actual == nil {
		o.NotRun = "corsaudit never sends this request (it could change server state)"
		return o
	}
	o.Done = true
	return o.WithVerdict(cors.Evaluate(cors.Chromium, req, o.Preflight.Response(), o.Actual.Response()))
}

// refused is an observation whose first request got no answer.
func refused(pr audit.Probe, addr string) audit.Observation {
	e := &audit.Exchange{Err: audit.ErrRefused, ErrMsg: "connect: connection refused", Request: sentTo(http.MethodOptions, addr, pr)}
	o := audit.Observation{Sample: -1, Done: true}
	if cors.PlanPreflightFor(cors.Chromium, pr.Request()).Needed {
		o.Preflight = e
	} else {
		e.Request.Method = pr.Method
		o.Actual = e
	}
	return o
}

// fleetOf builds a target whose instance i (web-1, web-2...; group blue
// unless groups says) answers every probe as behaviours[i] says; the LB
// is not sampled.
func fleetOf(probes []audit.Probe, behaviours ...behaviour) *audit.TargetResult {
	u, _ := url.Parse(testURL)
	res := &audit.TargetResult{URL: u, Spec: audit.TargetSpec{Probes: probes,
		Target: discovery.Target{Name: "api", URL: testURL}}}
	var rows [][]audit.Observation
	for i, b := range behaviours {
		in := discovery.Instance{ID: fmt.Sprintf("web-%d", i+1), Addr: fmt.Sprintf("127.0.0.1:%d", 8001+i), Group: "blue"}
		res.Spec.Target.Instances = append(res.Spec.Target.Instances, in)
		row := make([]audit.Observation, len(probes))
		for p, pr := range probes {
			pre, act := b(pr)
			row[p] = observe(pr, in.Addr, http.StatusNoContent, pre, act)
			row[p].Probe, row[p].Instance = p, in.ID
		}
		rows = append(rows, row)
	}
	res.Direct = directOf(res.Spec.Target.Instances, len(probes), rows...)
	return res
}

// directOf is the matrix of insts x probes holding rows (nil: not probed).
func directOf(insts []discovery.Instance, probes int, rows ...[]audit.Observation) *audit.DirectMatrix {
	d := audit.NewDirectMatrix(insts, probes)
	for i, row := range rows {
		d.SetRow(i, row)
	}
	return d
}

// same repeats a behaviour n times.
func same(n int, b behaviour) []behaviour {
	out := make([]behaviour, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// lbSample is an answer through the load balancer: the preflight served by
// preBy, the actual request by actBy.
func lbSample(pr audit.Probe, preStatus int, pre, act http.Header, preBy, actBy string) audit.Observation {
	o := observe(pr, "", preStatus, pre, act)
	o.Sample = 0
	if o.Preflight != nil {
		o.Preflight.ServedBy = preBy
	}
	if o.Actual != nil {
		o.Actual.ServedBy = actBy
	}
	return o
}

// withLB sets, for every probe, n LB samples answered by b (served by
// web-1), then lets change alter them.
func withLB(res *audit.TargetResult, n int, b behaviour, change func(p int, pr audit.Probe, samples []audit.Observation)) *audit.TargetResult {
	res.LB = make([][]audit.Observation, len(res.Spec.Probes))
	for p, pr := range res.Spec.Probes {
		for k := 0; k < n; k++ {
			pre, act := b(pr)
			s := lbSample(pr, http.StatusNoContent, pre, act, "web-1", "web-1")
			s.Probe, s.Sample = p, k
			res.LB[p] = append(res.LB[p], s)
		}
		if change != nil {
			change(p, pr, res.LB[p])
		}
	}
	return res
}

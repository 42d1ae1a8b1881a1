package audit

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"

	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/discovery"
)

// CacheParam is the query parameter that keeps each order of the cache
// probe matrix in cache entries of its own, never one that users'
// requests read.
const CacheParam = "corsaudit-cache"

// cacheToken is the target's part of its cache-busting parameters: the
// run's Options.CacheToken, else a hash of the target's name and URL. It
// is the same from run to run, as reports must be: a run within a
// cache's lifetime reads the entries an earlier one stored, as users'
// requests read theirs.
func cacheToken(opt *Options, t discovery.Target) string {
	if opt.CacheToken != "" {
		return opt.CacheToken
	}
	h := fnv.New32a()
	h.Write([]byte(t.Name + "\x00" + t.URL))
	return fmt.Sprintf("%08x", h.Sum32())
}

// CacheMatrix is the cache probe matrix of one layer, its orders without
// answers: for the first policy
// probe that a browser sends as a simple GET (origin A),
//
//   - no Origin, then A (a response fetched without Origin, cached and
//     served to a cross-origin page);
//   - the disallowed origin, then A (a refusal cached and served to an
//     allowed origin);
//   - A, then another allowed origin B when the policy has one, and A,
//     then the disallowed origin (one origin's answer served to another);
//   - A, then A again with the first answer's validators (a 304 that
//     drops the CORS headers of the 200);
//
// and for the first preflighted policy probe (origin A, method M, request
// headers H): the disallowed origin then A, A then B, A then the
// disallowed origin, and M/H then another policy probe's M'/H' from A (a
// preflight cached without Access-Control-Request-Method/-Headers in its
// key). At most 9 orders, 26 requests (3 an order, 2 for the
// revalidation), per layer: cacheRequests. sampled says which probes are
// sampled through the layer.
func CacheMatrix(probes []Probe, sampled func(p int) bool, b cors.Browser) []CachePair {
	// A whole fetch whose samples are taken: a probe of one step cannot
	// repeat the other step's request.
	candidate := func(p int, preflight bool) bool {
		pr := probes[p]
		return pr.Class == ClassPolicy && pr.Step == "" && sampled(p) &&
			cors.PlanPreflightFor(b, pr.Request()).Needed == preflight
	}
	var out []CachePair
	get := -1
	for p, pr := range probes {
		if candidate(p, false) && pr.SendsActual() {
			get = p
			break
		}
	}
	if get >= 0 {
		a := probes[get].Origin
		at := func(order, first, second string) {
			out = append(out, CachePair{CacheCase: CacheCase{Order: order, Probe: get, SecondProbe: get, First: first, Second: second}})
		}
		at(CacheNoOrigin, "", a)
		at(CacheRefusal, disallowedOrigin, a)
		if other := otherOrigin(probes, a); other != "" {
			at(CacheOtherOrigin, a, other)
		}
		at(CacheOtherOrigin, a, disallowedOrigin)
		at(CacheRevalidation, a, a)
	}
	pre := -1
	for p := range probes {
		if candidate(p, true) {
			pre = p
			break
		}
	}
	if pre >= 0 {
		a := probes[pre].Origin
		at := func(order, first, second string, secondProbe int) {
			out = append(out, CachePair{CacheCase: CacheCase{Order: order, Probe: pre, SecondProbe: secondProbe, Preflight: true, First: first, Second: second}})
		}
		at(CacheRefusal, disallowedOrigin, a, pre)
		if other := otherOrigin(probes, a); other != "" {
			at(CacheOtherOrigin, a, other, pre)
		}
		at(CacheOtherOrigin, a, disallowedOrigin, pre)
		want := cors.PlanPreflightFor(b, probes[pre].Request())
		for q := range probes {
			plan := cors.PlanPreflightFor(b, probes[q].Request())
			if q != pre && candidate(q, true) && probes[q].Origin == a && probes[q].Path == probes[pre].Path &&
				(plan.Method != want.Method || plan.Headers != want.Headers) {
				at(CachePreflightKey, a, a, q)
				break
			}
		}
	}
	return out
}

// otherOrigin is a policy origin other than a ("" when the policy has one).
func otherOrigin(probes []Probe, a string) string {
	for _, pr := range probes {
		if pr.Class == ClassPolicy && pr.Origin != a {
			return pr.Origin
		}
	}
	return ""
}

// cacheRequests is the most requests the cache probe matrix sends through
// one layer (WorkOf counts them order by order).
const cacheRequests = 26

// cacheJobs sends the cache probe matrix through every layer: one job per
// order, its requests in turn over one keep-alive connection (so a cache
// with several nodes answers both from the same node), each order under
// its own cache-busting parameter, the fresh request under another.
// Orders cycle through each layer's addresses. The orders are all in
// res.Cache before any job is made: a job holds its order's place.
func (s *sender) cacheJobs(layers []frontPlan) []job {
	res := s.res
	probes := res.Spec.Probes
	orders := CacheMatrix(probes, func(p int) bool { return probes[p].Sampled() }, s.opt.Browser)
	type planned struct {
		layer int
		addr  string
	}
	var plan []planned
	for l, fp := range layers {
		addrs := fp.addrs
		if len(addrs) == 0 {
			addrs = []string{""}
		}
		for k, o := range orders {
			o.Front = fp.name
			res.Cache = append(res.Cache, o)
			plan = append(plan, planned{layer: l, addr: addrs[k%len(addrs)]})
		}
	}
	token := cacheToken(s.opt, res.Spec.Target)
	var jobs []job
	for i, p := range plan {
		pair := &res.Cache[i]
		fp := layers[p.layer]
		param := fmt.Sprintf("%s-%d-%d", token, p.layer, i%max(len(orders), 1))
		jobs = append(jobs, job{weight: 1, run: func(ctx context.Context, tick func()) {
			defer tick()
			// A client of the order's own, closed when it is done: its
			// requests share one connection, and no other order's.
			to := NewEndpoint(fp.url, p.addr, "", TransportOptions{MaxConnsPerHost: 1, Timeout: s.opt.Timeout,
				TLSConfig: res.Spec.tlsConfig(s.opt)})
			defer to.Client.CloseIdleConnections()
			s.sendOrder(ctx, to, pair, param)
		}})
	}
	return jobs
}

// sendOrder sends one order's requests and records them in pair.
func (s *sender) sendOrder(ctx context.Context, to Endpoint, pair *CachePair, param string) {
	probes := s.res.Spec.Probes
	fo := s.fetchOptions(nil)
	at := func(suffix string) Endpoint {
		e := to.at(probes[pair.Probe].Path)
		e.URL = withQuery(e.URL, CacheParam, param+suffix)
		return e
	}
	// step sends the one request a browser sends for probe p's request
	// from origin ("": no Origin), with extra headers.
	step := func(e Endpoint, p int, origin string, extra http.Header) (*Exchange, *cors.Response) {
		req := probes[p].Request()
		req.Origin = origin
		var h http.Header
		method := http.MethodOptions
		if pair.Preflight {
			h = preflightHeader(req, cors.PlanPreflightFor(fo.Browser, req))
		} else {
			method = cors.NormalizeMethod(req.Method)
			h = actualHeader(req)
		}
		if origin == "" {
			h.Del(cors.Origin)
		}
		for k, vs := range extra {
			h[k] = vs
		}
		ex, resp, _ := fo.send(ctx, e, method, h, nil)
		return ex, resp
	}
	e := at("")
	var first *cors.Response
	pair.FirstAnswer, first = step(e, pair.Probe, pair.First, nil)
	second := pair.Probe
	if pair.Order == CachePreflightKey {
		second = pair.SecondProbe
	}
	if pair.Order == CacheRevalidation {
		if v := validators(first); v != nil {
			pair.SecondAnswer, _ = step(e, pair.Probe, pair.Second, v)
		}
		return
	}
	pair.SecondAnswer, _ = step(e, second, pair.Second, nil)
	pair.Fresh, _ = step(at("-fresh"), second, pair.Second, nil)
}

// maxValidator bounds the ETag or Last-Modified value sent back.
const maxValidator = 256

// validators are the conditional request headers a cache or browser sends
// to revalidate r: If-None-Match from its ETag, else If-Modified-Since
// from its Last-Modified (nil when r has neither, or no answer came).
func validators(r *cors.Response) http.Header {
	if r == nil || r.Status != http.StatusOK {
		return nil
	}
	if et := r.Header.Get("ETag"); et != "" && len(et) <= maxValidator && cors.IsHeaderValue(et) {
		return http.Header{"If-None-Match": {et}}
	}
	if lm := r.Header.Get("Last-Modified"); lm != "" && len(lm) <= maxValidator && cors.IsHeaderValue(lm) {
		return http.Header{"If-Modified-Since": {lm}}
	}
	return nil
}

// withQuery is u with name=value added to its query.
func withQuery(u *url.URL, name, value string) *url.URL {
	v := *u
	q := url.Values{name: {value}}.Encode()
	if v.RawQuery != "" {
		q = v.RawQuery + "&" + q
	}
	v.RawQuery = q
	return &v
}

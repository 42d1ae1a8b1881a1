package diff

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
)

// cacheKey is what a simulated cache keys an entry on, besides the URL.
type cacheKey int

const (
	keyNone   cacheKey = iota // no cache in front: every request reaches an instance
	keyURL                    // the URL alone
	keyOrigin                 // the URL and the Origin
	keyFull                   // the URL, the Origin and the Access-Control-Request-* headers
)

// cacheSim answers the cache probe matrix as a layer with a cache keyed by
// key, in front of instances answering as b; cached answers carry Age.
// preflights: the cache stores preflight answers too. drop304: the cache
// answers a revalidation with a 304 without the CORS headers.
type cacheSim struct {
	key        cacheKey
	preflights bool
	drop304    bool
	front      string
}

// answer is what the instances answer probe pr's step from origin.
func answer(b behaviour, pr audit.Probe, origin string, preflight bool) http.Header {
	pr.Origin = origin
	pre, act := b(pr)
	if preflight {
		return pre
	}
	return act
}

// run fills the matrix of probes through the simulated layer.
func (sim cacheSim) run(probes []audit.Probe, b behaviour) []audit.CachePair {
	pairs := audit.CacheMatrix(probes, func(int) bool { return true }, cors.Chromium)
	for k := range pairs {
		pair := &pairs[k]
		pair.Front = sim.front
		method := func(p int) string {
			if pair.Preflight {
				return http.MethodOptions
			}
			return probes[p].Method
		}
		sent := func(p int, origin, param string) *audit.SentRequest {
			h := http.Header{}
			if origin != "" {
				h.Set(cors.Origin, origin)
			}
			if pair.Preflight {
				plan := cors.PlanPreflight(probes[p].Request())
				h.Set(cors.ACRM, plan.Method)
				if plan.Headers != "" {
					h.Set(cors.ACRH, plan.Headers)
				}
			}
			return &audit.SentRequest{Method: method(p), URL: testURL + "?" + audit.CacheParam + "=t-" + fmt.Sprint(k) + param, Header: h}
		}
		stored := map[string]http.Header{}
		keyOf := func(p int, origin string) string {
			plan := cors.PlanPreflight(probes[p].Request())
			switch sim.key {
			case keyURL:
				return ""
			case keyOrigin:
				return origin
			}
			return origin + " " + plan.Method + " " + plan.Headers
		}
		step := func(p int, origin, param string) *audit.Exchange {
			status := http.StatusOK
			if pair.Preflight {
				status = http.StatusNoContent
			}
			h := answer(b, probes[p], origin, pair.Preflight)
			if origin == "" {
				h = http.Header{"Vary": {"Origin"}}
			}
			cacheable := sim.key != keyNone && (!pair.Preflight || sim.preflights)
			if cacheable {
				k := keyOf(p, origin)
				if hit, ok := stored[k]; ok {
					h = hit.Clone()
					h.Set("Age", "1")
				} else {
					stored[k] = h
				}
			}
			return &audit.Exchange{Status: status, Header: h, Request: sent(p, origin, param)}
		}
		sp := pair.Probe
		if pair.Order == audit.CachePreflightKey {
			sp = pair.SecondProbe
		}
		pair.FirstAnswer = step(pair.Probe, pair.First, "")
		if pair.Order == audit.CacheRevalidation {
			h := pair.FirstAnswer.Header.Clone()
			if sim.drop304 {
				h = http.Header{"Age": {"1"}}
			}
			r := sent(pair.Probe, pair.Second, "")
			r.Header.Set("If-None-Match", `"v1"`)
			pair.SecondAnswer = &audit.Exchange{Status: http.StatusNotModified, Header: h, Request: r}
			continue
		}
		pair.SecondAnswer = step(sp, pair.Second, "")
		stored = map[string]http.Header{}
		pair.Fresh = step(sp, pair.Second, "-fresh")
	}
	return pairs
}

// reflecting answers preflights with the requested method and headers, as
// many frameworks do.
var reflecting = policyAnswers(allowedOnly(func(pr audit.Probe, pre, _ http.Header) {
	plan := cors.PlanPreflight(pr.Request())
	pre.Set(cors.ACAM, plan.Method)
	if plan.Headers != "" {
		pre.Set(cors.ACAH, plan.Headers)
	} else {
		pre.Del(cors.ACAH)
	}
}))

// TestCacheMatrix: each failure order of the cache probe matrix is found
// on a cache that keys on the URL alone, and on no cache that keys on
// what the answer depends on.
func TestCacheMatrix(t *testing.T) {
	probes := audit.Plan(audit.Policy{Origins: []string{appOrigin, adminOrigin}, Methods: []string{"GET", "PUT"},
		Headers: []string{"X-Request-Id"}, Credentials: true})
	cacheOnly := Options{Analyses: []string{AnalysisCache}}
	fleet := func(sims ...cacheSim) *audit.TargetResult {
		r := fleetOf(probes, same(2, reflecting)...)
		for _, sim := range sims {
			r.Cache = append(r.Cache, sim.run(probes, reflecting)...)
		}
		return r
	}
	allKinds := []Kind{KindCacheLeak, KindCacheNoOrigin, KindCacheRefusal, KindCachePreflightKey, KindCacheRevalidation}
	for _, tc := range []compareCase{
		{desc: "no cache", res: fleet(cacheSim{key: keyNone}), opt: cacheOnly, absent: allKinds},
		{desc: "a cache keyed on the URL and the Origin and the requested method and headers, preflights too",
			res: fleet(cacheSim{key: keyFull, preflights: true}), opt: cacheOnly, absent: allKinds},
		{desc: "a cache keyed on the URL alone, GET only", res: fleet(cacheSim{key: keyURL}), opt: cacheOnly,
			want: []wantFinding{
				{KindCacheNoOrigin, SeverityError, []string{"lb"}, []string{"the load balancer served the GET answer made for a request without Origin to https://app.example.com (browsers block it", "a cache answered: Age: 1"}},
				{KindCacheRefusal, SeverityError, []string{"lb"}, []string{"served the GET answer made for https://corsaudit-not-allowed.invalid to https://app.example.com (browsers block it"}},
				{KindCacheLeak, SeverityError, []string{"lb"}, []string{"served the GET answer made for https://app.example.com to https://admin.example.com (browsers block it", "and served the GET answer made for https://app.example.com to https://corsaudit-not-allowed.invalid"}},
			},
			absent: []Kind{KindCachePreflightKey, KindCacheRevalidation}},
		{desc: "a cache keyed on the URL and the Origin, preflights too: the requested method and headers are not in the key",
			res: fleet(cacheSim{key: keyOrigin, preflights: true}), opt: cacheOnly,
			want: []wantFinding{{KindCachePreflightKey, SeverityError, []string{"lb"},
				[]string{"served the preflight answer made for GET x-request-id to a preflight for PUT (none) (browsers block it"}}},
			absent: []Kind{KindCacheLeak, KindCacheNoOrigin, KindCacheRefusal, KindCacheRevalidation}},
		{desc: "a cache that answers revalidations with a 304 without the CORS headers",
			res: fleet(cacheSim{key: keyOrigin, drop304: true}), opt: cacheOnly,
			want: []wantFinding{{KindCacheRevalidation, SeverityWarning, []string{"lb"},
				[]string{"answers the revalidation of a GET from https://app.example.com (If-None-Match) with a 304 without the Access-Control-Allow-Origin: https://app.example.com its 200 had"}}},
			absent: []Kind{KindCacheLeak, KindCacheNoOrigin, KindCacheRefusal, KindCachePreflightKey}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, got := Compare(tc.res, tc.opt)
			checkWanted(t, got, tc.want, tc.absent)
		})
	}
}

// TestCacheMatrixNamesTheLayer: with two fronts, a cache defect is the
// first layer's whose answers differ from the layer behind it.
func TestCacheMatrixNamesTheLayer(t *testing.T) {
	probes := testProbes()
	fronts := []audit.Front{{Name: "cdn", URL: "https://cdn.example.com"}, {Name: "lb", Address: "127.0.0.1:8443"}}
	for _, tc := range []struct {
		desc       string
		cdn, lb    cacheKey
		wantFront  string
		wantWords  string
		wantAbsent bool
	}{
		{desc: "only the cdn keys on the URL", cdn: keyURL, lb: keyNone, wantFront: "cdn",
			wantWords: "the cdn front served the GET answer made for https://corsaudit-not-allowed.invalid to https://app.example.com (browsers block it"},
		{desc: "only the load balancer keys on the URL: the cdn passes it on", cdn: keyNone, lb: keyURL, wantFront: "lb",
			wantWords: "the lb front served the GET answer made for https://corsaudit-not-allowed.invalid"},
		{desc: "neither", cdn: keyOrigin, lb: keyOrigin, wantAbsent: true},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			r := fleetOf(probes, same(2, allowing)...)
			r.Spec.Fronts = fronts
			r.LB = make([][]audit.Observation, len(probes))
			r.Fronts = []audit.FrontSamples{{Name: "lb", LB: make([][]audit.Observation, len(probes))}}
			// What the cdn answers is what the layer behind it answers,
			// unless it caches: a cache behind it shows through it.
			inner := cacheSim{key: tc.lb, front: "lb"}.run(probes, allowing)
			outer := cacheSim{key: tc.cdn, front: "cdn"}.run(probes, allowing)
			if tc.cdn == keyNone {
				outer = cacheSim{key: tc.lb, front: "cdn"}.run(probes, allowing)
			}
			r.Cache = append(outer, inner...)
			_, got := Compare(r, Options{Analyses: []string{AnalysisCache}})
			var refusals []Finding
			for _, f := range got {
				if f.Kind == KindCacheRefusal {
					refusals = append(refusals, f)
				}
			}
			if tc.wantAbsent {
				if len(refusals) != 0 {
					t.Fatalf("cache-refusal %+v, want none", refusals)
				}
				return
			}
			if len(refusals) != 1 {
				t.Fatalf("%d cache-refusal findings %+v, want 1", len(refusals), refusals)
			}
			f := refusals[0]
			if f.Front != tc.wantFront || !strings.Contains(f.Message, tc.wantWords) {
				t.Errorf("front %q, message %q; want front %q with %q", f.Front, f.Message, tc.wantFront, tc.wantWords)
			}
			if tc.wantFront == "cdn" && !strings.Contains(f.Message, "the lb front behind it does not") {
				t.Errorf("message %q does not say the layer behind does not", f.Message)
			}
		})
	}
}

// frontCases give every kind the fronts show: the cache probe matrix
// through a cache keyed on the URL alone that stores preflights and drops
// the CORS headers of its 304s, a front that drops Vary, one that answers
// otherwise over HTTP/2.
func frontCases() []compareCase {
	probes := audit.Plan(audit.Policy{Origins: []string{appOrigin, adminOrigin}, Methods: []string{"GET", "PUT"},
		Headers: []string{"X-Request-Id"}, Credentials: true})
	cached := fleetOf(probes, same(2, reflecting)...)
	cached.Cache = cacheSim{key: keyURL, preflights: true, drop304: true}.run(probes, reflecting)
	varnish := withLB(fleetOf(testProbes(), same(3, allowing)...), 4, func(pr audit.Probe) (http.Header, http.Header) {
		return dropVary(allowing(pr))
	}, nil)
	h2 := withLB(fleetOf(testProbes(), same(3, allowing)...), 4, allowing, func(p int, pr audit.Probe, s []audit.Observation) {
		for k := range s {
			if k%2 == 0 && pr.Method == "GET" && pr.Origin == appOrigin {
				pre, act := allowing(pr)
				act.Del(cors.ACAC)
				s[k] = lbSample(pr, http.StatusNoContent, pre, act, "web-1", "web-1")
			}
			for _, e := range []*audit.Exchange{s[k].Preflight, s[k].Actual} {
				if e != nil {
					e.Proto = map[bool]string{true: audit.ProtoHTTP2, false: audit.ProtoHTTP1}[k%2 == 0]
				}
			}
		}
	})
	return []compareCase{
		{desc: "a cache keyed on the URL alone", res: cached, want: []wantFinding{
			{KindCacheNoOrigin, SeverityError, []string{"lb"}, nil},
			{KindCacheRefusal, SeverityError, []string{"lb"}, []string{"GET answer", "preflight answer"}},
			{KindCacheLeak, SeverityError, []string{"lb"}, []string{"GET answer", "preflight answer"}},
			{KindCachePreflightKey, SeverityError, []string{"lb"}, nil},
			{KindCacheRevalidation, SeverityWarning, []string{"lb"}, nil},
		}},
		{desc: "a front that drops Vary", res: varnish, opt: lbOnly,
			want: []wantFinding{{KindLBChangesHeaders, SeverityWarning, []string{"lb"}, nil}}},
		{desc: "a front that answers otherwise over HTTP/2", res: h2, opt: lbOnly,
			want: []wantFinding{{KindProtocolMismatch, SeverityError, []string{"lb"}, nil}}},
	}
}

func TestFrontCases(t *testing.T) {
	for _, tc := range frontCases() {
		t.Run(tc.desc, func(t *testing.T) {
			_, got := Compare(tc.res, tc.opt)
			checkWanted(t, got, tc.want, tc.absent)
		})
	}
}

// TestRoundRobinIsNoCache: a round-robin layer without a cache, with an
// instance nobody discovered on an older config in its rotation, can give
// the cache pattern by chance: the first and second requests of an order
// land on current instances and answer alike, the fresh copy lands on the
// old one. That is no cache: the instance header shows the second answer
// came from another instance than the first; without one, the layer's own
// samples show that something behind it answers otherwise. Only a layer
// whose samples agree (and no header to say otherwise) is read as a cache.
func TestRoundRobinIsNoCache(t *testing.T) {
	probes := audit.Plan(audit.Policy{Origins: []string{appOrigin, adminOrigin}, Methods: []string{"GET", "PUT"},
		Headers: []string{"X-Request-Id"}, Credentials: true})
	cacheOnly := Options{Analyses: []string{AnalysisCache}}
	pattern := func(instanceHeader bool, samples behaviour, older bool) *audit.TargetResult {
		r := fleetOf(probes, same(3, allowing)...)
		if instanceHeader {
			r.Spec.LB.InstanceHeader = "X-Instance-Id"
		}
		r = withLB(r, 8, allowing, func(p int, pr audit.Probe, s []audit.Observation) {
			if !older {
				return
			}
			// Every other sample lands on the old instance.
			for k := 1; k < len(s); k += 2 {
				pre, act := samples(pr)
				s[k] = lbSample(pr, http.StatusNoContent, pre, act, "", "")
			}
		})
		pairs := cacheSim{key: keyNone}.run(probes, allowing)
		for k := range pairs {
			pair := &pairs[k]
			if pair.Fresh == nil || pair.Order == audit.CacheRevalidation {
				continue
			}
			pair.FirstAnswer.Header.Set("X-Instance-Id", "m1")
			pair.SecondAnswer.Header.Set("X-Instance-Id", "m2")
			if !instanceHeader {
				pair.FirstAnswer.Header.Del("X-Instance-Id")
				pair.SecondAnswer.Header.Del("X-Instance-Id")
			}
			sp := pair.Probe
			if pair.Order == audit.CachePreflightKey {
				sp = pair.SecondProbe
			}
			pr := probes[sp]
			pr.Origin = pair.Second
			pre, act := blocksPUT(pr)
			if !pair.Preflight {
				pre = act
			}
			pair.Fresh = &audit.Exchange{Status: pair.Fresh.Status, Header: pre, Request: pair.Fresh.Request}
		}
		r.Cache = pairs
		return r
	}
	cacheKinds := []Kind{KindCacheLeak, KindCacheNoOrigin, KindCacheRefusal, KindCachePreflightKey}
	for _, tc := range []struct {
		desc    string
		res     *audit.TargetResult
		noCache bool
	}{
		{desc: "the instance header names another instance for the second answer", res: pattern(true, blocksPUT, false), noCache: true},
		{desc: "no instance header, the layer's samples disagree", res: pattern(false, blocksPUT, true), noCache: true},
		{desc: "no instance header, the layer's samples agree: read as a cache", res: pattern(false, allowing, false)},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, got := Compare(tc.res, cacheOnly)
			var found []Kind
			for _, f := range got {
				if slices.Contains(cacheKinds, f.Kind) {
					found = append(found, f.Kind)
				}
			}
			if tc.noCache && len(found) > 0 {
				t.Errorf("cache findings %v on a layer without a cache", found)
			}
			if !tc.noCache && len(found) == 0 {
				t.Errorf("no cache finding: the pattern alone, on a layer whose samples agree, should read as a cache (or this test shows nothing)")
			}
		})
	}
}

package diff

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
)

// dropVary passes an answer on without its Vary, as varnish's
// `unset beresp.http.Vary` does.
func dropVary(pre, act http.Header) (http.Header, http.Header) {
	pre, act = pre.Clone(), act.Clone()
	pre.Del("Vary")
	act.Del("Vary")
	return pre, act
}

// TestLBAnswersOptionsOnEvidence: "answers preflights itself" is said on
// evidence only (the instance header absent, a status or a CORS header the
// instances never give); a front that passes preflights on and changes
// their headers is said to change them, with a warning when browsers
// decide the same.
func TestLBAnswersOptionsOnEvidence(t *testing.T) {
	probes := testProbes()
	maxAge := policyAnswers(allowedOnly(setPre(cors.ACMA, "600")))
	passOnFrom := func(base behaviour, change func(pr audit.Probe, pre, act http.Header) (int, http.Header, http.Header), header string) *audit.TargetResult {
		res := withLB(fleetOf(probes, same(3, base)...), 4, base, func(p int, pr audit.Probe, s []audit.Observation) {
			for k := range s {
				pre, act := base(pr)
				status, pre, act := change(pr, pre, act)
				served := "web-1"
				if header == "" {
					served = ""
				}
				s[k] = lbSample(pr, status, pre, act, served, served)
				s[k].Probe, s[k].Sample = p, k
			}
		})
		res.Spec.LB.InstanceHeader = header
		if header != "" {
			for i := range res.Spec.Target.Instances {
				row := res.Direct.Row(i)
				for p := range row {
					if row[p].Preflight != nil {
						e := *row[p].Preflight
						e.ServedBy = res.Spec.Target.Instances[i].ID
						row[p].Preflight = &e
					}
				}
				res.Direct.SetRow(i, row)
			}
		}
		return res
	}
	passOn := func(change func(pr audit.Probe, pre, act http.Header) (int, http.Header, http.Header), header string) *audit.TargetResult {
		return passOnFrom(allowing, change, header)
	}
	varnish := func(_ audit.Probe, pre, act http.Header) (int, http.Header, http.Header) {
		pre, act = dropVary(pre, act)
		return http.StatusNoContent, pre, act
	}
	for _, tc := range []compareCase{
		{desc: "a front that drops Vary (varnish's unset beresp.http.Vary), no instance header: lb-changes-headers warning",
			res: passOn(varnish, ""), opt: lbOnly,
			want: []wantFinding{{KindLBChangesHeaders, SeverityWarning, []string{"lb"},
				[]string{"the load balancer changes the instances' CORS headers on 16 of 16 requests through it: it omits Origin from Vary", "browsers decide the same", "a cache (this layer's, one in front of it, the browser's) can serve one origin's answer to another"}}},
			absent: []Kind{KindLBAnswersOptions, KindLBMismatch}},
		{desc: "the same with the instance header passed on", res: passOn(varnish, "X-Instance-Id"), opt: lbOnly,
			want:   []wantFinding{{KindLBChangesHeaders, SeverityWarning, []string{"lb"}, []string{"omits Origin from Vary"}}},
			absent: []Kind{KindLBAnswersOptions, KindLBMismatch}},
		{desc: "a Max-Age rewritten: lb-changes-headers",
			res: passOnFrom(maxAge, func(pr audit.Probe, pre, act http.Header) (int, http.Header, http.Header) {
				if pre.Get(cors.ACAO) != "" {
					pre.Set(cors.ACMA, "5")
				}
				return http.StatusNoContent, pre, act
			}, ""), opt: lbOnly,
			want:   []wantFinding{{KindLBChangesHeaders, SeverityWarning, []string{"lb"}, []string{"it sends Access-Control-Max-Age 5 instead of 600"}}},
			absent: []Kind{KindLBAnswersOptions}},
		{desc: "evidence: a Max-Age where no instance sends one",
			res: passOn(func(pr audit.Probe, pre, act http.Header) (int, http.Header, http.Header) {
				if pre.Get(cors.ACAO) != "" {
					pre.Set(cors.ACMA, "5")
				}
				return http.StatusNoContent, pre, act
			}, ""), opt: lbOnly,
			want:   []wantFinding{{KindLBAnswersOptions, SeverityWarning, []string{"lb"}, []string{"its answers carry Access-Control-Max-Age, which no instance sends"}}},
			absent: []Kind{KindLBChangesHeaders}},
		{desc: "evidence: a status the instances never give",
			res: passOn(func(_ audit.Probe, pre, act http.Header) (int, http.Header, http.Header) {
				return http.StatusOK, pre, act
			}, ""), opt: lbOnly,
			want: []wantFinding{{KindLBAnswersOptions, SeverityWarning, []string{"lb"},
				[]string{"answers OPTIONS preflights itself (3 of 3 preflighted probes): its answers have status 200, which the instances never give (204)"}}}},
		{desc: "evidence: a CORS header no instance sends",
			res: passOn(func(_ audit.Probe, pre, act http.Header) (int, http.Header, http.Header) {
				pre.Set(cors.ACMA, "86400")
				pre.Set("Access-Control-Allow-Private-Network", "true")
				return http.StatusNoContent, pre, act
			}, ""), opt: lbOnly,
			want: []wantFinding{{KindLBAnswersOptions, SeverityWarning, []string{"lb"},
				[]string{"its answers carry Access-Control-Allow-Private-Network, Access-Control-Max-Age, which no instance sends"}}}},
		{desc: "evidence: the instance header absent",
			res: func() *audit.TargetResult {
				r := passOn(varnish, "X-Instance-Id")
				for p := range r.LB {
					for k := range r.LB[p] {
						if e := r.LB[p][k].Preflight; e != nil {
							e.ServedBy = ""
						}
					}
				}
				return r
			}(), opt: lbOnly,
			want: []wantFinding{{KindLBAnswersOptions, SeverityWarning, []string{"lb"},
				[]string{"its answers lack X-Instance-Id, which every instance sends"}}}},
		{desc: "a front that drops ACAC from credentialed answers: lb-mismatch, never answers-options",
			res: passOn(func(_ audit.Probe, pre, act http.Header) (int, http.Header, http.Header) {
				pre.Del(cors.ACAC)
				act.Del(cors.ACAC)
				return http.StatusNoContent, pre, act
			}, ""), opt: lbOnly,
			want:   []wantFinding{{KindLBMismatch, SeverityError, []string{"lb"}, []string{"requests through the load balancer for 4 requests", "are blocked on some samples where the instances' majority allows them"}}},
			absent: []Kind{KindLBAnswersOptions, KindLBChangesHeaders}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, got := Compare(tc.res, tc.opt)
			checkWanted(t, got, tc.want, tc.absent)
		})
	}
}

// TestDroppedVaryWithCacheHarm: a dropped Vary: Origin is an error once a
// cache probe through the layer shows the harm.
func TestDroppedVaryWithCacheHarm(t *testing.T) {
	probes := testProbes()
	res := withLB(fleetOf(probes, same(3, allowing)...), 4, func(pr audit.Probe) (http.Header, http.Header) {
		return dropVary(allowing(pr))
	}, nil)
	res.Cache = cacheSim{key: keyURL}.run(probes, allowing)
	_, got := Compare(res, Options{})
	checkWanted(t, got, []wantFinding{{KindLBChangesHeaders, SeverityError, []string{"lb"},
		[]string{"omits Origin from Vary", "the cache probe shows it (cache-"}}}, nil)
}

// TestLBLayers: with fronts, a finding names the first layer whose answers
// differ from the layer behind it.
func TestLBLayers(t *testing.T) {
	probes := testProbes()
	varnish := func(pr audit.Probe) (http.Header, http.Header) { return dropVary(allowing(pr)) }
	build := func(outer, inner behaviour) *audit.TargetResult {
		res := withLB(fleetOf(probes, same(3, allowing)...), 4, outer, nil)
		res.Spec.Fronts = []audit.Front{{Name: "varnish", URL: "https://api.example.com"}, {Name: "haproxy", Address: "127.0.0.1:8443"}}
		lb := withLB(fleetOf(probes, same(3, allowing)...), 4, inner, nil).LB
		res.Fronts = []audit.FrontSamples{{Name: "haproxy", LB: lb}}
		return res
	}
	for _, tc := range []struct {
		desc         string
		outer, inner behaviour
		wantFront    string
		wantWords    []string
	}{
		{desc: "only varnish drops Vary", outer: varnish, inner: allowing, wantFront: "varnish",
			wantWords: []string{"the varnish front changes the instances' CORS headers", "the haproxy front behind it does not"}},
		{desc: "only haproxy drops Vary: varnish passes it on", outer: varnish, inner: varnish, wantFront: "haproxy",
			wantWords: []string{"the haproxy front changes the instances' CORS headers", "(the varnish front passes it on to browsers)"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, got := Compare(build(tc.outer, tc.inner), lbOnly)
			var fs []Finding
			for _, f := range got {
				if f.Kind == KindLBChangesHeaders {
					fs = append(fs, f)
				}
			}
			if len(fs) != 1 {
				t.Fatalf("%d lb-changes-headers findings %+v, want 1", len(fs), fs)
			}
			if fs[0].Front != tc.wantFront {
				t.Errorf("front %q, want %q: %s", fs[0].Front, tc.wantFront, fs[0].Message)
			}
			for _, w := range tc.wantWords {
				if !strings.Contains(fs[0].Message, w) {
					t.Errorf("message %q lacks %q", fs[0].Message, w)
				}
			}
		})
	}
}

// TestProtocolMismatch: a front that answers otherwise over HTTP/2 than
// over HTTP/1.1; drift among instances is not taken for it.
func TestProtocolMismatch(t *testing.T) {
	probes := testProbes()
	withProto := func(change func(h2 bool, pr audit.Probe, s *audit.Observation)) *audit.TargetResult {
		return withLB(fleetOf(probes, same(3, allowing)...), 4, allowing, func(p int, pr audit.Probe, s []audit.Observation) {
			for k := range s {
				h2 := k%2 == 0
				change(h2, pr, &s[k])
				for _, e := range []*audit.Exchange{s[k].Preflight, s[k].Actual} {
					if e == nil {
						continue
					}
					e.Proto = audit.ProtoHTTP1
					if h2 {
						e.Proto = audit.ProtoHTTP2
					}
				}
			}
		})
	}
	for _, tc := range []compareCase{
		{desc: "HTTP/2 answers lack ACAC: error",
			res: withProto(func(h2 bool, pr audit.Probe, s *audit.Observation) {
				if h2 && pr.Method == "GET" && pr.Origin == appOrigin {
					pre, act := allowing(pr)
					act.Del(cors.ACAC)
					*s = lbSample(pr, http.StatusNoContent, pre, act, "web-1", "web-1")
				}
			}), opt: lbOnly,
			want: []wantFinding{{KindProtocolMismatch, SeverityError, []string{"lb"},
				[]string{"otherwise over HTTP/2, which browsers use, than over HTTP/1.1", "sends no Access-Control-Allow-Credentials", "over HTTP/2 the verdict differs"}}}},
		{desc: "the same answers over both", res: withProto(func(bool, audit.Probe, *audit.Observation) {}), opt: lbOnly,
			absent: []Kind{KindProtocolMismatch}},
		{desc: "samples over one protocol disagree among themselves: drift, not the protocol",
			res: withProto(func(h2 bool, pr audit.Probe, s *audit.Observation) {
				if h2 && s.Sample == 0 && pr.Method == "GET" && pr.Origin == appOrigin {
					pre, act := allowing(pr)
					act.Del(cors.ACAC)
					*s = lbSample(pr, http.StatusNoContent, pre, act, "web-1", "web-1")
				}
			}), opt: lbOnly,
			absent: []Kind{KindProtocolMismatch}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, got := Compare(tc.res, tc.opt)
			checkWanted(t, got, tc.want, tc.absent)
		})
	}
}

// TestFindingSaysWhichAddress: samples of a front spread over the
// addresses its name resolves to; a finding about the answers of one
// node names its address.
func TestFindingSaysWhichAddress(t *testing.T) {
	probes := testProbes()
	res := withLB(fleetOf(probes, same(3, allowing)...), 4, allowing, func(p int, pr audit.Probe, s []audit.Observation) {
		for k := range s {
			addr := []string{"127.0.0.1:8443", "127.0.0.2:8443"}[k%2]
			if addr == "127.0.0.2:8443" && pr.Method == "GET" && pr.Origin == appOrigin {
				pre, act := allowing(pr)
				act.Del(cors.ACAC)
				s[k] = lbSample(pr, http.StatusNoContent, pre, act, "web-1", "web-1")
				s[k].Probe, s[k].Sample = p, k
			}
			for _, e := range []*audit.Exchange{s[k].Preflight, s[k].Actual} {
				if e != nil {
					r := *e.Request
					r.ConnectTo = addr
					e.Request = &r
				}
			}
		}
	})
	res.Spec.Fronts = []audit.Front{{Name: "alb", Address: "alb.example.test:8443"}}
	_, got := Compare(res, lbOnly)
	checkWanted(t, got, []wantFinding{{KindLBMismatch, SeverityError, []string{"lb", "web-1"},
		[]string{"2 of 4 requests through the alb front block GET", "(at 127.0.0.2:8443)"}}}, nil)
	for _, f := range got {
		if f.Kind == KindLBMismatch && (f.Front != "alb" || !slices.Equal(f.Addresses, []string{"127.0.0.2:8443"})) {
			t.Errorf("front %q addresses %v, want alb at 127.0.0.2:8443", f.Front, f.Addresses)
		}
	}
}

package diff

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/discovery"
)

const reproOrigin = "https://app.example.com"

// sentReq is a request as the engine records it, with only an Origin (and
// the preflight's ACRM) to keep the expected commands short.
func sentReq(method, connectTo string) *audit.SentRequest {
	h := http.Header{cors.Origin: {reproOrigin}}
	if method == http.MethodOptions {
		h.Set(cors.ACRM, "PUT")
	}
	return &audit.SentRequest{Method: method, URL: "https://api.example.com/v1/cart", ConnectTo: connectTo, Header: h}
}

func TestReproduce(t *testing.T) {
	const (
		options = "curl -sS -o /dev/null -D - -X OPTIONS https://api.example.com/v1/cart --connect-to api.example.com:443:10.0.0.7:8443 -H 'Access-Control-Request-Method: PUT' -H 'Origin: https://app.example.com'"
		get     = "curl -sS -o /dev/null -D - https://api.example.com/v1/cart --connect-to api.example.com:443:10.0.0.7:8443 -H 'Origin: https://app.example.com'"
	)
	passed := &audit.Exchange{Request: sentReq(http.MethodOptions, "10.0.0.7:8443"), Status: 204}
	blockedAt := func(stage string) cors.Verdict {
		return cors.Verdict{Stage: stage, Reason: cors.ReasonACAOMissing}
	}
	tests := []struct {
		desc string
		obs  audit.Observation
		want string
	}{
		{
			desc: "preflight passed, actual GET 401 without ACAO: the GET",
			obs: audit.Observation{Done: true, Preflight: passed,
				Actual: &audit.Exchange{Request: sentReq(http.MethodGet, "10.0.0.7:8443"), Status: 401}}.WithVerdict(blockedAt(cors.StageActual)),
			want: get,
		},
		{
			desc: "preflight blocked: the OPTIONS",
			obs:  audit.Observation{Done: true, Preflight: passed}.WithVerdict(blockedAt(cors.StagePreflight)),
			want: options,
		},
		{
			desc: "preflight refused: the OPTIONS",
			obs:  audit.Observation{Done: true, Preflight: &audit.Exchange{Request: sentReq(http.MethodOptions, "10.0.0.7:8443"), Err: audit.ErrRefused}},
			want: options,
		},
		{
			desc: "preflight passed, actual GET timed out: the GET",
			obs: audit.Observation{Done: true, Preflight: passed,
				Actual: &audit.Exchange{Request: sentReq(http.MethodGet, "10.0.0.7:8443"), Err: audit.ErrTimeout}},
			want: get,
		},
		{
			desc: "allowed PUT, only preflighted: the OPTIONS",
			obs:  audit.Observation{Done: true, Preflight: passed}.WithVerdict(cors.Verdict{Allowed: true}),
			want: options,
		},
		{
			desc: "through the load balancer: no --connect-to",
			obs: audit.Observation{Done: true,
				Actual: &audit.Exchange{Request: sentReq(http.MethodGet, ""), Status: 200}}.WithVerdict(blockedAt(cors.StageActual)),
			want: "curl -sS -o /dev/null -D - https://api.example.com/v1/cart -H 'Origin: https://app.example.com'",
		},
		{
			desc: "HEAD",
			obs: audit.Observation{Done: true,
				Actual: &audit.Exchange{Request: sentReq(http.MethodHead, ""), Status: 200}}.WithVerdict(blockedAt(cors.StageActual)),
			want: "curl -sS -o /dev/null -D - -I https://api.example.com/v1/cart -H 'Origin: https://app.example.com'",
		},
		{
			desc: "nothing sent (simple POST): nothing to reproduce",
			obs:  audit.Observation{NotRun: "not run: no request may be sent"},
		},
		{
			desc: "actual cut off by the deadline: nothing observed",
			obs:  audit.Observation{Preflight: passed, NotRun: audit.NotRunDeadline},
		},
		{
			desc: "report written before requests were recorded",
			obs:  audit.Observation{Done: true, Preflight: &audit.Exchange{Status: 204}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := Reproduce(tt.obs); got != tt.want {
				t.Errorf("Reproduce:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestCurlRequestIPv6(t *testing.T) {
	r := &audit.SentRequest{Method: http.MethodGet, URL: "http://[::1]:8080/x", ConnectTo: "[::1]:9090"}
	want := "curl -sS -o /dev/null -D - 'http://[::1]:8080/x' --connect-to '[::1]:8080:[::1]:9090'"
	if got := CurlRequest(r); got != want {
		t.Errorf("CurlRequest:\n got %s\nwant %s", got, want)
	}
}

// TestReproduceFromRun: from a real run, an instance whose preflight passes
// and whose actual GET is a 401 without ACAO is reproduced by the GET, sent
// to the instance with --connect-to, headers exactly as sent.
func TestReproduceFromRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			w.Header().Set(cors.ACAO, reproOrigin)
			w.Header().Set(cors.ACAH, "x-request-id")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	spec := audit.TargetSpec{
		Target: discovery.Target{Name: "t", URL: "http://api.example.com/v1/cart",
			Instances: []discovery.Instance{{ID: "i1", Addr: addr}}},
		Probes: []audit.Probe{{ID: "p1", Origin: reproOrigin, Method: http.MethodGet,
			Headers: []cors.Header{{Name: "X-Request-Id", Value: "corsaudit"}}}},
		LB: audit.LB{Disabled: true},
	}
	res, err := audit.Run(context.Background(), []audit.TargetSpec{spec}, audit.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	o := res[0].Direct.At(0, 0)
	if o.Verdict().Allowed || o.Verdict().Stage != cors.StageActual || o.Preflight == nil || o.Actual == nil || o.Actual.Status != 401 {
		t.Fatalf("observation = %+v, want a passing preflight and a blocked 401 GET", o)
	}
	want := "curl -sS -o /dev/null -D - http://api.example.com/v1/cart --connect-to api.example.com:80:" + addr +
		" -H 'Accept: */*' -H 'Origin: https://app.example.com' -H 'Sec-Fetch-Mode: cors' -H 'User-Agent: " + audit.UserAgent +
		"' -H 'X-Request-Id: corsaudit'"
	if got := Reproduce(o); got != want {
		t.Errorf("Reproduce:\n got %s\nwant %s", got, want)
	}
}

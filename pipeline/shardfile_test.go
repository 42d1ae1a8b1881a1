package pipeline

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
)

// TestShardEncodingRoundTrip: what an observation becomes in a shard file
// decodes back to the same observation, whatever it holds.
func TestShardEncodingRoundTrip(t *testing.T) {
	sent := func(method, connectTo string) *audit.SentRequest {
		return &audit.SentRequest{Method: method, URL: "https://api.example.com/v1/cart", ConnectTo: connectTo,
			Header: http.Header{"Origin": {"https://app.example.com"}}}
	}
	answer := func(req *audit.SentRequest, status int, latency time.Duration) *audit.Exchange {
		return &audit.Exchange{Request: req, Status: status, Latency: latency, ServedBy: "i1",
			Header: http.Header{"Access-Control-Allow-Origin": {"https://app.example.com"}, "Vary": {"Origin", "Accept"}}}
	}
	allowed := cors.Verdict{Allowed: true, Preflight: true, CacheLifetime: 5 * time.Second}
	blocked := cors.Verdict{Stage: cors.StageActual, Reason: cors.ReasonACAOMissing, Message: "No header"}
	for _, tc := range []struct {
		desc string
		row  []audit.Observation
		lb   int
	}{
		{desc: "direct row: preflight and actual, same answers on other requests", lb: -1, row: []audit.Observation{
			audit.Observation{Probe: 0, Instance: "i1", Sample: -1, Preflight: answer(sent("OPTIONS", "10.0.0.1:8080"), 204, time.Millisecond),
				Actual: answer(sent("GET", "10.0.0.1:8080"), 200, 2*time.Millisecond), Done: true}.WithVerdict(allowed),
			audit.Observation{Probe: 1, Instance: "i1", Sample: -1, Actual: answer(sent("GET", "10.0.0.1:8080"), 200, 3*time.Millisecond), Done: true}.WithVerdict(allowed),
		}},
		{desc: "direct row: failure, not run, nothing sent", lb: -1, row: []audit.Observation{
			audit.Observation{Probe: 0, Instance: "i2", Sample: -1, Actual: &audit.Exchange{Request: sent("GET", "10.0.0.2:8080"), Err: audit.ErrRefused,
				ErrMsg: "connection refused", Latency: time.Microsecond}, Done: true}.WithVerdict(blocked),
			{Probe: 1, Instance: "i2", Sample: -1, NotRun: audit.NotRunDeadline},
			{Probe: 2, Instance: "i2", Sample: -1, Actual: &audit.Exchange{Status: 200}, Done: true},
		}},
		{desc: "load balancer samples of probe 3", lb: 3, row: []audit.Observation{
			audit.Observation{Probe: 3, Sample: 0, Preflight: answer(sent("OPTIONS", ""), 204, time.Millisecond), Done: true}.WithVerdict(allowed),
			audit.Observation{Probe: 3, Sample: 1, Preflight: &audit.Exchange{Request: sent("OPTIONS", ""), Status: 301, Location: "https://x/"}, Done: true}.WithVerdict(blocked),
		}},
	} {
		var enc encoder
		s := &Shard{Targets: []shardTarget{{Rows: []shardRow{{Observations: enc.observations(tc.row)}}}}}
		s.Requests, s.Answers, s.Verdicts = enc.requests.list, enc.answers.list, enc.verdicts.list
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Shard
		if err := json.NewDecoder(bytes.NewReader(b)).Decode(&back); err != nil {
			t.Fatal(err)
		}
		d, err := newDecoder(&back, nil)
		if err != nil {
			t.Fatal(err)
		}
		instance := ""
		if tc.lb < 0 {
			instance = tc.row[0].Instance
		}
		got, err := d.observations(back.Targets[0].Rows[0].Observations, instance, tc.lb)
		if err != nil {
			t.Fatalf("%s: %v", tc.desc, err)
		}
		if !reflect.DeepEqual(got, tc.row) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.desc, got, tc.row)
		}
	}
	// Interning: three direct answers with the same headers and status
	// but other instances and latencies are one answer.
	var enc encoder
	for i, addr := range []string{"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"} {
		enc.exchange(answer(sent("GET", addr), 200, time.Duration(i)*time.Millisecond))
	}
	if len(enc.answers.list) != 1 || len(enc.requests.list) != 1 {
		t.Errorf("%d answers and %d requests stored for one answer to one request", len(enc.answers.list), len(enc.requests.list))
	}
}

package audit

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

// benchPolicy plans 16 probes: 1 origin x 7 methods x 2 header sets, plus
// the disallowed origin for GET and for PUT.
var benchPolicy = Policy{Origins: []string{"https://app.example.com"},
	Methods: []string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"},
	Headers: []string{"X-Request-Id"}, Credentials: true}

// BenchmarkAudit1000 audits 1,000 loopback instances x 16 probes directly
// and reports requests per second:
//
//	go test -run '^$' -bench Audit1000 -benchtime 3x ./audit/
func BenchmarkAudit1000(b *testing.B) {
	const n = 1000
	probes := Plan(benchPolicy)
	if len(probes) != 16 {
		b.Fatalf("plan has %d probes, want 16", len(probes))
	}
	instances := make([]discovery.Instance, n)
	for i := range n {
		beh := labserver.Behavior{ID: fmt.Sprint(i), AllowOrigins: benchPolicy.Origins,
			AllowMethods: benchPolicy.Methods, AllowHeaders: benchPolicy.Headers, Credentials: true, MaxAge: 600}
		srv := httptest.NewServer(labserver.New(beh))
		b.Cleanup(srv.Close)
		instances[i] = discovery.Instance{ID: fmt.Sprintf("i%04d", i), Addr: srv.Listener.Addr().String()}
	}
	spec := TargetSpec{Target: discovery.Target{Name: "bench", URL: "http://api.example.com/v1/cart", Instances: instances},
		Probes: probes, LB: LB{Disabled: true}}
	var requests int64
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		res, err := Run(context.Background(), []TargetSpec{spec}, testOptions(Options{Concurrency: 128, PerInstance: 2, Timeout: 10 * time.Second}))
		if err != nil {
			b.Fatal(err)
		}
		d := res[0].Direct
		for i := range d.Instances() {
			for _, o := range d.Row(i) {
				if o.Err() != ErrNone {
					b.Fatalf("instance %s probe %d: %s", o.Instance, o.Probe, o.Err())
				}
			}
		}
		requests += res[0].Requests
	}
	b.ReportMetric(float64(requests)/time.Since(start).Seconds(), "requests/s")
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
}

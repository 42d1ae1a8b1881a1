package audit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/discovery"
)

// testOptions completes o with the values these tests run with when they
// set none. Run takes complete options: config.Default holds the
// product's defaults, and this package, below config, cannot read them.
func testOptions(o Options) Options {
	if o.Concurrency == 0 {
		o.Concurrency = 16
	}
	if o.PerInstance == 0 {
		o.PerInstance = 4
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Browser == "" {
		o.Browser = cors.Chromium
	}
	return o
}

// testFetch completes o as testOptions does.
func testFetch(o FetchOptions) FetchOptions {
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Browser == "" {
		o.Browser = cors.Chromium
	}
	return o
}

// TestRunRequiresCompleteOptions: Run applies no default of its own. A
// missing value is the caller's programming error, named before any
// request is sent.
func TestRunRequiresCompleteOptions(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { requests.Add(1) }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	spec := TargetSpec{
		Target: discovery.Target{Name: "api", URL: srv.URL, Instances: []discovery.Instance{{ID: "a", Addr: u.Host}}},
		Probes: Plan(Policy{Origins: []string{"https://app.example.com"}}),
	}
	for _, tc := range []struct {
		desc string
		opt  Options
		want string
	}{
		{desc: "no concurrency", opt: Options{PerInstance: 4, Timeout: time.Second, Browser: cors.Chromium}, want: "audit: options: concurrency 0 must be at least 1"},
		{desc: "no per-instance concurrency", opt: Options{Concurrency: 4, Timeout: time.Second, Browser: cors.Chromium}, want: "audit: options: per-instance concurrency 0 must be at least 1"},
		{desc: "no timeout", opt: Options{Concurrency: 4, PerInstance: 4, Browser: cors.Chromium}, want: "audit: options: timeout 0s must be positive"},
		{desc: "no browser", opt: Options{Concurrency: 4, PerInstance: 4, Timeout: time.Second}, want: "audit: options: browser \"\" is not one of"},
	} {
		res, err := Run(context.Background(), []TargetSpec{spec}, tc.opt)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || res != nil {
			t.Errorf("%s: Run = %v, %v; want no results and an error starting %q", tc.desc, res, err, tc.want)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests sent with incomplete options, want none", n)
	}
	res, err := Run(context.Background(), []TargetSpec{spec}, testOptions(Options{}))
	if err != nil || len(res) != 1 || requests.Load() == 0 {
		t.Fatalf("complete options: %d results, %v, %d requests; want the run to send its probes", len(res), err, requests.Load())
	}
}

package lab

import (
	"net/http"
	"testing"

	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

// TestLiveFleetDeploy: the live fleet answers through its load balancer
// with the instances' CORS config, counts what its instances receive, and
// a Deploy changes an instance's answer from the next request on.
func TestLiveFleetDeploy(t *testing.T) {
	f, err := StartLiveFleet(Fleet(3, func(i int) bool { return i == 3 }))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	maxAge := func(addr string) string {
		t.Helper()
		req, err := http.NewRequest(http.MethodOptions, "http://"+addr+Path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", PolicyOrigins[0])
		req.Header.Set("Access-Control-Request-Method", "GET")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("Access-Control-Max-Age")
	}
	if got := maxAge(f.Instances[2].Addr); got != "60" {
		t.Errorf("web-3 (older) max-age %q, want 60", got)
	}
	if err := f.Deploy(Fleet(3, nil)); err != nil {
		t.Fatal(err)
	}
	if got := maxAge(f.Instances[2].Addr); got != "600" {
		t.Errorf("web-3 after the deploy: max-age %q, want 600", got)
	}
	resp, err := http.Get(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if id := resp.Header.Get(labserver.InstanceHeader); id == "" {
		t.Error("an answer through the load balancer names no instance")
	}
	if f.Requests() != 3 || f.MaxInFlight() != 1 {
		t.Errorf("requests %d, max in flight %d; want 3 and 1", f.Requests(), f.MaxInFlight())
	}
	if err := f.Deploy(Fleet(2, nil)); err == nil {
		t.Error("a deploy of 2 backends to 3 instances was accepted")
	}
}

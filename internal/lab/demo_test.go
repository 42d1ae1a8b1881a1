package lab

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit/cors"
)

func TestFleet(t *testing.T) {
	tests := []struct {
		desc      string
		n         int
		isOlder   func(int) bool
		wantIDs   []string
		wantOlder []string
	}{
		{desc: "one digit, none older", n: 3, wantIDs: []string{"web-1", "web-2", "web-3"}},
		{desc: "one older", n: 4, isOlder: func(i int) bool { return i == 3 },
			wantIDs: []string{"web-1", "web-2", "web-3", "web-4"}, wantOlder: []string{"web-3"}},
		{desc: "padded to the width of n", n: 12, isOlder: func(i int) bool { return i%10 == 0 },
			wantIDs:   []string{"web-01", "web-02", "web-03", "web-04", "web-05", "web-06", "web-07", "web-08", "web-09", "web-10", "web-11", "web-12"},
			wantOlder: []string{"web-10"}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			var ids, olderIDs []string
			for _, be := range Fleet(tc.n, tc.isOlder) {
				ids = append(ids, be.Behavior.ID)
				if be.Group != "blue" || be.Down {
					t.Errorf("%s: group %q down %v, want blue and up", be.Behavior.ID, be.Group, be.Down)
				}
				if !strings.Contains(strings.Join(be.Behavior.AllowMethods, ","), "PUT") {
					olderIDs = append(olderIDs, be.Behavior.ID)
				}
			}
			if strings.Join(ids, ",") != strings.Join(tc.wantIDs, ",") {
				t.Errorf("ids %v, want %v", ids, tc.wantIDs)
			}
			if strings.Join(olderIDs, ",") != strings.Join(tc.wantOlder, ",") {
				t.Errorf("older %v, want %v", olderIDs, tc.wantOlder)
			}
		})
	}
}

// TestStartDemo checks that the demo fleet shows what the demo explains:
// web-07 refuses PUT, web-12 refuses connections, the load balancer
// redirects preflights and round-robins the rest.
func TestStartDemo(t *testing.T) {
	l, err := StartDemo()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if len(l.Instances) != 12 {
		t.Fatalf("%d instances, want 12", len(l.Instances))
	}
	for _, in := range l.Instances {
		switch in.ID {
		case "web-12":
			if in.Server != nil {
				t.Errorf("web-12 has a server, want it down")
			}
			if c, err := net.DialTimeout("tcp", in.Addr, time.Second); err == nil {
				c.Close()
				t.Errorf("web-12 at %s accepts connections, want it down", in.Addr)
			}
		default:
			a := send(t, "OPTIONS", direct(in), allowed, "PUT")
			gotPUT := strings.Contains(a.header.Get(cors.ACAM), "PUT")
			if wantPUT := in.ID != "web-07"; gotPUT != wantPUT || a.instance() != in.ID {
				t.Errorf("direct preflight PUT to %s: answered by %q, PUT allowed %v, want %v", in.ID, a.instance(), gotPUT, wantPUT)
			}
		}
	}
	if a := send(t, "OPTIONS", l.URL, allowed, "PUT"); a.status != http.StatusMovedPermanently || !strings.HasPrefix(a.header.Get("Location"), "https://") {
		t.Errorf("preflight via LB: %d Location %q, want a 301 to https", a.status, a.header.Get("Location"))
	}
	items := strings.TrimSuffix(l.URL, Path) + DemoPaths[1]
	if a := send(t, "OPTIONS", items, allowed, "PUT"); a.status != http.StatusNoContent || a.instance() == "" {
		t.Errorf("preflight via LB on %s: %d from %q, want an instance's 204 (the redirect is on %s only)", DemoPaths[1], a.status, a.instance(), Path)
	}
	seen := map[string]bool{}
	for range 11 {
		a := send(t, "GET", l.URL, allowed, "")
		if a.status != http.StatusOK {
			t.Fatalf("GET via LB: status %d", a.status)
		}
		seen[a.instance()] = true
	}
	if len(seen) != 11 || seen["web-12"] {
		t.Errorf("11 GETs via LB reached %v, want the 11 live instances once each", seen)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if c, err := net.DialTimeout("tcp", l.Addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after Close", l.Addr)
	}
}

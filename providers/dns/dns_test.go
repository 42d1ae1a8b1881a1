package dns

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
)

type fakeResolver map[string][]net.IP

func (f fakeResolver) LookupIP(_ context.Context, _, host string) ([]net.IP, error) {
	ips, ok := f[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return ips, nil
}

func TestDiscover(t *testing.T) {
	r := fakeResolver{
		"web.internal": {net.ParseIP("10.0.0.2"), net.ParseIP("10.0.0.1"), net.ParseIP("fd00::1"), net.ParseIP("10.0.0.1")},
	}
	p := NewWithResolver(Config{Name: "web.internal", Port: 8080, Group: "blue"}, r)
	ts, err := p.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range ts[0].Instances {
		got = append(got, in.ID+"/"+in.Group)
	}
	want := "10.0.0.1:8080/blue 10.0.0.2:8080/blue [fd00::1]:8080/blue"
	if strings.Join(got, " ") != want {
		t.Errorf("instances = %v, want %v", got, want)
	}
	_, err = NewWithResolver(Config{Name: "missing.internal", Port: 80}, r).Discover(context.Background())
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !strings.HasPrefix(err.Error(), "dns: resolve missing.internal") {
		t.Errorf("err = %v, want a wrapped *net.DNSError", err)
	}
}

// TestDiscoverLocalhost uses the system resolver on a name every machine
// resolves to loopback.
func TestDiscoverLocalhost(t *testing.T) {
	p := NewWithResolver(Config{Name: "localhost", Port: 8080, Network: "ip4"}, net.DefaultResolver)
	ts, err := p.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range ts[0].Instances {
		if !in.IsLoopback() {
			t.Errorf("localhost resolved to %s, not loopback", in.Addr)
		}
	}
	if len(ts[0].Instances) == 0 {
		t.Error("no instance for localhost")
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		desc string
		cfg  Config
		want string
	}{
		{"ok", Config{Name: "a", Port: 1}, ""},
		{"every problem at once", Config{Port: 0, Network: "ip5"}, "name: required\nport: 0 is not a port (1-65535)\nnetwork: \"ip5\" is not ip, ip4 or ip6"},
	} {
		err := tc.cfg.Validate()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%s: Validate() = %q, want %q", tc.desc, got, tc.want)
		}
	}
}

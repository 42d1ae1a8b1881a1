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

// recordingResolver answers ips for every name and records the network
// each lookup asked for.
type recordingResolver struct {
	ips      []net.IP
	networks []string
}

func (r *recordingResolver) LookupIP(_ context.Context, network, _ string) ([]net.IP, error) {
	r.networks = append(r.networks, network)
	return r.ips, nil
}

func TestDiscoverNetworkAndEmptyAnswer(t *testing.T) {
	r := &recordingResolver{ips: []net.IP{net.ParseIP("10.0.0.1")}}
	ts, err := NewWithResolver(Config{Name: "web.internal", Port: 80}, r).Discover(context.Background())
	if err != nil || len(ts) != 1 || len(ts[0].Instances) != 1 || ts[0].Instances[0].Labels["dns_name"] != "web.internal" {
		t.Fatalf("Discover = %+v, %v; want one instance labelled with its name", ts, err)
	}
	if _, err := NewWithResolver(Config{Name: "web.internal", Port: 80, Network: "ip6"}, r).Discover(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.networks, ","); got != "ip,ip6" {
		t.Errorf("networks asked = %s, want ip (the default) then ip6", got)
	}
	r.ips = nil
	ts, err = NewWithResolver(Config{Name: "empty.internal", Port: 80}, r).Discover(context.Background())
	if ts != nil || err == nil || err.Error() != "dns: resolve empty.internal: no A or AAAA records" {
		t.Errorf("no records: Discover = %v, %v; want no target and an error saying so", ts, err)
	}
}

// decodeTo is a decode func that fills the provider's Config with c, as
// the config layer decodes a section.
func decodeTo(c Config) func(any) error {
	return func(out any) error {
		*out.(*Config) = c
		return nil
	}
}

// TestNew: New builds the provider from its decoded section, on the
// system resolver, and refuses a section Check refuses, with Check's words.
func TestNew(t *testing.T) {
	p, err := New(decodeTo(Config{Name: "localhost", Port: 8080, Network: "ip4", Group: "blue"}))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := p.Discover(context.Background())
	if err != nil || len(ts) != 1 || len(ts[0].Instances) == 0 {
		t.Fatalf("Discover = %+v, %v; want localhost's instances", ts, err)
	}
	for _, in := range ts[0].Instances {
		if !in.IsLoopback() || in.Group != "blue" || !strings.HasSuffix(in.Addr, ":8080") {
			t.Errorf("instance %+v: want a loopback address on port 8080 in group blue", in)
		}
	}
	decodeErr := errors.New("port: expected an integer")
	for _, tc := range []struct {
		desc   string
		decode func(any) error
		want   string
	}{
		{"invalid section", decodeTo(Config{Name: "web.internal", Network: "udp"}), "port: 0 is not a port (1-65535)\nnetwork: \"udp\" is not ip, ip4 or ip6"},
		{"section that does not decode", func(any) error { return decodeErr }, decodeErr.Error()},
	} {
		p, err := New(tc.decode)
		if p != nil || err == nil || err.Error() != tc.want {
			t.Errorf("%s: New = %v, %v; want no provider and %q", tc.desc, p, err, tc.want)
		}
		if cerr := Check(tc.decode); cerr == nil || cerr.Error() != tc.want {
			t.Errorf("%s: Check = %v, want %q", tc.desc, cerr, tc.want)
		}
	}
	if err := Check(decodeTo(Config{Name: "web.internal", Port: 53})); err != nil {
		t.Errorf("Check of a valid section = %v", err)
	}
}

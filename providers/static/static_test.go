package static

import (
	"context"
	"testing"
)

func TestStatic(t *testing.T) {
	for _, tc := range []struct {
		desc    string
		cfg     Config
		wantErr string
		wantIDs []string
	}{
		{desc: "ids default to addr", cfg: Config{Instances: []InstanceConfig{{ID: "web-1", Addr: "127.0.0.1:1"}, {Addr: "127.0.0.1:2"}}},
			wantIDs: []string{"web-1", "127.0.0.1:2"}},
		{desc: "empty", cfg: Config{}, wantErr: "instances: at least one instance is required"},
		{desc: "every problem named", cfg: Config{Instances: []InstanceConfig{{ID: "a", Addr: "nope"}, {ID: "a", Addr: "h:1", Scheme: "ftp"}}},
			wantErr: "instances[0].addr: \"nope\" is not host:port\ninstances[1].id: \"a\" already used by instances[0]\ninstances[1].scheme: \"ftp\" is not http or https"},
	} {
		p, err := New(func(out any) error { *(out.(*Config)) = tc.cfg; return nil })
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%s: err = %v, want %q", tc.desc, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.desc, err)
		}
		ts, err := p.Discover(context.Background())
		if err != nil || len(ts) != 1 {
			t.Fatalf("%s: Discover = %v, %v", tc.desc, ts, err)
		}
		for i, in := range ts[0].Instances {
			if in.ID != tc.wantIDs[i] {
				t.Errorf("%s: instance %d id = %q, want %q", tc.desc, i, in.ID, tc.wantIDs[i])
			}
		}
	}
}

// TestDiscoverHandsOverTheInstances: a large list is held once: Discover
// returns the provider's instances, not a copy, with no room to append
// into (an append copies).
func TestDiscoverHandsOverTheInstances(t *testing.T) {
	p, err := New(func(out any) error {
		*(out.(*Config)) = Config{Instances: []InstanceConfig{{ID: "web-1", Addr: "127.0.0.1:1"}, {Addr: "127.0.0.1:2"}}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	first, err := p.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	a, b := first[0].Instances, again[0].Instances
	if len(a) != 2 || &a[0] != &b[0] {
		t.Errorf("Discover copied the instances (or lost them): %v", a)
	}
	if cap(a) != len(a) {
		t.Errorf("cap %d > len %d: an append would write into the provider's list", cap(a), len(a))
	}
	if a[1].ID != "127.0.0.1:2" || a[0].Health != "unknown" {
		t.Errorf("instances %+v: want the id defaulted to the addr and health unknown", a)
	}
}

package main

import (
	"net"
	"testing"
)

func TestWideAddresses(t *testing.T) {
	tests := []struct {
		desc string
		i    int
		ip   string
	}{
		{desc: "first", i: 0, ip: "127.1.1.1"},
		{desc: "last of the first 250", i: 249, ip: "127.1.1.250"},
		{desc: "next 250", i: 250, ip: "127.1.2.1"},
		{desc: "first past 62,500", i: 62500, ip: "127.2.1.1"},
		{desc: "the 100,000th", i: 99999, ip: "127.2.150.250"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			ip := wideIP(tt.i)
			if ip.String() != tt.ip {
				t.Errorf("wideIP(%d) = %s, want %s", tt.i, ip, tt.ip)
			}
			if !ip.IsLoopback() {
				t.Errorf("wideIP(%d) = %s is not loopback", tt.i, ip)
			}
			if got := wideIndex(ip); got != tt.i {
				t.Errorf("wideIndex(%s) = %d, want %d", ip, got, tt.i)
			}
		})
	}
	none := []struct{ desc, ip string }{
		{desc: "a zero octet", ip: "127.0.1.1"},
		{desc: "not loopback", ip: "10.1.1.1"},
		{desc: "an octet over 250", ip: "127.1.251.1"},
		{desc: "IPv6", ip: "::1"},
	}
	for _, tt := range none {
		t.Run(tt.desc, func(t *testing.T) {
			if got := wideIndex(net.ParseIP(tt.ip)); got != -1 {
				t.Errorf("wideIndex(%s) = %d, want -1 (no instance)", tt.ip, got)
			}
		})
	}
}

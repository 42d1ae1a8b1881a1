package discovery

import (
	"fmt"
	"strings"
	"testing"
)

func TestCheckAddr(t *testing.T) {
	for _, tc := range []struct {
		desc, addr, want string // want: "" for a dialable address
	}{
		{"IPv4 and port", "127.0.0.1:8080", ""},
		{"host name", "web-1.internal:443", ""},
		{"trailing dot", "web-1.internal.:443", ""},
		{"IPv6 in brackets", "[::1]:8080", ""},
		{"IPv6 with a zone", "[fe80::1%eth0]:8080", ""},
		{"lowest and highest port", "h:1", ""},
		{"highest port", "h:65535", ""},
		{"port above 65535", "127.0.0.1:99999", `"127.0.0.1:99999": port "99999" is not a number from 1 to 65535`},
		{"port 0", "127.0.0.1:0", `port "0" is not a number`},
		{"negative port", "127.0.0.1:-1", `port "-1" is not a number`},
		{"port with a sign", "127.0.0.1:+80", `port "+80" is not a number`},
		{"port with leading zeros", "127.0.0.1:080", `port "080" is not a number`},
		{"service name", "127.0.0.1:http", `port "http" is not a number`},
		{"empty port", "127.0.0.1:", `port "" is not a number`},
		{"no port", "127.0.0.1", `"127.0.0.1" is not host:port`},
		{"garbage colons", "::garbage", `"::garbage" is not host:port`},
		{"empty host", ":8080", `"" is not a host name or an IP address`},
		{"space in the host", "web 1:8080", `"web 1" is not a host name`},
		{"control byte in the host", "web\x001:8080", `is not a host name`},
		{"empty label", "web..internal:80", `is not a host name`},
		{"label too long", strings.Repeat("a", 64) + ".example:80", `is not a host name`},
		{"URL instead of an address", "http://web:80", `is not host:port`},
		{"nothing", "", `"" is not host:port`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			err := CheckAddr(tc.addr)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("CheckAddr(%q): %v, want nil", tc.addr, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("CheckAddr(%q): %v, want an error containing %q", tc.addr, err, tc.want)
			}
		})
	}
}

func TestCheckScheme(t *testing.T) {
	for _, tc := range []struct {
		desc, scheme, wantErr string
	}{
		{desc: "empty: the public URL's", scheme: ""},
		{desc: "http", scheme: "http"},
		{desc: "https", scheme: "https"},
		{desc: "case matters", scheme: "HTTPS", wantErr: `"HTTPS" is not http or https`},
		{desc: "another scheme", scheme: "ftp", wantErr: `"ftp" is not http or https`},
	} {
		err := CheckScheme(tc.scheme)
		if got := fmt.Sprint(err); (err == nil) != (tc.wantErr == "") || err != nil && got != tc.wantErr {
			t.Errorf("%s: CheckScheme(%q) = %v, want %q", tc.desc, tc.scheme, err, tc.wantErr)
		}
	}
}

package discovery

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// CheckAddr says whether addr is a host:port corsaudit can dial: a host
// name or an IP address (IPv6 in brackets) and a port from 1 to 65535. It
// is the one check of a dial address, wherever it comes from: a config, a
// flag, a provider or an inventory file. The error quotes addr and says
// what is wrong with it.
func CheckAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port != strconv.Itoa(n) {
		return fmt.Errorf("%q: port %q is not a number from 1 to 65535", addr, port)
	}
	if !isHost(host) {
		return fmt.Errorf("%q: %q is not a host name or an IP address", addr, host)
	}
	return nil
}

// CheckScheme says whether s is a scheme corsaudit speaks to an instance
// directly: "http", "https", or "" (the public URL's). It is the one
// check of a direct scheme, wherever it comes from: a target's direct:, a
// provider's instance, a flag or an inventory file. The error quotes s.
func CheckScheme(s string) error {
	if s != "" && s != "http" && s != "https" {
		return fmt.Errorf("%q is not http or https", s)
	}
	return nil
}

// isHost says whether h is an IP address or a DNS host name (letters,
// digits, hyphens and underscores in dot-separated labels of up to 63
// bytes, 253 in all).
func isHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	if h == "" || len(h) > 253 || strings.Contains(h, ":") {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || strings.ContainsFunc(label, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}) {
			return false
		}
	}
	return true
}

package audit

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/corsaudit/corsaudit/discovery"
)

// ResolveConnectTo turns a curl --connect-to value into the address to dial, or "" when
// the curl form HOST1:PORT1:HOST2:PORT2 does not match the URL.
func ResolveConnectTo(spec string, u *url.URL) (string, error) {
	addr, err := resolveConnectTo(spec, u)
	if err != nil || addr == "" {
		return addr, err
	}
	if err := discovery.CheckAddr(addr); err != nil {
		return "", fmt.Errorf("connect-to: %w", err)
	}
	return addr, nil
}

func resolveConnectTo(spec string, u *url.URL) (string, error) {
	parts, err := splitConnectTo(spec)
	if err != nil {
		return "", err
	}
	switch len(parts) {
	case 2:
		if parts[0] == "" || parts[1] == "" {
			return "", fmt.Errorf("connect-to: %q is not HOST:PORT", spec)
		}
		return net.JoinHostPort(parts[0], parts[1]), nil
	case 4:
		port := u.Port()
		if port == "" {
			port = "80"
			if u.Scheme == "https" {
				port = "443"
			}
		}
		if (parts[0] != "" && !strings.EqualFold(parts[0], u.Hostname())) || (parts[1] != "" && parts[1] != port) {
			return "", nil
		}
		host, p := parts[2], parts[3]
		if host == "" {
			host = u.Hostname()
		}
		if p == "" {
			p = port
		}
		return net.JoinHostPort(host, p), nil
	}
	return "", fmt.Errorf("connect-to: %q is not HOST:PORT or HOST1:PORT1:HOST2:PORT2", spec)
}

// splitConnectTo splits on colons outside [brackets] (IPv6 literals) and
// strips the brackets.
func splitConnectTo(spec string) ([]string, error) {
	var parts []string
	var cur strings.Builder
	inBracket := false
	for _, r := range spec {
		switch {
		case r == '[' && !inBracket:
			inBracket = true
		case r == ']' && inBracket:
			inBracket = false
		case r == ':' && !inBracket:
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	if inBracket {
		return nil, fmt.Errorf("connect-to: %q has an unclosed [", spec)
	}
	return append(parts, cur.String()), nil
}

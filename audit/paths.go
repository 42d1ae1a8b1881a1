package audit

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// ParsePath checks one entry of a target's paths: an absolute path,
// optionally with a query ("/v1/items?limit=1"), and nothing else.
func ParsePath(p string) (*url.URL, error) {
	u, err := url.Parse(p)
	if err != nil || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || u.Scheme != "" || u.Host != "" || u.Fragment != "" {
		return nil, fmt.Errorf("path: %q is not an absolute path (like /v1/cart)", p)
	}
	return u, nil
}

// PerPath repeats the plan for every path: the probes of paths[0], then of
// paths[1], ..., each with its Path set and IDs renumbered "p1", "p2", ...
// in that order. With no paths the plan is returned as is (the probes go to
// the target URL's own path).
func PerPath(plan []Probe, paths []string) []Probe {
	if len(paths) == 0 {
		return plan
	}
	out := make([]Probe, 0, len(plan)*len(paths))
	for _, path := range paths {
		for _, p := range plan {
			p.Path = path
			p.ID = fmt.Sprintf("p%d", len(out)+1)
			out = append(out, p)
		}
	}
	return out
}

// PathOf is the path probe p requests on a target whose public URL is u:
// its own Path, else the URL's path ("/" when empty).
func PathOf(p Probe, u *url.URL) string {
	if p.Path != "" {
		return p.Path
	}
	if u == nil {
		return ""
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	return path
}

// at is the endpoint with path (and its query) instead of the URL's; e
// itself when path is empty.
func (e Endpoint) at(path string) Endpoint {
	if path == "" {
		return e
	}
	e.URL = withPath(e.URL, path)
	return e
}

// withPath is u with path (and its query) instead of its own; u itself
// when path is empty or not a path.
func withPath(u *url.URL, path string) *url.URL {
	if path == "" {
		return u
	}
	ref, err := ParsePath(path)
	if err != nil {
		return u // validated by the config layer
	}
	v := *u
	v.Path, v.RawPath, v.RawQuery = ref.Path, ref.RawPath, ref.RawQuery
	return &v
}

// tlsConfig is the base TLS configuration of the target's clients: its
// own, else the run's.
func (s *TargetSpec) tlsConfig(opt *Options) *tls.Config {
	if s.TLS != nil {
		return s.TLS
	}
	return opt.TLSConfig
}

// TLSFiles is how a target's TLS is verified and which client certificate
// it presents (mTLS).
type TLSFiles struct {
	InsecureSkipVerify bool
	// CAFile holds PEM certificates trusted in addition to the system's.
	CAFile string
	// CertFile and KeyFile hold the client certificate and its key (PEM).
	CertFile, KeyFile string
}

// Config loads the files into a TLS configuration; nil when nothing is
// set (the system roots, verification on, no client certificate).
func (f TLSFiles) Config() (*tls.Config, error) {
	if f == (TLSFiles{}) {
		return nil, nil
	}
	if err := f.Check(); err != nil {
		return nil, err
	}
	c := &tls.Config{InsecureSkipVerify: f.InsecureSkipVerify} //nolint:gosec // the user's explicit choice
	if f.CAFile != "" {
		pem, err := os.ReadFile(f.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file: %s holds no PEM certificate", f.CAFile)
		}
		c.RootCAs = pool
	}
	if f.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("cert_file: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// Check says what is wrong with f without reading a file: a client
// certificate without its key, or a key without its certificate.
func (f TLSFiles) Check() error {
	switch {
	case f.CertFile != "" && f.KeyFile == "":
		return errors.New("cert_file: key_file is required with it")
	case f.KeyFile != "" && f.CertFile == "":
		return errors.New("key_file: cert_file is required with it")
	}
	return nil
}

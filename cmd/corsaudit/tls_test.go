package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/diff"
)

// writePEM writes one PEM block to dir/name and returns its path.
func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// clientCert makes a CA and a client certificate it signs; it returns the
// CA pool (for the server) and the certificate and key files.
func clientCert(t *testing.T, dir string) (*x509.CertPool, string, string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test client CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "corsaudit"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, writePEM(t, dir, "client.pem", "CERTIFICATE", der), writePEM(t, dir, "client-key.pem", "EC PRIVATE KEY", keyDER)
}

// TestAuditTLS: an https LB and instances with httptest's self-signed
// certificate, audited with --insecure, with tls.ca_file, and with a client
// certificate where the servers require one; instances answering plain
// HTTP to TLS get one finding each saying which direct.scheme to set.
func TestAuditTLS(t *testing.T) {
	dir := t.TempDir()
	clientCAs, certFile, keyFile := clientCert(t, dir)
	start := func(mtls, plain bool) string {
		srv := httptest.NewUnstartedServer(routedCORS(false))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point of some cases
		switch {
		case plain:
			srv.Start()
		case mtls:
			srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs}
			srv.StartTLS()
		default:
			srv.StartTLS()
		}
		t.Cleanup(srv.Close)
		if srv.Certificate() != nil {
			writePEM(t, dir, "ca.pem", "CERTIFICATE", srv.Certificate().Raw) // the same test certificate for all
		}
		return srv.Listener.Addr().String()
	}
	fleet := func(mtls, plain bool, tlsYAML string) string {
		lb := start(mtls, false)
		return writeConfig(t, fmt.Sprintf(`targets:
  - name: api
    url: https://%s/v1/cart
    discover: {static: {instances: [{id: i1, addr: "%s"}, {id: i2, addr: "%s"}]}}
    lb: {samples: 2}
    policy: {origins: [https://app.example.com], methods: [GET, PUT]}
%s`, lb, start(mtls, plain), start(mtls, plain), tlsYAML))
	}
	caFile := filepath.Join(dir, "ca.pem")
	for _, tc := range []struct {
		desc        string
		mtls, plain bool
		tls         string
		flags       []string
		unreachable int    // unreachable findings expected
		hint        string // in every unreachable finding's message
	}{
		{desc: "self-signed, nothing trusted: unreachable", unreachable: 3},
		{desc: "--insecure", flags: []string{"--insecure"}},
		{desc: "-k", flags: []string{"-k"}},
		{desc: "tls.insecure_skip_verify", tls: "    tls: {insecure_skip_verify: true}\n"},
		{desc: "tls.ca_file", tls: "    tls: {ca_file: " + caFile + "}\n"},
		{desc: "mTLS without a client certificate", mtls: true, tls: "    tls: {ca_file: " + caFile + "}\n", unreachable: 3},
		{desc: "mTLS with cert_file and key_file", mtls: true,
			tls: fmt.Sprintf("    tls: {ca_file: %s, cert_file: %s, key_file: %s}\n", caFile, certFile, keyFile)},
		{desc: "instances answer plain HTTP", plain: true, flags: []string{"-k"}, unreachable: 2, hint: "direct.scheme: http"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			path := fleet(tc.mtls, tc.plain, tc.tls)
			rep, code, stderr := runJSON(t, append([]string{"audit", "--config", path, "--format", "json"}, tc.flags...)...)
			n := 0
			for _, f := range rep.Findings {
				if f.Kind != diff.KindUnreachable {
					t.Errorf("unexpected finding %s: %s", f.Kind, f.Message)
					continue
				}
				n++
				if !strings.Contains(f.Message, tc.hint) {
					t.Errorf("unreachable %v: %q lacks %q", f.Instances, f.Message, tc.hint)
				}
			}
			if n != tc.unreachable {
				t.Errorf("%d unreachable findings, want %d; exit %d; stderr:\n%s", n, tc.unreachable, code, stderr)
			}
			if wantCode := map[bool]int{true: exitFindings, false: exitClean}[tc.unreachable > 0]; code != wantCode {
				t.Errorf("exit %d, want %d", code, wantCode)
			}
		})
	}
}

// TestGateTLS: the gate audits TLS as deployed too: a self-signed fleet
// fails it (nothing answers) unless -k is given.
func TestGateTLS(t *testing.T) {
	start := func() string {
		srv := httptest.NewUnstartedServer(routedCORS(false))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	}
	path := writeConfig(t, fmt.Sprintf(`targets:
  - name: api
    url: https://%s/v1/cart
    discover: {static: {instances: [{id: b1, addr: "%s", group: blue}, {id: g1, addr: "%s", group: green}]}}
    lb: {samples: 2}
    policy: {origins: [https://app.example.com], methods: [GET, PUT]}
`, start(), start(), start()))
	for _, tc := range []struct {
		desc  string
		flags []string
		code  int
	}{
		{desc: "self-signed, nothing trusted", code: exitFindings},
		{desc: "-k", flags: []string{"-k"}, code: exitClean},
	} {
		code, _, stderr := runCLI(append([]string{"gate", "--config", path, "--baseline", "blue", "--candidate", "green", "--format", "json"}, tc.flags...)...)
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d\n%s", tc.desc, code, tc.code, stderr)
		}
	}
}

package session_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trawlhq/trawl/session"
)

// clientCert makes a self-signed client certificate named cn.
func clientCert(t *testing.T, cn string) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, cert
}

func TestTLS(t *testing.T) {
	w := newWire(t, modes[1], ok)
	tests := []struct {
		name    string
		cc      session.ConnectorConfig
		wantErr string
	}{
		{"verify on, unknown CA", session.ConnectorConfig{}, "certificate"},
		{"verify off", session.ConnectorConfig{InsecureSkipVerify: true}, ""},
		{"CA pool", session.ConnectorConfig{RootCAs: w.trust()}, ""},
		{"CA pool via TLSConfig", session.ConnectorConfig{TLSConfig: &tls.Config{RootCAs: w.trust()}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := session.New(session.Config{ConnectorConfig: tc.cc})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			before := w.reqs.Load()
			_, err = s.Get(ctxT(t), w.URL)
			if tc.wantErr == "" {
				if err != nil || w.reqs.Load() != before+1 {
					t.Fatalf("err = %v, server requests %d", err, w.reqs.Load()-before)
				}
				return
			}
			var e *session.Error
			if !errors.As(err, &e) || e.Op != "send" || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want a send error about the %s", err, tc.wantErr)
			}
			if w.reqs.Load() != before {
				t.Error("the request reached the handler over an unverified connection")
			}
		})
	}
}

func TestTLSClientCertificate(t *testing.T) {
	cert, leaf := clientCert(t, "trawl-client")
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		io.WriteString(rw, r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())

	with := newSession(t, nil, session.Config{ConnectorConfig: session.ConnectorConfig{RootCAs: roots, Certificates: []tls.Certificate{cert}}})
	resp := mustGet(t, with, srv.URL)
	if string(resp.Body) != "trawl-client" {
		t.Errorf("server saw client certificate %q", resp.Body)
	}
	without := newSession(t, nil, session.Config{ConnectorConfig: session.ConnectorConfig{RootCAs: roots}})
	if _, err := without.Get(ctxT(t), srv.URL); err == nil {
		t.Error("server requiring a client certificate accepted a client without one")
	}
}

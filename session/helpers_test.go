package session_test

import (
	"context"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawlhq/trawl/session"
)

// wire is an httptest server that counts what it sees on the wire.
type wire struct {
	*httptest.Server
	conns   atomic.Int64 // connections accepted
	closed  atomic.Int64 // connections closed
	open    atomic.Int64 // connections open now
	maxOpen atomic.Int64 // most connections open at once
	// settleAbove, when > 0, gives a new connection that brings the open count
	// above it up to 2 s for the server to notice a close the client already made
	// before it counts in maxOpen, so that maxOpen counts connections alive at once,
	// not the server's lag in seeing them go. A real excess never settles and is
	// counted. Wait for settling before reading maxOpen.
	settleAbove atomic.Int64
	settling    sync.WaitGroup
	reqs        atomic.Int64 // requests handled
	inflight    atomic.Int64
	maxInflight atomic.Int64
	closedCh    chan struct{}
}

type mode struct {
	name  string
	tls   bool
	http2 bool
}

var modes = []mode{{name: "plain"}, {name: "tls", tls: true}}

// newWire starts a server running h; it is closed when the test ends.
func newWire(t testing.TB, m mode, h http.HandlerFunc) *wire {
	t.Helper()
	w := &wire{closedCh: make(chan struct{}, 1024)}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.reqs.Add(1)
		raise(&w.maxInflight, w.inflight.Add(1))
		defer w.inflight.Add(-1)
		h(rw, r)
	}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			w.conns.Add(1)
			n := w.open.Add(1)
			if lim := w.settleAbove.Load(); lim > 0 && n > lim {
				// do not block here: httptest holds its lock while calling us, which
				// would keep the closing connection from reporting its close
				w.settling.Add(1)
				go func() {
					defer w.settling.Done()
					for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline) && w.open.Load() > lim; {
						time.Sleep(time.Millisecond)
					}
					raise(&w.maxOpen, w.open.Load())
				}()
				return
			}
			raise(&w.maxOpen, n)
		case http.StateClosed, http.StateHijacked:
			w.closed.Add(1)
			w.open.Add(-1)
			select {
			case w.closedCh <- struct{}{}:
			default:
			}
		}
	}
	srv.EnableHTTP2 = m.http2
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are expected in TLS tests
	if m.tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	w.Server = srv
	t.Cleanup(srv.Close)
	return w
}

// raise sets m to max(m, n).
func raise(m *atomic.Int64, n int64) {
	for {
		old := m.Load()
		if n <= old || m.CompareAndSwap(old, n) {
			return
		}
	}
}

// trust returns a pool trusting w's certificate.
func (w *wire) trust() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(w.Certificate())
	return pool
}

// newSession builds a session trusting w (when TLS) and closes it at the end.
func newSession(t testing.TB, w *wire, cfg session.Config) *session.Session {
	t.Helper()
	if w != nil && w.TLS != nil && cfg.Connector == nil && cfg.ConnectorConfig.RootCAs == nil {
		cfg.ConnectorConfig.RootCAs = w.trust()
	}
	s, err := session.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func ok(rw http.ResponseWriter, r *http.Request) { rw.Write([]byte("ok")) }

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// mustGet fetches u and fails the test on error.
func mustGet(t testing.TB, s *session.Session, u string) *session.Response {
	t.Helper()
	resp, err := s.Get(ctxT(t), u)
	if err != nil {
		t.Fatalf("Get %s: %v", u, err)
	}
	return resp
}

// staticResolver maps names to addresses and counts lookups.
type staticResolver struct {
	mu      sync.Mutex
	addrs   map[string][]net.IPAddr
	lookups map[string]int
}

func newResolver(m map[string][]string) *staticResolver {
	r := &staticResolver{addrs: map[string][]net.IPAddr{}, lookups: map[string]int{}}
	for host, ips := range m {
		for _, ip := range ips {
			r.addrs[host] = append(r.addrs[host], net.IPAddr{IP: net.ParseIP(ip)})
		}
	}
	return r
}

func (r *staticResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups[host]++
	a, ok := r.addrs[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return a, nil
}

func (r *staticResolver) count(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lookups[host]
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

package session_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawlhq/trawl/session"
)

// retiredSlack is how many connections a test tolerates beyond the expected count:
// Go's transport retires a keep-alive connection when, after reading a response, it
// has not seen its own request write finish within 50 ms, which happens on a
// CPU-starved machine (the race detector on 2 shared cores). A real reuse bug
// retires connections systematically and fails; one or two in a thousand cannot.
const retiredSlack = 2

func TestKeepAliveSequentialOneConnection(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			w := newWire(t, m, ok)
			s := newSession(t, w, session.Config{})
			const n = 1000
			fresh := 0
			for i := 0; i < n; i++ {
				resp := mustGet(t, s, w.URL+"/x")
				if string(resp.Body) != "ok" {
					t.Fatalf("body %q", resp.Body)
				}
				if !resp.ConnReused {
					fresh++
				}
				resp.Release()
			}
			conns := w.conns.Load()
			if conns != 1 {
				t.Logf("server saw %d connections (the transport retired %d on this loaded machine)", conns, conns-1)
			}
			if conns < 1 || conns > 1+retiredSlack {
				t.Errorf("server saw %d connections for %d sequential requests, want 1", conns, n)
			}
			st := s.Stats()
			if st.Requests != n || st.ConnsOpened != conns || int64(fresh) != conns || st.ConnsReused != n-conns {
				t.Errorf("stats %+v (%d fresh), want %d requests, %d opened, %d reused", st, fresh, n, conns, n-conns)
			}
			if w.reqs.Load() != n {
				t.Errorf("server saw %d requests", w.reqs.Load())
			}
		})
	}
}

func TestLimitPerHostConcurrent(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			w := newWire(t, m, ok)
			w.settleAbove.Store(4)
			s := newSession(t, w, session.Config{ConnectorConfig: session.ConnectorConfig{LimitPerHost: 4}})
			const total, workers = 2000, 32
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			jobs := make(chan int)
			for g := 0; g < workers; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range jobs {
						resp, err := s.Get(ctxT(t), w.URL)
						if err != nil {
							errs <- err
							return
						}
						resp.Release()
					}
				}()
			}
			for i := 0; i < total; i++ {
				jobs <- i
			}
			close(jobs)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			w.settling.Wait()
			// Go's transport retires a connection whose request write it did not see
			// finish within 50 ms (a loaded machine), so the total opened can exceed
			// 4; the number open at once never may.
			if got := w.maxOpen.Load(); got > 4 || got < 1 {
				t.Errorf("server saw %d connections open at once, want 1..4", got)
			}
			if got := w.conns.Load(); got > 4 {
				t.Logf("server saw %d connections over the test (at most 4 at once)", got)
			}
			if got := w.maxInflight.Load(); got > 4 {
				t.Errorf("server saw %d requests in flight, want <= 4", got)
			}
			st := s.Stats()
			if st.Requests != total || st.ConnsOpened != w.conns.Load() || st.ConnsReused < total-st.ConnsOpened {
				t.Errorf("stats %+v; server saw %d conns, %d requests", st, w.conns.Load(), w.reqs.Load())
			}
		})
	}
}

func TestLimitTotalAcrossHosts(t *testing.T) {
	var inflight, maxIn int64
	var mu sync.Mutex
	h := func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inflight++
		maxIn = max(maxIn, inflight)
		mu.Unlock()
		time.Sleep(2 * time.Millisecond) // hold the request so that the limit is exercised
		mu.Lock()
		inflight--
		mu.Unlock()
	}
	a, b := newWire(t, modes[0], h), newWire(t, modes[0], h)
	var queuedN int64
	tr := &session.Trace{ConnectionQueuedStart: func(session.TraceHost) { mu.Lock(); queuedN++; mu.Unlock() }}
	s := newSession(t, nil, session.Config{ConnectorConfig: session.ConnectorConfig{Limit: 3}, Traces: []*session.Trace{tr}})
	var wg sync.WaitGroup
	for g := 0; g < 12; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				u := a.URL
				if (g+i)%2 == 0 {
					u = b.URL
				}
				resp, err := s.Get(ctxT(t), u)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Release()
			}
		}(g)
	}
	wg.Wait()
	if maxIn > 3 {
		t.Errorf("servers saw %d requests in flight at once, want <= 3", maxIn)
	}
	// idle connections do not count towards Limit (as in aiohttp); what the limit
	// bounds is requests in flight. Keep-alive still serves most requests.
	if got := a.conns.Load() + b.conns.Load(); got > 20 {
		t.Errorf("servers saw %d connections for 120 requests: keep-alive is not working", got)
	}
	if queuedN == 0 {
		t.Error("ConnectionQueuedStart never fired with 12 goroutines and a limit of 3")
	}
}

func TestKeepAliveTimeoutClosesIdle(t *testing.T) {
	w := newWire(t, modes[0], ok)
	s := newSession(t, w, session.Config{ConnectorConfig: session.ConnectorConfig{KeepAliveTimeout: 50 * time.Millisecond}})
	mustGet(t, s, w.URL)
	select {
	case <-w.closedCh: // the client closed the idle connection
	case <-time.After(10 * time.Second):
		t.Fatal("idle connection not closed after the keep-alive timeout")
	}
	resp := mustGet(t, s, w.URL)
	if resp.ConnReused || w.conns.Load() != 2 {
		t.Errorf("reused=%v conns=%d, want a new connection", resp.ConnReused, w.conns.Load())
	}
}

func TestForceClose(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			var sawClose int64
			var mu sync.Mutex
			w := newWire(t, m, func(rw http.ResponseWriter, r *http.Request) {
				if r.Close {
					mu.Lock()
					sawClose++
					mu.Unlock()
				}
			})
			s := newSession(t, w, session.Config{ConnectorConfig: session.ConnectorConfig{ForceClose: true}})
			for i := 0; i < 5; i++ {
				if resp := mustGet(t, s, w.URL); resp.ConnReused {
					t.Fatal("connection reused with ForceClose")
				}
			}
			if w.conns.Load() != 5 || sawClose != 5 || s.Stats().ConnsOpened != 5 {
				t.Errorf("conns=%d close-requests=%d opened=%d, want 5 each", w.conns.Load(), sawClose, s.Stats().ConnsOpened)
			}
		})
	}
}

func TestDNSCache(t *testing.T) {
	w := newWire(t, modes[0], ok)
	_, port, _ := net.SplitHostPort(w.Listener.Addr().String())
	u := "http://cached.test:" + port + "/"
	tests := []struct {
		name       string
		noCache    bool
		wantBefore int // lookups after 3 requests within the TTL
		wantAfter  int // lookups after one more request past the TTL
	}{
		{"cache", false, 1, 2},
		{"no cache", true, 3, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := newResolver(map[string][]string{"cached.test": {"127.0.0.1"}})
			clock := &fakeClock{now: time.Unix(1e9, 0)}
			var dnsStarts, hits int
			var mu sync.Mutex
			tr := &session.Trace{
				DNSResolveStart: func(session.TraceHost) { mu.Lock(); dnsStarts++; mu.Unlock() },
				DNSCacheHit:     func(session.TraceHost) { mu.Lock(); hits++; mu.Unlock() },
			}
			s := newSession(t, nil, session.Config{Traces: []*session.Trace{tr}, ConnectorConfig: session.ConnectorConfig{
				ForceClose: true, Resolver: res, NoDNSCache: tc.noCache, DNSCacheTTL: time.Minute, Now: clock.Now}})
			for i := 0; i < 3; i++ {
				mustGet(t, s, u)
			}
			if got := res.count("cached.test"); got != tc.wantBefore {
				t.Errorf("lookups within TTL = %d, want %d", got, tc.wantBefore)
			}
			clock.Advance(2 * time.Minute)
			mustGet(t, s, u)
			if got := res.count("cached.test"); got != tc.wantAfter {
				t.Errorf("lookups after TTL = %d, want %d", got, tc.wantAfter)
			}
			if dnsStarts != tc.wantAfter || hits != 4-tc.wantAfter {
				t.Errorf("trace: %d DNS starts, %d cache hits", dnsStarts, hits)
			}
			if w.conns.Load() == 0 {
				t.Error("server saw no connection")
			}
		})
	}
}

func TestLocalAddr(t *testing.T) {
	var remote string
	var mu sync.Mutex
	w := newWire(t, modes[0], func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		remote = r.RemoteAddr
		mu.Unlock()
	})
	s := newSession(t, w, session.Config{ConnectorConfig: session.ConnectorConfig{LocalAddr: "127.0.0.2"}})
	mustGet(t, s, w.URL)
	mu.Lock()
	defer mu.Unlock()
	if host, _, _ := net.SplitHostPort(remote); host != "127.0.0.2" {
		t.Errorf("server saw the client at %s, want 127.0.0.2", remote)
	}
}

func TestFamily(t *testing.T) {
	w := newWire(t, modes[0], ok)
	_, port, _ := net.SplitHostPort(w.Listener.Addr().String())
	res := newResolver(map[string][]string{
		"dual.test": {"::1", "127.0.0.1"},
		"v4.test":   {"127.0.0.1"},
	})
	tests := []struct {
		family  session.Family
		host    string
		wantErr string
	}{
		{session.FamilyIPv4, "dual.test", ""},
		{session.FamilyIPv6, "v4.test", "no IPv6 address"},
		{session.FamilyIPv4, "v4.test", ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.family, tc.host), func(t *testing.T) {
			var remote net.Addr
			tr := &session.Trace{ConnectionCreateEnd: func(e session.TraceConnCreated) { remote = e.RemoteAddr }}
			s := newSession(t, nil, session.Config{Traces: []*session.Trace{tr},
				ConnectorConfig: session.ConnectorConfig{Family: tc.family, Resolver: res}})
			_, err := s.Get(ctxT(t), "http://"+tc.host+":"+port+"/")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ta, ok := remote.(*net.TCPAddr); !ok || ta.IP.To4() == nil {
				t.Errorf("connected to %v, want an IPv4 address", remote)
			}
		})
	}
}

func TestSharedConnectorNotClosedBySession(t *testing.T) {
	w := newWire(t, modes[1], ok)
	conn, err := session.NewConnector(session.ConnectorConfig{RootCAs: w.trust()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	a := newSession(t, nil, session.Config{Connector: conn})
	b := newSession(t, nil, session.Config{Connector: conn})
	mustGet(t, a, w.URL)
	a.Close()
	if _, err := a.Get(ctxT(t), w.URL); !errors.Is(err, session.ErrClosed) {
		t.Fatalf("closed session: err = %v, want ErrClosed", err)
	}
	resp := mustGet(t, b, w.URL)
	if !resp.ConnReused || w.conns.Load() != 1 || conn.ConnsOpened() != 1 {
		t.Errorf("reused=%v server conns=%d connector opened=%d: the shared pool was not kept", resp.ConnReused, w.conns.Load(), conn.ConnsOpened())
	}

	// with ConnectorOwner the session closes the shared connector
	owner := newSession(t, nil, session.Config{Connector: conn, ConnectorOwner: true})
	owner.Close()
	if _, err := b.Get(ctxT(t), w.URL); !errors.Is(err, session.ErrClosed) {
		t.Errorf("after the owner closed the connector: err = %v, want ErrClosed", err)
	}
}

// gatedResolver blocks every lookup until gate is closed.
type gatedResolver struct {
	*staticResolver
	gate chan struct{}
}

func (g gatedResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	<-g.gate
	return g.staticResolver.LookupIPAddr(ctx, host)
}

func TestDNSConcurrentDialsShareOneLookup(t *testing.T) {
	w := newWire(t, modes[0], ok)
	_, port, _ := net.SplitHostPort(w.Listener.Addr().String())
	res := gatedResolver{newResolver(map[string][]string{"herd.test": {"127.0.0.1"}}), make(chan struct{})}
	var creating atomic.Int64
	tr := &session.Trace{ConnectionCreateStart: func(session.TraceHost) { creating.Add(1) }}
	s := newSession(t, nil, session.Config{Traces: []*session.Trace{tr},
		ConnectorConfig: session.ConnectorConfig{Resolver: res}})
	const n = 8
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Get(ctxT(t), "http://herd.test:"+port+"/"); err != nil {
				t.Error(err)
			}
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); creating.Load() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d dials started", creating.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
	close(res.gate)
	wg.Wait()
	if got := res.count("herd.test"); got != 1 {
		t.Errorf("%d concurrent dials made %d lookups, want 1", n, got)
	}
}

package session_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawlhq/trawl/session"
)

// wantTimeout checks that err is an *Error reporting Timeout() and naming which.
func wantTimeout(t *testing.T, err error, which string) {
	t.Helper()
	var e *session.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *session.Error", err, err)
	}
	if !e.Timeout() {
		t.Errorf("Timeout() = false for %v", err)
	}
	var te *session.TimeoutError
	if !errors.As(err, &te) || te.Which != which {
		t.Errorf("err = %v, want a %q timeout", err, which)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(err, context.DeadlineExceeded) = false for %v", err)
	}
}

func TestTimeouts(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	block := func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow-head": // no response head until released
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/slow-body": // head and some body, then silence
			rw.Write([]byte("partial"))
			rw.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		default:
			rw.Write([]byte("ok"))
		}
	}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			w := newWire(t, m, block)
			tests := []struct {
				name  string
				cfg   session.Timeouts
				req   *session.Timeouts
				path  string
				which string
			}{
				{"total", session.Timeouts{Total: ms(100)}, nil, "/slow-body", "total"},
				{"sock read head", session.Timeouts{SockRead: ms(100)}, nil, "/slow-head", "sock read"},
				{"sock read body", session.Timeouts{SockRead: ms(100)}, nil, "/slow-body", "sock read"},
				{"per request total", session.Timeouts{}, &session.Timeouts{Total: ms(100)}, "/slow-head", "total"},
				{"per request sock read", session.Timeouts{Total: time.Hour}, &session.Timeouts{SockRead: ms(100)}, "/slow-body", "sock read"},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					s := newSession(t, w, session.Config{Timeouts: tc.cfg})
					_, err := s.Do(ctxT(t), &session.Request{URL: w.URL + tc.path, Timeout: tc.req})
					wantTimeout(t, err, tc.which)
				})
			}
			t.Run("sock read does not fire while data flows", func(t *testing.T) {
				s := newSession(t, w, session.Config{Timeouts: session.Timeouts{SockRead: 5 * time.Second}})
				if resp := mustGet(t, s, w.URL+"/fast"); string(resp.Body) != "ok" {
					t.Errorf("body %q", resp.Body)
				}
			})
		})
	}
}

func TestConnectTimeoutWhileQueued(t *testing.T) {
	release := make(chan struct{})
	w := newWire(t, modes[0], func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			<-release
		}
	})
	s := newSession(t, w, session.Config{ConnectorConfig: session.ConnectorConfig{LimitPerHost: 1}})
	held := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		close(started)
		_, err := s.Get(context.Background(), w.URL+"/hold")
		held <- err
	}()
	<-started
	// wait until the server holds the first request
	for deadline := time.Now().Add(10 * time.Second); w.inflight.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("first request never reached the server")
		}
		time.Sleep(time.Millisecond)
	}
	_, err := s.Do(ctxT(t), &session.Request{URL: w.URL + "/other", Timeout: &session.Timeouts{Connect: 100 * time.Millisecond}})
	wantTimeout(t, err, "connect")
	close(release)
	if err := <-held; err != nil {
		t.Errorf("held request: %v", err)
	}
	if w.reqs.Load() != 1 {
		t.Errorf("server saw %d requests, want only the held one", w.reqs.Load())
	}
}

func TestSockConnectTimeout(t *testing.T) {
	var dials atomic.Int64
	hang := func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		<-ctx.Done() // a SYN that is never answered
		return nil, ctx.Err()
	}
	s := newSession(t, nil, session.Config{
		Timeouts:        session.Timeouts{SockConnect: 100 * time.Millisecond},
		ConnectorConfig: session.ConnectorConfig{DialContext: hang},
	})
	_, err := s.Get(ctxT(t), "http://127.0.0.1:9/")
	wantTimeout(t, err, "sock connect")
	if dials.Load() != 1 {
		t.Errorf("%d dials, want 1", dials.Load())
	}
}

func TestConnectTimeoutDuringHandshake(t *testing.T) {
	// accepts TCP but never answers the TLS ClientHello
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	s := newSession(t, nil, session.Config{Timeouts: session.Timeouts{Connect: 100 * time.Millisecond}})
	_, err = s.Get(ctxT(t), "https://"+ln.Addr().String()+"/")
	wantTimeout(t, err, "connect")
}

func TestCallerDeadlineIsTimeout(t *testing.T) {
	w := newWire(t, modes[0], func(rw http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	s := newSession(t, w, session.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := s.Get(ctx, w.URL)
	var e *session.Error
	if !errors.As(err, &e) || !e.Timeout() || e.URL != w.URL {
		t.Errorf("err = %v, want a timeout *Error naming the URL", err)
	}
}

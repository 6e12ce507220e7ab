package session_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawlhq/trawl/session"
)

func TestTrustEnvAndProxy(t *testing.T) {
	direct := newWire(t, modes[0], func(rw http.ResponseWriter, r *http.Request) { io.WriteString(rw, "direct") })
	proxy := newWire(t, modes[0], func(rw http.ResponseWriter, r *http.Request) {
		// a forward proxy gets the absolute URL in the request line
		io.WriteString(rw, "proxied "+r.RequestURI)
	})
	_, port, _ := net.SplitHostPort(direct.Listener.Addr().String())
	target := "http://target.test:" + port + "/page"
	res := newResolver(map[string][]string{"target.test": {"127.0.0.1"}})
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	tests := []struct {
		name     string
		trustEnv bool
		noProxy  string
		proxy    func(*http.Request) (*url.URL, error)
		want     string
	}{
		{"env ignored by default", false, "", nil, "direct"},
		{"trust env", true, "", nil, "proxied " + target},
		{"trust env, NO_PROXY", true, "target.test", nil, "direct"},
		{"proxy func wins", true, "target.test", func(*http.Request) (*url.URL, error) { return url.Parse(proxy.URL) }, "proxied " + target},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("NO_PROXY", tc.noProxy)
			t.Setenv("no_proxy", tc.noProxy)
			s := newSession(t, nil, session.Config{TrustEnv: tc.trustEnv, Proxy: tc.proxy,
				ConnectorConfig: session.ConnectorConfig{Resolver: res}})
			resp := mustGet(t, s, target)
			if string(resp.Body) != tc.want {
				t.Errorf("body %q, want %q", resp.Body, tc.want)
			}
		})
	}
}

func TestTraceOrderAndCounters(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			w := newWire(t, m, func(rw http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/r" {
					http.Redirect(rw, r, "/ok", http.StatusFound)
					return
				}
				io.WriteString(rw, "body")
			})
			var mu sync.Mutex
			var events []string
			add := func(s string) { mu.Lock(); events = append(events, s); mu.Unlock() }
			tr := &session.Trace{
				RequestStart:          func(e session.TraceRequest) { add("start " + e.URL.Path) },
				RequestEnd:            func(e session.TraceRequestEnd) { add(fmt.Sprintf("end %s %d", e.URL.Path, e.StatusCode)) },
				RequestException:      func(e session.TraceRequestException) { add("exception") },
				Redirect:              func(e session.TraceRedirect) { add("redirect " + e.From.Path + " " + e.To.Path) },
				ConnectionQueuedStart: func(session.TraceHost) { add("queued") },
				ConnectionQueuedEnd:   func(session.TraceHost) { add("dequeued") },
				ConnectionCreateStart: func(session.TraceHost) { add("create") },
				ConnectionCreateEnd: func(e session.TraceConnCreated) {
					if e.Err == nil {
						add("created")
					}
				},
				ConnectionReused: func(session.TraceHost) { add("reused") },
				DNSResolveStart:  func(e session.TraceHost) { add("dns " + e.Host) },
				DNSResolveEnd:    func(e session.TraceDNS) { add("dns done") },
			}
			cfg := session.Config{Traces: []*session.Trace{tr}, ConnectorConfig: session.ConnectorConfig{
				Resolver: newResolver(map[string][]string{"trace.test": {"127.0.0.1"}})}}
			if m.tls {
				cfg.ConnectorConfig.InsecureSkipVerify = true // the certificate names 127.0.0.1, not trace.test
			}
			s := newSession(t, w, cfg)
			base := strings.Replace(w.URL, "127.0.0.1", "trace.test", 1)
			mustGet(t, s, base+"/r")
			_, err := s.Get(ctxT(t), "http://127.0.0.1:1/refused") // nothing listens on port 1
			if err == nil {
				t.Fatal("request to a closed port succeeded")
			}
			want := []string{
				"start /r", "create", "dns trace.test", "dns done", "created", "redirect /r /ok",
				"reused", "end /ok 200",
				"start /refused", "create", "exception",
			}
			mu.Lock()
			defer mu.Unlock()
			if strings.Join(events, "|") != strings.Join(want, "|") {
				t.Errorf("events:\n got %q\nwant %q", events, want)
			}
			st := s.Stats()
			if st.Requests != w.reqs.Load() || st.ConnsOpened != w.conns.Load() || st.ConnsReused != 1 || st.BytesRead < 4 {
				t.Errorf("stats %+v; server saw %d requests on %d connections", st, w.reqs.Load(), w.conns.Load())
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	s := newSession(t, nil, session.Config{})
	tests := []struct {
		url, want string
	}{
		{"", "empty URL"},
		{"::not a url", "invalid URL"},
		{"/relative", "not absolute"},
		{"ftp://example.com/", `unsupported scheme "ftp"`},
		{"file:///etc/passwd", `unsupported scheme "file"`},
		{"http://", "no host"},
		{"http://exa mple.com/", "invalid URL"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			_, err := s.Get(ctxT(t), tc.url)
			var e *session.Error
			if !errors.As(err, &e) || e.Op != "parse" || e.URL != tc.url || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want a parse error for %q containing %q", err, tc.url, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		cfg   session.Config
		field string
	}{
		{session.Config{ConnectorConfig: session.ConnectorConfig{Limit: -1}}, "Limit"},
		{session.Config{ConnectorConfig: session.ConnectorConfig{LimitPerHost: -4}}, "LimitPerHost"},
		{session.Config{ConnectorConfig: session.ConnectorConfig{KeepAliveTimeout: -time.Second}}, "KeepAliveTimeout"},
		{session.Config{ConnectorConfig: session.ConnectorConfig{DNSCacheTTL: -time.Second}}, "DNSCacheTTL"},
		{session.Config{ConnectorConfig: session.ConnectorConfig{LocalAddr: "nope"}}, "LocalAddr"},
		{session.Config{ConnectorConfig: session.ConnectorConfig{Family: 7}}, "Family"},
		{session.Config{Cookies: []*http.Cookie{{Value: "x"}}}, "Cookies[0]"},
	} {
		t.Run(tc.field, func(t *testing.T) {
			if _, err := session.New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("New: err = %v, want one naming %s", err, tc.field)
			}
		})
	}
	if _, err := s.Do(ctxT(t), nil); err == nil {
		t.Error("Do(nil) succeeded")
	}
}

// rawServer answers every connection with fn (no HTTP server in between).
func rawServer(t *testing.T, fn func(c net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				c.Read(buf) // the request head
				fn(c)
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/"
}

func TestBrokenServers(t *testing.T) {
	tests := []struct {
		name, op string
		fn       func(c net.Conn)
	}{
		{"reset before response", "send", func(c net.Conn) {
			c.(*net.TCPConn).SetLinger(0) // close sends RST
		}},
		{"reset mid body", "read", func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial")
			time.Sleep(20 * time.Millisecond) // let the head reach the client first
			c.(*net.TCPConn).SetLinger(0)
		}},
		{"content-length lie", "read", func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
		}},
		{"garbage", "send", func(c net.Conn) { io.WriteString(c, "SMTP ready\r\n\r\n") }},
	}
	s := newSession(t, nil, session.Config{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := rawServer(t, tc.fn)
			_, err := s.Get(ctxT(t), u)
			var e *session.Error
			if !errors.As(err, &e) || e.Op != tc.op || e.URL != u || e.Timeout() {
				t.Errorf("err = %v, want a %q error naming %s", err, tc.op, u)
			}
		})
	}
}

func TestCloseRefusesNewLetsInFlightFinish(t *testing.T) {
	release := make(chan struct{})
	w := newWire(t, modes[0], func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			<-release
		}
		io.WriteString(rw, "done")
	})
	s := newSession(t, w, session.Config{})
	got := make(chan error, 1)
	go func() {
		resp, err := s.Get(context.Background(), w.URL+"/hold")
		if err == nil && string(resp.Body) != "done" {
			err = fmt.Errorf("body %q", resp.Body)
		}
		got <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); w.inflight.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("request never reached the server")
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	_, err := s.Get(ctxT(t), w.URL)
	var e *session.Error
	if !errors.Is(err, session.ErrClosed) || !errors.As(err, &e) || e.Op != "closed" {
		t.Errorf("after Close: err = %v, want ErrClosed", err)
	}
	close(release)
	if err := <-got; err != nil {
		t.Errorf("in-flight request: %v", err)
	}
	// the owned connector closes the connection once the last request is done
	select {
	case <-w.closedCh:
	case <-time.After(10 * time.Second):
		t.Error("connection left open after Close and the last request")
	}
}

func TestProxyTunnelsHTTPS(t *testing.T) {
	target := newWire(t, modes[1], func(rw http.ResponseWriter, r *http.Request) { io.WriteString(rw, "secret over tls") })
	_, port, _ := net.SplitHostPort(target.Listener.Addr().String())
	var connects atomic.Int64
	proxy := newWire(t, modes[0], func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(rw, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		connects.Add(1)
		// the proxy, not the client, resolves the name: example.com is the loopback here
		dst, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", port))
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		defer dst.Close()
		src, _, err := rw.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer src.Close()
		io.WriteString(src, "HTTP/1.1 200 Connection established\r\n\r\n")
		go io.Copy(dst, src)
		io.Copy(src, dst)
	})
	// httptest's certificate is valid for example.com
	u := "https://example.com:" + port + "/"
	proxyURL, _ := url.Parse(proxy.URL)
	t.Setenv("HTTPS_PROXY", proxy.URL)
	t.Setenv("https_proxy", proxy.URL)
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	for _, tc := range []struct {
		name string
		cfg  session.Config
	}{
		{"proxy func", session.Config{Proxy: http.ProxyURL(proxyURL)}},
		{"trust env", session.Config{TrustEnv: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := connects.Load()
			s := newSession(t, target, tc.cfg)
			for i := 0; i < 3; i++ {
				if resp := mustGet(t, s, u); string(resp.Body) != "secret over tls" {
					t.Fatalf("body %q", resp.Body)
				}
			}
			if got := connects.Load() - before; got != 1 {
				t.Errorf("proxy saw %d CONNECTs for 3 requests, want 1 (the tunnel is kept alive)", got)
			}
		})
	}
}

package session_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/trawlhq/trawl/session"
)

func TestCookieSharedAcrossGoroutines(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			w := newWire(t, m, func(rw http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/login":
					http.SetCookie(rw, &http.Cookie{Name: "sid", Value: "abc123", Path: "/"})
				case "/me":
					c, err := r.Cookie("sid")
					if err != nil {
						http.Error(rw, "no cookie", http.StatusUnauthorized)
						return
					}
					rw.Write([]byte(c.Value))
				}
			})
			s := newSession(t, w, session.Config{})
			done := make(chan struct{})
			go func() { defer close(done); mustGet(t, s, w.URL+"/login") }()
			<-done
			var got string
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := s.Get(ctxT(t), w.URL+"/me")
				if err != nil {
					t.Error(err)
					return
				}
				got = string(resp.Body)
			}()
			wg.Wait()
			if got != "abc123" {
				t.Errorf("second goroutine's request carried cookie %q, want abc123", got)
			}
		})
	}
}

func TestCookiesInitialNoneExportImport(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	w := newWire(t, modes[0], func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Cookie"))
		mu.Unlock()
		if r.URL.Path == "/set" {
			http.SetCookie(rw, &http.Cookie{Name: "keep", Value: "v1", Path: "/", MaxAge: 3600})
			http.SetCookie(rw, &http.Cookie{Name: "sess", Value: "v2", Path: "/"})
		}
	})
	last := func() string {
		mu.Lock()
		defer mu.Unlock()
		return seen[len(seen)-1]
	}
	host := strings.TrimPrefix(w.URL, "http://")
	hostname := host[:strings.LastIndexByte(host, ':')]

	t.Run("initial", func(t *testing.T) {
		s := newSession(t, w, session.Config{Cookies: []*http.Cookie{
			{Name: "shared", Value: "1"},
			{Name: "scoped", Value: "2", Domain: hostname},
			{Name: "other", Value: "3", Domain: "other.example"},
		}})
		mustGet(t, s, w.URL+"/")
		got := last()
		for _, want := range []string{"shared=1", "scoped=2"} {
			if !strings.Contains(got, want) {
				t.Errorf("Cookie %q lacks %q", got, want)
			}
		}
		if strings.Contains(got, "other=3") {
			t.Errorf("Cookie %q carries another domain's cookie", got)
		}
	})
	t.Run("none", func(t *testing.T) {
		s := newSession(t, w, session.Config{NoCookies: true, Cookies: []*http.Cookie{{Name: "shared", Value: "1"}}})
		mustGet(t, s, w.URL+"/set")
		mustGet(t, s, w.URL+"/")
		if got := last(); got != "" {
			t.Errorf("cookies off, yet the server saw Cookie %q", got)
		}
		if s.Jar() != nil {
			t.Error("Jar() not nil with cookies off")
		}
		if _, err := s.ExportCookies(); !errors.Is(err, session.ErrNoExport) {
			t.Errorf("ExportCookies with cookies off: %v", err)
		}
	})
	t.Run("export import", func(t *testing.T) {
		a := newSession(t, w, session.Config{})
		mustGet(t, a, w.URL+"/set")
		data, err := a.ExportCookies()
		if err != nil {
			t.Fatal(err)
		}
		b := newSession(t, w, session.Config{})
		if err := b.ImportCookies(data); err != nil {
			t.Fatal(err)
		}
		mustGet(t, b, w.URL+"/")
		got := last()
		if !strings.Contains(got, "keep=v1") || !strings.Contains(got, "sess=v2") {
			t.Errorf("restored session sent Cookie %q, want keep=v1 and sess=v2", got)
		}
		if err := b.ImportCookies([]byte(`{"version":1,"cookies":[{"name":"x","domain":"","path":"/"}]}`)); err == nil {
			t.Error("ImportCookies accepted a cookie without a domain")
		}
	})
}

func TestDefaultAndSkippedHeaders(t *testing.T) {
	var mu sync.Mutex
	var got http.Header
	w := newWire(t, modes[0], func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Header.Clone()
		got.Set("X-Host", r.Host)
		mu.Unlock()
	})
	tests := []struct {
		name string
		cfg  session.Config
		reqH http.Header
		want map[string]string // "" = must be absent
	}{
		{"defaults", session.Config{Header: http.Header{"X-Team": {"trawl"}}}, nil,
			map[string]string{"X-Team": "trawl", "User-Agent": session.DefaultUserAgent, "Accept-Encoding": "gzip, deflate, br, zstd"}},
		{"request overrides", session.Config{Header: http.Header{"X-Team": {"trawl"}}, UserAgent: "bot/1"},
			http.Header{"X-Team": {"mine"}}, map[string]string{"X-Team": "mine", "User-Agent": "bot/1"}},
		{"skip auto", session.Config{SkipAutoHeaders: []string{"user-agent", "Accept-Encoding"}}, nil,
			map[string]string{"User-Agent": "", "Accept-Encoding": ""}},
		{"no decompress", session.Config{NoDecompress: true}, nil, map[string]string{"Accept-Encoding": ""}},
		{"host override", session.Config{}, http.Header{"Host": {"vhost.example"}}, map[string]string{"X-Host": "vhost.example"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(t, w, tc.cfg)
			if _, err := s.Do(ctxT(t), &session.Request{URL: w.URL, Header: tc.reqH}); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			for k, v := range tc.want {
				vals, present := got[k]
				if v == "" && present {
					t.Errorf("%s sent (%q), want absent", k, vals)
				}
				if v != "" && got.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, got.Get(k), v)
				}
			}
		})
	}
	if _, err := session.New(session.Config{SkipAutoHeaders: []string{"Host"}}); err == nil {
		t.Error("SkipAutoHeaders accepted Host")
	}
}

func TestBasicAuthNotSentToAnotherHost(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			var mu sync.Mutex
			auth := map[string]string{}
			record := func(name string) func(http.ResponseWriter, *http.Request) {
				return func(rw http.ResponseWriter, r *http.Request) {
					mu.Lock()
					auth[name+r.URL.Path] = r.Header.Get("Authorization")
					mu.Unlock()
				}
			}
			other := newWire(t, m, record("other"))
			var home *wire
			home = newWire(t, m, func(rw http.ResponseWriter, r *http.Request) {
				record("home")(rw, r)
				switch r.URL.Path {
				case "/same":
					http.Redirect(rw, r, "/landing", http.StatusFound)
				case "/away":
					http.Redirect(rw, r, other.URL+"/landing", http.StatusFound)
				}
			})
			cfg := session.Config{Auth: &session.BasicAuth{User: "u", Password: "p"}}
			if m.tls {
				pool := home.trust()
				pool.AddCert(other.Certificate())
				cfg.ConnectorConfig.RootCAs = pool
			}
			s := newSession(t, home, cfg)
			mustGet(t, s, home.URL+"/same")
			resp := mustGet(t, s, home.URL+"/away")
			want := "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p"))
			mu.Lock()
			defer mu.Unlock()
			for k, v := range map[string]string{"home/same": want, "home/landing": want, "home/away": want, "other/landing": ""} {
				if auth[k] != v {
					t.Errorf("%s: Authorization %q, want %q", k, auth[k], v)
				}
			}
			if len(resp.Redirects) != 1 || resp.Redirects[0].Path != "/away" || resp.URL.Path != "/landing" {
				t.Errorf("Redirects %v URL %v", resp.Redirects, resp.URL)
			}
		})
	}
}

func TestPostJSONPluggableEncoderAndForm(t *testing.T) {
	var mu sync.Mutex
	var body, ctype string
	w := newWire(t, modes[0], func(rw http.ResponseWriter, r *http.Request) {
		b := make([]byte, 1024)
		n, _ := r.Body.Read(b)
		mu.Lock()
		body, ctype = string(b[:n]), r.Header.Get("Content-Type")
		mu.Unlock()
	})
	s := newSession(t, w, session.Config{JSONEncode: func(v any) ([]byte, error) {
		return []byte(`{"custom":true}`), nil
	}})
	if _, err := s.PostJSON(ctxT(t), w.URL, map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if body != `{"custom":true}` || ctype != "application/json" {
		t.Errorf("server got %q (%s), want the custom encoder's output", body, ctype)
	}
	mu.Unlock()
	if _, err := s.PostForm(ctxT(t), w.URL, url.Values{"q": {"a b"}}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if body != "q=a+b" || ctype != "application/x-www-form-urlencoded" {
		t.Errorf("form: server got %q (%s)", body, ctype)
	}
	mu.Unlock()
	failing := newSession(t, w, session.Config{JSONEncode: func(any) ([]byte, error) { return nil, errors.New("boom") }})
	if _, err := failing.PostJSON(ctxT(t), w.URL, 1); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("encoder error not returned: %v", err)
	}
}

func TestHTTPVersion(t *testing.T) {
	var mu sync.Mutex
	var proto string
	w := newWire(t, mode{name: "h2", tls: true, http2: true}, func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proto = r.Proto
		mu.Unlock()
	})
	for _, tc := range []struct {
		v    session.Version
		want string
	}{{session.HTTP11, "HTTP/1.1"}, {session.HTTP2, "HTTP/2.0"}} {
		t.Run(tc.want, func(t *testing.T) {
			s := newSession(t, w, session.Config{ConnectorConfig: session.ConnectorConfig{Version: tc.v}})
			before := w.conns.Load()
			for i := 0; i < 3; i++ {
				resp := mustGet(t, s, w.URL)
				if resp.Proto != tc.want {
					t.Errorf("response proto %s, want %s", resp.Proto, tc.want)
				}
			}
			mu.Lock()
			if proto != tc.want {
				t.Errorf("server saw %s, want %s", proto, tc.want)
			}
			mu.Unlock()
			if got := w.conns.Load() - before; got != 1 {
				t.Errorf("3 requests opened %d connections, want 1", got)
			}
		})
	}
	// HTTP2 against a plain server falls back to HTTP/1.1
	plain := newWire(t, modes[0], ok)
	s := newSession(t, plain, session.Config{ConnectorConfig: session.ConnectorConfig{Version: session.HTTP2}})
	if resp := mustGet(t, s, plain.URL); resp.Proto != "HTTP/1.1" {
		t.Errorf("plain http with HTTP2: %s", resp.Proto)
	}
}

func TestHeadAndMethods(t *testing.T) {
	var mu sync.Mutex
	var methods []string
	w := newWire(t, modes[0], func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		methods = append(methods, r.Method)
		mu.Unlock()
		rw.Header().Set("X-Size", "5")
		rw.Write([]byte("hello"))
	})
	s := newSession(t, w, session.Config{})
	resp, err := s.Head(ctxT(t), w.URL)
	if err != nil || len(resp.Body) != 0 || resp.Header.Get("X-Size") != "5" {
		t.Fatalf("HEAD: err=%v body=%q", err, resp.Body)
	}
	if _, err := s.Do(ctxT(t), &session.Request{Method: "delete", URL: w.URL}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Do(ctxT(t), &session.Request{Method: "BAD METHOD", URL: w.URL}); err == nil {
		t.Error("invalid method accepted")
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(methods, ",") != "HEAD,DELETE" {
		t.Errorf("server saw %v", methods)
	}
}

func TestHTTP2BurstSharesOneConnection(t *testing.T) {
	w := newWire(t, mode{name: "h2", tls: true, http2: true}, ok)
	s := newSession(t, w, session.Config{ConnectorConfig: session.ConnectorConfig{Version: session.HTTP2, LimitPerHost: 4}})
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				resp, err := s.Get(ctxT(t), w.URL)
				if err != nil {
					t.Error(err)
					return
				}
				if resp.Proto != "HTTP/2.0" {
					t.Errorf("proto %s", resp.Proto)
					return
				}
			}
		}()
	}
	wg.Wait()
	// the first request connects alone, so the burst shares one connection
	if w.conns.Load() != 1 || w.maxInflight.Load() > 4 || w.reqs.Load() != 160 {
		t.Errorf("server saw %d connections, %d streams at once, %d requests; want 1, <= 4, 160",
			w.conns.Load(), w.maxInflight.Load(), w.reqs.Load())
	}
	if st := s.Stats(); st.ConnsOpened != w.conns.Load() || st.Requests != 160 {
		t.Errorf("stats %+v, server saw %d connections", st, w.conns.Load())
	}
}

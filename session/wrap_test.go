package session

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

type countingRT struct {
	next  http.RoundTripper
	n     atomic.Int64
	wire  atomic.Value // []byte: the last body as the middleware saw it
	agent atomic.Value // string: the User-Agent the request carried
}

func (c *countingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	c.agent.Store(r.Header.Get("User-Agent"))
	r.Header.Set("X-Wrapped", "yes")
	resp, err := c.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	c.wire.Store(b)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// TestWrapTransport: the middleware sees every hop with the session's headers,
// may add its own, and sees the body as sent on the wire (still gzip); the
// caller still gets the decompressed body.
func TestWrapTransport(t *testing.T) {
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write([]byte("hello, wire"))
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			http.Redirect(w, r, "/end", http.StatusFound)
			return
		}
		if r.Header.Get("X-Wrapped") != "yes" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(zipped.Bytes())
	}))
	defer srv.Close()

	var mw *countingRT
	s, err := New(Config{UserAgent: "wraptest/1", WrapTransport: func(next http.RoundTripper) http.RoundTripper {
		mw = &countingRT{next: next}
		return mw
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	resp, err := s.Get(context.Background(), srv.URL+"/start")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || string(resp.Body) != "hello, wire" {
		t.Fatalf("got %d %q, want 200 %q", resp.StatusCode, resp.Body, "hello, wire")
	}
	if got := mw.n.Load(); got != 2 {
		t.Errorf("middleware saw %d round trips, want 2 (redirect hop + target)", got)
	}
	if got, _ := mw.wire.Load().([]byte); !bytes.Equal(got, zipped.Bytes()) {
		t.Errorf("middleware saw body %q, want the gzip bytes from the wire", got)
	}
	if got, _ := mw.agent.Load().(string); got != "wraptest/1" {
		t.Errorf("middleware saw User-Agent %q, want the session's", got)
	}
}

func TestWrapTransportNil(t *testing.T) {
	_, err := New(Config{WrapTransport: func(http.RoundTripper) http.RoundTripper { return nil }})
	if err == nil {
		t.Fatal("New accepted a WrapTransport returning nil")
	}
}

// TestUserAgent: the agent a session sends, and that UserAgent reports, is
// the Header's, else Config.UserAgent, else the default.
func TestUserAgent(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("User-Agent"))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"default", Config{}, DefaultUserAgent},
		{"config", Config{UserAgent: "a/1"}, "a/1"},
		{"header wins", Config{UserAgent: "a/1", Header: http.Header{"user-agent": {"b/2"}}}, "b/2"},
		{"skipped", Config{SkipAutoHeaders: []string{"User-Agent"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if ua := s.UserAgent(); ua != tc.want {
				t.Errorf("UserAgent() = %q, want %q", ua, tc.want)
			}
			resp, err := s.Get(context.Background(), srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Release()
			if ua, _ := got.Load().(string); ua != tc.want {
				t.Errorf("server saw User-Agent %q, want %q", ua, tc.want)
			}
		})
	}
}

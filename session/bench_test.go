package session_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/trawlhq/trawl/session"
)

// BenchmarkParallelGet compares parallel GETs (8 goroutines per core) through a
// session with a default http.Client against a loopback server, reporting
// requests/s and the connections the server accepted.
func BenchmarkParallelGet(b *testing.B) {
	body := make([]byte, 2048)
	ctx := context.Background()
	run := func(b *testing.B, get func(url string) error) {
		w := newWire(b, modes[0], func(rw http.ResponseWriter, r *http.Request) { rw.Write(body) })
		b.SetParallelism(8)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := get(w.URL); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		b.ReportMetric(float64(w.conns.Load()), "conns")
	}
	sessionGet := func(s *session.Session) func(string) error {
		return func(url string) error {
			resp, err := s.Get(ctx, url)
			if err == nil {
				resp.Release()
			}
			return err
		}
	}
	b.Run("session", func(b *testing.B) {
		run(b, sessionGet(newSession(b, nil, session.Config{})))
	})
	b.Run("session-perhost4", func(b *testing.B) {
		run(b, sessionGet(newSession(b, nil, session.Config{ConnectorConfig: session.ConnectorConfig{LimitPerHost: 4}})))
	})
	b.Run("http.Client", func(b *testing.B) {
		client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		defer client.CloseIdleConnections()
		run(b, func(url string) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			return err
		})
	})
}

// BenchmarkGet measures one round trip at a time (the session's own overhead over
// a default http.Client: header merging, limits, tracing, pooled body buffer).
func BenchmarkGet(b *testing.B) {
	w := newWire(b, modes[0], func(rw http.ResponseWriter, r *http.Request) { rw.Write(make([]byte, 2048)) })
	ctx := context.Background()
	b.Run("session", func(b *testing.B) {
		s := newSession(b, nil, session.Config{})
		b.ReportAllocs()
		for b.Loop() {
			resp, err := s.Get(ctx, w.URL)
			if err != nil {
				b.Fatal(err)
			}
			resp.Release()
		}
	})
	b.Run("http.Client", func(b *testing.B) {
		client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		defer client.CloseIdleConnections()
		b.ReportAllocs()
		for b.Loop() {
			resp, err := client.Get(w.URL)
			if err != nil {
				b.Fatal(err)
			}
			io.ReadAll(resp.Body)
			resp.Body.Close()
		}
	})
}

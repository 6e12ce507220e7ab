package session_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/trawlhq/trawl/session"
)

// TestStatusCountsAndResponseHeaders checks that every response head is
// counted by status, redirect hops included, that requests without a
// response are counted as Failed, and that ResponseHeaders fires per hop.
func TestStatusCountsAndResponseHeaders(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		switch r.URL.Path {
		case "/old":
			http.Redirect(w, r, "/new", http.StatusFound)
		case "/missing":
			http.NotFound(w, r)
		case "/odd":
			w.WriteHeader(299)
		default:
			w.Write([]byte("ok"))
		}
	}))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/"
	ln.Close() // nothing listens there: connection refused

	var mu sync.Mutex
	var hops []int
	s, err := session.New(session.Config{Traces: []*session.Trace{{
		ResponseHeaders: func(e session.TraceResponse) {
			mu.Lock()
			hops = append(hops, e.StatusCode)
			mu.Unlock()
			if e.Elapsed <= 0 || e.URL == nil {
				t.Errorf("ResponseHeaders %+v: no elapsed time or URL", e)
			}
		},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, p := range []string{"/old", "/missing", "/odd", "/"} {
		resp, err := s.Get(context.Background(), srv.URL+p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Release()
	}
	if _, err := s.Get(context.Background(), closed); err == nil {
		t.Fatal("a closed port answered")
	}
	st := s.Stats()
	if st.Responses != served.Load() || st.Responses != 5 || st.Failed != 1 {
		t.Errorf("Responses %d, Failed %d; want %d (what the server answered) and 1", st.Responses, st.Failed, served.Load())
	}
	got := map[int]int64{}
	s.StatusCounts().Range(func(code int, n int64) { got[code] = n })
	want := map[int]int64{302: 1, 200: 2, 404: 1, 299: 1}
	if len(got) != len(want) {
		t.Errorf("StatusCounts = %v; want %v", got, want)
	}
	for code, n := range want {
		if got[code] != n {
			t.Errorf("StatusCounts = %v; want %v", got, want)
			break
		}
	}
	if len(hops) != 5 || hops[0] != 302 || hops[1] != 200 {
		t.Errorf("ResponseHeaders saw %v; want 5 hops starting 302, 200", hops)
	}
}

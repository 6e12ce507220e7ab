package crawler

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trawlhq/trawl/session"
)

func TestRedirects(t *testing.T) {
	other := newSite(t, func(w http.ResponseWriter, r *http.Request) { html(w) })
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	s := newSite(t, nil)
	s.handle = func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/robots.txt":
			_, _ = w.Write([]byte("User-agent: *\nDisallow: /secret\n"))
		case p == "/chain":
			http.Redirect(w, r, "/chain2", http.StatusMovedPermanently)
		case p == "/chain2":
			http.Redirect(w, r, s.URL+"/final", http.StatusFound)
		case p == "/final", p == "/secret":
			html(w)
		case p == "/loop1":
			http.Redirect(w, r, "/loop2", http.StatusFound)
		case p == "/loop2":
			http.Redirect(w, r, "/loop1", http.StatusFound)
		case strings.HasPrefix(p, "/many/"):
			i, _ := strconv.Atoi(strings.TrimPrefix(p, "/many/"))
			http.Redirect(w, r, "/many/"+strconv.Itoa(i+1), http.StatusFound)
		case p == "/off":
			http.Redirect(w, r, otherURL+"/x", http.StatusFound)
		case p == "/tosecret":
			http.Redirect(w, r, "/secret", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}
	for _, tc := range []struct {
		path     string
		wantErr  error
		wantMsg  string
		status   int
		final    string
		maxHits  map[string]int // server-side hits per path
		maxRedir int
	}{
		{path: "/chain", status: 200, final: "/final", maxHits: map[string]int{"/chain": 1, "/chain2": 1, "/final": 1}},
		{path: "/loop1", wantErr: ErrRedirectLoop, wantMsg: "redirect loop", maxHits: map[string]int{"/loop1": 1, "/loop2": 1}},
		{path: "/many/0", wantErr: ErrTooManyRedirects, wantMsg: "too many redirects", maxRedir: 3,
			maxHits: map[string]int{"/many/0": 1, "/many/3": 1, "/many/4": 0}},
		{path: "/off", wantErr: ErrOffScopeRedirect, wantMsg: "out of scope", maxHits: map[string]int{"/off": 1}},
		{path: "/tosecret", wantErr: ErrRobots, wantMsg: "robots: disallowed", maxHits: map[string]int{"/tosecret": 1, "/secret": 0}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			before := s.pageHits()
			sc := sessionConfig()
			sc.MaxRedirects = tc.maxRedir
			r := crawlSession(t, Config{Retries: -1}, sc, s.URL+tc.path)
			recs := r.col.records()
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			rec := recs[0]
			if tc.wantErr == nil {
				if rec.Error != "" || rec.Status != tc.status || rec.FinalURL != s.URL+tc.final {
					t.Errorf("record status %d final %q error %q", rec.Status, rec.FinalURL, rec.Error)
				}
			} else if !strings.Contains(rec.Error, tc.wantMsg) {
				t.Errorf("error %q, want it to say %q", rec.Error, tc.wantMsg)
			}
			after := s.pageHits()
			for p, want := range tc.maxHits {
				if got := after[p] - before[p]; got != want {
					t.Errorf("%s fetched %d times, want %d", p, got, want)
				}
			}
		})
	}
	if n := len(other.pageHits()); n != 0 {
		t.Errorf("the off-scope host was fetched %d times", n)
	}
}

// TestRedirectErrorsAreSentinels: Page.Err of refused redirects matches
// the exported errors.
func TestRedirectErrorsAreSentinels(t *testing.T) {
	st, _ := Config{IgnoreRobots: true}.resolve()
	cr := &Crawler{s: st, scope: scope{s: st, hosts: map[string]struct{}{"a.com": {}}}}
	rd := redirectCheck{c: cr, hops: []string{"http://a.com/"}}
	if err := rd.refuse(t.Context(), mustURL(t, "http://b.com/")); !errors.Is(err, ErrOffScopeRedirect) {
		t.Errorf("off scope: %v", err)
	}
	if err := rd.refuse(t.Context(), mustURL(t, "http://a.com/")); !errors.Is(err, ErrRedirectLoop) {
		t.Errorf("loop: %v", err)
	}
}

// TestMaxRedirectsOneHome: the session's MaxRedirects is the crawl's one
// redirect limit. A session allowing 20 hops follows a 15-hop chain (the
// crawler used to cut it at its own default of 10), one allowing 3 stops
// a 5-hop chain with ErrTooManyRedirects, and a session that follows none
// records the 3xx response itself.
func TestMaxRedirectsOneHome(t *testing.T) {
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
		switch {
		case err != nil:
			http.NotFound(w, r)
		case i > 0:
			http.Redirect(w, r, "/hop/"+strconv.Itoa(i-1), http.StatusFound)
		default:
			html(w)
		}
	})
	for _, tc := range []struct {
		max, hops int
		status    int
		err       error
	}{
		{20, 15, 200, nil},
		{3, 5, 0, ErrTooManyRedirects},
		{-1, 2, 302, nil},
	} {
		t.Run(fmt.Sprintf("max %d, %d hops", tc.max, tc.hops), func(t *testing.T) {
			sc := sessionConfig()
			sc.MaxRedirects = tc.max
			r := crawlSession(t, Config{Retries: -1, IgnoreRobots: true, MaxDepth: SeedsOnly}, sc, s.URL+"/hop/"+strconv.Itoa(tc.hops))
			recs := r.col.records()
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			rec := recs[0]
			if rec.Status != tc.status {
				t.Errorf("status %d, want %d (error %q)", rec.Status, tc.status, rec.Error)
			}
			if tc.err == nil && rec.Error != "" {
				t.Errorf("error %q, want none", rec.Error)
			}
			if tc.err != nil && !strings.Contains(rec.Error, "too many redirects") {
				t.Errorf("error %q, want too many redirects", rec.Error)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	type step struct {
		status     int
		retryAfter string
	}
	for _, tc := range []struct {
		name     string
		steps    []step // responses in order; the last repeats
		cfg      Config
		requests int
		status   int
		wantMsg  string
		minGaps  []time.Duration // lower bounds of the gaps between attempts
	}{
		{name: "503 then ok", steps: []step{{503, ""}, {503, ""}, {200, ""}},
			cfg: Config{RetryBackoff: 80 * time.Millisecond}, requests: 3, status: 200,
			minGaps: []time.Duration{40 * time.Millisecond, 80 * time.Millisecond}},
		{name: "429 with Retry-After seconds", steps: []step{{429, "1"}, {200, ""}},
			requests: 2, status: 200, minGaps: []time.Duration{900 * time.Millisecond}},
		{name: "Retry-After capped", steps: []step{{503, "3600"}, {200, ""}},
			cfg: Config{MaxRetryAfter: 50 * time.Millisecond}, requests: 2, status: 200},
		{name: "every retryable status", steps: []step{{500, ""}, {502, ""}, {503, ""}, {504, ""}, {429, ""}, {200, ""}},
			cfg: Config{Retries: 5}, requests: 6, status: 200},
		{name: "exhausted: one error record", steps: []step{{500, ""}},
			requests: 3, status: 500, wantMsg: "retries exhausted: status 500 after 3 attempts"},
		{name: "no retries", steps: []step{{503, ""}},
			cfg: Config{Retries: -1}, requests: 1, status: 503, wantMsg: "retries exhausted"},
		{name: "404 is not retried", steps: []step{{404, ""}},
			requests: 1, status: 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			n := 0
			s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/" {
					http.NotFound(w, r)
					return
				}
				mu.Lock()
				st := tc.steps[min(n, len(tc.steps)-1)]
				n++
				mu.Unlock()
				if st.retryAfter != "" {
					w.Header().Set("Retry-After", st.retryAfter)
				}
				w.WriteHeader(st.status)
				_, _ = w.Write([]byte("x"))
			})
			cfg := tc.cfg
			cfg.IgnoreRobots = true
			if cfg.RetryBackoff == 0 {
				cfg.RetryBackoff = 5 * time.Millisecond
			}
			r := crawl(t, cfg, s.URL+"/")
			starts := s.pageStarts()
			if len(starts) != tc.requests {
				t.Fatalf("%d requests, want %d", len(starts), tc.requests)
			}
			for i, g := range tc.minGaps {
				if d := starts[i+1].Sub(starts[i]); d < g {
					t.Errorf("gap before attempt %d: %v, want >= %v", i+2, d, g)
				}
			}
			recs := r.col.records()
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			if recs[0].Status != tc.status {
				t.Errorf("status %d, want %d", recs[0].Status, tc.status)
			}
			if tc.wantMsg == "" && recs[0].Error != "" {
				t.Errorf("error %q", recs[0].Error)
			}
			if !strings.Contains(recs[0].Error, tc.wantMsg) {
				t.Errorf("error %q, want %q", recs[0].Error, tc.wantMsg)
			}
			if st := r.c.Stats(); st.Retries != int64(tc.requests-1) {
				t.Errorf("Stats.Retries %d, want %d", st.Retries, tc.requests-1)
			}
		})
	}
}

// TestRetryConnectionErrors: timeouts and dropped connections are retried
// and the final record names the cause.
func TestRetryConnectionErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
		wantMsg string
	}{
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		}, "timeout after 3 attempts"},
		{"connection dropped", func(w http.ResponseWriter, r *http.Request) {
			hj, _ := w.(http.Hijacker)
			conn, _, err := hj.Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}, "fetch failed after 3 attempts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, tc.handler)
			sc := sessionConfig()
			sc.Timeouts.Total = 150 * time.Millisecond
			r := newRig(t, Config{IgnoreRobots: true}, sc)
			if err := r.c.Run(t.Context(), s.URL+"/"); err != nil {
				t.Fatal(err)
			}
			if n := s.count("/"); n != 3 {
				t.Errorf("%d requests, want 3 (1 + 2 retries)", n)
			}
			recs := r.col.records()
			if len(recs) != 1 || !strings.Contains(recs[0].Error, tc.wantMsg) {
				t.Fatalf("records %+v, want one with %q", recs, tc.wantMsg)
			}
		})
	}
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{" 0 ", 0, true},
		{"Wed, 25 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Wed, 25 Nov 2026 11:00:00 GMT", 0, true}, // in the past
		{"-5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
		{"99999999999999999999", 0, false},
	} {
		got, ok := retryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	s := &settings{Config: Config{Now: func() time.Time { return now }, MaxRetryAfter: time.Minute}}
	h := http.Header{"Retry-After": {"Wed, 25 Nov 2026 13:00:00 GMT"}}
	if d := s.retryDelay(0, h); d != time.Minute {
		t.Errorf("retryDelay with a far date = %v, want the 1m cap", d)
	}
}

func TestBackoff(t *testing.T) {
	s := &settings{Config: Config{RetryBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}}
	for attempt, want := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		want *= time.Millisecond
		if attempt >= 5 {
			want = time.Second
		}
		for range 50 {
			d := s.backoff(attempt)
			if d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}

func TestRetryableErr(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&session.Error{Op: "send", Err: errors.New("connection refused")}, true},
		{&session.Error{Op: "read", Err: errors.New("unexpected EOF")}, true},
		{&session.Error{Op: "parse", Err: errors.New("bad")}, false},
		{&session.Error{Op: "redirect", Err: session.ErrTooManyRedirects}, false},
		{&session.Error{Op: "closed", Err: session.ErrClosed}, false},
		{&session.Error{Op: "redirect", Err: &session.TimeoutError{Which: "total"}}, true},
		{errors.New("other"), false},
	} {
		if got := retryableErr(tc.err); got != tc.want {
			t.Errorf("retryableErr(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestEveryURLOneRecord: whatever goes wrong with some URLs (server
// errors, dropped connections, timeouts, redirect loops, robots, binary
// and truncated bodies, malformed HTML), the crawl goes on and every URL
// gets exactly one record.
func TestEveryURLOneRecord(t *testing.T) {
	paths := []string{"/ok1", "/500", "/drop", "/slow", "/loop", "/denied", "/bin", "/huge", "/bad-html", "/404", "/ok2"}
	s := newSite(t, nil)
	s.handle = func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			_, _ = w.Write([]byte("User-agent: *\nDisallow: /denied\n"))
		case "/":
			html(w, paths...)
		case "/ok1", "/ok2":
			html(w)
		case "/500":
			w.WriteHeader(500)
		case "/drop":
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
				}
			}
		case "/slow":
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/bin":
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write([]byte{0, 1, 2, 0xff, 0xfe})
		case "/huge":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<a href=/ok1>" + strings.Repeat("x", 64<<10)))
		case "/bad-html":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<a href='/ok2'<<<>\x00<a href=\"http://[::1\">x</a><html></html></html>junk"))
		default:
			http.NotFound(w, r)
		}
	}
	sc := sessionConfig()
	sc.Timeouts.Total = 200 * time.Millisecond
	sc.MaxBodySize = 16 << 10
	r := newRig(t, Config{Workers: 8}, sc)
	if err := r.c.Run(t.Context(), s.URL+"/"); err != nil {
		t.Fatalf("Run: %v", err)
	}
	recs := r.col.byURL(t)
	if len(recs) != len(paths)+1 {
		t.Errorf("%d records, want %d", len(recs), len(paths)+1)
	}
	wantErr := map[string]string{
		"/500": "retries exhausted", "/drop": "fetch failed", "/slow": "timeout",
		"/loop": "redirect loop", "/denied": "robots",
	}
	for _, p := range paths {
		rec, ok := recs[s.URL+p]
		if !ok {
			t.Errorf("%s: no record", p)
			continue
		}
		if want := wantErr[p]; want != "" {
			if !strings.Contains(rec.Error, want) {
				t.Errorf("%s: error %q, want %q", p, rec.Error, want)
			}
		} else if rec.Error != "" {
			t.Errorf("%s: unexpected error %q", p, rec.Error)
		}
	}
	if rec := recs[s.URL+"/huge"]; !rec.Truncated {
		t.Errorf("/huge not marked truncated: %+v", rec)
	}
}

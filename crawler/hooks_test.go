package crawler

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/memory"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// TestFollow: the per-link decision sees the page (status, URL) and the
// link (URL, tag, text), and serves the three classic policies.
func TestFollow(t *testing.T) {
	other := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/x":
			html(w, "/y")
		case "/y":
			html(w)
		default:
			http.NotFound(w, r)
		}
	})
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, `<a href="/docs/1"> The  docs </a><a href="/blog/1">blog</a><a href="/missing">?</a><a href="%s/x">elsewhere</a>`, otherURL)
		case "/docs/1":
			html(w, "/docs/2")
		case "/blog/1":
			html(w, "/blog/2")
		case "/missing":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `<a href="/from-404">broken</a>`)
		case "/docs/2", "/blog/2", "/from-404":
			html(w)
		default:
			http.NotFound(w, r)
		}
	})
	var mu sync.Mutex
	texts := map[string]string{}
	for _, tc := range []struct {
		name    string
		cfg     Config
		fetched []string // paths of s, then "other:"+paths of other
		not     []string
	}{
		{"error pages not expanded", Config{Follow: func(from *pipeline.Page, l pipeline.Link) bool {
			mu.Lock()
			texts[strings.TrimPrefix(l.URL, s.URL)] = l.Tag + ":" + l.Text
			mu.Unlock()
			return from.Status < 400
		}}, []string{"/", "/docs/1", "/docs/2", "/blog/2", "/missing"}, []string{"/from-404", "other:/x"}},
		{"only /docs/", Config{Follow: func(_ *pipeline.Page, l pipeline.Link) bool {
			return strings.Contains(l.URL, "/docs/")
		}}, []string{"/", "/docs/1", "/docs/2"}, []string{"/blog/1", "/missing"}},
		{"off-site links checked once, not expanded", Config{AllowDomains: []string{"*"}, Follow: func(from *pipeline.Page, _ pipeline.Link) bool {
			return strings.HasPrefix(from.URL, s.URL+"/")
		}}, []string{"/", "/docs/2", "/from-404", "other:/x"}, []string{"other:/y"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, otherBefore := s.pageHits(), other.pageHits()
			crawl(t, tc.cfg, s.URL+"/")
			after, otherAfter := s.pageHits(), other.pageHits()
			hits := func(p string) int {
				if q, ok := strings.CutPrefix(p, "other:"); ok {
					return otherAfter[q] - otherBefore[q]
				}
				return after[p] - before[p]
			}
			for _, p := range tc.fetched {
				if n := hits(p); n != 1 {
					t.Errorf("%s fetched %d times, want 1", p, n)
				}
			}
			for _, p := range tc.not {
				if n := hits(p); n != 0 {
					t.Errorf("%s fetched %d times, want 0", p, n)
				}
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if got := texts["/docs/1"]; got != "a:The docs" {
		t.Errorf("Follow saw the /docs/1 link as %q, want tag a, text %q", got, "The docs")
	}
}

// TestBeforeRequest: the hook sets and removes headers per request and
// vetoes URLs, which become records with a clear error and are not
// fetched.
func TestBeforeRequest(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]http.Header{}
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.Header.Clone()
		mu.Unlock()
		switch r.URL.Path {
		case "/":
			html(w, "/public", "/admin")
		case "/public", "/admin":
			html(w)
		default:
			http.NotFound(w, r)
		}
	})
	sc := sessionConfig()
	sc.Header = http.Header{"Authorization": {"Bearer s3cret"}, "X-Default": {"d"}}
	r := crawlSession(t, Config{BeforeRequest: func(_ context.Context, r *Request) error {
		if strings.HasSuffix(r.URL, "/admin") {
			return errors.New("no admin pages")
		}
		r.Header.Set("X-Depth", strconv.Itoa(r.Depth))
		if strings.HasSuffix(r.URL, "/public") {
			r.Remove("Authorization")
		}
		return nil
	}}, sc, s.URL+"/")
	mu.Lock()
	defer mu.Unlock()
	if h := seen["/"]; h.Get("X-Depth") != "0" || h.Get("Authorization") == "" || h.Get("X-Default") != "d" {
		t.Errorf("/ sent with %v, want X-Depth 0 and the session's defaults", h)
	}
	if h := seen["/public"]; h.Get("X-Depth") != "1" || h.Get("Authorization") != "" || h.Get("X-Default") != "d" {
		t.Errorf("/public sent with %v, want X-Depth 1, no Authorization, X-Default", h)
	}
	if _, ok := seen["/admin"]; ok {
		t.Error("a vetoed URL was fetched")
	}
	rec := r.col.byURL(t)[s.URL+"/admin"]
	if !strings.Contains(rec.Error, "request vetoed: no admin pages") || rec.Status != 0 {
		t.Errorf("vetoed record: status %d error %q", rec.Status, rec.Error)
	}
}

// TestAfterResponseRelogin: the hook sees members' pages redirected to
// /login (the session expired, or never logged in), logs in again with
// the crawl's session and asks for the page once more; every page ends up
// fetched logged in.
func TestAfterResponseRelogin(t *testing.T) {
	var mu sync.Mutex
	token, served, logins := "", 0, 0
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.URL.Path == "/login" && r.Method == http.MethodPost:
			logins++
			token = "t" + strconv.Itoa(logins)
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: token, Path: "/"})
		case r.URL.Path == "/login":
			html(w) // the login form
		case strings.HasPrefix(r.URL.Path, "/members/"):
			if c, err := r.Cookie("sid"); err != nil || c.Value != token || token == "" {
				http.Redirect(w, r, "/login", http.StatusFound)
				return
			}
			if served++; served%4 == 0 {
				token = "" // the session expires every fourth page
			}
			i, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/members/"))
			var links []string
			for _, j := range []int{2*i + 1, 2*i + 2} {
				if j < 15 {
					links = append(links, "/members/"+strconv.Itoa(j))
				}
			}
			html(w, links...)
		default:
			http.NotFound(w, r)
		}
	})
	var loginMu sync.Mutex
	r := crawl(t, Config{Workers: 1, AfterResponse: func(ctx context.Context, sess *session.Session, r *Response) error {
		if !strings.HasSuffix(r.FinalURL, "/login") {
			return nil
		}
		loginMu.Lock()
		defer loginMu.Unlock()
		resp, err := sess.PostForm(ctx, s.URL+"/login", map[string][]string{"user": {"ann"}})
		if err != nil {
			return err
		}
		resp.Release()
		return ErrRetry
	}}, s.URL+"/members/0")
	recs := r.col.records()
	if len(recs) != 15 {
		for _, rec := range recs {
			t.Log(rec.URL, rec.Status, rec.Error, rec.Links)
		}
		t.Fatalf("%d records, want 15", len(recs))
	}
	for _, rec := range recs {
		if rec.Error != "" || rec.Status != 200 || !strings.Contains(rec.FinalURL, "/members/") {
			t.Errorf("%s: status %d final %s error %q", rec.URL, rec.Status, rec.FinalURL, rec.Error)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if logins < 2 {
		t.Errorf("%d logins, want at least 2 (the first, then after an expiry)", logins)
	}
}

// countingTransport is transport middleware counting round trips.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// TestWrapTransportCrawl: session.Config.WrapTransport is the crawl's
// transport hook. A wrapped transport sees every request of the crawl,
// robots.txt included, and the session keeps its per-host connection
// limit, its decompression (links are read from gzip bodies) and its
// counters (which the crawler's Stats report).
func TestWrapTransportCrawl(t *testing.T) {
	const n = 40
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/p/"))
		if err != nil || i >= n {
			http.NotFound(w, r)
			return
		}
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			http.Error(w, "gzip only", http.StatusNotAcceptable)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		for _, j := range []int{2*i + 1, 2*i + 2} {
			if j < n {
				fmt.Fprintf(zw, `<a href="/p/%d">%d</a>`, j, j)
			}
		}
		zw.Close()
	})
	var mw *countingTransport
	sc := sessionConfig()
	sc.ConnectorConfig.LimitPerHost = 2
	sc.WrapTransport = func(next http.RoundTripper) http.RoundTripper {
		mw = &countingTransport{next: next}
		return mw
	}
	r := crawlSession(t, Config{Workers: 16, PerHost: 8}, sc, s.URL+"/p/0")
	if got := r.col.count(); got != n {
		t.Fatalf("%d records, want %d (links not read from the gzip bodies?)", got, n)
	}
	if m := s.maxInFlight.Load(); m > 2 {
		t.Errorf("server saw %d requests at once, want at most the session's LimitPerHost 2", m)
	}
	hits := 0
	for _, h := range s.pageHits() {
		hits += h
	}
	hits += s.count("/robots.txt")
	st, ss := r.c.Stats(), r.sess.Stats()
	if got := mw.n.Load(); got != int64(hits) || ss.Requests != int64(hits) {
		t.Errorf("middleware saw %d round trips, session counted %d, server %d", got, ss.Requests, hits)
	}
	if st.ConnsOpened == 0 || st.ConnsOpened > 2 || st.ConnsOpened+st.ConnsReused != int64(hits) {
		t.Errorf("crawler stats: %d connections opened, %d reused, for %d requests", st.ConnsOpened, st.ConnsReused, hits)
	}
}

// faultyFrontier is a memory frontier whose link pushes (depth > 0) fail,
// and which counts Acks and Stats calls.
type faultyFrontier struct {
	*memory.Memory
	acks, stats atomic.Int64
}

func (f *faultyFrontier) Push(ctx context.Context, es ...frontier.Entry) (int, error) {
	if len(es) > 0 && es[0].Depth > 0 {
		return 0, errors.New("disk full")
	}
	return f.Memory.Push(ctx, es...)
}

func (f *faultyFrontier) Ack(ctx context.Context, l *frontier.Lease) error {
	f.acks.Add(1)
	return f.Memory.Ack(ctx, l)
}

func (f *faultyFrontier) Stats(ctx context.Context) (frontier.Stats, error) {
	f.stats.Add(1)
	return f.Memory.Stats(ctx)
}

// TestPushFailureNoAck: when a page's links cannot be pushed the crawl
// stops with the error and the page is not acknowledged, so a persistent
// frontier would hand it out again. Crawler.Stats does no frontier I/O.
func TestPushFailureNoAck(t *testing.T) {
	s := fanSite(t, 3, 0, "")
	f := &faultyFrontier{Memory: newMemory(t)}
	sess, err := session.New(sessionConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	c, err := New(Config{IgnoreRobots: true}, sess, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Run(t.Context(), s.URL+"/p/0")
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Run: %v, want the push error", err)
	}
	if n := f.acks.Load(); n != 0 {
		t.Errorf("%d acks, want none: the page's links were not pushed", n)
	}
	before := f.stats.Load()
	for range 10 {
		c.Stats()
	}
	if n := f.stats.Load() - before; n != 0 {
		t.Errorf("Crawler.Stats asked the frontier %d times, want 0", n)
	}
}

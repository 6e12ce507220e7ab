package render_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/crawler/render"
	"github.com/trawlhq/trawl/frontier/memory"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// needBrowser skips the test when no Chromium is installed, except in CI
// (CI=true), where .ci/run installs one and its absence is a failure.
func needBrowser(t testing.TB) {
	t.Helper()
	if _, err := render.FindBrowser(""); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI: %v", err)
		}
		t.Skipf("no browser: %v", err)
	}
}

// jsSite is a site whose links and product fields exist only after its
// script ran: every page is an empty shell that loads /app.js, which
// fetch()es /nav.json (only with the session's cookie) and builds the
// navigation with document.createElement('a'), then fills the product
// fields from /api/product. It counts requests per path, the requests in
// flight at once, and the user agents it saw.
type jsSite struct {
	pages    int
	latency  time.Duration
	mu       sync.Mutex
	hits     map[string]int
	agents   map[string]int
	inFlight atomic.Int64
	maxIn    atomic.Int64
}

func newJSSite(pages int, latency time.Duration) *jsSite {
	return &jsSite{pages: pages, latency: latency, hits: map[string]int{}, agents: map[string]int{}}
}

const shell = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>%s</title><script src="/app.js"></script></head>
<body><nav id="nav"></nav><img src="/logo.png"><h1 class="name"></h1><span class="price"></span></body></html>`

const appJS = `
(async function () {
  const r = await fetch('/nav.json');
  if (!r.ok) { return; }
  const nav = await r.json();
  const box = document.getElementById('nav');
  for (const href of nav.links) {
    const a = document.createElement('a');
    a.href = href;
    a.textContent = href;
    box.appendChild(a);
  }
  const id = location.pathname === '/' ? 'home' : location.pathname.split('/').pop();
  const p = await (await fetch('/api/product?id=' + id)).json();
  document.querySelector('.name').textContent = p.name;
  document.querySelector('.price').textContent = p.price;
  const s = document.createElement('script');
  s.src = '/secret.js';
  document.head.appendChild(s);
})();
`

func (s *jsSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		m := s.maxIn.Load()
		if n <= m || s.maxIn.CompareAndSwap(m, n) {
			break
		}
	}
	s.mu.Lock()
	s.hits[r.URL.Path]++
	s.agents[r.UserAgent()]++
	s.mu.Unlock()
	if s.latency > 0 {
		time.Sleep(s.latency) // the server's own latency, not politeness
	}
	switch {
	case r.URL.Path == "/robots.txt":
		fmt.Fprint(w, "User-agent: *\nDisallow: /secret.js\nDisallow: /hidden\n")
	case r.URL.Path == "/app.js":
		w.Header().Set("Content-Type", "application/javascript")
		fmt.Fprint(w, appJS)
	case r.URL.Path == "/secret.js":
		w.Header().Set("Content-Type", "application/javascript")
		fmt.Fprint(w, `var a = document.createElement('a'); a.href = '/hidden'; document.body.appendChild(a);`)
	case r.URL.Path == "/nav.json":
		if c, err := r.Cookie("visitor"); err != nil || c.Value != "42" {
			http.Error(w, "no cookie", http.StatusForbidden)
			return
		}
		var links []string
		for i := range s.pages {
			links = append(links, fmt.Sprintf("/p/%d", i))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"links":["%s"]}`, strings.Join(links, `","`))
	case r.URL.Path == "/api/product":
		id := r.URL.Query().Get("id")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"name":"Widget %s","price":"%s.99"}`, id, strings.TrimPrefix(id, "home"))
	case r.URL.Path == "/" || strings.HasPrefix(r.URL.Path, "/p/") || r.URL.Path == "/hidden":
		http.SetCookie(w, &http.Cookie{Name: "visitor", Value: "42", Path: "/"})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, shell, r.URL.Path)
	default:
		http.NotFound(w, r)
	}
}

func (s *jsSite) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// crawl runs a crawl of srv with an optional renderer and returns the
// records by URL path.
func crawl(t *testing.T, srv *httptest.Server, r crawler.Renderer, perHost int, extraSeeds ...string) map[string]pipeline.Record {
	t.Helper()
	sess, err := session.New(session.Config{
		UserAgent:       "rendertest/1.0",
		ConnectorConfig: session.ConnectorConfig{LimitPerHost: perHost},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	sel, err := pipeline.Select(map[string]string{"name": "h1.name", "price": ".price"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	recs := map[string]pipeline.Record{}
	collect := pipeline.StageFunc(func(ctx context.Context, p *pipeline.Page) error {
		rec := p.Record()
		mu.Lock()
		recs[strings.TrimPrefix(rec.URL, srv.URL)] = rec
		mu.Unlock()
		return nil
	})
	pl, err := pipeline.New(pipeline.Config{Stages: []pipeline.Stage{sel, collect}, RobotsAgent: "rendertest"})
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	c, err := crawler.New(crawler.Config{Workers: 8, PerHost: perHost, Renderer: r, UserAgent: "rendertest/1.0"},
		sess, memory.New(memory.Config{}), pl)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	seeds := []string{srv.URL + "/"}
	for _, p := range extraSeeds {
		seeds = append(seeds, srv.URL+p)
	}
	if err := c.Run(ctx, seeds...); err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestRenderedCrawl(t *testing.T) {
	needBrowser(t)
	const pages, perHost = 12, 2
	site := newJSSite(pages, 5*time.Millisecond)
	srv := httptest.NewServer(site)
	defer srv.Close()

	// Without a renderer the crawl sees the empty shell: the seed only.
	plain := crawl(t, srv, nil, perHost)
	if len(plain) != 1 {
		t.Fatalf("plain crawl: %d records, want only the seed: %v", len(plain), keys(plain))
	}

	r, err := render.New(render.Config{Tabs: 3, Idle: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	site = newJSSite(pages, 5*time.Millisecond)
	srv.Config.Handler = site
	recs := crawl(t, srv, r, perHost)

	var want []string
	want = append(want, "/")
	for i := range pages {
		want = append(want, fmt.Sprintf("/p/%d", i))
	}
	sort.Strings(want)
	if got := keys(recs); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("rendered crawl found %v, want %v; seed record: %+v", got, want, recs["/"])
	}
	for path, rec := range recs {
		if !rec.Rendered {
			t.Errorf("%s: record not marked rendered", path)
		}
		id := "home"
		if path != "/" {
			id = strings.TrimPrefix(path, "/p/")
		}
		if got := rec.Data["name"]; len(got) != 1 || got[0] != "Widget "+id {
			t.Errorf("%s: name %q, want %q (filled by script)", path, got, "Widget "+id)
		}
		if len(rec.Links) != pages {
			t.Errorf("%s: %d links, want the %d the script built", path, len(rec.Links), pages)
		}
	}
	// The page itself is not fetched twice; robots.txt is obeyed for
	// subresources; blocked types are never requested; every request
	// carried the session's user agent and the per-host limit held.
	for _, p := range want {
		if n := site.count(p); n != 1 {
			t.Errorf("%s fetched %d times, want 1", p, n)
		}
	}
	if n := site.count("/secret.js"); n != 0 {
		t.Errorf("/secret.js (disallowed by robots.txt) fetched %d times", n)
	}
	if n := site.count("/hidden"); n != 0 {
		t.Errorf("/hidden fetched %d times", n)
	}
	if n := site.count("/logo.png"); n != 0 {
		t.Errorf("/logo.png (an image, blocked) fetched %d times", n)
	}
	if n := site.count("/nav.json"); n != pages+1 {
		t.Errorf("/nav.json fetched %d times, want %d (once per page, with the session's cookie)", n, pages+1)
	}
	site.mu.Lock()
	for ua, n := range site.agents {
		if ua != "rendertest/1.0" {
			t.Errorf("%d requests with User-Agent %q, want only the session's", n, ua)
		}
	}
	site.mu.Unlock()
	if m := site.maxIn.Load(); m > perHost {
		t.Errorf("server saw %d requests in flight at once, per-host limit %d", m, perHost)
	}
}

func TestAutoRendersOnlyShells(t *testing.T) {
	needBrowser(t)
	site := newJSSite(3, 0)
	mux := http.NewServeMux()
	mux.Handle("/", site)
	mux.HandleFunc("/static", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><body><h1 class="name">Static</h1><a href="/">home</a><script>var x=1</script></body></html>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	r, err := render.New(render.Config{Auto: true, Tabs: 2, Idle: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	recs := crawl(t, srv, r, 4, "/static")
	if !recs["/"].Rendered || recs["/static"].Rendered || recs["/static"].URL == "" {
		t.Errorf("auto: / rendered=%v, /static rendered=%v (%q); want the shell rendered, the static page not",
			recs["/"].Rendered, recs["/static"].Rendered, recs["/static"].URL)
	}
	sess, _ := session.New(session.Config{})
	defer sess.Close()
	for _, tc := range []struct {
		path     string
		rendered bool
	}{{"/", true}, {"/static", false}} {
		resp, err := sess.Get(context.Background(), srv.URL+tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := render.LooksClientRendered(resp.Body); got != tc.rendered {
			t.Errorf("LooksClientRendered(%s) = %v, want %v", tc.path, got, tc.rendered)
		}
		resp.Release()
	}
	if !recs["/"].Rendered {
		t.Error("auto mode did not render the shell page /")
	}

	// A marker selects pages by their body instead.
	r2, err := render.New(render.Config{Auto: true, Marker: regexp.MustCompile(`never-there`)})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	recs = crawl(t, srv, r2, 4)
	if len(recs) != 1 || recs["/"].Rendered {
		t.Errorf("marker that never matches: %d records, rendered=%v; want the seed, not rendered", len(recs), recs["/"].Rendered)
	}
}

func keys(m map[string]pipeline.Record) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

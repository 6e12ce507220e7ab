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
	"testing"
	"time"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/crawler/render"
	"github.com/trawlhq/trawl/crawler/render/rendertest"
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
		t.Skipf("no browser (under CI it fails instead): %v", err)
	}
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
	c, err := crawler.New(crawler.Config{Workers: 8, PerHost: perHost, Renderer: r},
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
	site := &rendertest.Site{Pages: pages, Latency: 5 * time.Millisecond}
	srv := httptest.NewServer(site)
	defer srv.Close()

	// Without a renderer the crawl sees the empty shell: the seed only.
	plain := crawl(t, srv, nil, perHost)
	if len(plain) != 1 {
		t.Fatalf("plain crawl: %d records, want only the seed: %v", len(plain), keys(plain))
	}

	r, err := render.New(render.Config{Tabs: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	site = &rendertest.Site{Pages: pages, Latency: 5 * time.Millisecond}
	srv.Config.Handler = site
	recs := crawl(t, srv, r, perHost)

	want := site.Paths()
	sort.Strings(want)
	if got := keys(recs); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("rendered crawl found %v, want %v; seed record: %+v", got, want, recs["/"])
	}
	for path, rec := range recs {
		if !rec.Rendered {
			t.Errorf("%s: record not marked rendered", path)
		}
		if got := rec.Data["name"]; len(got) != 1 || got[0] != rendertest.Name(path) {
			t.Errorf("%s: name %q, want %q (filled by script)", path, got, rendertest.Name(path))
		}
		if len(rec.Links) != pages {
			t.Errorf("%s: %d links, want the %d the script built", path, len(rec.Links), pages)
		}
	}
	// The page itself is not fetched twice; robots.txt is obeyed for
	// subresources; blocked types are never requested; every request
	// carried the session's user agent and the per-host limit held.
	for _, p := range want {
		if n := site.Hits(p); n != 1 {
			t.Errorf("%s fetched %d times, want 1", p, n)
		}
	}
	if n := site.Hits("/secret.js"); n != 0 {
		t.Errorf("/secret.js (disallowed by robots.txt) fetched %d times", n)
	}
	if n := site.Hits("/hidden"); n != 0 {
		t.Errorf("/hidden fetched %d times", n)
	}
	if n := site.Hits("/logo.png"); n != 0 {
		t.Errorf("/logo.png (an image, blocked) fetched %d times", n)
	}
	if n := site.Hits("/nav.json"); n != pages+1 {
		t.Errorf("/nav.json fetched %d times, want %d (once per page, with the session's cookie)", n, pages+1)
	}
	for ua, n := range site.Agents() {
		if ua != "rendertest/1.0" {
			t.Errorf("%d requests with User-Agent %q, want only the session's", n, ua)
		}
	}
	if m := site.MaxInFlight(); m > perHost {
		t.Errorf("server saw %d requests in flight at once, per-host limit %d", m, perHost)
	}
}

func TestAutoRendersOnlyShells(t *testing.T) {
	needBrowser(t)
	site := &rendertest.Site{Pages: 3}
	mux := http.NewServeMux()
	mux.Handle("/", site)
	mux.HandleFunc("/static", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><body><h1 class="name">Static</h1><a href="/">home</a><script>var x=1</script></body></html>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	r, err := render.New(render.Config{Auto: true, Tabs: 2})
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

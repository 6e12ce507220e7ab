package crawler

import (
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/trawlhq/trawl/crawler/recrawl"
	"github.com/trawlhq/trawl/internal/revisitsite"
)

// TestRecrawlSitemapLastmodSameSecond: a sitemap's <lastmod> has a
// resolution (a second here, often a day), the last fetch's time does not.
// A page changed in the same second as, but after, its last fetch has a
// <lastmod> equal to that second, earlier than the fetch: it changed after
// the fetch all the same, and the next pass must fetch it.
func TestRecrawlSitemapLastmodSameSecond(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 12, 0, 0, 700e6, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	site, err := revisitsite.New(revisitsite.Config{Sections: []revisitsite.Section{{Pages: 5}}, Size: 512, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	defer srv.Close()
	store := new(recrawl.Memory)
	cfg := Config{IgnoreRobots: true, Recrawl: store, Revisit: true, Sitemaps: true, PerHost: 1, Now: clock}
	recrawlPass(t, cfg, srv.URL+"/") // every page fetched at 12:00:00.700

	mu.Lock()
	now = now.Add(200 * time.Millisecond) // 12:00:00.900: Last-Modified and lastmod say 12:00:00
	mu.Unlock()
	if err := site.Change("/p/2.html"); err != nil {
		t.Fatal(err)
	}
	site.Reset()
	recrawlPass(t, cfg, srv.URL+"/")
	if st := site.Stats(); len(st.Paths200) == 0 || !contains(st.Paths200, "/p/2.html") {
		t.Errorf("the page changed after its last fetch (in the same second) was not fetched; bodies fetched: %v", st.Paths200)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

package redis

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/frontier"
	fredis "github.com/trawlhq/trawl/frontier/redis"
	"github.com/trawlhq/trawl/internal/redistest"
	"github.com/trawlhq/trawl/internal/revisitsite"
)

// TestRecrawlTwoProcesses runs passes of a crawl shared by two processes
// (each with its own frontier/redis Frontier, Store and crawler, as two
// trawl processes have) over a local site, counting at the server: the
// first pass fetches every page once; at the start of the second every
// process calls NewPass, exactly one starts it, and the pass revalidates
// every page (304, no body); after 5% of the pages change, the third
// fetches exactly their bodies.
func TestRecrawlTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls a local site three times")
	}
	const pages = 200
	site, err := revisitsite.New(revisitsite.Config{Sections: []revisitsite.Section{{Pages: pages}}, Size: 2048, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	defer srv.Close()
	name := redistest.Name(t)
	ctx := ctxT(t, 2*time.Minute)
	quiet := slog.New(slog.DiscardHandler)

	type process struct {
		f     *fredis.Frontier
		store *Store
	}
	var procs [2]process
	for i := range procs {
		f, err := fredis.Open(ctx, redistest.URL(t), fredis.Config{Name: name, Policy: frontier.HostPolicy{MaxInFlight: 4}, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Drop(context.Background()); f.Close() })
		procs[i] = process{f: f, store: open(t, name)}
	}
	// pass runs one crawler per process at once, each first calling
	// NewPass, and returns how many NewPass calls started a pass. The
	// crawlers start once every process has called NewPass (a process
	// that calls it after the pass has finished starts another).
	pass := func() int {
		var started atomic.Int32
		var wg, called sync.WaitGroup
		called.Add(len(procs))
		for _, p := range procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := p.f.NewPass(ctx)
				called.Done()
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					started.Add(1)
				}
				called.Wait()
				c, err := crawler.New(crawler.Config{IgnoreRobots: true, Workers: 4, Recrawl: p.store, Revisit: true, Logger: quiet}, nil, p.f, nil)
				if err != nil {
					t.Error(err)
					return
				}
				if err := c.Run(ctx, srv.URL+"/"); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		return int(started.Load())
	}

	if n := pass(); n != 0 {
		t.Errorf("first pass: %d NewPass calls started a pass on an empty crawl; want 0", n)
	}
	st := site.Stats()
	if st.OK != pages+1 || len(st.Paths200) != pages+1 || st.Conditional != 0 {
		t.Fatalf("first pass: server answered %d 200s for %d paths, %d conditional requests; want %d each, none conditional",
			st.OK, len(st.Paths200), st.Conditional, pages+1)
	}
	if n, err := procs[0].store.Len(ctx); err != nil || n != pages+1 {
		t.Fatalf("store holds %d pages, %v; want %d", n, err, pages+1)
	}

	site.Reset()
	if n := pass(); n != 1 {
		t.Errorf("second pass: %d NewPass calls started a pass; want exactly 1", n)
	}
	st = site.Stats()
	if st.OK != 0 || st.NotModified != pages+1 || st.Conditional != pages+1 {
		t.Errorf("second pass over an unchanged site: %d 200s (%v), %d 304s, %d conditional; want 0, %d, %d",
			st.OK, st.Paths200, st.NotModified, st.Conditional, pages+1, pages+1)
	}

	changed := site.ChangeFraction(0.05, 1)
	site.Reset()
	if n := pass(); n != 1 {
		t.Errorf("third pass: %d NewPass calls started a pass; want exactly 1", n)
	}
	st = site.Stats()
	slices.Sort(changed)
	if !slices.Equal(st.Paths200, changed) || st.OK != int64(len(changed)) {
		t.Errorf("third pass after %d pages changed: bodies fetched for %v (%d 200s); want exactly %v", len(changed), st.Paths200, st.OK, changed)
	}
	if pn, _, err := procs[1].f.Pass(ctx); err != nil || pn != 2 {
		t.Errorf("Pass = %d, %v; want 2", pn, err)
	}
}

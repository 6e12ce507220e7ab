package crawler_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/crawler/recrawl"
	"github.com/trawlhq/trawl/pipeline"
)

// ExampleConfig_recrawl crawls a site twice with one recrawl store: the
// second pass sends the stored validators, so the unchanged page costs a
// 304 (its stored links are still followed) and only the changed one is
// fetched in full.
func ExampleConfig_recrawl() {
	var mu sync.Mutex
	version := map[string]int{"/": 1, "/news": 1}
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		v, ok := version[r.URL.Path]
		mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", fmt.Sprintf(`"%d"`, v))
		body := fmt.Sprintf(`<title>%s v%d</title><a href="/news">News</a>`, r.URL.Path, v)
		// ServeContent answers If-None-Match with 304 when the ETag matches.
		http.ServeContent(w, r, "page.html", time.Time{}, strings.NewReader(body))
	}))
	defer site.Close()

	store := new(recrawl.Memory) // recrawl/disk and recrawl/redis persist it
	pass := func() []string {
		var mu sync.Mutex
		var lines []string
		cfg := crawler.Config{
			IgnoreRobots: true,
			Recrawl:      store,
			Revisit:      true, // also queue every page the store knows
			Stages: []pipeline.Stage{pipeline.StageFunc(func(_ context.Context, p *pipeline.Page) error {
				r := p.Record()
				changed := "new"
				if r.Changed != nil {
					changed = fmt.Sprintf("changed=%v", *r.Changed)
				}
				mu.Lock()
				lines = append(lines, fmt.Sprintf("%s %d %q %s", strings.TrimPrefix(r.URL, site.URL), r.Status, r.Title, changed))
				mu.Unlock()
				return nil
			})},
		}
		c, err := crawler.New(cfg, nil, nil, nil)
		if err != nil {
			panic(err)
		}
		if err := c.Run(context.Background(), site.URL+"/"); err != nil {
			panic(err)
		}
		sort.Strings(lines)
		return lines
	}

	fmt.Println(strings.Join(pass(), "\n"))
	mu.Lock()
	version["/news"] = 2
	mu.Unlock()
	fmt.Println(strings.Join(pass(), "\n"))
	// Output:
	// / 200 "/ v1" new
	// /news 200 "/news v1" new
	// / 304 "/ v1" changed=false
	// /news 200 "/news v2" changed=true
}

// ExampleConfig_dataVersion keeps what the stages extract across passes:
// the second pass's 304 still yields the price found by the first, and a
// pass with another extraction (another DataVersion) fetches the page in
// full so that its stages see the body.
func ExampleConfig_dataVersion() {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"1"`)
		body := `<title>Lamp</title><h1>Desk lamp</h1><span class=price>19.90</span>`
		http.ServeContent(w, r, "page.html", time.Time{}, strings.NewReader(body))
	}))
	defer site.Close()

	store := new(recrawl.Memory)
	pass := func(version string, fields map[string]string) {
		sel, err := pipeline.Select(fields)
		if err != nil {
			panic(err)
		}
		cfg := crawler.Config{
			IgnoreRobots: true,
			Recrawl:      store,
			DataVersion:  version, // change it whenever the extraction changes
			Stages: []pipeline.Stage{sel, pipeline.StageFunc(func(_ context.Context, p *pipeline.Page) error {
				fmt.Println(p.Status, p.Data)
				return nil
			})},
		}
		c, err := crawler.New(cfg, nil, nil, nil)
		if err != nil {
			panic(err)
		}
		if err := c.Run(context.Background(), site.URL+"/"); err != nil {
			panic(err)
		}
	}
	pass("v1", map[string]string{"price": ".price"})
	pass("v1", map[string]string{"price": ".price"})
	pass("v2", map[string]string{"price": ".price", "name": "h1"})
	pass("v2", map[string]string{"price": ".price", "name": "h1"})
	// Output:
	// 200 map[price:[19.90]]
	// 304 map[price:[19.90]]
	// 200 map[name:[Desk lamp] price:[19.90]]
	// 304 map[name:[Desk lamp] price:[19.90]]
}

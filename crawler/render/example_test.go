package render_test

import (
	"context"
	"fmt"
	"log"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/crawler/render"
	"github.com/trawlhq/trawl/frontier/memory"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// A crawl whose pages are rendered in headless Chromium before extraction.
// (Not run by go test: it needs a browser and a site.)
func Example() {
	r, err := render.New(render.Config{Tabs: 4}) // Chromium from PATH
	if err != nil {
		log.Fatal(err) // e.g. render.ErrNoBrowser
	}
	defer r.Close()
	sess, err := session.New(session.Config{ConnectorConfig: session.ConnectorConfig{LimitPerHost: 4}})
	if err != nil {
		log.Fatal(err)
	}
	defer sess.Close()
	sel, _ := pipeline.Select(map[string]string{"name": "h1"})
	pl, err := pipeline.New(pipeline.Config{Stages: []pipeline.Stage{sel}})
	if err != nil {
		log.Fatal(err)
	}
	defer pl.Close()
	c, err := crawler.New(crawler.Config{PerHost: 4, Renderer: r}, sess, memory.New(memory.Config{}), pl)
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Run(context.Background(), "https://app.example/"); err != nil {
		log.Fatal(err)
	}
}

func ExampleLooksClientRendered() {
	shell := `<html><body><div id="app"></div><script src="/bundle.js"></script></body></html>`
	served := `<html><body><h1>Tea</h1><a href="/shop">Shop</a><script>track()</script></body></html>`
	fmt.Println(render.LooksClientRendered([]byte(shell)))
	fmt.Println(render.LooksClientRendered([]byte(served)))
	// Output:
	// true
	// false
}

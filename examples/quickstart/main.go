// Command quickstart crawls a site two links deep and writes the title and
// first heading of every page as JSON Lines:
//
//	go run ./examples/quickstart https://example.com/ > pages.jsonl
package main

import (
	"context"
	"log"
	"os"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/pipeline"
)

// Page is what we keep of each page.
type Page struct {
	URL     string `json:"url"`
	Title   string `json:"title"`
	Heading string `json:"heading"`
}

func main() {
	extract := pipeline.StageFunc(func(_ context.Context, p *pipeline.Page) error {
		if doc, err := p.Doc(); err == nil { // HTML pages only
			p.Emit(Page{URL: p.URL, Title: p.Title, Heading: doc.Find("h1").First().Text()})
		}
		return nil
	})
	c, err := crawler.New(crawler.Config{
		MaxDepth: 2,
		Stages:   []pipeline.Stage{extract, pipeline.NewItemJSONL[Page](os.Stdout)},
	}, nil, nil, nil) // nil: a default session, in-memory frontier and pipeline
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Run(context.Background(), os.Args[1]); err != nil {
		log.Fatal(err)
	}
}

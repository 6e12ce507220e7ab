// Command filters crawls the /docs/ part of a site, one link deep, leaving
// out sorted listings.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"regexp"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/pipeline"
)

func main() {
	printPage := pipeline.StageFunc(func(_ context.Context, p *pipeline.Page) error {
		fmt.Println("Visited", p.URL, "depth", p.Depth)
		return nil
	})
	c, err := crawler.New(crawler.Config{
		MaxDepth: 1, // the seed (depth 0) and the pages it links to
		Include:  []*regexp.Regexp{regexp.MustCompile(`/docs/`)},
		Exclude:  []*regexp.Regexp{regexp.MustCompile(`\?sort=`)},
		Stages:   []pipeline.Stage{printPage},
	}, nil, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Run(context.Background(), os.Args[1]); err != nil {
		log.Fatal(err)
	}
}

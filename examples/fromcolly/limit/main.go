// Command limit crawls a site politely: at most 2 requests in flight to
// the host, started at least 200ms apart plus up to 100ms at random.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/pipeline"
)

func main() {
	printPage := pipeline.StageFunc(func(_ context.Context, p *pipeline.Page) error {
		fmt.Println("Visited", p.URL)
		return nil
	})
	c, err := crawler.New(crawler.Config{
		PerHost:     2,                      // Parallelism
		Delay:       200 * time.Millisecond, // Delay
		RandomDelay: 100 * time.Millisecond, // RandomDelay
		MaxDepth:    1,
		Stages:      []pipeline.Stage{printPage},
	}, nil, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Run(context.Background(), os.Args[1]); err != nil {
		log.Fatal(err)
	}
}

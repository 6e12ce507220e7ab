// Command visit crawls a site, following every link on it, and prints
// each URL it fetched with its status.
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/pipeline"
)

func main() {
	// Links are followed by default, within the seed's host.
	printPage := pipeline.StageFunc(func(_ context.Context, p *pipeline.Page) error {
		fmt.Println("Visited", p.URL, p.Status)
		return nil
	})
	c, err := crawler.New(crawler.Config{Stages: []pipeline.Stage{printPage}}, nil, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Run(context.Background(), os.Args[1]); err != nil {
		log.Fatal(err)
	}
}

// Command extract prints the name and price of every product on a site.
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/PuerkitoBio/goquery"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/pipeline"
)

func main() {
	product := pipeline.MustOnHTML("div.product", func(_ context.Context, _ *pipeline.Page, e *goquery.Selection) error {
		fmt.Println(e.Find("h2").Text(), e.Find(".price").Text())
		return nil
	})
	c, err := crawler.New(crawler.Config{Stages: []pipeline.Stage{product}}, nil, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Run(context.Background(), os.Args[1]); err != nil {
		log.Fatal(err)
	}
}

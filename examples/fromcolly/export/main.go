// Command export writes every product of a site as CSV, one line per
// product.
package main

import (
	"context"
	"log"
	"os"

	"github.com/PuerkitoBio/goquery"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/pipeline"
)

// Product is one line of the CSV.
type Product struct {
	Name  string `csv:"name"`
	Price string `csv:"price"`
	URL   string `csv:"url"`
}

func main() {
	product := pipeline.MustOnHTML("div.product", func(_ context.Context, p *pipeline.Page, e *goquery.Selection) error {
		p.Emit(Product{Name: e.Find("h2").Text(), Price: e.Find(".price").Text(), URL: p.URL})
		return nil
	})
	out, err := pipeline.NewItemCSV[Product](os.Stdout)
	if err != nil {
		log.Fatal(err)
	}
	c, err := crawler.New(crawler.Config{Stages: []pipeline.Stage{product, out}}, nil, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Run(context.Background(), os.Args[1]); err != nil {
		log.Fatal(err)
	}
}

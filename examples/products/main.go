// Command products crawls a shop and writes one JSON object per product
// found, {"url", "name", "price", "currency"}, extracted by a custom
// pipeline stage with goquery and emitted as typed items, which an item
// exporter writes:
//
//	go run ./examples/products https://shop.example/ > products.jsonl
//
// The shop's product pages are expected to mark products up as
//
//	<div class="product"><h1 class="name">Kettle</h1><span class="price">€24.90</span></div>
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/pipeline"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "products:", err)
		os.Exit(1)
	}
}

// Product is one extracted item.
type Product struct {
	URL      string  `json:"url"`
	Name     string  `json:"name"`
	Price    float64 `json:"price"`
	Currency string  `json:"currency"`
}

// productStage is a pipeline stage that extracts the products of a page
// and emits each as a Product item. It keeps no state, so running
// concurrently on the crawler's workers needs no lock.
type productStage struct{}

var _ pipeline.Stage = productStage{}

// Process implements pipeline.Stage. A page without products is dropped,
// so it reaches no later stage; a malformed price is a stage error that
// lands in the page's record and does not stop the crawl.
func (productStage) Process(ctx context.Context, p *pipeline.Page) error {
	if !p.IsHTML() {
		return pipeline.ErrDrop
	}
	doc, err := p.Doc() // parsed once, shared by every stage
	if err != nil {
		return err
	}
	var products []Product
	var errs []error
	doc.Find(".product").Each(func(_ int, sel *goquery.Selection) {
		name := strings.TrimSpace(sel.Find(".name").First().Text())
		price, currency, err := parsePrice(sel.Find(".price").First().Text())
		if err != nil {
			errs = append(errs, fmt.Errorf("product %q: %w", name, err))
			return
		}
		products = append(products, Product{URL: p.FinalURL, Name: name, Price: price, Currency: currency})
	})
	if len(products) == 0 && len(errs) == 0 {
		return pipeline.ErrDrop
	}
	for _, prod := range products {
		p.Emit(prod)
	}
	return errors.Join(errs...)
}

// parsePrice reads "€24.90", "24,90 EUR" or "$1,299.00".
func parsePrice(s string) (float64, string, error) {
	s = strings.TrimSpace(s)
	currency := ""
	for sym, code := range map[string]string{"€": "EUR", "$": "USD", "£": "GBP", "EUR": "EUR", "USD": "USD", "GBP": "GBP"} {
		if strings.Contains(s, sym) {
			currency = code
			s = strings.TrimSpace(strings.ReplaceAll(s, sym, ""))
		}
	}
	// A comma followed by exactly two digits at the end is a decimal comma.
	if i := strings.LastIndexByte(s, ','); i >= 0 && len(s)-i == 3 && !strings.Contains(s, ".") {
		s = s[:i] + "." + s[i+1:]
	}
	s = strings.ReplaceAll(s, ",", "")
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return 0, "", fmt.Errorf("bad price %q", s)
	}
	return v, currency, nil
}

// run crawls args[0] and writes every product found to out.
func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: products URL")
	}
	// The crawler builds the pipeline from Stages, and creates and closes a
	// default session and frontier.
	c, err := crawler.New(crawler.Config{Stages: []pipeline.Stage{
		productStage{}, pipeline.NewItemJSONL[Product](out),
	}}, nil, nil, nil)
	if err != nil {
		return err
	}
	return c.Run(ctx, args[0])
}

// Command products crawls a shop and writes one JSON object per product
// found, {"url", "name", "price", "currency"}, extracted by a custom
// pipeline stage with goquery:
//
//	go run ./examples/products https://shop.example/ > products.jsonl
//
// The shop's product pages are expected to mark products up as
//
//	<div class="product"><h1 class="name">Kettle</h1><span class="price">€24.90</span></div>
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"

	"github.com/PuerkitoBio/goquery"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/frontier/memory"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
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
// and writes each as one JSON line. Stages run concurrently on the
// crawler's workers, so the writer is guarded.
type productStage struct {
	mu  sync.Mutex
	enc *json.Encoder
}

var _ pipeline.Stage = (*productStage)(nil)

// Process implements pipeline.Stage. A page without products is dropped,
// so it reaches no later stage; a malformed price is a stage error that
// lands in the page's record and does not stop the crawl.
func (s *productStage) Process(ctx context.Context, p *pipeline.Page) error {
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
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, prod := range products {
		if err := s.enc.Encode(prod); err != nil {
			return err
		}
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
	sess, err := session.New(session.Config{})
	if err != nil {
		return err
	}
	defer sess.Close()
	pl, err := pipeline.New(pipeline.Config{
		Stages: []pipeline.Stage{&productStage{enc: json.NewEncoder(out)}},
	})
	if err != nil {
		return err
	}
	defer pl.Close()
	c, err := crawler.New(crawler.Config{}, sess, memory.New(memory.Config{}), pl)
	if err != nil {
		return err
	}
	return c.Run(ctx, args[0])
}

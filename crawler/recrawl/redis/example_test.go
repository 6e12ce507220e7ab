package redis_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/trawlhq/trawl/crawler/recrawl"
	recrawlredis "github.com/trawlhq/trawl/crawler/recrawl/redis"
	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/redis"
)

// A malformed Redis URL fails Open at once with a line that names it (and
// hides the password).
func ExampleOpen_badURL() {
	_, err := recrawlredis.Open(context.Background(), "http://user:secret@localhost:6379", recrawlredis.Config{})
	fmt.Println(err)
	// Output: recrawl/redis: bad Redis URL "http://user:xxxxx@localhost:6379": redis: invalid URL scheme: http
}

// Each process of a Redis crawl opens the frontier and the page store of
// the same crawl name. At start every process calls NewPass: over a
// finished crawl exactly one of them starts a new pass, and it queues the
// pages known from the last pass (the others push their seeds, which the
// frontier deduplicates). Fetching then sends each known page's
// validators back, and saves what the response said.
func Example() {
	ctx := context.Background()
	const url, name = "redis://127.0.0.1:6379/0", "example-recrawl"
	f, err := redis.Open(ctx, url, redis.Config{Name: name})
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	store, err := recrawlredis.Open(ctx, url, recrawlredis.Config{Name: name})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	started, err := f.NewPass(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if started {
		var batch []frontier.Entry
		err := store.Range(ctx, func(u string, depth int) error {
			batch = append(batch, frontier.Entry{URL: u, Depth: depth})
			if len(batch) == 500 {
				_, err := f.Push(ctx, batch...)
				batch = batch[:0]
				return err
			}
			return nil
		})
		if err == nil {
			_, err = f.Push(ctx, batch...)
		}
		if err != nil {
			log.Fatal(err)
		}
	}
	if _, err := f.Push(ctx, frontier.Entry{URL: "https://example.com/"}); err != nil {
		log.Fatal(err)
	}

	// For one lease: the stored page gives the request its validators ...
	p, err := store.Load(ctx, "https://example.com/")
	if err != nil {
		log.Fatal(err)
	}
	if p != nil {
		fmt.Println("If-None-Match:", p.ETag, "If-Modified-Since:", p.LastModified)
	}
	// ... and the response (here a 200 with an ETag) replaces it.
	body := []byte("<title>Example</title>")
	err = store.Save(ctx, &recrawl.Page{
		URL: "https://example.com/", Fetched: time.Now(), Status: 200,
		ETag: `"abc"`, Digest: recrawl.Digest(body), ContentType: "text/html", Title: "Example",
	})
	if err != nil {
		log.Fatal(err)
	}
}

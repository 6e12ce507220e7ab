package redis_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/redis"
)

// A malformed Redis URL fails Open at once with a line that names it (and
// hides the password).
func ExampleOpen_badURL() {
	_, err := redis.Open(context.Background(), "http://user:secret@localhost:6379", redis.Config{})
	fmt.Println(err)
	// Output: frontier/redis: bad Redis URL "http://user:xxxxx@localhost:6379": redis: invalid URL scheme: http
}

// Every process of a distributed crawl opens the same crawl name on the
// same Redis and runs the usual lease loop; the frontier shares the queue,
// the seen set and the per-host limits between them.
func ExampleOpen() {
	ctx := context.Background()
	f, err := redis.Open(ctx, "redis://127.0.0.1:6379/0", redis.Config{
		Name:              "example-crawl",
		Policy:            frontier.HostPolicy{MaxInFlight: 4, Interval: 250 * time.Millisecond},
		VisibilityTimeout: time.Minute,
	})
	if err != nil {
		log.Fatal(err) // unreachable, or wrong password: the error says which
	}
	defer f.Close()
	if _, err := f.Push(ctx, frontier.Entry{URL: "https://example.com/"}); err != nil {
		log.Fatal(err)
	}
	for {
		l, err := f.Next(ctx)
		if errors.Is(err, frontier.ErrDone) {
			break // nothing queued or leased in any process
		}
		if err != nil {
			log.Fatal(err)
		}
		// ... fetch l.URL, export it, push its links ...
		if err := f.Ack(ctx, l); err != nil {
			log.Print(err)
		}
	}
	totals, _ := f.Counters(ctx)
	fmt.Println("pages done by all processes:", totals["acked"])
}

package memory_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/memory"
)

func ExampleNew() {
	ctx := context.Background()
	f := memory.New(memory.Config{Policy: frontier.HostPolicy{MaxInFlight: 2}})
	defer f.Close()

	added, _ := f.Push(ctx,
		frontier.Entry{URL: "https://example.com/"},
		frontier.Entry{URL: "https://example.com/about"},
		frontier.Entry{URL: "https://example.com/"}, // duplicate: dropped
		frontier.Entry{URL: "https://example.org/"},
	)
	fmt.Println("added", added)
	for {
		l, err := f.Next(ctx)
		if errors.Is(err, frontier.ErrDone) {
			break
		}
		fmt.Println(l.Host, l.URL)
		f.Ack(ctx, l)
	}
	// Output:
	// added 3
	// example.com https://example.com/
	// example.org https://example.org/
	// example.com https://example.com/about
}

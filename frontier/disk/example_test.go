package disk_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/disk"
)

// A crawl that stops (here: Close without settling the lease, as a killed
// process would) and resumes from its state directory: the URL that was
// leased is handed out again, the one acknowledged is not, and pushing the
// seed again adds nothing.
func Example() {
	dir, err := os.MkdirTemp("", "trawl-state-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	d, err := disk.Open(dir, disk.Config{})
	if err != nil {
		log.Fatal(err)
	}
	d.Push(ctx, frontier.Entry{URL: "https://example.com/"},
		frontier.Entry{URL: "https://example.com/a", Depth: 1},
		frontier.Entry{URL: "https://example.com/b", Depth: 1})
	l, _ := d.Next(ctx)
	d.Ack(ctx, l) // the seed is done
	l, _ = d.Next(ctx)
	fmt.Println("leased when stopped:", l.URL)
	d.Close()

	d, err = disk.Open(dir, disk.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	added, _ := d.Push(ctx, frontier.Entry{URL: "https://example.com/"})
	fmt.Println("seed added again:", added)
	for {
		l, err := d.Next(ctx)
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println("resumed:", l.URL)
		d.Ack(ctx, l)
	}
	// Output:
	// leased when stopped: https://example.com/a
	// seed added again: 0
	// resumed: https://example.com/a
	// resumed: https://example.com/b
	// frontier: done
}

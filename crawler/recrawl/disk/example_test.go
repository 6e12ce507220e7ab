package disk_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/trawlhq/trawl/crawler/recrawl"
	"github.com/trawlhq/trawl/crawler/recrawl/disk"
)

// A crawl saves what it saw of each page; the next pass, in another
// process, loads it to send the validators back.
func Example() {
	dir, err := os.MkdirTemp("", "state")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	path := filepath.Join(dir, "pages.db")

	s, err := disk.Open(path, disk.Config{})
	if err != nil {
		log.Fatal(err)
	}
	err = s.Save(ctx, &recrawl.Page{
		URL:     "https://example.com/",
		Fetched: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC),
		Status:  200,
		ETag:    `"v1"`,
		Title:   "Example",
		Links:   []recrawl.Link{{URL: "https://example.com/about"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	s.Close()

	// The next pass.
	s, err = disk.Open(path, disk.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	p, err := s.Load(ctx, "https://example.com/")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.ETag, p.Title, p.Links[0].URL)
	s.Range(ctx, func(url string, depth int) error {
		fmt.Println("known:", url, "depth", depth)
		return nil
	})
	// Output:
	// "v1" Example https://example.com/about
	// known: https://example.com/ depth 0
}

// Command basic crawls one site, three links deep, and writes a JSON Lines
// record per page to standard output:
//
//	go run ./examples/basic https://example.com/ > pages.jsonl
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/pipeline"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "basic:", err)
		os.Exit(1)
	}
}

// run crawls args[0] and writes the records to out.
func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: basic URL")
	}
	// nil session, frontier and pipeline: the crawler creates the defaults
	// (and closes them when Run returns), building the pipeline from Stages.
	c, err := crawler.New(crawler.Config{
		MaxDepth: 3,
		Stages:   []pipeline.Stage{pipeline.NewJSONL(out)},
	}, nil, nil, nil)
	if err != nil {
		return err
	}
	return c.Run(ctx, args[0])
}

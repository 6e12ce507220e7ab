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
	"github.com/trawlhq/trawl/frontier/memory"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
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
	sess, err := session.New(session.Config{}) // one session for every request
	if err != nil {
		return err
	}
	defer sess.Close()
	pl, err := pipeline.New(pipeline.Config{Stages: []pipeline.Stage{pipeline.NewJSONL(out)}})
	if err != nil {
		return err
	}
	defer pl.Close()
	c, err := crawler.New(crawler.Config{MaxDepth: 3}, sess, memory.New(memory.Config{}), pl)
	if err != nil {
		return err
	}
	return c.Run(ctx, args[0])
}

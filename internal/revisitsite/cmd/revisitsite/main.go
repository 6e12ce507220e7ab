// Command revisitsite serves a revisitsite.Site on loopback for recrawl
// benchmarks: the first line on stdout is its base URL
// ("http://127.0.0.1:41234"); it serves until SIGINT or SIGTERM.
//
// The site's counters and operations are at /__stats, /__reset, /__change,
// /__remove and /__add (see revisitsite.Site.ServeHTTP).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/trawlhq/trawl/internal/revisitsite"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "revisitsite:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("revisitsite", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	pages := fs.Int("pages", revisitsite.DefaultPages, "number of pages besides /")
	links := fs.Int("links", revisitsite.DefaultLinks, "pseudo-random links per page")
	size := fs.Int("size", revisitsite.DefaultSize, "approximate body size in bytes")
	seed := fs.Uint64("seed", 1, "seed for links and text")
	validators := fs.String("validators", "both", "validators: both, etag, weak, lm, none or ignore (ignores conditionals)")
	cacheControl := fs.String("cache-control", "", "Cache-Control header of the pages")
	expires := fs.Duration("expires", 0, "send Expires: Date + this (0: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pages < 1 {
		return errors.New("-pages must be at least 1")
	}
	v, err := revisitsite.ParseValidators(*validators)
	if err != nil {
		return err
	}
	site, err := revisitsite.New(revisitsite.Config{
		Sections: []revisitsite.Section{{Pages: *pages, Validators: v, CacheControl: *cacheControl, Expires: *expires}},
		Links:    *links,
		Size:     *size,
		Seed:     *seed,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: site, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	fmt.Printf("http://%s\n", ln.Addr())
	fmt.Fprintf(os.Stderr, "revisitsite: %d pages, %d links, ~%d bytes, validators %s, cache-control %q\n",
		*pages, *links, *size, v, *cacheControl)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

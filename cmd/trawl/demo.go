package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/trawlhq/trawl/internal/demosite"
)

// startDemoSite starts the demo site; tests replace it to see the server.
var startDemoSite = demosite.Start

// Default addresses of the demo site.
const (
	demoCrawlAddr = "127.0.0.1:0"    // a free loopback port, for one crawl
	demoServeAddr = "127.0.0.1:8080" // --serve: an address to type in
)

// demoFlags registers the flags of 'trawl demo' beside the crawl flags.
func demoFlags(serve *bool, addr *string) func(*pflag.FlagSet) {
	return func(fs *pflag.FlagSet) {
		fs.BoolVar(serve, "serve", false, "only serve the demo site, until interrupted, and print its URL; no crawl")
		fs.StringVar(addr, "addr", "", "serve the site on `HOST:PORT` (default "+demoCrawlAddr+", with --serve "+demoServeAddr+")")
	}
}

// runDemo is 'trawl demo [flags]': it serves the built-in demo site
// (internal/demosite) on loopback and crawls it as 'trawl crawl' does, with
// the same flags and code path, then stops the site. With --serve it only
// serves the site, for other commands to be pointed at.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var serve bool
	var addr string
	cmd := crawlingCommand{name: "demo", usage: printDemoUsage, flags: demoFlags(&serve, &addr)}
	a, err := parseCommandArgs(cmd, args, stdout)
	if err != nil {
		return err
	}
	if a.help {
		return nil
	}
	if serve {
		var crawlFlags []string
		for f := range a.changed {
			if f != "serve" && f != "addr" {
				crawlFlags = append(crawlFlags, "--"+f)
			}
		}
		if len(crawlFlags) > 0 {
			sort.Strings(crawlFlags)
			return usagef("demo: --serve only serves the site: %s would have no effect (crawl it with 'trawl crawl URL %s')",
				crawlFlags[0], crawlFlags[0])
		}
	}
	switch {
	case addr != "":
	case serve:
		addr = demoServeAddr
	default:
		addr = demoCrawlAddr
	}
	site, err := startDemoSite(addr)
	if err != nil {
		return fmt.Errorf("demo: %s (choose another address with --addr)", strings.TrimPrefix(err.Error(), "demosite: "))
	}
	defer site.Close()
	if serve {
		return serveDemo(ctx, site, stdout, stderr)
	}

	seed, err := checkSeed(site.URL + "/")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	a.seeds = []string{seed}
	if !a.cfg.Quiet {
		fmt.Fprintf(stderr, "trawl: demo: crawling the built-in demo site at %s/ (%d pages; 'trawl help demo' says what is in it)\n",
			site.URL, len(demosite.Pages()))
	}
	return crawl(ctx, a, stdout, stderr)
}

// serveDemo serves the demo site until ctx ends or a SIGINT or SIGTERM,
// which is its normal end: it then returns nil.
func serveDemo(ctx context.Context, site *demosite.Server, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The URL alone on stdout, for scripts; the explanation on stderr.
	if _, err := fmt.Fprintln(stdout, site.URL+"/"); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "trawl: demo: serving the demo site at %s/ until interrupted (Ctrl-C)\ntrawl: demo: try: trawl crawl %s/ -o pages.jsonl\n",
		site.URL, site.URL)
	<-ctx.Done()
	fmt.Fprintln(stderr, "trawl: demo: stopped")
	return nil
}

const demoUsageHead = `Usage: trawl demo [flags]
       trawl demo --serve [--addr HOST:PORT]

Starts trawl's built-in demo site on a free loopback port and crawls it, so
you can see a real crawl without the internet: about 250 pages of a tea and
coffee shop (a catalogue with names and prices to extract, a journal, guides
in ISO-8859-1, windows-1252, Shift_JIS and EUC-KR), robots.txt with a
Crawl-delay and a disallowed staff area, a sitemap index, a page that takes
1.5 s, a redirect chain (301, 302), a redirect loop, a noindex page, and
broken links (404, 410, 500) and assets. The crawl takes a few seconds.

It takes the flags of 'trawl crawl' (and reads ./config.yaml or -c the same
way); the seed is the demo site. Records go to standard output or -o FILE,
the live status line and the summary to standard error. The site stops
when the crawl ends.

With --serve it only serves the site, printing its URL on standard output,
until Ctrl-C (exit status 0), so that you can point any command at it.

Examples:
  trawl demo -o pages.jsonl
  trawl demo --select 'name=h1.product-name' --select 'price=.price' --format csv -o products.csv
  trawl demo --serve        # then, in another terminal:
  trawl crawl http://127.0.0.1:8080/ --depth 1

Flags (demo's own, then those of 'trawl crawl'):
`

func printDemoUsage(w io.Writer) {
	cfg := DefaultConfig()
	var path, addr string
	var serve bool
	own := pflag.NewFlagSet("demo", pflag.ContinueOnError)
	own.SortFlags = false
	demoFlags(&serve, &addr)(own)
	own.AddFlagSet(newCrawlFlags(&cfg, &path))
	fmt.Fprint(w, demoUsageHead)
	fmt.Fprint(w, flagUsages(own))
}

package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

const usageText = `trawl crawls web sites: politely, with bounded memory, to JSON Lines or CSV.

Usage:
  trawl crawl [flags] URL...   crawl the sites of the given seed URLs
  trawl check [flags] URL...   find the broken links of the sites of the seed URLs
  trawl demo [flags]           crawl the built-in demo site (no internet needed)
  trawl status --redis URL     show a crawl shared through Redis, without crawling
  trawl version                print the version
  trawl help [COMMAND]         show this help, or a command's flags

Examples:
  trawl demo -o pages.jsonl
  trawl crawl https://example.com/ -o pages.jsonl
  trawl crawl https://example.com/ | jq -r .url
  trawl crawl https://example.com/ --depth 2 --max-pages 500 --format csv -o pages.csv
  trawl crawl https://example.com/ --select 'title=h1' --select 'image=img@src'
  trawl check https://example.com/ --report report.html

Run 'trawl help crawl' for every crawl flag.
`

const crawlUsageHead = `Usage: trawl crawl [flags] URL...

Crawls the sites of the seed URLs and writes one record per fetched URL (JSON
Lines by default) to standard output or --output. Logs, the live progress line
and the final summary go to standard error, so standard output carries only
records. By default only the seeds' hosts are crawled; links elsewhere are
recorded but not fetched.

Settings come from the defaults, then the config file (-c, or ./config.yaml
when present; see the commented config.yaml for every key), then the flags.
Durations are Go durations (500ms, 3s, 1m); sizes take units (512KiB, 10MiB, 1GB).

Logs go to standard error, one line per event: --log-level error (-q) shows
what stops the crawl, warn adds failed pages, info (default) resumes, Redis
joins and the metrics address, debug (-v) every page and retry, with url,
host, status, depth, elapsed_ms and attempt.

Exit status: 0 crawl done (failed pages are in the records), 1 fatal error,
2 bad flag, config key or URL, 130 interrupted (SIGINT/SIGTERM: in-flight
requests finish, output is flushed; a second SIGINT exits at once).

Examples:
  # Crawl a site to a JSON Lines file, two links deep, at most 1000 pages.
  trawl crawl https://example.com/ --depth 2 --max-pages 1000 -o pages.jsonl

  # Be gentle: 2 requests in flight and one request per second per host.
  trawl crawl https://example.com/ --per-host 2 --rate 1

  # Extract fields with CSS selectors (text, or an attribute after @), as CSV.
  trawl crawl https://shop.example/ --select 'name=h1.product' \
      --select 'price=.price' --select 'image=img.main@src' --format csv -o items.csv

  # Serve Prometheus metrics on 127.0.0.1:9090 (/metrics, /healthz), JSON logs.
  trawl crawl https://example.com/ --metrics-addr :9090 --log-format json

  # Archive every exchange as WARC (1 GiB files) with a CDXJ index.
  trawl crawl https://example.com/ -o pages.jsonl --warc archive/example --warc-cdx

  # Include the blog subdomains, skip the search pages, send a header.
  trawl crawl https://example.com/ --allow-domain '*.example.com' \
      --exclude '/search\?' -H 'Authorization: Bearer TOKEN'

  # A site built by JavaScript: render its pages in headless Chromium.
  trawl crawl https://app.example/ --render --select 'name=h1' -o pages.jsonl

Flags:
`

func printUsage(w io.Writer) { fmt.Fprint(w, usageText) }

func printCrawlUsage(w io.Writer) {
	cfg := DefaultConfig()
	var path string
	fmt.Fprint(w, crawlUsageHead)
	fmt.Fprint(w, flagUsages(newCrawlFlags(&cfg, &path)))
}

// flagUsages lists the flags in the order registered, one per line, with
// their defaults. (pflag's own listing writes every boolean as
// "--quiet[=true|false]".)
func flagUsages(fs *pflag.FlagSet) string {
	type row struct{ left, right string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		left := "      --" + f.Name
		if f.Shorthand != "" {
			left = "  -" + f.Shorthand + ", --" + f.Name
		}
		varname, usage := pflag.UnquoteUsage(f)
		if f.Value.Type() == "bool" {
			varname = ""
		} else if varname != "" {
			left += " " + varname
		}
		switch f.DefValue {
		case "", "0", "false", "[]", "0s":
		default:
			if f.Value.Type() == "string" {
				usage += fmt.Sprintf(" (default %q)", f.DefValue)
			} else {
				usage += " (default " + f.DefValue + ")"
			}
		}
		rows = append(rows, row{left, usage})
		width = max(width, len(left))
	})
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%-*s   %s\n", width, r.left, r.right)
	}
	return b.String()
}

// runHelp prints the general help or the help of one command.
func runHelp(args []string, stdout io.Writer) error {
	switch {
	case len(args) == 0:
		printUsage(stdout)
	case args[0] == "crawl":
		printCrawlUsage(stdout)
	case args[0] == "check":
		printCheckUsage(stdout)
	case args[0] == "demo":
		printDemoUsage(stdout)
	case args[0] == "status":
		return runStatus(context.Background(), []string{"--help"}, stdout)
	case args[0] == "version":
		fmt.Fprintln(stdout, "Usage: trawl version\n\nPrints the trawl version, the Go version and the platform.")
	case args[0] == "help":
		printUsage(stdout)
	default:
		return usagef("help: unknown command %q", args[0])
	}
	return nil
}

const checkUsageHead = `Usage: trawl check [flags] URL...

Crawls the sites of the seed URLs as 'trawl crawl' does (same scope,
politeness, robots.txt, retries, --state, --redis and config file) and checks
every link and asset its pages reference. Pages of the site are fetched and
their links followed; everything else (other hosts, images, scripts,
stylesheets, media, URLs beyond --depth) is checked once with HEAD (GET when
HEAD is refused or fails), never expanded, obeying its host's robots.txt.
A link's #fragment must name an element (id, or <a name>) of its page.

Broken: status 400 or more after retries (429 and 503 are retried per
Retry-After), DNS, connection, TLS and timeout errors, redirect loops and
chains longer than --max-redirects, redirects ending broken. --accept 403,999
counts statuses as OK; --exclude REGEX keeps URLs from being crawled or
checked. Links robots.txt disallows are listed as skipped, not broken.

Output (standard output or --output): text, a summary grouped by page
(default); jsonl, one object per target {url, ok, status, error, skipped,
kind, redirects, sources: [{page, tag, attr, text, line}]} (broken and
skipped ones, every one with --all); junit, JUnit XML for CI. --report FILE
writes a self-contained HTML report.

Exit status: 0 nothing broken, 1 something broken (or a fatal error), 2 bad
flag, config key or URL, 130 interrupted.

Examples:
  trawl check https://example.com/
  trawl check https://example.com/ --format jsonl -o broken.jsonl --report report.html
  trawl check https://example.com/ --accept 403,999 --exclude '\?replytocom=' --format junit -o links.xml

Flags:
`

func printCheckUsage(w io.Writer) {
	cfg := defaultCheckConfig()
	var path string
	fmt.Fprint(w, checkUsageHead)
	fmt.Fprint(w, flagUsages(newCheckFlags(&cfg, &path)))
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/trawlhq/trawl/frontier/redis"
)

const statusUsage = `Usage: trawl status --redis URL [--redis-prefix NAME]

Prints the state of a crawl shared through Redis, over all its processes,
without crawling: pages written, errors, URLs queued and being fetched,
URLs and hosts seen, and whether the crawl is finished.

Flags:
`

// runStatus is 'trawl status --redis URL [--redis-prefix NAME]'.
func runStatus(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg Config
	fs := pflag.NewFlagSet("status", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.Redis, "redis", "", "the Redis of the crawl, as given to trawl crawl --redis `URL`")
	fs.StringVar(&cfg.RedisPrefix, "redis-prefix", "", "the crawl `NAME`, as given to trawl crawl --redis-prefix (default \"default\")")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(stdout, statusUsage+flagUsages(fs))
			return nil
		}
		return usagef("status: %v", err)
	}
	if fs.NArg() > 0 {
		return usagef("status: unexpected argument %q", fs.Arg(0))
	}
	if cfg.Redis == "" {
		return usagef("status: --redis URL is required")
	}
	if err := cfg.validateRedis(); err != nil {
		return &usageError{err}
	}
	f, err := redis.Open(ctx, cfg.Redis, redis.Config{Name: cfg.RedisPrefix})
	if err != nil {
		return usagef("--redis: %s", strings.TrimPrefix(err.Error(), "frontier/redis: "))
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	t, err := readTotals(ctx, f)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	c, err := f.Counters(ctx)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	pass, passStart, err := f.Pass(ctx)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	state := "running"
	switch {
	case t.Seen == 0 && pass > 0:
		state = "new pass started, nothing pushed yet"
	case t.Seen == 0:
		state = "empty (nothing pushed under this name)"
	case t.Queued == 0 && t.Leased == 0:
		state = "finished"
	}
	if pass > 0 {
		state += fmt.Sprintf(" (pass %d, since %s)", pass+1, passStart.UTC().Format(time.RFC3339))
	}
	_, err = fmt.Fprintf(stdout, `crawl      %s on %s: %s
pages      %d (%d ok, %d errors) from %d processes
queued     %d
fetching   %d
seen       %d URLs, %d hosts
leases     %d acked, %d retried, %d expired
`, f.Name(), redactURL(cfg.Redis), state, t.Pages, t.OK, t.Errors, t.Processes,
		t.Queued, t.Leased, t.Seen, t.Hosts, c["acked"], c["retried"], c["expired"])
	return err
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/spf13/pflag"

	"github.com/trawlhq/trawl/crawler/recrawl"
	recrawldisk "github.com/trawlhq/trawl/crawler/recrawl/disk"
	recrawlredis "github.com/trawlhq/trawl/crawler/recrawl/redis"
	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/disk"
	"github.com/trawlhq/trawl/frontier/redis"
)

// statePages is the recrawl store's file in the --state directory.
const statePages = "pages.db"

// addRecrawlFlags registers the flags of incremental recrawls.
func addRecrawlFlags(fs *pflag.FlagSet, c *Config) {
	fs.BoolVar(&c.Recrawl, "recrawl", c.Recrawl, "with --state or --redis: when the crawl there has finished, start a new pass over its pages and the seeds, with conditional requests (an unfinished pass is resumed)")
	fs.DurationVar(&c.MaxAge, "max-age", c.MaxAge, "with --state or --redis: do not refetch pages fetched less than this long ago, unless their server says they are stale (0 = refetch all, conditionally)")
}

// validateRecrawl checks the recrawl keys.
func (c *Config) validateRecrawl() error {
	var errs []error
	if c.Recrawl && c.State == "" && c.Redis == "" {
		errs = append(errs, invalid("recrawl", "needs state (--state DIR) or redis (--redis URL): a crawl without either remembers nothing to recrawl"))
	}
	if c.MaxAge < 0 {
		errs = append(errs, invalid("max_age", "must not be negative, got %s", c.MaxAge))
	} else if c.MaxAge > 0 && c.State == "" && c.Redis == "" {
		errs = append(errs, invalid("max_age", "needs state (--state DIR) or redis (--redis URL): a crawl without either knows no page's age"))
	}
	if c.cmd == "check" && c.Recrawl {
		errs = append(errs, invalid("recrawl", "is not supported by trawl check"))
	}
	return errors.Join(errs...)
}

// openRecrawlStore opens the store of what earlier passes saw: a file of
// the --state directory, or the Redis crawl's keys. Nil without either.
func openRecrawlStore(cfg *Config, fr frontier.Frontier) (recrawl.Store, func(), error) {
	switch f := fr.(type) {
	case *disk.Disk:
		path := filepath.Join(f.Dir(), statePages)
		st, err := recrawldisk.Open(path, recrawldisk.Config{Sync: cfg.StateSync})
		if err != nil {
			return nil, nil, usagef("--state: %s", strings.TrimPrefix(err.Error(), "recrawl/disk: "))
		}
		return st, func() { _ = st.Close() }, nil
	case *redis.Frontier:
		client, err := redisClient(cfg.Redis)
		if err != nil {
			return nil, nil, usagef("--redis: %v", err)
		}
		st := recrawlredis.New(client, recrawlredis.Config{Name: f.Name()})
		return st, func() { _ = client.Close() }, nil
	}
	return nil, func() {}, nil
}

// startPass starts a new pass over a finished crawl (--recrawl): it
// reports whether it did; false means a pass is in progress (it is
// resumed) or there was nothing to start one over.
func startPass(ctx context.Context, fr frontier.Frontier, logger *slog.Logger) (bool, error) {
	ps, ok := fr.(frontier.PassStarter)
	if !ok {
		return false, nil
	}
	started, err := ps.NewPass(ctx)
	if err != nil {
		return false, fmt.Errorf("--recrawl: starting a new pass: %w", err)
	}
	if started {
		logger.Info("recrawl: new pass started", "at", time.Now().UTC().Format(time.RFC3339))
	}
	return started, nil
}

// recrawlSummary is the summary line's part about a recrawl.
func recrawlSummary(s crawlStats) string {
	if s.NotModified+s.Changed+s.Unchanged+s.Gone+s.Fresh+s.RecrawlErrors == 0 {
		return ""
	}
	line := fmt.Sprintf("; recrawl: %d not modified, %d unchanged, %d changed, %d gone, %d fresh (not fetched)",
		s.NotModified, s.Unchanged, s.Changed, s.Gone, s.Fresh)
	if s.RecrawlErrors > 0 {
		line += fmt.Sprintf(", %d store errors", s.RecrawlErrors)
	}
	return line
}

// selectVersion is the crawler.Config.DataVersion of the --select fields:
// "" without any, else a digest of the fields, so that a pass with other
// selectors does not take its data from a stored page.
func selectVersion(selects []string) (string, error) {
	fields, err := parseSelects(selects)
	if err != nil || len(fields) == 0 {
		return "", err
	}
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	slices.Sort(names)
	h := xxhash.New()
	for _, n := range names {
		h.WriteString(n)
		h.WriteString("=")
		h.WriteString(fields[n])
		h.WriteString("\n")
	}
	return fmt.Sprintf("select-%016x", h.Sum64()), nil
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/spf13/pflag"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/redis"
)

// addRedisFlags registers the flags of a crawl shared through Redis.
func addRedisFlags(fs *pflag.FlagSet, c *Config) {
	fs.StringVar(&c.Redis, "redis", c.Redis, "share the crawl with other trawl processes through the Redis at `URL` (redis://[:password@]host:port/db; a cluster: redis://host1:port1?addr=host2:port2)")
	fs.StringVar(&c.RedisPrefix, "redis-prefix", c.RedisPrefix, "crawl `NAME` in Redis: processes with the same name share one crawl (default \"default\")")
	fs.DurationVar(&c.RedisLeaseTimeout, "redis-lease-timeout", c.RedisLeaseTimeout, "re-queue the URLs of a process that stopped answering after this long (default 30s)")
}

// validateRedis checks the redis keys.
func (c *Config) validateRedis() error {
	if c.Redis != "" {
		if err := redis.CheckURL(c.Redis); err != nil {
			return invalid("redis", "%s (want redis://[:password@]host:port/db)", strings.TrimPrefix(err.Error(), "frontier/redis: "))
		}
	}
	if strings.ContainsAny(c.RedisPrefix, "{} \t\r\n") {
		return invalid("redis_prefix", "%q: a crawl name must not contain braces or whitespace", c.RedisPrefix)
	}
	if c.RedisPrefix != "" && c.Redis == "" {
		return invalid("redis_prefix", "needs redis (--redis URL)")
	}
	if c.RedisLeaseTimeout < 0 || (c.RedisLeaseTimeout > 0 && c.RedisLeaseTimeout < 300*time.Millisecond) {
		return invalid("redis_lease_timeout", "must be 0 (the default, 30s) or at least 300ms, got %s", c.RedisLeaseTimeout)
	}
	return nil
}

// redactURL hides the password of a URL for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	return u.Redacted()
}

// openRedisFrontier joins (or starts) the crawl named by --redis-prefix in
// the Redis at --redis. A Redis that cannot be reached or refuses the
// credentials is a usage error (exit 2).
func openRedisFrontier(ctx context.Context, cfg *Config) (frontier.Frontier, func() error, error) {
	logger := newLogger(os.Stderr, cfg)
	// go-redis logs dial failures on its own; keep them for --log-level
	// debug: the frontier logs outages in one clear line of its own.
	goredis.SetLogger(clientLogger{logger})
	f, err := redis.Open(ctx, cfg.Redis, redis.Config{
		Name:              cfg.RedisPrefix,
		Policy:            hostPolicy(cfg),
		VisibilityTimeout: cfg.RedisLeaseTimeout,
		Logger:            logger,
	})
	if err != nil {
		return nil, nil, usagef("--redis: %s", strings.TrimPrefix(err.Error(), "frontier/redis: "))
	}
	if st, err := f.Stats(ctx); err == nil {
		logger.Info("joined Redis crawl", "name", f.Name(), "redis", redactURL(cfg.Redis),
			"queued", st.Queued, "leased", st.Leased, "seen", st.Seen)
		if st.Seen > 0 && st.Queued == 0 && st.Leased == 0 && cfg.Recrawl {
			if _, err := startPass(ctx, f, logger); err != nil {
				f.Close()
				return nil, nil, err
			}
		} else if st.Seen > 0 && st.Queued == 0 && st.Leased == 0 {
			logger.Warn("this Redis crawl has already finished: seeds it has seen are not fetched again (use --recrawl for a new pass, or a new --redis-prefix for a new crawl)",
				"name", f.Name(), "seen", st.Seen)
		}
	}
	closeFn := func() error {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if st, err := f.Stats(cctx); err == nil {
			c, _ := f.Counters(cctx)
			logger.Info("left Redis crawl", "name", f.Name(), "queued", st.Queued, "leased", st.Leased,
				"seen", st.Seen, "acked_all_processes", c["acked"], "expired_leases", c["expired"])
		}
		return f.Close()
	}
	return f, closeFn, nil
}

// clientLogger routes go-redis's own log lines to the debug level.
type clientLogger struct{ l *slog.Logger }

func (c clientLogger) Printf(ctx context.Context, format string, v ...any) {
	c.l.DebugContext(ctx, "redis client: "+fmt.Sprintf(format, v...))
}

// crawlTotals are the figures of a shared crawl, summed over its processes.
type crawlTotals struct {
	Processes int64 // processes that have reported their counts
	Pages     int64 // records written by all processes
	OK        int64
	Errors    int64
	Queued    int64 // URLs waiting, delayed retries included
	Leased    int64 // URLs being fetched now
	Seen      int64 // distinct URLs ever queued
	Hosts     int64 // distinct hosts ever queued
}

// readTotals reads a Redis crawl's totals.
func readTotals(ctx context.Context, f *redis.Frontier) (crawlTotals, error) {
	st, err := f.Stats(ctx)
	if err != nil {
		return crawlTotals{}, err
	}
	c, err := f.Counters(ctx)
	if err != nil {
		return crawlTotals{}, err
	}
	return crawlTotals{Processes: c["processes"], Pages: c["pages"], OK: c["ok"], Errors: c["errors"],
		Queued: st.Queued, Leased: st.Leased, Seen: st.Seen, Hosts: c["hosts"]}, nil
}

// sharedTotalsEvery is how often a process of a Redis crawl publishes its
// counts and reads the crawl's totals.
const sharedTotalsEvery = time.Second

// sharedTotals publishes this process's record counts to its Redis crawl
// and keeps the crawl's totals for the status line, the summary and
// --stats. It is safe for concurrent use.
type sharedTotals struct {
	f   *redis.Frontier
	log *slog.Logger

	mu     sync.Mutex
	totals *crawlTotals // nil until first read
}

// newSharedTotals returns nil unless fr is a Redis frontier.
func newSharedTotals(fr frontier.Frontier, log *slog.Logger) *sharedTotals {
	rf, ok := fr.(*redis.Frontier)
	if !ok {
		return nil
	}
	return &sharedTotals{f: rf, log: log}
}

// sync publishes cur's counts (absolute: a retried call is exact) and
// reads the crawl's totals.
func (s *sharedTotals) sync(ctx context.Context, cur crawlStats) {
	if s == nil {
		return
	}
	err := s.f.SetCounters(ctx, map[string]int64{"pages": cur.Pages, "ok": cur.OK, "errors": cur.Errors})
	var t crawlTotals
	if err == nil {
		t, err = readTotals(ctx, s.f)
	}
	if err != nil {
		if ctx.Err() == nil {
			s.log.Debug("cannot read the Redis crawl's totals", "err", err)
		}
		return
	}
	s.mu.Lock()
	s.totals = &t
	s.mu.Unlock()
}

// run syncs every sharedTotalsEvery until ctx ends.
func (s *sharedTotals) run(ctx context.Context, now func() crawlStats) {
	t := time.NewTicker(sharedTotalsEvery)
	defer t.Stop()
	for {
		s.sync(ctx, now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// last returns the totals last read, nil if none (or s is nil).
func (s *sharedTotals) last() *crawlTotals {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.totals
}

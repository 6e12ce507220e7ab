package main

import (
	"context"
	"time"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/memory"
)

// openFrontier opens the frontier the crawl runs on: in memory unless the
// configuration names a persistent backend. The frontier is closed by
// calling the returned function, which also releases whatever else the
// backend holds (a store, a client). The disk (--state) and Redis (--redis)
// backends are opened here too once they exist.
func openFrontier(ctx context.Context, cfg *Config) (frontier.Frontier, func() error, error) {
	if cfg.Redis != "" {
		return openRedisFrontier(ctx, cfg)
	}
	if cfg.State != "" {
		return openDiskFrontier(cfg)
	}
	f := memory.New(memory.Config{
		Policy: hostPolicy(cfg),
	})
	return f, f.Close, nil
}

// hostPolicy is the default politeness schedule of every host: the crawler
// tightens it per host from robots.txt Crawl-delay.
func hostPolicy(cfg *Config) frontier.HostPolicy {
	interval := cfg.Delay
	if cfg.Rate > 0 {
		if r := time.Duration(float64(time.Second) / cfg.Rate); r > interval {
			interval = r
		}
	}
	return frontier.HostPolicy{MaxInFlight: cfg.PerHost, Interval: interval, Jitter: cfg.RandomDelay}
}

package main

import (
	"context"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/memory"
)

// openFrontier opens the frontier the crawl runs on: in memory unless the
// configuration names a persistent backend. The frontier is closed by
// calling the returned function, which also releases whatever else the
// backend holds (a store, a client). The disk (--state) and Redis (--redis)
// backends are opened here too once they exist.
func openFrontier(ctx context.Context, cfg *Config, beforeCommit func(gather func(), save func(string, []byte) error) error) (frontier.Frontier, func() error, error) {
	if cfg.Redis != "" {
		return openRedisFrontier(ctx, cfg)
	}
	if cfg.State != "" {
		return openDiskFrontier(cfg, beforeCommit)
	}
	f := memory.New(memory.Config{
		Policy: hostPolicy(cfg),
	})
	return f, f.Close, nil
}

// hostPolicy is the default politeness schedule of every host, as the
// crawler computes it from its configuration (crawler.Config.HostPolicy):
// a persistent or shared frontier applies it to the hosts it holds from
// before, until the crawler sets each host's own.
func hostPolicy(cfg *Config) frontier.HostPolicy {
	cc, _ := crawlerConfig(cfg, nil) // Validate checked the expressions
	return cc.HostPolicy()
}

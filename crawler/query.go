package crawler

import (
	"context"
	"net/http"
	"time"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/pipeline"
)

// This file answers questions about the crawl's rules for code that works
// beside the crawler on the same session (a link checker checking the URLs
// the crawl does not fetch): which links the crawl follows, what robots.txt
// allows, what is retried and how a host is paced. The answers come from the
// crawler's own settings and caches, so a setting has one home.

// Follows reports whether the crawl pushes link l of page p to its frontier,
// so that a record of l's URL will come through the pipeline (unless the
// crawl stops first, or the frontier has seen the URL in an earlier run): p
// fetched without error and not nofollow, l not nofollow, p's depth below
// MaxDepth, l's URL in scope and Config.Follow (when set) says yes. It
// calls Config.Follow, which may then see a link twice: once here and once
// when the crawl pushes it. It is safe for concurrent use and may be
// called from a pipeline stage during Run.
func (c *Crawler) Follows(p *pipeline.Page, l pipeline.Link) bool {
	if p.Err != nil || p.NoFollow || !c.follows(p.Depth) {
		return false
	}
	return c.followsLink(p, l)
}

// followsLink reports whether a link of a followed page is pushed.
func (c *Crawler) followsLink(from *pipeline.Page, l pipeline.Link) bool {
	return !l.NoFollow && c.scope.check(l.URL, false) == inScope && c.followLink(from, l)
}

// Allowed reports whether robots.txt lets the crawler fetch the normalized
// http(s) URL u: nil when it may (always, with IgnoreRobots), an error
// wrapping ErrRobots naming the rule when it may not (wrapping
// ErrRobotsUnreachable too when robots.txt could not be fetched at all), an
// *UnreachableError when the host itself cannot be reached (its name does
// not resolve, it refuses connections), or ctx's error. The
// host's robots.txt is fetched once, through the crawler's session and
// cache, also for hosts outside the scope; its Crawl-delay then paces the
// host in HostPolicy. Safe for concurrent use.
func (c *Crawler) Allowed(ctx context.Context, u string) error {
	if c.s.IgnoreRobots {
		return nil
	}
	h := c.host(frontier.HostKey(u))
	rules, err := c.robots(ctx, h, schemeOf(u))
	if err != nil {
		return err
	}
	if p := robotsPath(u); !rules.allowed(p) {
		return errRobots(rules, p)
	}
	return nil
}

// HostPolicy returns the politeness the crawl applies to the host of u: at
// most PerHost requests in flight, and requests started Interval apart (the
// largest of Delay, 1/Rate and the host's robots.txt Crawl-delay when it is
// known), plus up to Jitter. Safe for concurrent use.
func (c *Crawler) HostPolicy(u string) frontier.HostPolicy {
	iv := c.s.baseInterval()
	if v, ok := c.hosts.Load(frontier.HostKey(u)); ok {
		h := v.(*hostState)
		h.mu.Lock()
		if h.crawlDelay > iv {
			iv = h.crawlDelay
		}
		h.mu.Unlock()
	}
	return frontier.HostPolicy{MaxInFlight: c.s.PerHost, Interval: iv, Jitter: c.s.RandomDelay}
}

// RetryDelay reports whether attempt number attempt (from 0) of a request
// may be tried again, and after how long, by the crawl's retry rules: a
// transient error (err, see the package documentation) or a status 429, 500,
// 502, 503 or 504, at most Retries times, after the backoff or the
// response's Retry-After (header h, capped at MaxRetryAfter). Pass err nil
// for a response, status 0 for an error. Safe for concurrent use.
func (c *Crawler) RetryDelay(attempt, status int, h http.Header, err error) (time.Duration, bool) {
	if attempt >= c.s.Retries {
		return 0, false
	}
	if err != nil {
		if !retryableErr(err) {
			return 0, false
		}
		return c.s.backoff(attempt), true
	}
	if !retryableStatus(status) {
		return 0, false
	}
	return c.s.retryDelay(attempt, h), true
}

// Recrawling reports whether the crawl has a recrawl store
// (Config.Recrawl).
func (c *Crawler) Recrawling() bool { return c.s.Recrawl != nil }

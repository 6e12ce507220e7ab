package crawler

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trawlhq/trawl/frontier"
)

// hostState is the crawler's view of one host (frontier host key). One is
// created the first time a URL of the host is pushed or a redirect reaches
// it, and lives for the crawl.
type hostState struct {
	key string

	registered  atomic.Bool  // SetHostPolicy has been called once
	gapNanos    atomic.Int64 // the host's interval (adaptive included), for the lock-free gate check
	pausedNanos atomic.Int64 // no request before (Retry-After), UnixNano; 0 for none

	// Traffic figures (HostStats), counted per lease of the host.
	requests     atomic.Int64 // fetch attempts
	retries      atomic.Int64 // attempts rescheduled for a retry
	inFlight     atomic.Int64 // leases being worked on
	backoffUntil atomic.Int64 // UnixNano of the latest retry time set; 0 none

	mu          sync.Mutex
	rules       *robotsRules  // nil until robots.txt is known
	loading     chan struct{} // non-nil while robots.txt is being fetched
	robotsKnown bool          // robots.txt applied to the policy
	crawlDelay  time.Duration // from robots.txt, capped
	nextStart   time.Time     // the earliest start of the next request (gate)
	adapt       adaptive      // adaptive politeness (adapt.go)
}

// interval is the host's least gap between request starts.
func (h *hostState) interval() time.Duration { return time.Duration(h.gapNanos.Load()) }

// floor is the host's interval before adaptive politeness (adapt.go): the
// largest of Delay, 1/Rate and Crawl-delay. h.mu held.
func (c *Crawler) floor(h *hostState) time.Duration { return max(c.s.baseInterval(), h.crawlDelay) }

// host returns the state of a host key, creating it.
func (c *Crawler) host(key string) *hostState {
	if v, ok := c.hosts.Load(key); ok {
		return v.(*hostState)
	}
	h := &hostState{key: key}
	h.gapNanos.Store(int64(c.s.baseInterval()))
	v, loaded := c.hosts.LoadOrStore(key, h)
	if !loaded {
		c.stats.hosts.Add(1)
	}
	return v.(*hostState)
}

// register makes sure the frontier has the host's policy before its first
// URL is pushed. While robots.txt is unknown the host gets one request in
// flight, so the robots.txt fetch (and its Crawl-delay) comes before any
// burst.
func (c *Crawler) register(ctx context.Context, h *hostState) error {
	if h.registered.Load() {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.registered.Load() {
		return nil
	}
	if err := c.applyPolicyLocked(ctx, h); err != nil {
		return err
	}
	h.registered.Store(true)
	return nil
}

// applyPolicyLocked computes the host's policy and gives it to the
// frontier. h.mu held.
func (c *Crawler) applyPolicyLocked(ctx context.Context, h *hostState) error {
	iv := h.adapt.interval(c.floor(h), c.s.adapt)
	h.gapNanos.Store(int64(iv))
	p := frontier.HostPolicy{MaxInFlight: c.s.PerHost, Interval: iv, Jitter: c.s.RandomDelay}
	if !c.s.IgnoreRobots && !h.robotsKnown {
		// Provisional: a shared frontier keeps the policy another process
		// set from the host's robots.txt.
		p.MaxInFlight, p.Provisional = 1, true
	}
	return c.front.SetHostPolicy(ctx, h.key, p)
}

// gate waits, if needed, so that requests to the host start at least its
// interval apart. Its time is Config.Now's and its wait Config's sleep, so
// tests drive it with a fake clock. The frontier's schedule already spaces leases; the gate
// covers what it cannot see: a Crawl-delay learnt after the host's first
// lease, and redirect hops, which are requests without a lease of their own.
// It also waits out a pause (Retry-After) the frontier could not keep (it
// is no frontier.HostPauser).
func (c *Crawler) gate(ctx context.Context, h *hostState) error {
	iv := time.Duration(h.gapNanos.Load())
	paused := h.pausedNanos.Load()
	if iv <= 0 && (paused == 0 || paused <= c.s.Now().UnixNano()) {
		return nil
	}
	h.mu.Lock()
	now := c.s.Now()
	start := now
	if h.nextStart.After(start) {
		start = h.nextStart
	}
	if p := time.Unix(0, paused); paused != 0 && p.After(start) {
		start = p
	}
	h.nextStart = start.Add(iv)
	h.mu.Unlock()
	return c.s.sleep(ctx, start.Sub(now))
}

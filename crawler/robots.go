package crawler

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/trawlhq/trawl/crawler/robots"
	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/session"
)

// robotsRules is what the crawler keeps of one host's robots.txt.
type robotsRules struct {
	group       *robots.Group // nil allows all
	reason      string        // why the group disallows all, for the error record
	down        error         // the host itself cannot be reached (DNS, refused): it, not robots.txt, is the cause
	unreachable bool          // robots.txt could not be fetched at all (down, TLS, timeout): ErrRobotsUnreachable
	crawlDelay  time.Duration // for our group, capped
	sitemaps    []string      // Sitemap: lines, as written
	url         string        // where it came from
	fetched     time.Time     // when, for RobotsMaxAge
}

// allowed reports whether path (path and query, escaped) may be fetched.
func (r *robotsRules) allowed(path string) bool { return r.group.Allowed(path) }

// robots returns the robots.txt rules of a host, fetching them once per
// RobotsMaxAge: the first caller fetches, concurrent callers for the same
// host wait for that fetch (or for their ctx); once rules are known, callers
// use them while a refresh is under way. A fetch cut short by ctx is not
// cached, so the next caller tries again. A refresh that finds robots.txt
// unreachable keeps the rules it had (RFC 9309 §2.4).
func (c *Crawler) robots(ctx context.Context, h *hostState, scheme string) (*robotsRules, error) {
	for {
		h.mu.Lock()
		old := h.rules
		if old != nil && (h.loading != nil || c.s.Now().Sub(old.fetched) < RobotsMaxAge) {
			h.mu.Unlock()
			return old, nil
		}
		if ch := h.loading; ch != nil {
			h.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		ch := make(chan struct{})
		h.loading = ch
		h.mu.Unlock()

		rules, err := c.fetchRobots(ctx, scheme, h)

		h.mu.Lock()
		h.loading = nil
		if err == nil {
			rules.fetched = c.s.Now()
			if old != nil && rules.group.DisallowsAll() && !old.group.DisallowsAll() {
				kept := *old
				kept.fetched = rules.fetched
				rules = &kept
			}
			h.rules = rules
		}
		h.mu.Unlock()
		close(ch)
		if err != nil {
			return nil, err
		}
		c.robotsLoaded(ctx, h, rules, old == nil)
		return rules, nil
	}
}

// robotsClaimTTL is how long a process sharing a crawl (frontier.RobotsStore)
// may take to fetch a host's robots.txt before another process fetches it
// itself; also the longest the others wait for it.
const robotsClaimTTL = 15 * time.Second

// maxSharedRobots is the largest robots.txt body kept in a shared store:
// bounds what a crawl of many hosts leaves in it (typical files are a few
// KiB); a larger one is fetched by each process.
const maxSharedRobots = 64 << 10

// robotsPoll is how often a process waiting for another's robots.txt asks
// the store again.
const robotsPoll = 50 * time.Millisecond

// fetchRobots returns the rules of a host's robots.txt. With a frontier
// shared by several processes (frontier.RobotsStore) one process fetches it
// for the whole crawl and the others read its answer from the store; a
// store that fails only means this process fetches it itself. It returns an
// error only when ctx ended.
func (c *Crawler) fetchRobots(ctx context.Context, scheme string, h *hostState) (*robotsRules, error) {
	store, ok := c.front.(frontier.RobotsStore)
	if !ok {
		return c.fetchRobotsOwn(ctx, scheme, h, nil)
	}
	u := scheme + "://" + h.key + "/robots.txt"
	key := scheme + "://" + h.key
	keep := func(status int, body []byte) {
		if len(body) > maxSharedRobots {
			return // the other processes fetch it themselves
		}
		if err := store.StoreRobots(ctx, key, status, body, RobotsMaxAge); err != nil {
			c.log.Debug("robots.txt not shared", "url", u, "err", err)
		}
	}
	for waited := time.Duration(0); ; waited += robotsPoll {
		status, body, ok, err := store.LoadRobots(ctx, key)
		if err != nil {
			return c.fetchRobotsOwn(ctx, scheme, h, nil)
		}
		if ok {
			return c.parseRobots(u, status, body), nil
		}
		claimed, err := store.ClaimRobots(ctx, key, robotsClaimTTL)
		switch {
		case err != nil:
			return c.fetchRobotsOwn(ctx, scheme, h, nil)
		case claimed:
			return c.fetchRobotsOwn(ctx, scheme, h, keep)
		case waited >= robotsClaimTTL:
			return c.fetchRobotsOwn(ctx, scheme, h, nil)
		}
		if err := c.s.sleep(ctx, robotsPoll); err != nil {
			return nil, err
		}
	}
}

// fetchRobotsOwn fetches and parses robots.txt of a host. It returns an
// error only when ctx ended; every other failure becomes rules. keep, when
// not nil, is given the answer that decided the rules (a status and body;
// not a failure, 429 or 5xx).
func (c *Crawler) fetchRobotsOwn(ctx context.Context, scheme string, h *hostState, keep func(status int, body []byte)) (*robotsRules, error) {
	u := scheme + "://" + h.key + "/robots.txt"
	for attempt := 0; ; attempt++ {
		// robots.txt is a request like any other: it keeps the host's gap.
		if err := c.gate(ctx, h); err != nil {
			return nil, err
		}
		c.stats.robotsFetches.Add(1)
		h.requests.Add(1)
		resp, err := c.sess.Do(ctx, &session.Request{
			URL:         u,
			MaxBodySize: MaxRobotsSize,
		})
		if ctx.Err() != nil {
			if resp != nil {
				resp.Release()
			}
			return nil, ctx.Err()
		}
		var rules *robotsRules
		var delay time.Duration
		if err != nil {
			rules = &robotsRules{group: robots.DisallowAll().Group(""), url: u, reason: "robots.txt unreachable: " + err.Error(), unreachable: true}
			if down := hostDown(h.key, err); down != nil {
				rules.down = down
				rules.reason = down.Error()
			}
			if !retryableErr(err) {
				if rules.down != nil {
					c.log.Warn(rules.reason)
				}
				return rules, nil
			}
			delay = c.s.backoff(attempt)
		} else {
			rules = c.parseRobots(u, resp.StatusCode, resp.Body)
			if keep != nil && !rules.group.DisallowsAll() {
				keep(resp.StatusCode, resp.Body)
			}
			h := resp.Header
			resp.Release()
			if !rules.group.DisallowsAll() {
				return rules, nil
			}
			delay = c.s.retryDelay(attempt, h)
		}
		// A transient failure: try again (the host is held at one request
		// in flight meanwhile), then disallow the host (RFC 9309).
		if attempt >= c.s.Retries {
			if rules.down != nil {
				c.log.Warn(rules.reason)
			} else {
				c.log.Warn("robots.txt unavailable: disallowing the host", "url", u, "why", rules.reason)
			}
			return rules, nil
		}
		if err := c.s.sleep(ctx, delay); err != nil {
			return nil, err
		}
	}
}

// parseRobots turns a robots.txt response into rules (RFC 9309, see
// package robots): 2xx is parsed; 429 and 5xx disallow everything; any
// other status allows everything.
func (c *Crawler) parseRobots(u string, status int, body []byte) *robotsRules {
	rb := robots.FromStatus(status, body)
	r := &robotsRules{url: u, sitemaps: rb.Sitemaps(), group: rb.Group(c.s.robotsAgent)}
	if r.group.DisallowsAll() {
		r.reason = "robots.txt returned status " + strconv.Itoa(status)
	}
	if d, ok := r.group.CrawlDelay(); ok {
		if d > 24*time.Hour {
			d = 24 * time.Hour // absurd values
		}
		if c.s.MaxCrawlDelay > 0 && d > c.s.MaxCrawlDelay {
			d = c.s.MaxCrawlDelay
		}
		r.crawlDelay = d
	}
	return r
}

// robotsLoaded applies a host's robots.txt to its schedule (Crawl-delay,
// and the per-host limit held at 1 while robots.txt was unknown) and, the
// first time, for the seeds' hosts, queues the sitemaps it names.
func (c *Crawler) robotsLoaded(ctx context.Context, h *hostState, r *robotsRules, first bool) {
	h.mu.Lock()
	h.crawlDelay = r.crawlDelay
	h.robotsKnown = true
	var err error
	if h.registered.Load() {
		// A host not registered yet (one asked about by Allowed) gets its
		// policy, with this Crawl-delay, when its first URL is pushed.
		err = c.applyPolicyLocked(ctx, h)
	}
	h.mu.Unlock()
	if err != nil && !errors.Is(err, context.Canceled) {
		c.log.Warn("set host policy", "host", h.key, "err", err)
	}
	if first && c.s.Sitemaps && len(r.sitemaps) > 0 && c.isSeedHost(h.key) {
		c.queueSitemaps(ctx, r.sitemaps, r.url, 0)
	}
}

// errRobots builds the error of a URL robots.txt does not allow. When the
// host itself cannot be reached, the error says so and robots.txt is not
// blamed.
func errRobots(r *robotsRules, path string) error {
	switch {
	case r.down != nil:
		return r.down
	case r.unreachable:
		return fmt.Errorf("%w: %s (%w: %s)", ErrRobots, path, ErrRobotsUnreachable, r.reason)
	case r.group.DisallowsAll():
		return fmt.Errorf("%w: %s (%s)", ErrRobots, path, r.reason)
	}
	return fmt.Errorf("%w: %s by %s", ErrRobots, path, r.url)
}

// hostDown returns the error of a host that cannot be reached at all: its
// name does not resolve, or it refuses connections. Nil for any other
// failure (a timeout, a reset), which robots.txt's rules cover.
func hostDown(host string, err error) error {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		name := host
		if h, _, e := net.SplitHostPort(host); e == nil {
			name = h
		}
		return &UnreachableError{Host: host, Err: fmt.Errorf("cannot resolve %s: %w", name, dns)}
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		var op *net.OpError
		if errors.As(err, &op) {
			err = op
		}
		return &UnreachableError{Host: host, Err: fmt.Errorf("cannot connect to %s: %w", host, err)}
	}
	return nil
}

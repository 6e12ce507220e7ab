package crawler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/temoto/robotstxt"

	"github.com/trawlhq/trawl/session"
)

// robotsRules is what the crawler keeps of one host's robots.txt.
type robotsRules struct {
	group       *robotstxt.Group // nil means allow all
	disallowAll bool             // 5xx, 429 or unreachable (RFC 9309 §2.3.1.4)
	unreachable bool             // disallowAll because the server could not be reached
	reason      string           // why disallowAll, for the error record
	crawlDelay  time.Duration    // for our group, capped
	sitemaps    []string         // Sitemap: lines, as written
	url         string           // where it came from
}

// allowed reports whether path (path and query, escaped) may be fetched.
func (r *robotsRules) allowed(path string) bool {
	if r.disallowAll {
		return false
	}
	if r.group == nil {
		return true
	}
	return r.group.Test(path)
}

// robots returns the robots.txt rules of a host, fetching them once: the
// first caller fetches, concurrent callers for the same host wait for that
// fetch (or for their ctx). A fetch cut short by ctx is not cached, so the
// next caller tries again.
func (c *Crawler) robots(ctx context.Context, h *hostState, scheme string) (*robotsRules, error) {
	for {
		h.mu.Lock()
		if h.rules != nil {
			r := h.rules
			h.mu.Unlock()
			return r, nil
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
			h.rules = rules
		}
		h.mu.Unlock()
		close(ch)
		if err != nil {
			return nil, err
		}
		c.robotsLoaded(ctx, h, rules)
		return rules, nil
	}
}

// fetchRobots fetches and parses robots.txt of a host. It returns an
// error only when ctx ended; every other failure becomes rules.
func (c *Crawler) fetchRobots(ctx context.Context, scheme string, h *hostState) (*robotsRules, error) {
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
			rules = &robotsRules{disallowAll: true, unreachable: true, url: u, reason: err.Error()}
			if !retryableErr(err) {
				return rules, nil
			}
			delay = c.s.backoff(attempt)
		} else {
			rules = c.parseRobots(u, resp.StatusCode, resp.Body)
			h := resp.Header
			resp.Release()
			if !rules.disallowAll {
				return rules, nil
			}
			delay = c.s.retryDelay(attempt, h)
		}
		// A transient failure: try again (the host is held at one request
		// in flight meanwhile), then disallow the host (RFC 9309).
		if attempt >= c.s.Retries {
			c.log.Warn("robots.txt unavailable: disallowing the host", "url", u, "why", rules.reason)
			return rules, nil
		}
		if err := c.s.sleep(ctx, delay); err != nil {
			return nil, err
		}
	}
}

// parseRobots turns a robots.txt response into rules (RFC 9309): 2xx is
// parsed; 4xx other than 429 allows everything; 429 and 5xx disallow
// everything; anything else allows everything.
func (c *Crawler) parseRobots(u string, status int, body []byte) *robotsRules {
	switch {
	case status == 429 || (status >= 500 && status <= 599):
		return &robotsRules{disallowAll: true, url: u, reason: "robots.txt returned status " + strconv.Itoa(status)}
	case status < 200 || status > 299:
		return &robotsRules{url: u}
	}
	if len(body) > MaxRobotsSize {
		body = body[:MaxRobotsSize]
	}
	data, err := robotstxt.FromBytes(sanitizeRobots(body))
	if err != nil {
		c.log.Warn("robots.txt unparsable: allowing the host", "url", u, "err", err)
		return &robotsRules{url: u}
	}
	r := &robotsRules{url: u, sitemaps: data.Sitemaps}
	g := data.FindGroup(c.s.robotsAgent)
	r.group = g
	if g != nil {
		d := g.CrawlDelay
		if d < 0 || d > 24*time.Hour {
			d = 24 * time.Hour // absurd or overflowed values
		}
		if c.s.MaxCrawlDelay > 0 && d > c.s.MaxCrawlDelay {
			d = c.s.MaxCrawlDelay
		}
		r.crawlDelay = d
	}
	return r
}

// sanitizeRobots drops the lines robotstxt would reject the whole file for
// (rules before any User-agent line, unparsable Crawl-delay values), so
// that one stray line does not turn a site's rules into "allow all".
func sanitizeRobots(body []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(body))
	seenAgent := false
	for len(body) > 0 {
		line := body
		if i := bytes.IndexAny(body, "\r\n"); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		content := line
		if i := bytes.IndexByte(content, '#'); i >= 0 {
			content = content[:i]
		}
		key, val, ok := bytes.Cut(content, []byte(":"))
		k := strings.ToLower(strings.TrimSpace(string(key)))
		if ok {
			switch {
			case k == "user-agent" || k == "useragent" || k == "user agent":
				seenAgent = true
			case k == "crawl-delay" || k == "crawldelay" || k == "crawl delay":
				if !seenAgent {
					continue
				}
				if _, err := strconv.ParseFloat(strings.TrimSpace(string(val)), 64); err != nil {
					continue
				}
			case strings.HasPrefix(k, "allow") || strings.HasPrefix(k, "disallow"):
				if !seenAgent {
					continue
				}
			}
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// robotsLoaded applies a host's robots.txt to its schedule (Crawl-delay,
// and the per-host limit held at 1 while robots.txt was unknown) and, for
// the seeds' hosts, queues the sitemaps it names.
func (c *Crawler) robotsLoaded(ctx context.Context, h *hostState, r *robotsRules) {
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
	if c.s.Sitemaps && len(r.sitemaps) > 0 && c.isSeedHost(h.key) {
		c.queueSitemaps(ctx, r.sitemaps, r.url, 0)
	}
}

// errRobots builds the error of a URL robots.txt does not allow.
func errRobots(r *robotsRules, path string) error {
	if r.unreachable {
		return fmt.Errorf("%w: %s (%w: %s)", ErrRobots, path, ErrRobotsUnreachable, r.reason)
	}
	if r.disallowAll {
		return fmt.Errorf("%w: %s (%s)", ErrRobots, path, r.reason)
	}
	return fmt.Errorf("%w: %s by %s", ErrRobots, path, r.url)
}

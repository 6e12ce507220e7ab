package crawler

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/trawlhq/trawl/crawler/robots"
	"github.com/trawlhq/trawl/frontier"
)

// Defaults used when a Config field is zero.
const (
	DefaultWorkers       = 64
	DefaultPerHost       = 8
	DefaultRetries       = 2
	DefaultMaxRedirects  = 10
	DefaultMaxURLLength  = 8192
	DefaultGracePeriod   = 10 * time.Second
	DefaultRetryBackoff  = 1 * time.Second
	DefaultMaxBackoff    = 30 * time.Second
	DefaultMaxRetryAfter = 2 * time.Minute
	DefaultMaxCrawlDelay = 1 * time.Minute
	DefaultUserAgent     = "trawl/1.0 (+https://github.com/trawlhq/trawl)"

	// DefaultMaxSitemapSize caps a sitemap after gzip decompression (the
	// sitemaps.org limit is 50 MB).
	DefaultMaxSitemapSize = 50 << 20
	// DefaultMaxSitemapURLs caps the URLs taken from one sitemap file (the
	// sitemaps.org limit is 50,000).
	DefaultMaxSitemapURLs = 50_000

	// MaxRobotsSize is how much of a robots.txt is read and parsed
	// (RFC 9309 asks for at least 500 KiB).
	MaxRobotsSize = robots.MaxSize
	// RobotsMaxAge is how long a host's robots.txt is used before it is
	// fetched again (RFC 9309 §2.4: at most 24 hours, unless robots.txt is
	// unreachable, in which case the rules already known are kept).
	RobotsMaxAge = 24 * time.Hour
)

// SeedsOnly is the MaxDepth that fetches the seeds and follows no link.
const SeedsOnly = -1

// Config configures a Crawler. The zero value is usable: 64 workers, 8
// requests in flight per host, no delay, unlimited depth, the seeds' hosts
// as scope, robots.txt honoured, 2 retries, 10 redirects.
//
// Counts follow one rule: zero means the Default* value and a negative value
// means "none" (no retries, no redirects, no link followed, no grace).
// A command line whose flags use 0 for "none" maps 0 to -1 (see MaxDepth).
type Config struct {
	// Workers is the number of goroutines fetching pages; it bounds the
	// requests in flight across all hosts. Zero means DefaultWorkers.
	Workers int
	// PerHost is the most requests in flight to one host at any time (the
	// host's frontier MaxInFlight). Zero means DefaultPerHost.
	PerHost int
	// Rate is the most requests per second started to one host. Zero (or
	// rate.Inf) means unlimited. It becomes a least interval of 1/Rate
	// between request starts.
	Rate rate.Limit
	// Delay is the least time between the starts of two requests to one
	// host. Zero means none. The host's interval is the largest of Delay,
	// 1/Rate and its robots.txt Crawl-delay.
	Delay time.Duration
	// RandomDelay adds a uniformly random extra wait in [0, RandomDelay) to
	// every interval. Zero means none.
	RandomDelay time.Duration

	// MaxDepth is the deepest link depth fetched. Seeds have depth 0 and a
	// link found on a page of depth d has depth d+1, so MaxDepth 2 fetches
	// the seeds, the pages they link to and the pages those link to.
	// Zero means unlimited. SeedsOnly (-1), or any negative value, fetches
	// the seeds only. Links beyond MaxDepth are still listed in records.
	// The CLI's --depth N (seeds 0, -1 unlimited) maps to
	// N<0 → 0, N==0 → SeedsOnly, N>0 → N.
	MaxDepth int
	// MaxPages stops the crawl after this many records (successes and
	// errors). Zero means unlimited; negative is an error.
	MaxPages int

	// AllowDomains adds hosts to the scope, which by default is the hosts
	// of the seeds. "example.com" allows that host; "*.example.com" allows
	// example.com and all its subdomains. A single "*" allows every host.
	AllowDomains []string
	// DenyDomains are hosts never fetched (same syntax); they win over
	// AllowDomains and the seeds' hosts.
	DenyDomains []string
	// Include, when not empty, limits the crawl to URLs matching at least
	// one of these expressions.
	Include []*regexp.Regexp
	// Exclude lists expressions a URL must not match.
	Exclude []*regexp.Regexp
	// MaxURLLength is the longest URL fetched, in bytes (normalized);
	// longer seeds, links, redirect targets and sitemap URLs are dropped
	// and counted in Stats.TooLong. Zero means DefaultMaxURLLength (8 KiB);
	// negative means no limit.
	MaxURLLength int

	// UserAgent is sent on every request, robots.txt included. "" means
	// DefaultUserAgent.
	UserAgent string
	// RobotsAgent is the product token matched against robots.txt
	// User-agent lines. "" means the first token of UserAgent ("trawl").
	RobotsAgent string
	// IgnoreRobots skips robots.txt entirely. False (the default) fetches
	// each host's robots.txt once and obeys it.
	IgnoreRobots bool
	// MaxCrawlDelay caps a robots.txt Crawl-delay. Zero means
	// DefaultMaxCrawlDelay; negative means no cap.
	MaxCrawlDelay time.Duration
	// Sitemaps also seeds the crawl from the seeds' hosts' sitemaps:
	// robots.txt Sitemap: lines (not read with IgnoreRobots) and
	// /sitemap.xml, following sitemap index files, gzip and text sitemaps,
	// within DefaultMaxSitemapSize and DefaultMaxSitemapURLs per file.
	// Sitemap files get a record each. The URLs they list have depth 0
	// (like seeds) but pass every scope rule and robots.txt.
	Sitemaps bool

	// Retries is how many times a URL is tried again after a connection
	// error, a timeout or a status 429, 500, 502, 503 or 504. Zero means
	// DefaultRetries; negative means none.
	Retries int
	// RetryBackoff is the wait before the first retry; it doubles on each
	// retry up to MaxBackoff, with jitter. Zero means DefaultRetryBackoff.
	RetryBackoff time.Duration
	// MaxBackoff caps the exponential backoff. Zero means DefaultMaxBackoff.
	MaxBackoff time.Duration
	// MaxRetryAfter caps a server's Retry-After. Zero means
	// DefaultMaxRetryAfter.
	MaxRetryAfter time.Duration
	// MaxRedirects is the most redirect hops followed for one URL. Zero
	// means DefaultMaxRedirects; negative means redirects are not followed
	// (the URL's record is then an ErrTooManyRedirects error naming the
	// target). The session's own MaxRedirects applies too: the smaller
	// limit wins.
	MaxRedirects int

	// GracePeriod is how long in-flight requests may run after ctx is
	// cancelled. Zero means DefaultGracePeriod; negative means none (they
	// are aborted at once).
	GracePeriod time.Duration

	// Normalizer normalizes the seeds, redirect targets and sitemap URLs.
	// Nil means the zero frontier.Normalizer. Links come normalized from the
	// pipeline: give both the same Normalizer.
	Normalizer *frontier.Normalizer
	// Logger receives debug and warning messages. Nil means none.
	Logger *slog.Logger
	// Now returns the current time (Retry-After dates, backoff deadlines,
	// statistics). Nil means time.Now.
	Now func() time.Time
}

// settings is a Config with every default applied.
type settings struct {
	Config
	robotsAgent string
	allow       []domainRule
	deny        []domainRule
	allowAll    bool
}

// errConfig builds a configuration error naming the field.
func errConfig(field string, format string, args ...any) error {
	return fmt.Errorf("crawler: config %s: "+format, append([]any{field}, args...)...)
}

// resolve validates c and fills in the defaults.
func (c Config) resolve() (*settings, error) {
	s := &settings{Config: c}
	if c.Workers < 0 {
		return nil, errConfig("Workers", "%d is negative", c.Workers)
	}
	if c.Workers == 0 {
		s.Workers = DefaultWorkers
	}
	if c.PerHost < 0 {
		return nil, errConfig("PerHost", "%d is negative", c.PerHost)
	}
	if c.PerHost == 0 {
		s.PerHost = DefaultPerHost
	}
	if c.Rate < 0 {
		return nil, errConfig("Rate", "%v is negative", float64(c.Rate))
	}
	if c.Delay < 0 {
		return nil, errConfig("Delay", "%v is negative", c.Delay)
	}
	if c.RandomDelay < 0 {
		return nil, errConfig("RandomDelay", "%v is negative", c.RandomDelay)
	}
	if c.MaxPages < 0 {
		return nil, errConfig("MaxPages", "%d is negative", c.MaxPages)
	}
	if c.MaxURLLength == 0 {
		s.MaxURLLength = DefaultMaxURLLength
	}
	if c.UserAgent == "" {
		s.UserAgent = DefaultUserAgent
	}
	if strings.ContainsAny(s.UserAgent, "\r\n") {
		return nil, errConfig("UserAgent", "%q contains a line break", s.UserAgent)
	}
	s.robotsAgent = robotsToken(c.RobotsAgent)
	if s.robotsAgent == "" {
		s.robotsAgent = robotsToken(s.UserAgent)
	}
	if c.MaxCrawlDelay == 0 {
		s.MaxCrawlDelay = DefaultMaxCrawlDelay
	}
	if c.Retries == 0 {
		s.Retries = DefaultRetries
	} else if c.Retries < 0 {
		s.Retries = 0
	}
	if c.RetryBackoff <= 0 {
		s.RetryBackoff = DefaultRetryBackoff
	}
	if c.MaxBackoff <= 0 {
		s.MaxBackoff = DefaultMaxBackoff
	}
	if c.MaxRetryAfter <= 0 {
		s.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if c.MaxRedirects == 0 {
		s.MaxRedirects = DefaultMaxRedirects
	} else if c.MaxRedirects < 0 {
		s.MaxRedirects = 0
	}
	if c.GracePeriod == 0 {
		s.GracePeriod = DefaultGracePeriod
	} else if c.GracePeriod < 0 {
		s.GracePeriod = 0
	}
	if c.Normalizer == nil {
		s.Normalizer = &frontier.Normalizer{}
	}
	if c.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		s.Now = time.Now
	}
	for i, re := range c.Include {
		if re == nil {
			return nil, errConfig("Include", "expression %d is nil", i+1)
		}
	}
	for i, re := range c.Exclude {
		if re == nil {
			return nil, errConfig("Exclude", "expression %d is nil", i+1)
		}
	}
	var err error
	for _, d := range c.AllowDomains {
		if strings.TrimSpace(d) == "*" {
			s.allowAll = true
			continue
		}
		r, e := parseDomainRule(d)
		if e != nil {
			err = errors.Join(err, errConfig("AllowDomains", "%v", e))
			continue
		}
		s.allow = append(s.allow, r)
	}
	for _, d := range c.DenyDomains {
		r, e := parseDomainRule(d)
		if e != nil {
			err = errors.Join(err, errConfig("DenyDomains", "%v", e))
			continue
		}
		s.deny = append(s.deny, r)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// robotsToken returns the robots.txt product token of a user agent: its
// first word up to a slash, lower case ("trawl/1.0 (+url)" → "trawl").
func robotsToken(ua string) string {
	ua = strings.TrimSpace(ua)
	if i := strings.IndexAny(ua, "/ \t;("); i >= 0 {
		ua = ua[:i]
	}
	return strings.ToLower(ua)
}

// hostInterval is the least gap between request starts to one host from
// Delay and Rate.
func (s *settings) baseInterval() time.Duration {
	iv := s.Delay
	if s.Rate > 0 && s.Rate != rate.Inf {
		if r := time.Duration(float64(time.Second) / float64(s.Rate)); r > iv {
			iv = r
		}
	}
	return iv
}

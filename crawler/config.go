package crawler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/trawlhq/trawl/crawler/recrawl"
	"github.com/trawlhq/trawl/crawler/robots"
	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// Defaults used when a Config field is zero.
const (
	DefaultWorkers       = 64
	DefaultPerHost       = 8
	DefaultRetries       = 2
	DefaultMaxURLLength  = 8192
	DefaultGracePeriod   = 10 * time.Second
	DefaultRetryBackoff  = 1 * time.Second
	DefaultMaxBackoff    = 30 * time.Second
	DefaultMaxRetryAfter = 2 * time.Minute
	DefaultMaxCrawlDelay = 1 * time.Minute
	DefaultHostBackoff   = 1 * time.Second
	DefaultMaxHostDelay  = 1 * time.Minute
	// DefaultTargetConcurrency is AutoThrottle's default: one request in
	// flight per host on average (Scrapy's default too).
	DefaultTargetConcurrency = 1.0

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
// as scope, robots.txt honoured, 2 retries.
//
// Each setting has one home. What the session owns (the User-Agent, the
// redirect limit, timeouts, headers, cookies) is configured on the session
// and read from it; what the pipeline and the frontier need of the crawl
// (the normalizer, the robots product token, IgnoreRobots, each host's
// politeness policy) the crawler gives them from this Config.
//
// Counts follow one rule: zero means the Default* value and a negative value
// means "none" (no retries, no redirects, no link followed, no grace).
// A command line whose flags use 0 for "none" maps 0 to -1 (see MaxDepth).
type Config struct {
	// Workers is the number of goroutines fetching pages; it bounds the
	// requests in flight across all hosts. Zero means DefaultWorkers.
	Workers int
	// PerHost is the most requests in flight to one host at any time: the
	// crawler gives it to the frontier as every host's MaxInFlight (see
	// HostPolicy). It is the one per-host concurrency setting: the session
	// the crawler creates (when New is given none) has no per-host
	// connection limit of its own. Zero means DefaultPerHost.
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

	// RobotsAgent is the product token matched against robots.txt
	// User-agent lines, <meta name=AGENT> and "AGENT:" X-Robots-Tag
	// directives. "" means the session's User-Agent's first product token,
	// as RFC 9309 §2.2.1 asks: its leading letters, "_" and "-", lower case
	// ("trawl/1.0 (+url)" → "trawl"). The User-Agent itself is the
	// session's (session.Config.UserAgent): the crawler sends none of its
	// own, on pages, robots.txt and sitemaps alike.
	RobotsAgent string
	// IgnoreRobots skips robots.txt, <meta name=robots> and X-Robots-Tag
	// entirely (the crawler passes it to the pipeline it builds). False
	// (the default) fetches each host's robots.txt once and obeys it.
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
	// HostBackoff is the least interval a host is slowed to when it signals
	// overload (a 429 or 503 response, a connection reset, a timeout before
	// the response head): each signal doubles the host's interval, at least
	// to HostBackoff, at most to MaxHostDelay, and each other response
	// takes back an eighth of the increase. A Retry-After on the signal
	// also pauses the whole host until then (capped at MaxRetryAfter).
	// Other hosts are unaffected. See adapt.go. Zero means
	// DefaultHostBackoff; negative turns it off (a Retry-After then delays
	// only the URL that got it).
	HostBackoff time.Duration
	// AutoThrottle makes each host's interval follow its response latency:
	// latency / TargetConcurrency (Scrapy's AutoThrottle model), never
	// below the floor (Delay, 1/Rate, Crawl-delay) nor above MaxHostDelay.
	// False (the default) keeps the floor.
	AutoThrottle bool
	// TargetConcurrency is the average number of requests in flight to one
	// host AutoThrottle aims for. Zero means DefaultTargetConcurrency;
	// negative is an error.
	TargetConcurrency float64
	// MaxHostDelay caps the interval HostBackoff and AutoThrottle raise a
	// host to (it never lowers the floor). Zero means DefaultMaxHostDelay.
	MaxHostDelay time.Duration

	// GracePeriod is how long in-flight requests may run after ctx is
	// cancelled. Zero means DefaultGracePeriod; negative means none (they
	// are aborted at once).
	GracePeriod time.Duration

	// Normalizer normalizes the seeds, redirect targets, sitemap URLs and,
	// through the pipeline the crawler builds, the links of every page.
	// Nil means the zero frontier.Normalizer.
	Normalizer *frontier.Normalizer
	// Stages are the stages of the pipeline the crawler builds when New is
	// given a nil pipeline (link extraction always runs first). The crawler
	// gives that pipeline its Normalizer, robots agent and IgnoreRobots, and
	// closes it (flushing and closing its exporters) when Run returns. Nil
	// means none: pages are fetched and their links followed, nothing is
	// written. Stages with a pipeline given to New is an error.
	Stages []pipeline.Stage
	// Follow, when set, has the last word on each link of a fetched page
	// that the crawler's own rules would follow (not nofollow, in scope,
	// within MaxDepth; pages with an error, nofollow pages and sitemaps
	// have none): false leaves the link in the record but does not push
	// it. from is the page (Status, Depth, URL, FinalURL, Header, Data of
	// the stages), link says where it was found (Tag, Attr, Rel, Text).
	// Nil follows them all. On a recrawl's 304 the links are the stored
	// ones, with the Tag, Attr, Rel and Text the page's fetch gave (a crawl
	// with Follow stores anchor texts; one without does not). Examples:
	// do not expand error pages (from.Status >= 400), follow only /docs/,
	// or, with AllowDomains "*", expand only your own site's pages so that
	// each off-site link is fetched once and its links are not followed.
	//
	// Contract: Follow is called in the worker goroutine that fetched
	// from, after the pipeline wrote its record and before the lease is
	// acknowledged; calls for different pages run concurrently. It must
	// not keep from (its Body is recycled) and should not block: it holds
	// a worker. It is not called again when the URL is retried.
	Follow func(from *pipeline.Page, link pipeline.Link) bool
	// BeforeRequest, when set, is called before each page request (every
	// attempt; not robots.txt, which is fetched as the session's defaults
	// make it). It may set or remove headers of this request
	// (Request.Header, Request.Remove); they go with its redirect hops too,
	// for which it is not called again. A non-nil error vetoes
	// the request: nothing is sent and the URL's record carries an error
	// wrapping ErrVetoed and the hook's error; it is not retried.
	//
	// Contract: called in a worker goroutine, concurrently for different
	// URLs, after the scope and robots.txt checks and before the politeness
	// wait, holding the host's slot: it may block (the worker and the slot
	// wait), and ctx ends with the crawl's grace period.
	BeforeRequest func(ctx context.Context, r *Request) error
	// AfterResponse, when set, is called after each page response (every
	// attempt, whatever its status, before the crawler decides on a retry
	// and before the pipeline sees the page), with the crawl's session. It
	// may send requests with it (log in again, say; those requests do not
	// go through the frontier or the politeness gate). Returning an error
	// wrapping ErrRetry fetches the URL again after the frontier's
	// politeness interval; it counts against Retries. Any other non-nil
	// error becomes the URL's record error (the page is still recorded,
	// with its status, but its links are not followed).
	//
	// Contract: called in a worker goroutine, concurrently for different
	// URLs (serialize a login yourself), holding the host's slot: it may
	// block. Response.Body must not be kept after it returns.
	AfterResponse func(ctx context.Context, s *session.Session, r *Response) error

	// Recrawl, when set, remembers each page the crawl fetches (its
	// validators, freshness, body digest, title and links; see package
	// crawler/recrawl) and makes fetches of URLs it already knows
	// conditional: If-None-Match and If-Modified-Since from what it
	// stored. A 304 answer gives a record with NotModified set, the
	// stored title and links (which are followed as usual), and no body;
	// a 2xx has Known and Changed set by comparing digests; a known URL
	// now answering 404 or 410 is Gone and forgotten. Pages whose server
	// says Cache-Control: no-store are not kept. Sitemap files are not
	// kept; the <lastmod> sitemaps give is. The store is the caller's: the
	// crawler does not close it. Nil means none: every fetch is
	// unconditional and nothing is remembered.
	Recrawl recrawl.Store
	// Revisit makes Run push, besides the seeds, every URL Recrawl knows
	// (at its stored depth, if still in scope and within MaxDepth): a new
	// pass over the known pages, which reaches those no longer linked (and
	// finds them gone). The frontier drops URLs it has already seen, so a
	// resumed pass may set it again. The crawl keeps the fingerprints of
	// the URLs it pushed (8 bytes each) so as not to push them again as
	// links. False: known URLs are fetched again only when the crawl
	// reaches them. Ignored without Recrawl.
	Revisit bool
	// MaxAge, with Recrawl, leaves unfetched a known page fetched less
	// than MaxAge ago whose server's own freshness (max-age, Expires,
	// no-cache: RFC 9111 §4.2) does not say it is stale; its stored links
	// are still followed, and it gets no record (it is counted in
	// Stats.Fresh). A page a sitemap read after its last fetch gives a
	// <lastmod> no later than that fetch is left unfetched the same way,
	// whatever MaxAge. Zero means every known page is fetched
	// (conditionally); negative is an error.
	MaxAge time.Duration
	// DataVersion names what the pipeline's stages extract into
	// Page.Data, with Recrawl: each stored page keeps the Data its last
	// full response gave, and a 304 gives it to the pipeline again (the
	// stages see NotModified and leave it be), so every pass's records
	// carry the data of unchanged pages too. A known page stored under
	// another version is fetched in full, without conditional headers (or
	// a MaxAge), so that the new stages see its body: change DataVersion
	// whenever the extraction changes. "" with stages that extract nothing
	// keeps conditional requests for every known page. The CLI derives it
	// from --select.
	DataVersion string

	// Renderer, when set, renders fetched HTML pages in a browser before the
	// pipeline sees them (see Renderer; package crawler/render). Nil means
	// pages are processed as served.
	Renderer Renderer

	// Logger receives debug and warning messages. Nil means none.
	Logger *slog.Logger
	// Now returns the current time (Retry-After dates, backoff deadlines,
	// the politeness gate, statistics). Nil means time.Now.
	Now func() time.Time
}

// settings is a Config with every default applied.
type settings struct {
	Config
	sleep       func(ctx context.Context, d time.Duration) error // politeness waits; tests fake it with Now
	robotsAgent string
	adapt       adaptPolicy
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
	s.robotsAgent = robotsToken(c.RobotsAgent)
	if c.RobotsAgent != "" && s.robotsAgent == "" {
		return nil, errConfig("RobotsAgent", "%q has no product token (letters, _ and -)", c.RobotsAgent)
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
	if c.MaxAge < 0 {
		return nil, errConfig("MaxAge", "%v is negative", c.MaxAge)
	}
	if c.TargetConcurrency < 0 {
		return nil, errConfig("TargetConcurrency", "%v is negative", c.TargetConcurrency)
	}
	s.adapt = adaptPolicy{backoff: c.HostBackoff, ceiling: c.MaxHostDelay, auto: c.AutoThrottle, target: c.TargetConcurrency}
	if c.HostBackoff == 0 {
		s.adapt.backoff = DefaultHostBackoff
	}
	if c.MaxHostDelay <= 0 {
		s.adapt.ceiling = DefaultMaxHostDelay
	}
	if c.TargetConcurrency == 0 {
		s.adapt.target = DefaultTargetConcurrency
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
	s.sleep = sleep
	for i, st := range c.Stages {
		if st == nil {
			return nil, errConfig("Stages", "stage %d is nil", i+1)
		}
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

// robotsToken returns the robots.txt product token of a user agent, as
// RFC 9309 §2.2.1 defines it: the leading run of letters, "_" and "-",
// lower case ("trawl/1.0 (+url)" → "trawl", "My_Bot-2" → "my_bot-").
func robotsToken(ua string) string {
	ua = strings.TrimSpace(ua)
	i := 0
	for i < len(ua) {
		c := ua[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '-') {
			break
		}
		i++
	}
	return strings.ToLower(ua[:i])
}

// HostPolicy is the politeness policy the crawler gives every host once
// its robots.txt is known (or at once with IgnoreRobots): MaxInFlight =
// PerHost, Interval = the larger of Delay and 1/Rate (a host's robots.txt
// Crawl-delay can only lengthen it), Jitter = RandomDelay. The frontier
// the crawler creates uses it as its default policy; give it as the
// default Policy of a frontier you open yourself (memory.Config.Policy,
// disk.Config.Policy, redis.Config.Policy), so that hosts a resumed or
// shared crawl holds from before keep the same limits until the crawler
// has set theirs. Invalid values (negative) are treated as zero.
func (c Config) HostPolicy() frontier.HostPolicy {
	s := settings{Config: c}
	if s.PerHost <= 0 {
		s.PerHost = DefaultPerHost
	}
	return frontier.HostPolicy{MaxInFlight: s.PerHost, Interval: s.baseInterval(), Jitter: max(c.RandomDelay, 0)}
}

// baseInterval is the least gap between request starts to one host from
// Delay and Rate.
func (s *settings) baseInterval() time.Duration {
	iv := max(s.Delay, 0)
	if s.Rate > 0 && s.Rate != rate.Inf {
		if r := time.Duration(float64(time.Second) / float64(s.Rate)); r > iv {
			iv = r
		}
	}
	return iv
}

// sleep waits d, or until ctx ends (then it returns ctx's error). It
// returns nil at once when d <= 0.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

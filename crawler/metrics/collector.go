package metrics

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/frontier"
)

// Defaults used when a Config field is zero.
const (
	// DefaultHosts is how many hosts get series of their own.
	DefaultHosts = 20
	// DefaultFrontierInterval is the least time between two reads of the
	// frontier's figures (a Redis round trip for the Redis frontier).
	DefaultFrontierInterval = 5 * time.Second
	// DefaultFrontierTimeout bounds one read of the frontier's figures.
	DefaultFrontierTimeout = 2 * time.Second
)

// OtherHost is the host label of the series that sum every host outside
// the top Config.Hosts.
const OtherHost = "other"

// Config configures a Collector. Crawler is required; the zero value of
// every other field is usable.
type Config struct {
	// Crawler is the crawl whose figures are exported, with those of its
	// session, frontier and pipeline. Required.
	Crawler *crawler.Crawler

	// Hosts is how many hosts, those with the most requests, get per-host
	// series of their own; the others are summed as host="other". Zero
	// means DefaultHosts; negative means no per-host series at all.
	Hosts int
	// FrontierInterval is the least time between two reads of the
	// frontier's figures; scrapes in between get the last figures. Zero
	// means DefaultFrontierInterval; negative means every scrape reads.
	FrontierInterval time.Duration
	// FrontierTimeout bounds one read of the frontier's figures; a scrape
	// whose read fails or times out leaves the frontier gauges out. Zero
	// means DefaultFrontierTimeout.
	FrontierTimeout time.Duration
	// Now returns the current time (the frontier read schedule, backoff
	// seconds). Nil means time.Now.
	Now func() time.Time
}

// Collector is a prometheus.Collector of a crawl's figures, read at
// scrape time (see the package documentation for the metrics). It is safe
// for concurrent use; Collect costs one pass over the hosts the crawl has
// met (crawler.Crawler.TopHosts; see BenchmarkTopHosts100k) and at most one
// frontier read per FrontierInterval.
type Collector struct {
	cfg Config

	mu     sync.Mutex // guards the frontier cache
	fAt    time.Time
	fStats frontier.Stats
	fOK    bool
}

var _ prometheus.Collector = (*Collector)(nil)

// New returns a Collector of cfg's crawl. It fails when cfg.Crawler is nil.
func New(cfg Config) (*Collector, error) {
	if cfg.Crawler == nil {
		return nil, errors.New("metrics: nil Config.Crawler")
	}
	if cfg.Hosts == 0 {
		cfg.Hosts = DefaultHosts
	}
	if cfg.FrontierInterval == 0 {
		cfg.FrontierInterval = DefaultFrontierInterval
	}
	if cfg.FrontierTimeout <= 0 {
		cfg.FrontierTimeout = DefaultFrontierTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Collector{cfg: cfg}, nil
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	dRequests      = desc("trawl_requests_total", "HTTP requests sent, redirect hops and robots.txt included, by status code (exact for common codes, else the class) or \"error\" when no response came.", "code")
	dRetries       = desc("trawl_retries_total", "Fetch attempts rescheduled for a retry, by reason.", "reason")
	dRobotsDenied  = desc("trawl_robots_denied_total", "URLs robots.txt disallowed.")
	dBytes         = desc("trawl_response_bytes_total", "Response body bytes read off the wire, before decompression.")
	dPages         = desc("trawl_pages_total", "Records produced, successes and errors.")
	dPageErrors    = desc("trawl_page_errors_total", "Records with an error.")
	dExported      = desc("trawl_pages_exported_total", "Records written by the pipeline's exporters.")
	dStageErrors   = desc("trawl_stage_errors_total", "Pipeline stage errors, by stage.", "stage")
	dConnsOpened   = desc("trawl_connections_opened_total", "Connections dialed.")
	dConnsReused   = desc("trawl_connections_reused_total", "Requests sent on a kept-alive connection.")
	dQueued        = desc("trawl_frontier_queued", "URLs waiting in the frontier, delayed retries included (whole crawl).")
	dDelayed       = desc("trawl_frontier_delayed", "URLs in the frontier waiting for a retry time (whole crawl).")
	dLeased        = desc("trawl_frontier_in_flight", "Frontier leases outstanding (whole crawl).")
	dSeen          = desc("trawl_frontier_seen", "Distinct URLs ever pushed to the frontier (whole crawl).")
	dHostsActive   = desc("trawl_hosts_active", "Hosts with queued or leased URLs (whole crawl).")
	dHostsWaiting  = desc("trawl_hosts_waiting", "Hosts waiting in backoff: a retry time set for one of their URLs is still ahead.")
	dHostsSeen     = desc("trawl_hosts_seen", "Hosts this process has met.")
	dWorkersBusy   = desc("trawl_workers_busy", "Workers working on a lease.")
	dHostRequests  = desc("trawl_host_requests_total", "Fetch attempts per host, robots.txt included, for the top hosts by requests; \"other\" sums the rest.", "host")
	dHostRetries   = desc("trawl_host_retries_total", "Retries per host, for the top hosts by requests; \"other\" sums the rest.", "host")
	dHostInFlight  = desc("trawl_host_in_flight", "Leases of the host being worked on, for the top hosts by requests; \"other\" sums the rest.", "host")
	dHostBackoff   = desc("trawl_host_backoff_seconds", "Seconds until the host's latest retry time (0 when none is ahead), for the top hosts by requests; \"other\" is the largest of the rest.", "host")
	dRecrawl       = desc("trawl_recrawl_pages_total", "URLs known from an earlier pass (--recrawl), by outcome: not_modified (304), unchanged or changed (2xx, by the body's digest), gone (404 or 410), fresh (not fetched: --max-age or a sitemap lastmod).", "outcome")
	dRecrawlErrors = desc("trawl_recrawl_store_errors_total", "Failed reads and writes of the recrawl store (the fetch then goes unconditional, or the page is not remembered).")
	dHostsSlowed   = desc("trawl_hosts_slowed", "Hosts adaptive politeness holds above their floor interval or pauses (429, 503, resets, timeouts; latency with --auto-throttle).")
	dHostInterval  = desc("trawl_host_interval_seconds", "The least gap between request starts of a host held above its floor, with what holds it: 429, 503, reset, timeout or latency; the 20 slowest hosts.", "host", "reason")
	dHostPaused    = desc("trawl_host_paused_seconds", "Seconds until a host paused by Retry-After may get a request again (0 when not paused); the 20 slowest hosts.", "host")
	collectorDescs = []*prometheus.Desc{
		dRequests, dRetries, dRobotsDenied, dBytes, dPages, dPageErrors, dExported, dStageErrors,
		dConnsOpened, dConnsReused, dQueued, dDelayed, dLeased, dSeen, dHostsActive, dHostsWaiting,
		dHostsSeen, dWorkersBusy, dHostRequests, dHostRetries, dHostInFlight, dHostBackoff,
		dRecrawl, dRecrawlErrors, dHostsSlowed, dHostInterval, dHostPaused,
	}
)

// Describe sends the descriptors of every metric Collect may send.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range collectorDescs {
		ch <- d
	}
}

// commonCodes get a series of their own in trawl_requests_total; other
// codes are counted in their class.
var commonCodes = map[int]bool{
	200: true, 201: true, 204: true, 206: true,
	301: true, 302: true, 303: true, 304: true, 307: true, 308: true,
	400: true, 401: true, 403: true, 404: true, 405: true, 406: true, 408: true, 410: true, 429: true,
	500: true, 501: true, 502: true, 503: true, 504: true,
}

// CodeLabel is the code label of a status in trawl_requests_total: the
// code itself for common ones ("200", "404"), else its class ("2xx"), and
// "error" for 0 (no response).
func CodeLabel(code int) string {
	switch {
	case commonCodes[code]:
		return strconv.Itoa(code)
	case code >= 100 && code <= 599:
		return strconv.Itoa(code/100) + "xx"
	}
	return "error"
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v int64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

// Collect reads the figures and sends them.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.cfg.Crawler.Stats()
	for _, r := range []string{crawler.RetryTimeout, crawler.RetryConnection, crawler.Retry429, crawler.Retry5xx, crawler.RetryHook} {
		counter(ch, dRetries, st.RetriesByReason[r], r)
	}
	counter(ch, dRobotsDenied, st.RobotsDenied)
	counter(ch, dPages, st.Pages)
	counter(ch, dPageErrors, st.Errors)
	gauge(ch, dHostsSeen, float64(st.Hosts))
	gauge(ch, dWorkersBusy, float64(st.InFlight))
	if c.cfg.Crawler.Recrawling() {
		for _, o := range [...]struct {
			outcome string
			n       int64
		}{{"not_modified", st.NotModified}, {"unchanged", st.Unchanged}, {"changed", st.Changed}, {"gone", st.Gone}, {"fresh", st.Fresh}} {
			counter(ch, dRecrawl, o.n, o.outcome)
		}
		counter(ch, dRecrawlErrors, st.RecrawlErrors)
	}
	gauge(ch, dHostsSlowed, float64(st.HostsSlowed))
	// At most 20 hosts (crawler.Stats.SlowHosts), whatever Config.Hosts:
	// the series of a host go away when it recovers.
	if c.cfg.Hosts >= 0 {
		now := c.cfg.Now()
		for _, h := range st.SlowHosts {
			gauge(ch, dHostInterval, h.IntervalSec, h.Host, h.Reason)
			paused := 0.0
			if d := h.PausedUntil.Sub(now); !h.PausedUntil.IsZero() && d > 0 {
				paused = d.Seconds()
			}
			gauge(ch, dHostPaused, paused, h.Host)
		}
	}

	// The parts are nil until Run has set them up (crawler.New given none).
	if sess := c.cfg.Crawler.Session(); sess != nil {
		ss := sess.Stats()
		byCode := map[string]int64{"error": ss.Failed}
		sess.StatusCounts().Range(func(code int, n int64) { byCode[CodeLabel(code)] += n })
		for code, n := range byCode {
			counter(ch, dRequests, n, code)
		}
		counter(ch, dBytes, ss.BytesRead)
		counter(ch, dConnsOpened, ss.ConnsOpened)
		counter(ch, dConnsReused, ss.ConnsReused)
	}
	if pl := c.cfg.Crawler.Pipeline(); pl != nil {
		counter(ch, dExported, pl.Stats().Exported)
		byStage := map[string]int64{}
		for _, se := range pl.StageErrors() {
			byStage[se.Name] += se.Errors
		}
		for name, n := range byStage {
			counter(ch, dStageErrors, n, name)
		}
	}
	if fs, ok := c.frontierStats(); ok {
		gauge(ch, dQueued, float64(fs.Queued))
		gauge(ch, dDelayed, float64(fs.Delayed))
		gauge(ch, dLeased, float64(fs.Leased))
		gauge(ch, dSeen, float64(fs.Seen))
		gauge(ch, dHostsActive, float64(fs.Hosts))
	}

	n := c.cfg.Hosts
	if n < 0 {
		n = 0
	}
	top, rest := c.cfg.Crawler.TopHosts(n)
	now := c.cfg.Now()
	waiting := rest.Backoff
	for _, h := range top {
		waiting += h.Backoff
	}
	gauge(ch, dHostsWaiting, float64(waiting))
	if c.cfg.Hosts < 0 {
		return
	}
	host := func(h crawler.HostStats, label string) {
		counter(ch, dHostRequests, h.Requests, label)
		counter(ch, dHostRetries, h.Retries, label)
		gauge(ch, dHostInFlight, float64(h.InFlight), label)
		backoff := 0.0
		if d := h.BackoffUntil.Sub(now); !h.BackoffUntil.IsZero() && d > 0 {
			backoff = d.Seconds()
		}
		gauge(ch, dHostBackoff, backoff, label)
	}
	for _, h := range top {
		if h.Host == OtherHost { // a host named "other" joins the bucket rather than shadow it
			rest.Requests += h.Requests
			rest.Retries += h.Retries
			rest.InFlight += h.InFlight
			if h.BackoffUntil.After(rest.BackoffUntil) {
				rest.BackoffUntil = h.BackoffUntil
			}
			continue
		}
		host(h, h.Host)
	}
	host(rest, OtherHost)
}

// frontierStats returns the frontier's figures, read at most once per
// FrontierInterval.
func (c *Collector) frontierStats() (frontier.Stats, bool) {
	f := c.cfg.Crawler.Frontier()
	if f == nil {
		return frontier.Stats{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Now()
	if c.fOK && c.cfg.FrontierInterval > 0 && now.Sub(c.fAt) < c.cfg.FrontierInterval {
		return c.fStats, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.FrontierTimeout)
	defer cancel()
	st, err := f.Stats(ctx)
	if err != nil {
		return frontier.Stats{}, false
	}
	c.fAt, c.fStats, c.fOK = now, st, true
	return st, true
}

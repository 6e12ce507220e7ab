package crawler

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// Stats is a snapshot of a crawl, live while Run runs and final after.
type Stats struct {
	Pages    int64         `json:"pages"`     // records produced (OK + Errors + other statuses)
	OK       int64         `json:"ok"`        // responses with a status below 400 and no error
	Errors   int64         `json:"errors"`    // records with an error: no response, robots, redirect refused, retries exhausted
	ByStatus map[int]int64 `json:"by_status"` // records per HTTP status; 0 counts records without a response
	Bytes    int64         `json:"bytes"`     // body bytes after decompression
	Requests int64         `json:"requests"`  // fetch attempts (retries included; robots.txt excluded)
	Retries  int64         `json:"retries"`   // attempts rescheduled for a retry
	// RetriesByReason splits Retries by cause: RetryTimeout,
	// RetryConnection, Retry429, Retry5xx, RetryHook (every key present).
	RetriesByReason map[string]int64 `json:"retries_by_reason"`
	RobotsDenied    int64            `json:"robots_denied"` // URLs robots.txt disallowed
	TooLong         int64            `json:"too_long"`      // URLs and links dropped for being longer than MaxURLLength (each time met)
	InFlight        int64            `json:"in_flight"`     // leases being worked on now
	Queued          int64            `json:"queued"`        // URLs waiting in the frontier, as of at most a second ago (0 until Run first asks)
	Discovered      int64            `json:"discovered"`    // new URLs pushed to the frontier: seeds, links, sitemap URLs
	Hosts           int64            `json:"hosts"`         // distinct hosts seen
	Rendered        int64            `json:"rendered"`      // pages rendered in a browser (Config.Renderer)
	ConnsOpened     int64            `json:"conns_opened"`  // from the session
	ConnsReused     int64            `json:"conns_reused"`  // from the session
	Elapsed         time.Duration    `json:"-"`             // since Run started (until it returned)
	ElapsedSec      float64          `json:"elapsed_s"`     // Elapsed in seconds
	PagesPerSec     float64          `json:"pages_per_s"`   // Pages / Elapsed
	// With Config.Recrawl: records of known URLs answered 304
	// (NotModified), answered 2xx with a changed or an unchanged body,
	// known URLs now 404 or 410 (Gone), known URLs left unfetched because
	// they were fresh (MaxAge, sitemap lastmod; they have no record), and
	// failed store operations (the fetch then went unconditional, or the
	// page was not remembered).
	NotModified   int64 `json:"not_modified,omitempty"`
	Changed       int64 `json:"changed,omitempty"`
	Unchanged     int64 `json:"unchanged,omitempty"`
	Gone          int64 `json:"gone,omitempty"`
	Fresh         int64 `json:"fresh,omitempty"`
	RecrawlErrors int64 `json:"recrawl_errors,omitempty"`
	// SlowHosts are the hosts adaptive politeness holds above their floor
	// interval or pauses (HostBackoff, AutoThrottle), slowest first, at
	// most 20; nil when there are none.
	SlowHosts []HostDelay `json:"slow_hosts,omitempty"`
	// HostsSlowed counts every host SlowHosts would list, beyond its 20.
	HostsSlowed int64 `json:"hosts_slowed,omitempty"`
}

// counters are the live figures behind Stats.
type counters struct {
	pages, ok, errors, bytes               atomic.Int64
	requests, retries, robotsDenied        atomic.Int64
	tooLong                                atomic.Int64
	inFlight, hosts, pushed, robotsFetches atomic.Int64
	retryReasons                           [numRetryReasons]atomic.Int64
	rendered                               atomic.Int64
	recrawl                                recrawlCounters
	status                                 [600]atomic.Int64 // by status 0..599

	queued   atomic.Int64 // the frontier's Queued, cached
	queuedAt atomic.Int64 // when queued was last asked for, UnixNano

	mu    sync.Mutex
	other map[int]int64 // statuses outside 0..599
}

// record counts one record.
func (k *counters) record(p *pipeline.Page) {
	k.pages.Add(1)
	k.bytes.Add(int64(len(p.Body)))
	switch {
	case p.Err != nil:
		k.errors.Add(1)
	case p.Status > 0 && p.Status < 400:
		k.ok.Add(1)
	}
	if p.Status >= 0 && p.Status < len(k.status) {
		k.status[p.Status].Add(1)
		return
	}
	k.mu.Lock()
	if k.other == nil {
		k.other = map[int]int64{}
	}
	k.other[p.Status]++
	k.mu.Unlock()
}

// Stats returns a snapshot of the crawl's figures. It is safe to call at
// any time from any goroutine and does no I/O: Queued is the frontier's
// figure as a worker last read it (at most once a second while Run runs,
// and once more when it ends).
func (c *Crawler) Stats() Stats {
	k := &c.stats
	st := Stats{
		Pages:        k.pages.Load(),
		OK:           k.ok.Load(),
		Errors:       k.errors.Load(),
		Bytes:        k.bytes.Load(),
		Requests:     k.requests.Load(),
		Retries:      k.retries.Load(),
		RobotsDenied: k.robotsDenied.Load(),
		TooLong:      k.tooLong.Load(),
		InFlight:     k.inFlight.Load(),
		Hosts:        k.hosts.Load(),
		Rendered:     k.rendered.Load(),
		Discovered:   k.pushed.Load(),

		NotModified:   k.recrawl.notModified.Load(),
		Changed:       k.recrawl.changed.Load(),
		Unchanged:     k.recrawl.unchanged.Load(),
		Gone:          k.recrawl.gone.Load(),
		Fresh:         k.recrawl.fresh.Load(),
		RecrawlErrors: k.recrawl.errs.Load(),
		ByStatus:      map[int]int64{},
		Queued:        k.queued.Load(),

		RetriesByReason: make(map[string]int64, numRetryReasons),
	}
	for r := range numRetryReasons {
		st.RetriesByReason[r.String()] = k.retryReasons[r].Load()
	}
	for code := range k.status {
		if n := k.status[code].Load(); n > 0 {
			st.ByStatus[code] = n
		}
	}
	k.mu.Lock()
	for code, n := range k.other {
		st.ByStatus[code] += n
	}
	k.mu.Unlock()
	st.SlowHosts, st.HostsSlowed = c.slowHosts()
	if c.ready.Load() {
		ss := c.sess.Stats()
		st.ConnsOpened, st.ConnsReused = ss.ConnsOpened, ss.ConnsReused
	}
	if start := c.startNanos.Load(); start != 0 {
		end := c.endNanos.Load()
		if end == 0 {
			end = c.s.Now().UnixNano()
		}
		st.Elapsed = time.Duration(end - start)
		st.ElapsedSec = st.Elapsed.Seconds()
		if st.Elapsed > 0 {
			st.PagesPerSec = float64(st.Pages) / st.Elapsed.Seconds()
		}
	}
	return st
}

// queuedEvery is how often the workers refresh Stats.Queued.
const queuedEvery = time.Second

// maybeRefreshQueued refreshes the cached Queued figure when it is older
// than queuedEvery; one worker does it, the others go on.
func (c *Crawler) maybeRefreshQueued(ctx context.Context) {
	k := &c.stats
	now := c.s.Now().UnixNano()
	last := k.queuedAt.Load()
	if now-last < int64(queuedEvery) || !k.queuedAt.CompareAndSwap(last, now) {
		return
	}
	c.refreshQueued(ctx)
}

// refreshQueued asks the frontier for its Queued figure, within a second.
func (c *Crawler) refreshQueued(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if fs, err := c.front.Stats(ctx); err == nil {
		c.stats.queued.Store(fs.Queued)
	}
}

// HostStats are the live traffic figures of one host (a host key,
// "host[:port]").
type HostStats struct {
	Host     string
	Hosts    int64 // hosts summed up: 1 for one host
	Backoff  int64 // of them, hosts waiting in backoff now (BackoffUntil in the future)
	Requests int64 // fetch attempts, robots.txt included; redirect hops count for the leased URL's host
	Retries  int64 // attempts rescheduled for a retry
	InFlight int64 // leases of the host being worked on now
	// BackoffUntil is the latest retry time set for one of the host's URLs;
	// zero when none was. The host is waiting in backoff while it is in
	// the future.
	BackoffUntil time.Time
}

// TopHosts returns the figures of the n hosts with the most requests (most
// first; ties by host name) and rest, the sum of all the other hosts'
// figures (Host "", BackoffUntil the latest among them). n <= 0 puts every
// host in rest. It visits every host the crawl has seen, without locking
// the workers out: call it at scrape time, not per request. It is safe for
// concurrent use.
func (c *Crawler) TopHosts(n int) (top []HostStats, rest HostStats) {
	if n < 0 {
		n = 0
	}
	// A min-heap of the n largest, by (requests, reversed name).
	less := func(a, b *HostStats) bool {
		if a.Requests != b.Requests {
			return a.Requests < b.Requests
		}
		return a.Host > b.Host
	}
	h := make([]HostStats, 0, n)
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(h) {
				return
			}
			m := l
			if r := l + 1; r < len(h) && less(&h[r], &h[l]) {
				m = r
			}
			if !less(&h[m], &h[i]) {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	addRest := func(s *HostStats) {
		rest.Hosts += s.Hosts
		rest.Backoff += s.Backoff
		rest.Requests += s.Requests
		rest.Retries += s.Retries
		rest.InFlight += s.InFlight
		if s.BackoffUntil.After(rest.BackoffUntil) {
			rest.BackoffUntil = s.BackoffUntil
		}
	}
	now := c.s.Now().UnixNano()
	c.hosts.Range(func(_, v any) bool {
		hs := v.(*hostState).stats(now)
		switch {
		case len(h) < n:
			h = append(h, hs)
			for i := len(h) - 1; i > 0; {
				p := (i - 1) / 2
				if !less(&h[i], &h[p]) {
					break
				}
				h[i], h[p] = h[p], h[i]
				i = p
			}
		case n > 0 && less(&h[0], &hs):
			addRest(&h[0])
			h[0] = hs
			down(0)
		default:
			addRest(&hs)
		}
		return true
	})
	sort.Slice(h, func(i, j int) bool { return less(&h[j], &h[i]) })
	return h, rest
}

// stats returns the host's figures at time now (UnixNano).
func (h *hostState) stats(now int64) HostStats {
	s := HostStats{
		Host:     h.key,
		Hosts:    1,
		Requests: h.requests.Load(),
		Retries:  h.retries.Load(),
		InFlight: h.inFlight.Load(),
	}
	if b := h.backoffUntil.Load(); b != 0 {
		s.BackoffUntil = time.Unix(0, b)
		if b > now {
			s.Backoff = 1
		}
	}
	return s
}

// Session returns the session the crawler fetches through (the one given
// to New, or the default one Run creates), for readers of its figures
// (package crawler/metrics). It is nil until Run has set up the crawler's
// parts when New was given none.
func (c *Crawler) Session() *session.Session {
	if !c.ready.Load() {
		return nil
	}
	return c.sess
}

// Frontier returns the crawler's frontier; nil until Run has set up the
// crawler's parts (see Session).
func (c *Crawler) Frontier() frontier.Frontier {
	if !c.ready.Load() {
		return nil
	}
	return c.front
}

// Pipeline returns the crawler's pipeline; nil until Run has set up the
// crawler's parts (see Session).
func (c *Crawler) Pipeline() *pipeline.Pipeline {
	if !c.ready.Load() {
		return nil
	}
	return c.pipe
}

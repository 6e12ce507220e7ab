package crawler

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trawlhq/trawl/pipeline"
)

// Stats is a snapshot of a crawl, live while Run runs and final after.
type Stats struct {
	Pages        int64         `json:"pages"`         // records produced (OK + Errors + other statuses)
	OK           int64         `json:"ok"`            // responses with a status below 400 and no error
	Errors       int64         `json:"errors"`        // records with an error: no response, robots, redirect refused, retries exhausted
	ByStatus     map[int]int64 `json:"by_status"`     // records per HTTP status; 0 counts records without a response
	Bytes        int64         `json:"bytes"`         // body bytes after decompression
	Requests     int64         `json:"requests"`      // fetch attempts (retries included; robots.txt excluded)
	Retries      int64         `json:"retries"`       // attempts rescheduled for a retry
	RobotsDenied int64         `json:"robots_denied"` // URLs robots.txt disallowed
	InFlight     int64         `json:"in_flight"`     // leases being worked on now
	Queued       int64         `json:"queued"`        // URLs waiting in the frontier, as of at most a second ago (0 until Run first asks)
	Discovered   int64         `json:"discovered"`    // new URLs pushed to the frontier: seeds, links, sitemap URLs
	Hosts        int64         `json:"hosts"`         // distinct hosts seen
	ConnsOpened  int64         `json:"conns_opened"`  // from the session
	ConnsReused  int64         `json:"conns_reused"`  // from the session
	Elapsed      time.Duration `json:"-"`             // since Run started (until it returned)
	ElapsedSec   float64       `json:"elapsed_s"`     // Elapsed in seconds
	PagesPerSec  float64       `json:"pages_per_s"`   // Pages / Elapsed
}

// counters are the live figures behind Stats.
type counters struct {
	pages, ok, errors, bytes               atomic.Int64
	requests, retries, robotsDenied        atomic.Int64
	inFlight, hosts, pushed, robotsFetches atomic.Int64
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
		InFlight:     k.inFlight.Load(),
		Hosts:        k.hosts.Load(),
		Discovered:   k.pushed.Load(),
		ByStatus:     map[int]int64{},
		Queued:       k.queued.Load(),
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

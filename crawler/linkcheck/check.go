package linkcheck

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/session"
)

// errRedirectLoop is the cause of a check whose redirects came back to a
// URL of their own chain.
var errRedirectLoop = errors.New("linkcheck: redirect loop")

// checkBodySize is how much of a GET check's body is read: only the status
// matters.
const checkBodySize = 1 << 10

// job is one target on its way through the pool.
type job struct {
	e       *entry
	host    *hostQueue
	get     bool // HEAD was refused or unreliable: check with GET
	attempt int  // attempts of the current method so far
	robots  bool // robots.txt was consulted
}

// hostQueue is the pool's view of one host: its waiting jobs, its requests
// in flight and the earliest start of its next request.
type hostQueue struct {
	key       string
	jobs      []*job
	inFlight  int
	nextStart time.Time
	listed    bool // in pool.ready
}

// pool is the fixed set of goroutines checking targets, with per-host
// limits: at most the crawl's PerHost checks in flight to one host, started
// at least its interval apart (Delay, Rate, robots.txt Crawl-delay). A job
// waiting for a retry holds no goroutine (a timer puts it back).
type pool struct {
	c       *Checker
	workers int

	mu      sync.Mutex
	cond    *sync.Cond
	hosts   map[string]*hostQueue
	ready   []*hostQueue // hosts with waiting jobs, in turn
	pending int          // jobs added and not finished (waiting, running or in a timer)
	closed  bool         // no more jobs will be added
	stopped bool         // no job may start
	timers  map[*time.Timer]struct{}

	wg       sync.WaitGroup
	stopCtx  func()
	workCtx  context.Context
	watchEnd chan struct{}
}

func newPool(c *Checker, workers int) *pool {
	p := &pool{c: c, workers: workers, hosts: map[string]*hostQueue{}, timers: map[*time.Timer]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// start starts the workers. When ctx ends no new check starts; checks in
// flight run to their end (bounded by the session's timeouts).
func (p *pool) start(ctx context.Context) {
	p.workCtx = context.WithoutCancel(ctx)
	p.watchEnd = make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			p.stop()
		case <-p.watchEnd:
		}
	}()
	for range p.workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.work()
		}()
	}
}

// stop makes the workers return after the checks in flight, dropping the
// waiting jobs.
func (p *pool) stop() {
	p.mu.Lock()
	p.stopped = true
	for t := range p.timers {
		t.Stop()
	}
	p.cond.Broadcast()
	p.mu.Unlock()
}

// finish says no more jobs come and waits for the workers to drain the
// pool (or to return after stop).
func (p *pool) finish() {
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
	close(p.watchEnd)
}

// add queues a target for checking.
func (p *pool) add(e *entry) {
	key := frontier.HostKey(e.URL)
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.hosts[key]
	if h == nil {
		h = &hostQueue{key: key}
		p.hosts[key] = h
	}
	p.pending++
	p.pushLocked(&job{e: e, host: h})
}

// pushLocked puts a job on its host's queue and the host in turn.
func (p *pool) pushLocked(j *job) {
	h := j.host
	h.jobs = append(h.jobs, j)
	if !h.listed {
		h.listed = true
		p.ready = append(p.ready, h)
	}
	p.cond.Signal()
}

// laterLocked puts a job back after d (a retry, Retry-After). p.mu held.
func (p *pool) laterLocked(j *job, d time.Duration) {
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		delete(p.timers, t)
		if !p.stopped {
			p.pushLocked(j)
		}
	})
	p.timers[t] = struct{}{}
}

// next returns the next job whose host has a free slot, taking the slot,
// or nil when the workers must return. p.mu held.
func (p *pool) next() *job {
	for {
		if p.stopped {
			return nil
		}
		for i, h := range p.ready {
			if len(h.jobs) == 0 {
				continue
			}
			max := p.c.crawl.HostPolicy(h.jobs[0].e.URL).MaxInFlight
			if h.inFlight >= max {
				continue
			}
			j := h.jobs[0]
			h.jobs[0] = nil
			h.jobs = h.jobs[1:]
			h.inFlight++
			// Round robin: this host goes to the back of the turn.
			p.ready = append(p.ready[:i], p.ready[i+1:]...)
			if len(h.jobs) > 0 {
				p.ready = append(p.ready, h)
			} else {
				h.listed = false
			}
			return j
		}
		if p.closed && p.pending == 0 {
			p.cond.Broadcast()
			return nil
		}
		p.cond.Wait()
	}
}

// work is one worker's loop.
func (p *pool) work() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		j := p.next()
		if j == nil {
			return
		}
		p.mu.Unlock()
		retry, d := p.run(j)
		p.mu.Lock()
		j.host.inFlight--
		switch {
		case !retry:
			p.pending--
		case p.stopped: // dropped: the report says it was not checked
		case d <= 0:
			p.pushLocked(j)
		default:
			p.laterLocked(j, d)
		}
		p.cond.Broadcast()
	}
}

// gap waits for the host's turn: requests to one host start at least its
// interval apart (plus jitter).
func (p *pool) gap(ctx context.Context, j *job) error {
	pol := p.c.crawl.HostPolicy(j.e.URL)
	iv := pol.Interval
	if pol.Jitter > 0 {
		iv += rand.N(pol.Jitter)
	}
	if iv <= 0 {
		return nil
	}
	p.mu.Lock()
	now := p.c.now()
	start := now
	if j.host.nextStart.After(start) {
		start = j.host.nextStart
	}
	j.host.nextStart = start.Add(iv)
	p.mu.Unlock()
	wait := start.Sub(now)
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run makes one attempt at a job. It reports whether the job must run
// again (after d), or records the target's outcome.
func (p *pool) run(j *job) (retry bool, d time.Duration) {
	c := p.c
	ctx := p.workCtx
	u := j.e.URL
	if !j.robots {
		j.robots = true
		var down *crawler.UnreachableError
		if err := c.crawl.Allowed(ctx, u); err != nil && !errors.Is(err, crawler.ErrRobotsUnreachable) && !errors.As(err, &down) {
			// robots.txt that cannot be fetched at all means the host is
			// unreachable: the check itself says how.
			c.checked(j.e, func(t *Target) { t.Skipped = err.Error() })
			return false, 0
		}
	}
	if err := p.gap(ctx, j); err != nil {
		return false, 0
	}
	var hops []string
	req := &session.Request{
		Method: http.MethodHead,
		URL:    u,
		CheckRedirect: func(next *url.URL, via []*url.URL) error {
			n := next.String()
			for _, v := range via {
				if v.String() == n {
					return fmt.Errorf("%w: back to %s after %d redirects", errRedirectLoop, n, len(via))
				}
			}
			hops = append(hops, n)
			return nil
		},
	}
	if j.get {
		req.Method = http.MethodGet
		req.MaxBodySize = checkBodySize
	}
	resp, err := c.sess.Do(ctx, req)
	if err != nil {
		if d, ok := c.crawl.RetryDelay(j.attempt, 0, nil, err); ok {
			j.attempt++
			return true, d
		}
		msg := err.Error()
		if errors.Is(err, session.ErrTooManyRedirects) {
			msg = "too many redirects: " + msg
		}
		c.checked(j.e, func(t *Target) {
			t.Error = msg
			t.Redirects = hops
		})
		return false, 0
	}
	defer resp.Release()
	status := resp.StatusCode
	if d, ok := c.crawl.RetryDelay(j.attempt, status, resp.Header, nil); ok {
		j.attempt++
		return true, d
	}
	ok, msg := c.statusOK(status, resp.Header.Get("Location"))
	if !ok && !j.get && status >= 400 {
		// HEAD refused (405, 501) or not to be trusted: many servers
		// answer HEAD wrongly. GET decides.
		j.get, j.attempt = true, 0
		return true, 0
	}
	var redirects []string
	if len(resp.Redirects) > 0 && resp.URL != nil {
		for _, r := range resp.Redirects[1:] {
			redirects = append(redirects, r.String())
		}
		redirects = append(redirects, resp.URL.String())
	}
	if !ok && len(redirects) > 0 {
		msg += " after redirects to " + strings.Join(redirects, " -> ")
	}
	c.checked(j.e, func(t *Target) {
		t.Status = status
		t.OK = ok
		t.Error = msg
		t.Redirects = redirects
		t.Elapsed = resp.Elapsed
	})
	return false, 0
}

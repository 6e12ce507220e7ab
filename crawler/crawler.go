package crawler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trawlhq/trawl/crawler/recrawl"
	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/memory"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// Errors carried by records (Page.Err) of URLs the crawler did not fetch
// or gave up on. Test them with errors.Is.
var (
	// ErrRobots: robots.txt disallows the URL (or the host's robots.txt
	// answered 429 or 5xx, or could not be fetched: RFC 9309 then
	// disallows all). A host that cannot be reached at all gets an
	// *UnreachableError instead.
	ErrRobots = errors.New("crawler: robots: disallowed")
	// ErrRobotsUnreachable: ErrRobots because the host's robots.txt could
	// not be fetched at all (DNS, connection, TLS errors, timeouts): the
	// host is most likely unreachable. Errors wrapping it wrap ErrRobots too.
	ErrRobotsUnreachable = errors.New("robots.txt unreachable")
	// ErrOffScopeRedirect: a redirect pointed out of scope and was not
	// followed.
	ErrOffScopeRedirect = errors.New("crawler: redirect out of scope, not followed")
	// ErrRedirectLoop: a redirect pointed back to a URL of its own chain.
	ErrRedirectLoop = errors.New("crawler: redirect loop")
	// ErrTooManyRedirects: the chain was longer than the session's
	// MaxRedirects (session.Config.MaxRedirects, the one redirect limit).
	ErrTooManyRedirects = errors.New("crawler: too many redirects")
	// ErrRetriesExhausted: a retryable status (429, 5xx) persisted through
	// every retry.
	ErrRetriesExhausted = errors.New("crawler: retries exhausted")
	// ErrOutOfScope: the frontier handed out a URL outside the scope (a
	// resumed crawl whose scope changed).
	ErrOutOfScope = errors.New("crawler: out of scope")
)

// errRunTwice is returned by a second call to Run.
var errRunTwice = errors.New("crawler: Run called twice")

// Crawler runs one crawl: a fixed pool of workers leasing URLs from a
// frontier, fetching them through one session and handing every result to
// one pipeline. Run may be called once; Stats is safe for concurrent use at
// any time.
type Crawler struct {
	s       *settings
	sess    *session.Session
	front   frontier.Frontier
	pipe    *pipeline.Pipeline
	ownPipe bool        // the crawler built pipe: Run closes it
	ready   atomic.Bool // sess, front and pipe are set (Stats may use them)
	log     *slog.Logger
	scope   scope

	hosts     sync.Map            // host key -> *hostState
	slow      sync.Map            // host key -> *hostState, hosts above their floor (adapt.go)
	pauser    frontier.HostPauser // front, when it can pause hosts; nil otherwise
	passStart time.Time           // when the frontier's pass began (frontier.PassInfo); zero if unknown
	reqSlots  sync.Map            // host key -> chan struct{}: see requestSlot (rendering only)
	seedHosts map[string]struct{} // host keys of the seeds; read-only during Run

	// storeEmpty is set when the recrawl store held no page as Run
	// started (recrawl.Lener): every page it holds later is this run's, so
	// leased URLs are not looked up (see loadKnown).
	storeEmpty bool

	// knownPushed holds the fingerprints of the known URLs Revisit pushed
	// at Run's start, once all are pushed (nil until then).
	knownPushed atomic.Pointer[fpSet]
	// knownDone is closed when Revisit's push of the known URLs ended
	// (nil without Revisit): until then the frontier may run empty before
	// the crawl is over.
	knownDone chan struct{}

	sitemapMu  sync.Mutex
	sitemapSet map[string]struct{} // URLs queued as sitemap files

	running     atomic.Bool
	startNanos  atomic.Int64 // Run's start, UnixNano; 0 before Run
	endNanos    atomic.Int64 // Run's end; 0 while running
	reserved    atomic.Int64 // records promised to workers (MaxPages)
	stopLeasing context.CancelFunc

	fatalMu  sync.Mutex
	fatalErr error

	stats counters
}

// New returns a Crawler using session s, frontier f and pipeline p, which
// the caller keeps owning: Run does not close them (it flushes p).
//
// Any of the three may be nil, meaning a default that the crawler creates
// when Run starts and closes when it returns: a session with
// session.Config's defaults and a pool of Workers connections; a
// memory.Memory frontier whose default policy is cfg.HostPolicy(); a
// pipeline running cfg.Stages. The crawler configures the pipeline it
// builds from cfg (Normalizer, the robots agent, IgnoreRobots). A pipeline
// given to New was configured by its caller; build it with the crawler's
// settings, or pass nil and cfg.Stages.
//
// The robots product token is cfg.RobotsAgent, or the first product token
// of the session's User-Agent (session.DefaultUserAgent's, "trawl", for
// the default session).
func New(cfg Config, s *session.Session, f frontier.Frontier, p *pipeline.Pipeline) (*Crawler, error) {
	st, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	if p != nil && len(cfg.Stages) > 0 {
		return nil, errConfig("Stages", "given with a pipeline: pass a nil pipeline for the crawler to build one from Stages, or put the stages in your pipeline")
	}
	if st.robotsAgent == "" {
		ua := session.DefaultUserAgent
		if s != nil {
			ua = s.UserAgent()
		}
		st.robotsAgent = robotsToken(ua)
	}
	c := &Crawler{
		s:          st,
		sess:       s,
		front:      f,
		pipe:       p,
		log:        st.Logger,
		seedHosts:  map[string]struct{}{},
		sitemapSet: map[string]struct{}{},
	}
	c.scope = scope{s: st, hosts: map[string]struct{}{}, tooLong: &c.stats.tooLong}
	return c, nil
}

// openDefaults creates the parts New was given as nil; the returned
// function closes them.
func (c *Crawler) openDefaults() (func() error, error) {
	var closers []func() error
	closeAll := func() error {
		var errs []error
		for i := len(closers) - 1; i >= 0; i-- {
			errs = append(errs, closers[i]())
		}
		return errors.Join(errs...)
	}
	if c.sess == nil {
		s, err := session.New(session.Config{ConnectorConfig: session.ConnectorConfig{Limit: c.s.Workers}})
		if err != nil {
			return nil, fmt.Errorf("crawler: default session: %w", err)
		}
		c.sess = s
		closers = append(closers, s.Close)
	}
	if c.front == nil {
		m := memory.New(memory.Config{Policy: c.s.HostPolicy(), Now: c.s.Now})
		c.front = m
		closers = append(closers, m.Close)
	}
	if c.pipe == nil {
		p, err := pipeline.New(pipeline.Config{
			Stages:       c.s.Stages,
			Normalizer:   c.s.Normalizer,
			RobotsAgent:  c.s.robotsAgent,
			IgnoreRobots: c.s.IgnoreRobots,
		})
		if err != nil {
			_ = closeAll()
			return nil, fmt.Errorf("crawler: pipeline: %w", err)
		}
		c.pipe = p
		c.ownPipe = true
		closers = append(closers, p.Close)
	}
	c.pauser, _ = c.front.(frontier.HostPauser)
	c.ready.Store(true)
	return closeAll, nil
}

// Run crawls from the seeds until the frontier is exhausted and every
// worker is idle, MaxPages records are written, or ctx is cancelled.
//
// Seeds are normalized and pushed at depth 0; their hosts form the default
// scope. Run with no seeds continues whatever the frontier holds (a resumed
// crawl). A seed that is not an absolute http(s) URL is an error naming it,
// returned before anything is fetched.
//
// When ctx is cancelled Run stops leasing URLs, gives the requests in
// flight GracePeriod to finish (their records are written), returns the
// leases of those still unfinished to the frontier, flushes the pipeline
// and returns ctx's error. It returns nil when the crawl completed (pages
// that failed are records, not errors), and an error when the frontier or
// the pipeline failed.
func (c *Crawler) Run(ctx context.Context, seeds ...string) error {
	if !c.running.CompareAndSwap(false, true) {
		return errRunTwice
	}
	entries, err := c.seedEntries(seeds)
	if err != nil {
		return err
	}
	closeDefaults, err := c.openDefaults()
	if err != nil {
		return err
	}
	c.startNanos.Store(c.s.Now().UnixNano())
	defer func() { c.endNanos.Store(c.s.Now().UnixNano()) }()
	runErr := c.run(ctx, entries)
	// The pipeline the crawler built is closed (exporters flushed and
	// closed) before the frontier and session, and its errors reported.
	if err := closeDefaults(); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("crawler: close: %w", err))
	}
	return runErr
}

// run is Run once the parts are ready.
func (c *Crawler) run(ctx context.Context, entries []frontier.Entry) error {
	if _, err := c.push(ctx, entries); err != nil {
		return fmt.Errorf("crawler: push seeds: %w", err)
	}
	c.refreshQueued(ctx)

	// leaseCtx ends leasing: ctx cancelled, the frontier done, MaxPages
	// reached, or a fatal error. workCtx carries in-flight work: it
	// outlives ctx by GracePeriod.
	leaseCtx, stopLeasing := context.WithCancel(ctx)
	defer stopLeasing()
	c.stopLeasing = stopLeasing
	if pi, ok := c.front.(frontier.PassInfo); ok && c.s.Recrawl != nil {
		t, err := pi.PassStarted(ctx)
		if err != nil {
			return fmt.Errorf("crawler: frontier pass: %w", err)
		}
		c.passStart = t
	}
	if l, ok := c.s.Recrawl.(recrawl.Lener); ok {
		switch n, err := l.Len(ctx); {
		case err != nil:
			c.storeFailed(ctx, "len", "", err)
		case n == 0:
			c.storeEmpty = true
		}
	}
	if c.s.Recrawl != nil && c.s.Revisit {
		// The known URLs are pushed while the workers start on the first
		// of them: a store of a million URLs took seconds to queue.
		c.knownDone = make(chan struct{})
		go func() {
			defer close(c.knownDone)
			start := time.Now()
			n, err := c.pushKnown(leaseCtx)
			switch {
			case err != nil && leaseCtx.Err() == nil:
				c.setFatal(fmt.Errorf("crawler: push known URLs: %w", err))
			case err == nil:
				c.log.Info("recrawl: known URLs queued", "new", n, "took", time.Since(start).Round(time.Millisecond))
				c.refreshQueued(leaseCtx)
			}
		}()
		defer func() {
			stopLeasing()
			<-c.knownDone
		}()
	}
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	settleCtx := context.WithoutCancel(ctx)

	allDone := make(chan struct{})
	graceDone := make(chan struct{})
	go func() {
		defer close(graceDone)
		select {
		case <-ctx.Done():
		case <-allDone:
			return
		}
		if c.s.GracePeriod <= 0 {
			cancelWork()
			return
		}
		t := time.NewTimer(c.s.GracePeriod)
		defer t.Stop()
		select {
		case <-t.C:
			c.log.Warn("grace period over: aborting requests in flight", "grace", c.s.GracePeriod)
			cancelWork()
		case <-allDone:
		}
	}()

	var wg sync.WaitGroup
	for range c.s.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{c: c, settle: settleCtx}
			w.loop(leaseCtx, workCtx)
		}()
	}
	wg.Wait()
	close(allDone)
	<-graceDone
	c.refreshQueued(settleCtx)

	var flushErr error
	if !c.ownPipe { // a pipeline of the crawler's own is closed by Run
		flushErr = c.pipe.Flush()
	}
	if err := c.fatal(); err != nil {
		return errors.Join(err, flushErr)
	}
	if flushErr != nil {
		return fmt.Errorf("crawler: %w", flushErr)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// seedEntries normalizes the seeds, adds their hosts to the scope and
// returns the entries to push (the seeds, and /sitemap.xml of each seed
// host when Sitemaps is on).
func (c *Crawler) seedEntries(seeds []string) ([]frontier.Entry, error) {
	var errs []error
	entries := make([]frontier.Entry, 0, len(seeds))
	for _, raw := range seeds {
		u, err := c.s.Normalizer.Normalize(strings.TrimSpace(raw))
		if err != nil {
			errs = append(errs, fmt.Errorf("crawler: seed %q: %w", raw, err))
			continue
		}
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			errs = append(errs, fmt.Errorf("crawler: seed %q: not an http or https URL", raw))
			continue
		}
		if frontier.HostKey(u) == "" {
			errs = append(errs, fmt.Errorf("crawler: seed %q: no host", raw))
			continue
		}
		c.scope.addSeedHost(u)
		entries = append(entries, frontier.Entry{URL: u})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, e := range entries {
		key := frontier.HostKey(e.URL)
		if _, ok := c.seedHosts[key]; ok {
			continue
		}
		c.seedHosts[key] = struct{}{}
		if c.s.Sitemaps {
			sm := e.URL[:strings.Index(e.URL, "://")+3] + key + "/sitemap.xml"
			c.sitemapSet[sm] = struct{}{}
			entries = append(entries, frontier.Entry{URL: sm})
		}
	}
	return entries, nil
}

// isSeedHost reports whether a host key is one of the seeds'.
func (c *Crawler) isSeedHost(key string) bool {
	_, ok := c.seedHosts[key]
	return ok
}

// push registers the entries' hosts with the frontier (their policy must
// be set before their first lease) and pushes the entries in one batch.
func (c *Crawler) push(ctx context.Context, entries []frontier.Entry) (int, error) {
	if len(entries) == 0 {
		return 0, nil
	}
	last := ""
	for i := range entries {
		key := frontier.HostKey(entries[i].URL)
		if key == last {
			continue
		}
		last = key
		if err := c.register(ctx, c.host(key)); err != nil {
			return 0, err
		}
	}
	n, err := c.front.Push(ctx, entries...)
	c.stats.pushed.Add(int64(n))
	return n, err
}

// setFatal records the error that ends the crawl and stops leasing.
func (c *Crawler) setFatal(err error) {
	c.fatalMu.Lock()
	if c.fatalErr == nil {
		c.fatalErr = err
	}
	c.fatalMu.Unlock()
	c.stopLeasing()
}

func (c *Crawler) fatal() error {
	c.fatalMu.Lock()
	defer c.fatalMu.Unlock()
	return c.fatalErr
}

// reserve promises one more record to a worker; false when MaxPages
// records are already promised.
func (c *Crawler) reserve() bool {
	if c.s.MaxPages <= 0 {
		return true
	}
	for {
		n := c.reserved.Load()
		if n >= int64(c.s.MaxPages) {
			return false
		}
		if c.reserved.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// worker is one of the fixed pool's goroutines; its fields are its own.
type worker struct {
	c      *Crawler
	settle context.Context // for frontier bookkeeping that must not be cut short
	links  []frontier.Entry
	// acked is a lease done with, whose Ack goes with the worker's next
	// lease in one call (frontier.AckLeaser); see ack.
	acked *frontier.Lease
}

// loop leases and handles URLs until leasing ends.
func (w *worker) loop(leaseCtx, workCtx context.Context) {
	c := w.c
	defer w.flushAck()
	haveSlot := false
	for leaseCtx.Err() == nil {
		if !haveSlot {
			if !c.reserve() {
				return
			}
			haveSlot = true
		}
		l, err := w.next(leaseCtx)
		if err != nil {
			switch {
			case errors.Is(err, frontier.ErrDone) && c.knownDone != nil && !isClosed(c.knownDone):
				// Drained before the known URLs were all pushed: ErrDone
				// is final only until more are.
				select {
				case <-c.knownDone:
				case <-leaseCtx.Done():
				}
				continue
			case errors.Is(err, frontier.ErrDone):
				c.stopLeasing()
			case leaseCtx.Err() != nil:
			default:
				c.setFatal(fmt.Errorf("crawler: frontier: %w", err))
			}
			return
		}
		c.stats.inFlight.Add(1)
		produced := w.handle(workCtx, l)
		c.stats.inFlight.Add(-1)
		c.maybeRefreshQueued(w.settle)
		if produced {
			haveSlot = false
		}
	}
}

// ack acknowledges l. For a frontier.AckLeaser the Ack waits for the
// worker's next lease, which it joins (one round trip for both, see next);
// the loop sends it on its own when it ends (flushAck).
func (w *worker) ack(l *frontier.Lease) {
	w.flushAck() // none is pending (next took it); never drop one
	w.acked = l
	if _, ok := w.c.front.(frontier.AckLeaser); !ok {
		w.flushAck()
	}
}

// flushAck sends the pending Ack, if any, on its own.
func (w *worker) flushAck() {
	l := w.acked
	if l == nil {
		return
	}
	w.acked = nil
	if err := w.c.front.Ack(w.settle, l); err != nil && !errors.Is(err, frontier.ErrUnknownLease) {
		w.c.setFatal(fmt.Errorf("crawler: frontier ack %s: %w", l.URL, err))
	}
}

// next leases the worker's next URL. A pending Ack goes with it: one
// AckLease, then Next only when that leased nothing (Next waits).
func (w *worker) next(leaseCtx context.Context) (*frontier.Lease, error) {
	if l := w.acked; l != nil {
		w.acked = nil
		// The settle context: the Ack must not be cut short with leasing.
		n, err := w.c.front.(frontier.AckLeaser).AckLease(w.settle, l)
		if err != nil && !errors.Is(err, frontier.ErrUnknownLease) {
			err = fmt.Errorf("crawler: frontier ack %s: %w", l.URL, err)
			w.c.setFatal(err)
			return nil, err
		}
		if n != nil {
			if leaseCtx.Err() != nil {
				w.giveBack(n)
				return nil, leaseCtx.Err()
			}
			return n, nil
		}
	}
	return w.c.front.Next(leaseCtx)
}

// isClosed reports whether ch is closed.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// UnreachableError is the error of every URL of a host that cannot be
// reached at all: its name does not resolve or it refuses connections (its
// robots.txt could not be fetched, so RFC 9309 disallows the host, but
// robots.txt is not the cause). Err says which, e.g. "cannot resolve
// example.com: lookup example.com: no such host".
type UnreachableError struct {
	Host string // the host key (host, or host:port)
	Err  error
}

func (e *UnreachableError) Error() string { return "crawler: " + e.Err.Error() }

// Unwrap returns the cause (a *net.DNSError, a *net.OpError).
func (e *UnreachableError) Unwrap() error { return e.Err }

// handle takes one lease to its end: exactly one record and Ack, a Retry
// (a retryable failure) or a Release (work aborted by the end of the grace
// period). It reports whether a record was produced.
func (w *worker) handle(ctx context.Context, l *frontier.Lease) bool {
	c := w.c
	if l.Host == "" {
		l.Host = frontier.HostKey(l.URL)
	}
	h := c.host(l.Host)
	h.inFlight.Add(1)
	defer h.inFlight.Add(-1)
	page := &pipeline.Page{URL: l.URL, Depth: l.Depth, Referrer: l.Referrer, Attempt: l.Attempt}
	seed := l.Depth == 0 && l.Referrer == ""

	// Links were checked when pushed; this catches what a persistent
	// frontier kept from a run with another scope. Depth-0 entries (seeds,
	// sitemap files and the URLs they list) skip Include/Exclude here, and
	// a run without seeds has no default scope to check hosts against.
	if v := c.scope.check(l.URL, l.Depth == 0); v != inScope && (len(c.scope.hosts) > 0 || v != outHost) {
		page.Err = fmt.Errorf("%w: %s (%s)", ErrOutOfScope, l.URL, v)
		page.FetchedAt = c.s.Now()
		return w.finish(ctx, l, page, nil)
	}
	if !c.s.IgnoreRobots {
		rules, err := c.robots(ctx, h, schemeOf(l.URL))
		if err != nil {
			w.giveBack(l)
			return false
		}
		if p := robotsPath(l.URL); !rules.allowed(p) {
			if rules.down == nil {
				c.stats.robotsDenied.Add(1)
			}
			page.Err = errRobots(rules, p)
			page.FetchedAt = c.s.Now()
			return w.finish(ctx, l, page, nil)
		}
	}
	if c.pauser != nil && h.pausedNanos.Load() > c.s.Now().UnixNano() {
		// Leased before the host was paused: the frontier holds it until
		// the pause ends, so no worker waits.
		w.giveBack(l)
		return false
	}
	var rv *revisit
	var header http.Header
	if prev := c.loadKnown(ctx, l.URL); prev != nil {
		rv = &revisit{prev: prev, again: c.fetchedThisPass(prev)}
		if !rv.again && (c.s.DataVersion == "" || prev.DataVersion == c.s.DataVersion) {
			// Its stored data is this extraction's: a 304 (or skipping
			// a fresh page) loses nothing.
			if why := prev.Skip(c.s.Now(), c.s.MaxAge); why != recrawl.SkipNone {
				w.skipKnown(l, prev, why)
				return false
			}
			header = http.Header{}
			prev.Conditional(header)
		}
	} else if c.s.Recrawl != nil {
		rv = &revisit{}
	}
	header, err := c.beforeRequest(ctx, l.URL, l.Depth, l.Referrer, l.Attempt, header)
	if err != nil {
		if ctx.Err() != nil {
			w.giveBack(l)
			return false
		}
		page.Err = fmt.Errorf("%w: %w", ErrVetoed, err)
		page.FetchedAt = c.s.Now()
		return w.finish(ctx, l, page, nil)
	}
	if err := c.gate(ctx, h); err != nil {
		w.giveBack(l)
		return false
	}

	if rv != nil && rv.prev != nil {
		rv.conditional = header.Get("If-None-Match") != "" || header.Get("If-Modified-Since") != ""
	}
	rd := redirectCheck{c: c, seed: seed, hops: []string{l.URL}}
	req := &session.Request{URL: l.URL, Header: header, CheckRedirect: func(next *url.URL, _ []*url.URL) error {
		rd.err = rd.refuse(ctx, next) // ctx is this request's
		return rd.err
	}}
	if c.s.Sitemaps {
		c.sitemapMu.Lock()
		if _, ok := c.sitemapSet[l.URL]; ok {
			req.MaxBodySize = DefaultMaxSitemapSize
		}
		c.sitemapMu.Unlock()
	}
	start := c.s.Now()
	page.FetchedAt = start
	c.stats.requests.Add(1)
	h.requests.Add(1)
	release, err := c.requestSlot(ctx, l.Host)
	if err != nil {
		w.giveBack(l)
		return false
	}
	resp, err := c.sess.Do(ctx, req)
	release()
	if err != nil {
		if ctx.Err() != nil {
			w.giveBack(l)
			return false
		}
		if why := overloadErr(err); why != "" {
			c.overloaded(ctx, c.host(frontier.HostKey(rd.hops[len(rd.hops)-1])), why, nil)
		}
		if retryableErr(err) && l.Attempt < c.s.Retries {
			w.retry(l, h, retryReasonOf(err, 0), 0, c.s.backoff(l.Attempt), c.s.Now().Sub(start))
			return false
		}
		page.Err = fetchError(err, &rd, l.Attempt+1)
		if len(rd.hops) > 1 {
			page.FinalURL = rd.hops[len(rd.hops)-1]
		}
		page.Elapsed = c.s.Now().Sub(start)
		return w.finish(ctx, l, page, nil)
	}
	rh := h // the host that answered: the last hop's
	if n := len(rd.hops); n > 1 {
		if k := frontier.HostKey(rd.hops[n-1]); k != h.key && k != "" {
			rh = c.host(k)
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		c.overloaded(ctx, rh, strconv.Itoa(resp.StatusCode), resp.Header)
	} else {
		c.responded(ctx, rh, resp.StatusCode, resp.Elapsed)
	}
	if c.s.AfterResponse != nil {
		ar := &Response{URL: l.URL, FinalURL: l.URL, Status: resp.StatusCode, Header: resp.Header,
			Body: resp.Body, Depth: l.Depth, Attempt: l.Attempt}
		if resp.URL != nil {
			ar.FinalURL = resp.URL.String()
		}
		if err := c.afterResponse(ctx, ar); err != nil {
			switch {
			case ctx.Err() != nil:
				resp.Release()
				w.giveBack(l)
				return false
			case errors.Is(err, ErrRetry) && l.Attempt < c.s.Retries:
				status := resp.StatusCode
				resp.Release()
				w.retry(l, h, retryHook, status, 0, resp.Elapsed)
				return false
			case errors.Is(err, ErrRetry):
				page.Err = fmt.Errorf("%w: %w after %d attempts", ErrRetriesExhausted, err, l.Attempt+1)
			default:
				page.Err = fmt.Errorf("crawler: after response: %w", err)
			}
		}
	}
	if page.Err == nil && retryableStatus(resp.StatusCode) {
		if l.Attempt < c.s.Retries {
			d := c.s.retryDelay(l.Attempt, resp.Header)
			resp.Release()
			w.retry(l, h, retryReasonOf(nil, resp.StatusCode), resp.StatusCode, d, resp.Elapsed)
			return false
		}
		page.Err = fmt.Errorf("%w: status %d after %d attempts", ErrRetriesExhausted, resp.StatusCode, l.Attempt+1)
	}
	if resp.URL != nil {
		page.FinalURL = resp.URL.String()
	}
	page.Status = resp.StatusCode
	page.Header = resp.Header
	page.Body = resp.Body
	page.Truncated = resp.Truncated
	page.Elapsed = resp.Elapsed
	if rv != nil && page.Err == nil {
		rv.received = c.s.Now()
		switch {
		case rv.conditional && resp.StatusCode == http.StatusNotModified:
			notModified(page, rv.prev, resp.Header, rv.prev.DataVersion == c.s.DataVersion)
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			rv.digest = recrawl.Digest(resp.Body)
			if rv.prev != nil {
				page.Known = true
				page.Changed = rv.prev.Digest != rv.digest || rv.again && rv.prev.Changed
			}
		case rv.prev != nil && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone):
			page.Gone = true
		}
	}
	if !page.NotModified {
		w.render(ctx, page)
	}
	return w.finishRevisit(ctx, l, page, resp, rv)
}

// finish sends the page through the pipeline, pushes its followable links,
// acknowledges the lease and counts the record. resp, when not nil, is
// released once the pipeline is done with the body.
func (w *worker) finish(ctx context.Context, l *frontier.Lease, page *pipeline.Page, resp *session.Response) bool {
	return w.finishRevisit(ctx, l, page, resp, nil)
}

// finishRevisit is finish for a fetch with a recrawl store (rv not nil):
// the store is updated after the record is written, before the Ack.
func (w *worker) finishRevisit(ctx context.Context, l *frontier.Lease, page *pipeline.Page, resp *session.Response, rv *revisit) bool {
	c := w.c
	var sitemapURLs int
	if resp != nil && page.Err == nil && page.Status >= 200 && page.Status < 300 {
		if known, maybe := c.isSitemap(l.URL, page.Body); maybe {
			loc := page.FinalURL
			if loc == "" {
				loc = page.URL
			}
			sitemapURLs = c.expandSitemap(w.settle, l, loc, page.Body, known)
		}
	}
	_, err := c.pipe.Process(ctx, page)
	if err != nil {
		if resp != nil {
			resp.Release()
		}
		// The record may not have been written: keep the URL for a resumed
		// crawl and stop.
		w.giveBack(l)
		c.setFatal(fmt.Errorf("crawler: pipeline: %s: %w", l.URL, err))
		return false
	}
	var pushErr error
	if page.Err == nil && !page.NoFollow && sitemapURLs == 0 && c.follows(l.Depth) {
		pushErr = w.pushLinks(l, page)
	}
	if rv != nil && sitemapURLs == 0 && pushErr == nil {
		w.remember(w.settle, page, rv)
	}
	c.stats.record(page)
	if c.s.Recrawl != nil {
		c.stats.countRevisit(page)
	}
	if resp != nil {
		resp.Release()
		page.Body = nil
	}
	if pushErr != nil {
		// The page's links are not all in the frontier: hand the lease
		// back instead of acknowledging it, so that a persistent frontier
		// gives the URL out again (and its links are pushed) when the
		// crawl resumes.
		c.setFatal(fmt.Errorf("crawler: frontier push: %w", pushErr))
		w.giveBack(l)
	} else {
		w.ack(l)
	}
	if c.s.MaxPages > 0 && c.stats.pages.Load() >= int64(c.s.MaxPages) {
		c.stopLeasing()
	}
	return true
}

// follows reports whether links found at depth d are followed.
func (c *Crawler) follows(d int) bool {
	switch {
	case c.s.MaxDepth < 0:
		return false
	case c.s.MaxDepth == 0:
		return true
	}
	return d < c.s.MaxDepth
}

// pushLinks pushes the page's followable, in-scope links at depth+1.
func (w *worker) pushLinks(l *frontier.Lease, page *pipeline.Page) error {
	c := w.c
	batch := w.links[:0]
	for _, ln := range page.Links {
		// A known URL the pass already queued would be dropped by the
		// frontier; without a Follow hook to tell, it is not even checked.
		if c.s.Follow == nil && c.pushedKnown(ln.URL) || !c.followsLink(page, ln) || c.pushedKnown(ln.URL) {
			continue
		}
		batch = append(batch, frontier.Entry{URL: ln.URL, Depth: l.Depth + 1, Referrer: l.URL})
	}
	var err error
	if len(batch) > 0 {
		_, err = c.push(w.settle, batch)
	}
	clear(batch)
	w.links = batch[:0]
	return err
}

// retry hands a lease back to wait for its next attempt; it holds neither
// a worker nor a host slot meanwhile. elapsed is how long the failed
// attempt took.
func (w *worker) retry(l *frontier.Lease, h *hostState, why retryReason, status int, d, elapsed time.Duration) {
	c := w.c
	c.stats.retries.Add(1)
	c.stats.retryReasons[why].Add(1)
	h.retries.Add(1)
	at := c.s.Now().Add(d)
	until := at.UnixNano()
	for {
		old := h.backoffUntil.Load()
		if old >= until || h.backoffUntil.CompareAndSwap(old, until) {
			break
		}
	}
	if c.log.Enabled(w.settle, slog.LevelDebug) {
		c.log.LogAttrs(w.settle, slog.LevelDebug, "retry",
			slog.String("url", l.URL), slog.String("host", l.Host), slog.Int("status", status),
			slog.Int("depth", l.Depth), slog.Int64("elapsed_ms", elapsed.Milliseconds()),
			slog.Int("attempt", l.Attempt+1), slog.String("reason", why.String()), slog.Duration("in", d))
	}
	if err := c.front.Retry(w.settle, l, at); err != nil && !errors.Is(err, frontier.ErrUnknownLease) {
		c.setFatal(fmt.Errorf("crawler: frontier retry %s: %w", l.URL, err))
	}
}

// giveBack returns a lease whose work was aborted (shutdown) to the
// frontier, to be fetched again by a resumed crawl without spending a retry.
func (w *worker) giveBack(l *frontier.Lease) {
	if err := w.c.front.Release(w.settle, l); err != nil &&
		!errors.Is(err, frontier.ErrUnknownLease) && !errors.Is(err, frontier.ErrClosed) {
		w.c.log.Warn("return lease", "url", l.URL, "err", err)
	}
}

// redirectCheck is the state of one fetch's redirect checks, run by the
// session's CheckRedirect hook for every hop (the session has already
// applied its MaxRedirects): every hop must be new in the chain, in scope
// and allowed by its host's robots.txt, and waits for its host's
// politeness gap.
type redirectCheck struct {
	c    *Crawler
	seed bool
	hops []string // normalized URLs requested, first the lease's
	err  error    // the refusal, if any
}

// refuse returns why the hop to next must not be followed, or nil after
// waiting for its host's gap. ctx is the request's.
func (rd *redirectCheck) refuse(ctx context.Context, next *url.URL) error {
	c := rd.c
	u, err := c.s.Normalizer.Normalize(next.String())
	if err != nil {
		return fmt.Errorf("crawler: bad redirect target %q: %w", next.String(), err)
	}
	for _, h := range rd.hops {
		if h == u {
			return fmt.Errorf("%w: back to %s after %d redirects", ErrRedirectLoop, u, len(rd.hops))
		}
	}
	if v := c.scope.check(u, rd.seed); v != inScope {
		return fmt.Errorf("%w: %s (%s)", ErrOffScopeRedirect, u, v)
	}
	h := c.host(frontier.HostKey(u))
	if !c.s.IgnoreRobots {
		rules, err := c.robots(ctx, h, schemeOf(u))
		if err != nil {
			return err
		}
		if p := robotsPath(u); !rules.allowed(p) {
			return errRobots(rules, p)
		}
	}
	if err := c.gate(ctx, h); err != nil {
		return err
	}
	rd.hops = append(rd.hops, u)
	return nil
}

// fetchError turns a session error into the record's error, naming the
// cause: the crawler's own refusal of a redirect, too many redirects, a
// timeout, or the failure after every attempt.
func fetchError(err error, rd *redirectCheck, attempts int) error {
	if rd.err != nil {
		return rd.err
	}
	if errors.Is(err, session.ErrTooManyRedirects) {
		return fmt.Errorf("%w: %w", ErrTooManyRedirects, err)
	}
	plural := "s"
	if attempts == 1 {
		plural = ""
	}
	var se *session.Error
	if errors.As(err, &se) && se.Timeout() {
		return fmt.Errorf("crawler: timeout after %d attempt%s: %w", attempts, plural, err)
	}
	return fmt.Errorf("crawler: fetch failed after %d attempt%s: %w", attempts, plural, err)
}

// schemeOf returns "https" or "http".
func schemeOf(u string) string {
	if strings.HasPrefix(u, "https:") {
		return "https"
	}
	return "http"
}

// robotsPath returns the path and query of a normalized URL, as robots.txt
// rules match them.
func robotsPath(u string) string {
	i := strings.Index(u, "://")
	if i < 0 {
		return "/"
	}
	rest := u[i+3:]
	j := strings.IndexAny(rest, "/?#")
	if j < 0 {
		return "/"
	}
	rest = rest[j:]
	if k := strings.IndexByte(rest, '#'); k >= 0 {
		rest = rest[:k]
	}
	if rest == "" || rest[0] != '/' {
		rest = "/" + rest
	}
	return rest
}

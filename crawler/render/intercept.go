package render

import (
	"context"
	"errors"
	"iter"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/pipeline"
)

// handlersPerTab is how many of a tab's requests are answered at once, as
// a browser opens about six connections per host. The session's per-host
// limit bounds them again across all tabs and workers.
const handlersPerTab = 6

// interceptor answers the paused requests of one page in a tab; tab is
// the page's render context (the tab's, with the render's deadline).
type interceptor struct {
	tab    context.Context
	r      *Renderer
	page   *pipeline.Page
	target string // the page's URL as the tab loads it, without fragment
	fetch  crawler.FetchFunc

	mu       sync.Mutex
	pending  int           // requests paused and not yet answered
	changed  chan struct{} // closed and replaced whenever pending changes
	lastDone time.Time
	served   bool // the page itself was answered
}

func newInterceptor(tab context.Context, r *Renderer, page *pipeline.Page, target string, f crawler.FetchFunc) *interceptor {
	if i := strings.IndexByte(target, '#'); i >= 0 {
		target = target[:i]
	}
	return &interceptor{tab: tab, r: r, page: page, target: target, fetch: f, changed: make(chan struct{})}
}

// serve reads the tab's paused requests and answers them on
// handlersPerTab goroutines, each with the interceptor of the page the tab
// is rendering at that moment, until the tab closes. The returned channel
// closes when all of them have returned.
func (t *tab) serve(events iter.Seq2[fetch.EventRequestPaused, error]) <-chan struct{} {
	done := make(chan struct{})
	type job struct {
		in *interceptor
		ev *fetch.EventRequestPaused
	}
	work := make(chan job)
	var wg sync.WaitGroup
	for range handlersPerTab {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				if j.in == nil {
					// Between pages (a late request of the last one).
					_, _ = chromedp.Call(t.ctx, fetch.FailRequest, fetch.FailRequestParams{
						RequestID: j.ev.RequestID, ErrorReason: network.ErrorReasonAborted})
					continue
				}
				j.in.answer(j.ev)
			}
		}()
	}
	go func() {
		defer close(done)
		defer wg.Wait()
		defer close(work)
		for ev, err := range events {
			if err != nil {
				return
			}
			in := t.cur.Load()
			if in != nil {
				in.add(1)
			}
			select {
			case work <- job{in, &ev}:
			case <-t.ctx.Done():
				return
			}
		}
	}()
	return done
}

// add changes the count of unanswered requests and wakes waitIdle.
func (in *interceptor) add(d int) {
	in.mu.Lock()
	in.pending += d
	if d < 0 {
		in.lastDone = time.Now()
	}
	close(in.changed)
	in.changed = make(chan struct{})
	in.mu.Unlock()
}

// waitIdle returns once no request has been pending for idle, neither in
// trawl's view (paused requests not yet answered) nor in the page's own
// (fetch and XHR calls not yet settled, which does not lag behind the
// page), or when ctx ends.
func (in *interceptor) waitIdle(ctx context.Context, idle time.Duration) error {
	if idle < 0 {
		return nil
	}
	t := time.NewTimer(idle)
	defer t.Stop()
	for {
		in.mu.Lock()
		pending, changed := in.pending, in.changed
		in.mu.Unlock()
		if pending > 0 {
			select {
			case <-changed:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		t.Reset(idle)
		select {
		case <-changed:
			continue
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.__trawlPending || 0`))
		if err != nil {
			return err
		}
		if n == 0 {
			in.mu.Lock()
			quiet := in.pending == 0 && in.changed == changed
			in.mu.Unlock()
			if quiet {
				return nil
			}
		}
	}
}

// answer settles one paused request: blocked, the page itself, or fetched
// through the session.
func (in *interceptor) answer(ev *fetch.EventRequestPaused) {
	defer in.add(-1)
	ctx := in.tab
	if in.r.block[ev.ResourceType] {
		in.fail(ev.RequestID, network.ErrorReasonBlockedByClient)
		return
	}
	if ev.ResourceType == network.ResourceTypeDocument && in.isPage(ev.Request.URL) {
		p := fulfilParams(ev.RequestID, in.page.Status, in.page.Header, in.page.Body)
		if _, err := chromedp.Call(ctx, fetch.FulfillRequest, p); err != nil {
			in.r.log.Debug("render: answer page", "url", ev.Request.URL, "err", err)
		}
		return
	}
	resp, err := in.fetch(ctx, sessionRequest(ev))
	if err != nil {
		reason := network.ErrorReasonFailed
		switch {
		case errors.Is(err, crawler.ErrRobots):
			reason = network.ErrorReasonBlockedByClient
		case errors.Is(err, context.DeadlineExceeded):
			reason = network.ErrorReasonTimedOut
		case ctx.Err() != nil:
			return // the tab is gone
		}
		in.r.log.Debug("render: subresource", "url", ev.Request.URL, "err", err)
		in.fail(ev.RequestID, reason)
		return
	}
	p := fulfilParams(ev.RequestID, resp.StatusCode, resp.Header, append([]byte(nil), resp.Body...))
	resp.Release()
	if _, err := chromedp.Call(ctx, fetch.FulfillRequest, p); err != nil {
		in.r.log.Debug("render: answer", "url", ev.Request.URL, "err", err)
	}
}

// isPage reports whether a document request is for the page being
// rendered (its first load; a script navigating elsewhere is fetched).
func (in *interceptor) isPage(u string) bool {
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u = u[:i]
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.served || u != in.target {
		return false
	}
	in.served = true
	return true
}

func (in *interceptor) fail(id fetch.RequestID, reason network.ErrorReason) {
	_, _ = chromedp.Call(in.tab, fetch.FailRequest, fetch.FailRequestParams{RequestID: id, ErrorReason: reason})
}

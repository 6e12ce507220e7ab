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

// interceptor answers the paused requests of one tab.
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

// run reads the tab's paused requests and answers them on handlersPerTab
// goroutines, until the tab closes. The returned channel closes when all of
// them have returned.
func (in *interceptor) run(events iter.Seq2[fetch.EventRequestPaused, error]) <-chan struct{} {
	done := make(chan struct{})
	work := make(chan *fetch.EventRequestPaused)
	var wg sync.WaitGroup
	for range handlersPerTab {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ev := range work {
				in.answer(ev)
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
			in.add(1)
			select {
			case work <- &ev:
			case <-in.tab.Done():
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

// waitIdle returns once no request has been pending for idle, or when the
// tab's context ends.
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
		if pending == 0 {
			t.Reset(idle)
			select {
			case <-t.C:
				return nil
			case <-changed:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
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

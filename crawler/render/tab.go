package render

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// tabUses is how many pages a tab renders before it is closed and replaced,
// so that whatever a page leaves behind in its renderer process (caches,
// leaked listeners) cannot accumulate.
const tabUses = 50

// countRequests runs in every document before its own scripts: it counts
// the page's fetch() and XMLHttpRequest calls still waiting for an answer in
// window.__trawlPending, which the idle check reads. Events reach trawl
// later than the page makes its requests; this count does not lag.
const countRequests = `(() => {
  if (window.__trawlPending !== undefined) return;
  window.__trawlPending = 0;
  const done = () => { window.__trawlPending--; };
  const f = window.fetch;
  if (f) {
    window.fetch = function (...args) {
      window.__trawlPending++;
      return f.apply(this, args).finally(done);
    };
  }
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    window.__trawlPending++;
    this.addEventListener('loadend', done, { once: true });
    return send.apply(this, args);
  };
})();`

// tab is one open browser tab with request interception enabled. Its
// paused requests go to the interceptor of the page it is rendering (cur);
// between pages there is none and they are failed.
type tab struct {
	ctx    context.Context // the tab's chromedp context; cancelling it closes the tab
	cancel context.CancelFunc
	gen    int // browser generation it belongs to
	uses   int
	cur    atomic.Pointer[interceptor]
	done   <-chan struct{} // closed when its request handlers have returned
	once   sync.Once
}

// close closes the tab and waits for its request handlers.
func (t *tab) close() {
	t.once.Do(func() {
		t.cancel()
		<-t.done
	})
}

// takeTab returns an idle tab of the current browser, or opens a new one.
func (r *Renderer) takeTab() (*tab, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, errors.New("render: closed")
	}
	for len(r.idle) > 0 {
		t := r.idle[len(r.idle)-1]
		r.idle = r.idle[:len(r.idle)-1]
		if t.gen == r.gen && t.ctx.Err() == nil {
			r.mu.Unlock()
			t.uses++
			return t, nil
		}
		go t.close()
	}
	b, gen := r.browser, r.gen
	r.mu.Unlock()

	ctx, cancel := chromedp.NewContext(b)
	t := &tab{ctx: ctx, cancel: cancel, gen: gen, uses: 1}
	events := chromedp.Events(ctx, fetch.RequestPaused) // opens the tab
	err := chromedp.Do(ctx, func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if _, err := cdp.Call(ctx, t, fetch.Enable, fetch.EnableParams{
			Patterns: []*fetch.RequestPattern{{URLPattern: "*"}},
		}); err != nil {
			return chromedp.Void{}, err
		}
		if _, err := cdp.Call(ctx, t, cdppage.Enable, cdppage.EnableParams{}); err != nil {
			return chromedp.Void{}, err
		}
		if _, err := cdp.Call(ctx, t, cdppage.SetLifecycleEventsEnabled, cdppage.SetLifecycleEventsEnabledParams{Enabled: true}); err != nil {
			return chromedp.Void{}, err
		}
		_, err := cdp.Call(ctx, t, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: countRequests})
		return chromedp.Void{}, err
	})
	if err != nil {
		cancel()
		return nil, err
	}
	t.done = t.serve(events)
	return t, nil
}

// putTab returns a tab to the pool, or closes it when it has served enough
// pages or belongs to a browser that was replaced.
func (r *Renderer) putTab(t *tab) {
	r.mu.Lock()
	if r.closed || t.gen != r.gen || t.uses >= tabUses || len(r.idle) >= r.cfg.Tabs {
		r.mu.Unlock()
		t.close()
		return
	}
	r.idle = append(r.idle, t)
	r.mu.Unlock()
}

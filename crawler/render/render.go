// Package render renders HTML pages in a real headless Chromium for the
// crawler: the crawler fetches a page with its session as usual, and when
// the page needs a browser (always, or in Auto mode only when it looks
// client-rendered) a Renderer loads it in a tab and hands the DOM the
// scripts built back to the pipeline, so link extraction, selectors, stages
// and exporters see what a person sees.
//
// # The session stays the source of truth
//
// The browser never touches the network. Every request of a tab is paused
// with the DevTools protocol's Fetch domain and answered by the Renderer:
//
//   - the page itself is answered with the body the crawler already fetched
//     (it is not fetched twice);
//   - every other request (scripts, styles, XHR, fetch()) goes out through
//     the crawler's FetchFunc, that is through the crawl's session — its
//     cookie jar, user agent, default headers and per-host connection limit —
//     after the target host's robots.txt allowed it; Set-Cookie answers land
//     in the session's jar;
//   - requests of the types in Config.Block (images, fonts and media by
//     default) are failed at once, which saves most of a render's time.
//
// So a rendered crawl keeps every politeness promise of a plain one: with
// the session's LimitPerHost equal to the crawl's per-host limit (as the
// CLI sets it), the requests in flight to one host never exceed it, page
// fetches and subresources together.
//
// # Browser, tabs, memory
//
// One browser process (started by New), at most Config.Tabs tabs at once;
// each render opens a fresh tab and closes it afterwards, so the browser's
// memory stays bounded by the number of tabs, not by the crawl. A render
// waits for the load event, then for the network to be idle for
// Config.Idle (and for Config.WaitSelector to match, when set), never
// longer than Config.Timeout. A render that fails because the browser died
// restarts the browser and retries the page once; one that times out (a
// hung or crashed tab) is retried once in a fresh tab; after that the page
// goes on as served, with a "render: …" error in its record.
//
// # Why chromedp
//
// github.com/chromedp/chromedp (v0.23) speaks the DevTools protocol over a
// pipe to the browser it starts, and depends only on the standard library
// and its generated protocol types (cdproto), two modules in all. go-rod
// brings five modules of its own (ysmood/*) and a browser downloader we
// would have to keep switched off; both drive the same protocol and the
// Fetch interception used here costs the same in either. Programs that
// never render do not import this package and do not link chromedp.
package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// Defaults used when a Config field is zero.
const (
	DefaultTabs    = 4
	DefaultIdle    = 500 * time.Millisecond
	DefaultTimeout = 30 * time.Second
)

// DefaultBlock are the resource types a render does not load when
// Config.Block is nil: they do not change the DOM's links or text.
var DefaultBlock = []string{"image", "font", "media"}

// ResourceTypes are the names Config.Block accepts (the DevTools protocol's
// resource types, lower-case).
var ResourceTypes = []string{"document", "stylesheet", "image", "media", "font", "script",
	"texttrack", "xhr", "fetch", "prefetch", "eventsource", "websocket", "manifest", "ping", "other"}

// ErrNoBrowser: no Chromium was found on PATH and Config.Browser was empty.
var ErrNoBrowser = errors.New("render: no Chromium found on PATH (chromium, chromium-browser, google-chrome); install it (Debian: apt-get install chromium) or give its path")

// Config configures a Renderer. The zero value is usable: Chromium from
// PATH, 4 tabs, every HTML page rendered, images, fonts and media blocked,
// 500 ms of network idle, 30 s at most per page.
type Config struct {
	// Browser is the path of the Chromium (or Chrome) executable. "" means
	// the first of chromium, chromium-browser, google-chrome and
	// google-chrome-stable found on PATH.
	Browser string
	// Tabs is the most pages rendered at once. Zero means DefaultTabs.
	Tabs int
	// Auto renders only pages that look client-rendered: the body matches
	// Marker, or (Marker nil) it has no links, at least one script, and
	// scripts outweigh its visible text. False renders every HTML page.
	Auto bool
	// Marker, with Auto, selects the pages to render by their served body.
	// Nil means the built-in heuristic.
	Marker *regexp.Regexp
	// Idle is how long the network must stay quiet after the load event
	// before the DOM is read. Zero means DefaultIdle; negative means the DOM
	// is read at the load event.
	Idle time.Duration
	// WaitSelector, when set, is a CSS selector the DOM must match before it
	// is read (after Idle), e.g. "#products li". "" means none.
	WaitSelector string
	// Timeout caps one render, from opening the tab to reading the DOM.
	// Zero means DefaultTimeout.
	Timeout time.Duration
	// Block lists resource types (see ResourceTypes) whose requests are
	// failed instead of loaded. Nil means DefaultBlock; an empty non-nil
	// slice blocks nothing.
	Block []string
	// Logger receives warnings (a browser restart, a retried render). Nil
	// means none.
	Logger *slog.Logger
}

// Renderer renders pages in one headless Chromium. It implements
// crawler.Renderer and is safe for concurrent use; Close stops the browser.
type Renderer struct {
	cfg     Config
	block   map[network.ResourceType]bool
	tabs    chan struct{} // a token per tab in use: at most Config.Tabs
	log     *slog.Logger
	execOpt []chromedp.ExecAllocatorOption
	dataDir string

	mu       sync.Mutex
	idle     []*tab // open tabs waiting for a page
	closed   bool
	gen      int                // browser generation, bumped by restart
	browser  context.Context    // the browser's chromedp context; see start
	stop     context.CancelFunc // ends browser and its allocator
	restarts int
}

var _ crawler.Renderer = (*Renderer)(nil)

// FindBrowser returns the path of the browser cfg.Browser names, or of the
// first Chromium on PATH.
func FindBrowser(path string) (string, error) {
	if path != "" {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", fmt.Errorf("render: browser %q: %w", path, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// New checks cfg, finds the browser and starts it. The caller must Close
// the Renderer.
func New(cfg Config) (*Renderer, error) {
	if cfg.Tabs < 0 {
		return nil, fmt.Errorf("render: Config.Tabs: %d is negative", cfg.Tabs)
	}
	if cfg.Tabs == 0 {
		cfg.Tabs = DefaultTabs
	}
	if cfg.Idle == 0 {
		cfg.Idle = DefaultIdle
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Block == nil {
		cfg.Block = DefaultBlock
	}
	r := &Renderer{cfg: cfg, tabs: make(chan struct{}, cfg.Tabs), block: map[network.ResourceType]bool{}, log: cfg.Logger}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	for _, b := range cfg.Block {
		t, ok := resourceType(b)
		if !ok {
			return nil, fmt.Errorf("render: Config.Block: unknown resource type %q (want one of %s)", b, strings.Join(ResourceTypes, ", "))
		}
		r.block[t] = true
	}
	path, err := FindBrowser(cfg.Browser)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "trawl-chromium-")
	if err != nil {
		return nil, fmt.Errorf("render: profile directory: %w", err)
	}
	r.dataDir = dir
	r.execOpt = append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
	)
	if os.Geteuid() == 0 {
		// Chromium refuses to start its sandbox as root.
		r.execOpt = append(r.execOpt, chromedp.NoSandbox)
	}
	if err := r.start(0); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return r, nil
}

// start launches the browser unless generation gen was already replaced.
// The browser's context lives in the Renderer, not in a caller's request:
// chromedp ties a browser's life to a context, and this browser lives until
// Close.
func (r *Renderer) start(gen int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errors.New("render: closed")
	}
	if r.browser != nil && r.gen != gen {
		return nil // someone else restarted it already
	}
	if r.stop != nil {
		r.stop()
		r.restarts++
		r.log.Warn("render: restarting the browser", "restarts", r.restarts)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), r.execOpt...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	// Running nothing starts the browser and its first, idle tab. The
	// browser lives as long as the context of that first run, so it gets
	// no timeout of its own; a start that hangs is ended by the timer.
	hung := time.AfterFunc(30*time.Second, cancelBrowser)
	err := chromedp.Do(bctx)
	hung.Stop()
	if err != nil {
		cancelBrowser()
		cancelAlloc()
		return fmt.Errorf("render: start browser: %w", err)
	}
	r.browser = bctx
	r.stop = func() { cancelBrowser(); cancelAlloc() }
	r.gen++
	return nil
}

// Restarts reports how many times the browser was restarted after it died.
func (r *Renderer) Restarts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.restarts
}

// Close stops the browser and removes its profile directory. It is
// idempotent.
func (r *Renderer) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	stop := r.stop
	idle := r.idle
	r.idle = nil
	r.mu.Unlock()
	for _, t := range idle {
		t.close()
	}
	if stop != nil {
		stop()
	}
	return os.RemoveAll(r.dataDir)
}

// Render implements crawler.Renderer: it renders page unless Auto judges it
// served complete.
func (r *Renderer) Render(ctx context.Context, page *pipeline.Page, fetchFn crawler.FetchFunc) (bool, error) {
	if r.cfg.Auto && !r.wants(page.Body) {
		return false, nil
	}
	select {
	case r.tabs <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-r.tabs }()

	html, err := r.renderOnce(ctx, page, fetchFn)
	if err != nil && ctx.Err() == nil {
		// Retry once: in a new browser if this one died, else in a new tab.
		if !r.alive() {
			r.mu.Lock()
			gen := r.gen
			r.mu.Unlock()
			if serr := r.start(gen); serr != nil {
				return false, fmt.Errorf("%w (and %v)", err, serr)
			}
		}
		r.log.Warn("render: retrying", "url", page.URL, "err", err)
		html, err = r.renderOnce(ctx, page, fetchFn)
	}
	if err != nil {
		return false, err
	}
	page.Body = html
	page.Rendered = true
	// The DOM is serialized as UTF-8 whatever the served charset was.
	h := page.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	page.Header = h
	return true, nil
}

// alive reports whether the browser answers within a second.
func (r *Renderer) alive() bool {
	r.mu.Lock()
	b := r.browser
	r.mu.Unlock()
	if b == nil || b.Err() != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(b, time.Second)
	defer cancel()
	_, err := chromedp.CallBrowser(ctx, browser.GetVersion, cdp.Empty{})
	return err == nil
}

// serializeDOM reads the document as HTML, doctype included.
const serializeDOM = `(document.doctype ? new XMLSerializer().serializeToString(document.doctype) + "\n" : "") + document.documentElement.outerHTML`

// renderOnce renders page in a tab of the current browser: an idle one,
// or a new one. The tab goes back to the pool, reset to about:blank, only
// after a clean render.
func (r *Renderer) renderOnce(ctx context.Context, page *pipeline.Page, fetchFn crawler.FetchFunc) ([]byte, error) {
	t0 := time.Now()
	t, err := r.takeTab()
	if err != nil {
		return nil, err
	}
	keep := false
	defer func() {
		if keep {
			r.putTab(t)
		} else {
			t.close()
		}
	}()
	rctx, cancel := context.WithTimeout(t.ctx, r.cfg.Timeout)
	defer cancel()
	stopAfter := context.AfterFunc(ctx, cancel) // the worker gave up
	defer stopAfter()

	target := page.FinalURL
	if target == "" {
		target = page.URL
	}
	in := newInterceptor(rctx, r, page, target, fetchFn)
	t.cur.Store(in)
	defer t.cur.Store(nil)

	t1 := time.Now()
	if err := navigate(rctx, target, true); err != nil {
		return nil, r.tabErr(ctx, rctx, "load", err)
	}
	t2 := time.Now()
	if err := in.waitIdle(rctx, r.cfg.Idle); err != nil {
		return nil, r.tabErr(ctx, rctx, "wait for network idle", err)
	}
	if r.cfg.WaitSelector != "" {
		if err := chromedp.Do(rctx, chromedp.WaitReady(chromedp.CSS(r.cfg.WaitSelector))); err != nil {
			return nil, r.tabErr(ctx, rctx, "wait for "+r.cfg.WaitSelector, err)
		}
	}
	t3 := time.Now()
	html, err := chromedp.Run(rctx, chromedp.Evaluate[string](serializeDOM))
	if err != nil {
		return nil, r.tabErr(ctx, rctx, "read DOM", err)
	}
	// Reset the tab: stop the page's scripts and timers, drop its DOM.
	t.cur.Store(nil)
	// Reset the tab: stop the page's scripts and timers, drop its DOM. The
	// next load is told apart by its loader id, so no need to wait here.
	keep = navigate(rctx, "about:blank", false) == nil
	r.log.Debug("render: page rendered", "url", target, "open_ms", t1.Sub(t0).Milliseconds(),
		"load_ms", t2.Sub(t1).Milliseconds(), "idle_ms", t3.Sub(t2).Milliseconds(), "read_ms", time.Since(t3).Milliseconds())
	return []byte(html), nil
}

// navigate loads u in the tab of ctx and, with wait, returns at the load
// event of that very navigation (matched by its loader id, so that the load
// of the tab's previous document cannot be taken for it).
func navigate(ctx context.Context, u string, wait bool) error {
	var loads iter.Seq2[cdppage.EventLifecycleEvent, error]
	if wait {
		lctx, cancel := context.WithCancel(ctx)
		defer cancel()
		loads = chromedp.Events(lctx, cdppage.LifecycleEvent)
	}
	res, err := chromedp.Call(ctx, cdppage.Navigate, cdppage.NavigateParams{URL: u})
	switch {
	case err != nil:
		return err
	case res.ErrorText != "":
		return errors.New(res.ErrorText)
	case !wait:
		return nil
	}
	for ev, err := range loads {
		if err != nil {
			return err
		}
		if ev.Name == "load" && ev.LoaderID == res.LoaderID {
			return nil
		}
	}
	return ctx.Err()
}

// tabErr names why a render failed: the worker's context, the render
// timeout, or the browser.
func (r *Renderer) tabErr(ctx, tctx context.Context, step string, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(tctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("render: %s: timed out after %s", step, r.cfg.Timeout)
	}
	return fmt.Errorf("render: %s: %w", step, err)
}

// wants reports whether Auto mode renders a page with this served body.
func (r *Renderer) wants(body []byte) bool {
	if r.cfg.Marker != nil {
		return r.cfg.Marker.Match(body)
	}
	return LooksClientRendered(body)
}

// resourceType maps a Block name to the protocol's resource type.
func resourceType(name string) (network.ResourceType, bool) {
	for _, t := range ResourceTypes {
		if strings.EqualFold(name, t) {
			for _, rt := range []network.ResourceType{
				network.ResourceTypeDocument, network.ResourceTypeStylesheet, network.ResourceTypeImage,
				network.ResourceTypeMedia, network.ResourceTypeFont, network.ResourceTypeScript,
				network.ResourceTypeTextTrack, network.ResourceTypeXHR, network.ResourceTypeFetch,
				network.ResourceTypePrefetch, network.ResourceTypeEventSource, network.ResourceTypeWebSocket,
				network.ResourceTypeManifest, network.ResourceTypePing, network.ResourceTypeOther,
			} {
				if strings.EqualFold(string(rt), t) {
					return rt, true
				}
			}
		}
	}
	return "", false
}

// requestHeaders are the browser's request headers passed on to the
// session; the session adds its own User-Agent, cookies and defaults.
var requestHeaders = []string{"Accept", "Accept-Language", "Content-Type", "Referer", "Origin", "X-Requested-With", "Range"}

// dropResponseHeaders are not passed back to the browser: the body it gets
// is decompressed and complete, and cookies live in the session's jar.
var dropResponseHeaders = map[string]bool{
	"Content-Encoding": true, "Content-Length": true, "Transfer-Encoding": true,
	"Connection": true, "Keep-Alive": true, "Set-Cookie": true,
}

// fulfilParams builds the answer to a paused request from a session
// response.
func fulfilParams(id fetch.RequestID, status int, h http.Header, body []byte) fetch.FulfillRequestParams {
	p := fetch.FulfillRequestParams{RequestID: id, ResponseCode: int64(status), Body: body}
	for k, vs := range h {
		if dropResponseHeaders[http.CanonicalHeaderKey(k)] {
			continue
		}
		for _, v := range vs {
			p.ResponseHeaders = append(p.ResponseHeaders, &fetch.HeaderEntry{Name: k, Value: v})
		}
	}
	if p.Body == nil {
		p.Body = []byte{}
	}
	return p
}

// sessionRequest turns a paused browser request into a session request.
func sessionRequest(ev *fetch.EventRequestPaused) *session.Request {
	req := &session.Request{Method: ev.Request.Method, URL: ev.Request.URL, Header: http.Header{}}
	for _, k := range requestHeaders {
		for hk, v := range ev.Request.Headers {
			if strings.EqualFold(hk, k) {
				if s, ok := v.(string); ok {
					req.Header.Set(k, s)
				}
			}
		}
	}
	if ev.Request.HasPostData {
		var body bytes.Buffer
		for _, e := range ev.Request.PostDataEntries {
			body.Write(e.Bytes)
		}
		req.Body = body.Bytes()
	}
	return req
}

package crawler

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// Renderer turns a fetched HTML page into the document a browser builds
// from it by running its scripts. Package crawler/render implements it with
// headless Chromium; programs that never render do not link a browser
// driver.
//
// Contract: Render is called by a worker, for every fetched 2xx HTML page
// with no error, after the fetch and before the pipeline, concurrently for
// different pages; it may block (for at most its own timeout). It either
// leaves the page as served (rendered false: the renderer judged it needs
// no browser) or replaces page.Body with the rendered document, sets
// page.Rendered and returns true. Every request the browser would send
// (the page's scripts, styles, XHR and fetch calls) must go through fetch,
// which sends it with the session — its cookies, user agent, headers and
// per-host connection limit — after the target host's robots.txt allowed
// it; the page itself must not be fetched again (page.Body is its served
// body). An error leaves the page as served: the crawl records it on the
// page ("render: …") and goes on.
type Renderer interface {
	Render(ctx context.Context, page *pipeline.Page, fetch FetchFunc) (rendered bool, err error)
}

// FetchFunc fetches one subresource of a page being rendered through the
// crawl's session. It returns an error wrapping ErrRobots when the target
// host's robots.txt disallows the URL (or the URL is not http(s)).
type FetchFunc func(ctx context.Context, req *session.Request) (*session.Response, error)

// render runs the configured renderer on a fetched page.
func (w *worker) render(ctx context.Context, page *pipeline.Page) {
	c := w.c
	if c.s.Renderer == nil || page.Err != nil || page.Status < 200 || page.Status > 299 || !page.IsHTML() {
		return
	}
	ok, err := c.s.Renderer.Render(ctx, page, c.subresource)
	if err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "render: ") {
			msg = "render: " + msg
		}
		page.StageErrors = append(page.StageErrors, msg)
		return
	}
	if ok {
		c.stats.rendered.Add(1)
	}
}

// subresource is the FetchFunc handed to the Renderer: robots.txt of the
// target host first (fetched and cached as for pages), then the session,
// whose per-host limit bounds the requests in flight to every host.
func (c *Crawler) subresource(ctx context.Context, req *session.Request) (*session.Response, error) {
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: not an http(s) URL: %q", ErrRobots, req.URL)
	}
	if !c.s.IgnoreRobots {
		h := c.host(frontier.HostKey(req.URL))
		rules, err := c.robots(ctx, h, u.Scheme)
		if err != nil {
			return nil, err
		}
		if p := robotsPath(req.URL); !rules.allowed(p) {
			c.stats.robotsDenied.Add(1)
			return nil, errRobots(rules, p)
		}
	}
	release, err := c.requestSlot(ctx, frontier.HostKey(req.URL))
	if err != nil {
		return nil, err
	}
	defer release()
	return c.sess.Do(ctx, req)
}

// requestSlot takes one of the host's PerHost request slots, when pages
// are rendered. A rendered page's subresources are requests the frontier's
// leases do not count: page requests and subresource requests to a host
// then share these slots, so that together they never exceed PerHost. A
// request holds its slot only while it is sent and read (never while it
// waits for another), so the slots cannot deadlock. Without a Renderer it
// takes nothing: the frontier's MaxInFlight alone bounds the requests.
func (c *Crawler) requestSlot(ctx context.Context, host string) (func(), error) {
	if c.s.Renderer == nil {
		return func() {}, nil
	}
	v, ok := c.reqSlots.Load(host)
	if !ok {
		v, _ = c.reqSlots.LoadOrStore(host, make(chan struct{}, c.s.PerHost))
	}
	slots := v.(chan struct{})
	select {
	case slots <- struct{}{}:
		return func() { <-slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

package crawler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/trawlhq/trawl/crawler/recrawl"
	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/pipeline"
)

// This file holds what the crawler does with Config.Recrawl: conditional
// requests for known pages, 304s answered from the store, digests,
// skipping fresh pages, and the new pass's known URLs (Config.Revisit).

// maxStoredTitle, maxStoredLinks and maxStoredData bound what one stored
// page holds.
const (
	maxStoredTitle = 1 << 10
	maxStoredLinks = 4096
	maxStoredData  = 64 << 10
)

// dataSize is about how many bytes d takes encoded.
func dataSize(d map[string][]string) int {
	n := 0
	for k, vs := range d {
		n += len(k) + 2
		for _, v := range vs {
			n += len(v) + 2
		}
	}
	return n
}

// revisit is one fetch's view of its URL's stored page.
type revisit struct {
	prev        *recrawl.Page // nil: the URL is new to the crawl
	conditional bool          // the request carried conditional headers
	digest      uint64        // of the served body (2xx)
	received    time.Time     // when the response arrived
	// again is set when prev was stored earlier in this pass (see
	// fetchedThisPass): the page is fetched in full, and a change prev
	// recorded is reported again.
	again bool
}

// fetchedThisPass reports whether p was stored by a fetch of the current
// pass: a lease is settled once per pass, so the page is leased again only
// because the run that fetched it was stopped before settling it, and may
// have lost its record. Asking for the page conditionally would then
// answer 304 for a page whose change the lost record reported; it is
// fetched in full instead, and reports the change again (Page.Changed).
func (c *Crawler) fetchedThisPass(p *recrawl.Page) bool {
	return !c.passStart.IsZero() && !p.Fetched.Before(c.passStart)
}

// recrawlCounters count what Recrawl did; see Stats.
type recrawlCounters struct {
	notModified, changed, unchanged, gone, fresh, errs atomic.Int64
	lastWarn                                           atomic.Int64 // UnixNano of the last store warning
}

// loadKnown returns the stored page of u, or nil (also when the store
// fails: the fetch is then unconditional, and the failure is logged).
//
// A store that was empty when Run started (storeEmpty) is not asked: a
// page it holds was stored by this run (or, for a shared store, by a run
// of the same crawl that started with it), a fetch of the pass that a
// kill kept from being settled. That page is fetched in full anyway (see
// fetchedThisPass), and without it the record is a new page's, as the
// lost one was: on a first crawl nothing is known to be changed or not.
func (c *Crawler) loadKnown(ctx context.Context, u string) *recrawl.Page {
	if c.s.Recrawl == nil || c.storeEmpty {
		return nil
	}
	if c.s.Sitemaps {
		c.sitemapMu.Lock()
		_, sm := c.sitemapSet[u]
		c.sitemapMu.Unlock()
		if sm {
			return nil
		}
	}
	p, err := c.s.Recrawl.Load(ctx, u)
	if err != nil {
		c.storeFailed(ctx, "load", u, err)
		return nil
	}
	return p
}

// storeFailed counts a failed store operation and logs it, at most once a
// second (a store that is down would otherwise flood the log).
func (c *Crawler) storeFailed(ctx context.Context, op, u string, err error) {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return
	}
	c.stats.recrawl.errs.Add(1)
	now := c.s.Now().UnixNano()
	last := c.stats.recrawl.lastWarn.Load()
	if now-last < int64(time.Second) || !c.stats.recrawl.lastWarn.CompareAndSwap(last, now) {
		return
	}
	c.log.Warn("recrawl store: "+op+" failed", "url", u, "err", err, "failures", c.stats.recrawl.errs.Load())
}

// skipKnown leaves a fresh known page unfetched: its stored links are
// pushed as if it had been fetched, and the lease is acknowledged without
// a record. It reports false when the links could not be pushed (the
// lease is then handed back and the crawl stops, as for a fetched page).
func (w *worker) skipKnown(l *frontier.Lease, prev *recrawl.Page, why string) {
	c := w.c
	c.stats.recrawl.fresh.Add(1)
	if c.log.Enabled(w.settle, slog.LevelDebug) {
		c.log.LogAttrs(w.settle, slog.LevelDebug, "fresh: not fetched",
			slog.String("url", l.URL), slog.String("why", why), slog.Time("fetched", prev.Fetched))
	}
	var err error
	if !prev.NoFollow && c.follows(l.Depth) {
		page := &pipeline.Page{URL: l.URL, Status: prev.Status, Depth: l.Depth, Referrer: l.Referrer,
			Title: prev.Title, NoIndex: prev.NoIndex, FetchedAt: prev.Fetched, NotModified: true, Known: true,
			Links: storedLinks(prev)}
		err = w.pushLinks(l, page)
	}
	if err != nil {
		c.setFatal(fmt.Errorf("crawler: frontier push: %w", err))
		w.giveBack(l)
		return
	}
	w.ack(l)
}

// storedLinks turns a stored page's links into the pipeline's.
func storedLinks(p *recrawl.Page) []pipeline.Link {
	if len(p.Links) == 0 {
		return nil
	}
	out := make([]pipeline.Link, len(p.Links))
	for i, l := range p.Links {
		out[i] = pipeline.Link{URL: l.URL, NoFollow: l.NoFollow || p.NoFollow, Tag: l.Tag, Attr: l.Attr, Rel: l.Rel, Text: l.Text}
	}
	return out
}

// notModified fills page from the stored page for a 304 answer to a
// conditional request; its data too when withData (the stored data is the
// current extraction's).
func notModified(page *pipeline.Page, prev *recrawl.Page, h http.Header, withData bool) {
	page.NotModified = true
	page.Known = true
	page.Title = prev.Title
	page.NoIndex = prev.NoIndex
	page.NoFollow = prev.NoFollow
	page.Links = storedLinks(prev)
	if withData && len(prev.Data) > 0 {
		page.Data = prev.Data // the caller's: Load returned a copy
	}
	if h.Get("Content-Type") == "" && prev.ContentType != "" {
		h.Set("Content-Type", prev.ContentType)
	}
}

// remember updates the store after the page's record was written: a 2xx
// is saved (unless no-store), a 304 refreshes the stored page with the
// headers it carried (RFC 9111 §4.3.4), a known page now 404 or 410 is
// forgotten. Other outcomes leave the stored page as it was.
func (w *worker) remember(ctx context.Context, page *pipeline.Page, rv *revisit) {
	c := w.c
	if c.s.Recrawl == nil || page.Err != nil || rv == nil || page.Status == 0 {
		return
	}
	st := c.s.Recrawl
	switch {
	case page.NotModified:
		p := rv.prev
		cache := recrawl.CacheOf(page.Header, rv.received)
		if cache.NoStore {
			if err := st.Delete(ctx, page.URL); err != nil {
				c.storeFailed(ctx, "delete", page.URL, err)
			}
			return
		}
		// A 304 rewrites the stored page only when it changes what the
		// next pass uses: the validators, the depth, or, with MaxAge, the
		// fetch time and freshness (without MaxAge neither is read: a
		// later pass with MaxAge finds the page older, and revalidates
		// it). Rewriting every page of an unchanged site cost a tenth of
		// a recrawl pass.
		dirty := c.s.MaxAge > 0
		if v := page.Header.Get("ETag"); v != "" && v != p.ETag {
			p.ETag, dirty = v, true
		}
		if v := page.Header.Get("Last-Modified"); v != "" && v != p.LastModified {
			p.LastModified, dirty = v, true
		}
		if page.Depth < p.Depth {
			p.Depth, dirty = page.Depth, true
		}
		if !dirty {
			return
		}
		p.Fetched = rv.received
		if hasFreshness(page.Header) {
			p.FreshUntil, p.NoCache = cache.FreshUntil, cache.NoCache
		}
		if err := st.Save(ctx, p); err != nil {
			c.storeFailed(ctx, "save", page.URL, err)
		}
	case page.Status >= 200 && page.Status < 300:
		cache := recrawl.CacheOf(page.Header, rv.received)
		if cache.NoStore {
			if rv.prev != nil {
				if err := st.Delete(ctx, page.URL); err != nil {
					c.storeFailed(ctx, "delete", page.URL, err)
				}
			}
			return
		}
		p := &recrawl.Page{
			URL:          page.URL,
			Depth:        page.Depth,
			Fetched:      rv.received,
			Status:       page.Status,
			ETag:         page.Header.Get("ETag"),
			LastModified: page.Header.Get("Last-Modified"),
			FreshUntil:   cache.FreshUntil,
			NoCache:      cache.NoCache,
			Digest:       rv.digest,
			ContentType:  page.ContentType(),
			Title:        truncateUTF8(page.Title, maxStoredTitle),
			NoIndex:      page.NoIndex,
			NoFollow:     page.NoFollow,
			Changed:      page.Changed,
		}
		if rv.prev != nil {
			p.Depth = min(p.Depth, rv.prev.Depth)
			p.Lastmod, p.LastmodSeen = rv.prev.Lastmod, rv.prev.LastmodSeen
		}
		switch {
		case len(page.Data) == 0 && c.s.DataVersion == "" && rv.prev != nil && rv.prev.Digest == rv.digest:
			// No extraction in this pass, and the same body: what an
			// earlier pass extracted from it still holds.
			p.Data, p.DataVersion = rv.prev.Data, rv.prev.DataVersion
		case dataSize(page.Data) <= maxStoredData:
			p.Data, p.DataVersion = page.Data, c.s.DataVersion
		}
		// Else no data and no version: a pass with this DataVersion
		// fetches the page in full again rather than lose its data.
		if n := min(len(page.Links), maxStoredLinks); n > 0 {
			// Anchor texts would nearly double a stored page; only a
			// Follow rule, which may read them, needs them kept.
			keepText := c.s.Follow != nil
			p.Links = make([]recrawl.Link, n)
			for i, l := range page.Links[:n] {
				p.Links[i] = recrawl.Link{URL: l.URL, NoFollow: l.NoFollow, Tag: l.Tag, Attr: l.Attr, Rel: l.Rel}
				if keepText {
					p.Links[i].Text = l.Text
				}
			}
		}
		if err := st.Save(ctx, p); err != nil {
			c.storeFailed(ctx, "save", page.URL, err)
		}
	case page.Gone:
		if err := st.Delete(ctx, page.URL); err != nil {
			c.storeFailed(ctx, "delete", page.URL, err)
		}
	}
}

// hasFreshness reports whether a header carries freshness information
// that replaces the stored one.
func hasFreshness(h http.Header) bool {
	return h.Get("Cache-Control") != "" || h.Get("Expires") != "" || h.Get("Pragma") != ""
}

// countRevisit counts a record's recrawl outcome.
func (k *counters) countRevisit(p *pipeline.Page) {
	switch {
	case p.NotModified:
		k.recrawl.notModified.Add(1)
	case p.Gone:
		k.recrawl.gone.Add(1)
	case !p.Known || p.Err != nil || p.Status < 200 || p.Status >= 300:
	case p.Changed:
		k.recrawl.changed.Add(1)
	default:
		k.recrawl.unchanged.Add(1)
	}
}

// pushKnown pushes every URL the store knows, in scope and within
// MaxDepth, in batches (Config.Revisit). It returns how many were new to
// the frontier.
func (c *Crawler) pushKnown(ctx context.Context) (int, error) {
	const batchSize = 1024
	batch := make([]frontier.Entry, 0, batchSize)
	added := 0
	flush := func() error {
		n, err := c.push(ctx, batch)
		added += n
		batch = batch[:0]
		return err
	}
	var fps []uint64
	err := c.s.Recrawl.Range(ctx, func(u string, depth int) error {
		if c.s.MaxDepth != 0 && (c.s.MaxDepth < 0 && depth > 0 || c.s.MaxDepth > 0 && depth > c.s.MaxDepth) {
			return nil
		}
		if v := c.scope.check(u, depth == 0); v != inScope {
			return nil
		}
		fps = append(fps, frontier.Fingerprint(u))
		batch = append(batch, frontier.Entry{URL: u, Depth: depth})
		if len(batch) == batchSize {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err == nil {
		set := newFPSet(fps)
		c.knownPushed.Store(&set)
	}
	return added, err
}

// pushedKnown reports whether u is one of the known URLs pushed when Run
// started: the frontier has seen it this pass, so pushing it again as a
// link would only be dropped (at the cost of a frontier call: for a Redis
// frontier, half of a recrawl pass of 304s).
func (c *Crawler) pushedKnown(u string) bool {
	set := c.knownPushed.Load()
	return set != nil && set.len() > 0 && set.has(frontier.Fingerprint(u))
}

// noteLastmod records the <lastmod> a sitemap gives for a known URL.
func (c *Crawler) noteLastmod(ctx context.Context, u string, lastmod time.Time) {
	if c.s.Recrawl == nil || lastmod.IsZero() {
		return
	}
	p, err := c.s.Recrawl.Load(ctx, u)
	if err != nil {
		c.storeFailed(ctx, "load", u, err)
		return
	}
	if p == nil || p.Lastmod.Equal(lastmod) && p.LastmodSeen.After(p.Fetched) {
		return
	}
	p.Lastmod, p.LastmodSeen = lastmod, c.s.Now()
	if err := c.s.Recrawl.Save(ctx, p); err != nil {
		c.storeFailed(ctx, "save", u, err)
	}
}

// truncateUTF8 cuts s to at most n bytes on a rune boundary.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n]
}

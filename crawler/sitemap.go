package crawler

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/trawlhq/trawl/frontier"
)

// sitemapKind is what a parsed sitemap file is.
type sitemapKind int

const (
	notSitemap   sitemapKind = iota
	sitemapURLs              // <urlset>, or a text sitemap: page URLs
	sitemapIndex             // <sitemapindex>: more sitemap files
)

// errNotSitemap is returned by parseSitemap for a body that is not one.
var errNotSitemap = errors.New("crawler: not a sitemap")

// gzipMagic starts every gzip stream.
var gzipMagic = []byte{0x1f, 0x8b}

// parseSitemap parses a sitemap file (sitemaps.org protocol): an XML
// <urlset> or <sitemapindex>, gzip-compressed or not, or, when text is
// true, a plain-text list of URLs, one per line. It returns at most maxURLs
// <loc> values, reads at most maxSize bytes after decompression, and keeps
// what it parsed before a syntax error (the error is then returned too).
// It never panics, whatever the input.
func parseSitemap(body []byte, text bool, maxSize int64, maxURLs int) (sitemapKind, []string, error) {
	kind, locs, _, err := parseSitemapLastmod(body, text, maxSize, maxURLs)
	return kind, locs, err
}

// parseSitemapLastmod is parseSitemap also returning, for each <loc> of
// an XML sitemap, its <lastmod> (zero when absent or not a W3C date); nil
// for a text sitemap.
func parseSitemapLastmod(body []byte, text bool, maxSize int64, maxURLs int) (sitemapKind, []string, []time.Time, error) {
	var r io.Reader = bytes.NewReader(body)
	if bytes.HasPrefix(body, gzipMagic) {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return notSitemap, nil, nil, err
		}
		defer zr.Close()
		r = zr
	}
	br := bufio.NewReader(io.LimitReader(r, maxSize))
	head, _ := br.Peek(512)
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '<' {
		return parseSitemapXML(br, maxURLs)
	}
	if !text {
		return notSitemap, nil, nil, errNotSitemap
	}
	kind, locs, err := parseSitemapText(br, maxURLs)
	return kind, locs, nil, err
}

// parseSitemapXML collects the <loc> and <lastmod> of every <url> or
// <sitemap> element.
func parseSitemapXML(r io.Reader, maxURLs int) (sitemapKind, []string, []time.Time, error) {
	d := xml.NewDecoder(r)
	d.Strict = false
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	kind := notSitemap
	var locs []string
	var mods []time.Time
	var inLoc, inMod bool
	var loc, mod strings.Builder
	var entryLoc string    // the <loc> of the element being read
	var entryMod time.Time // its <lastmod>
	depth := 0
	for len(locs) < maxURLs {
		tok, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			if kind == notSitemap {
				if err == nil {
					err = errNotSitemap
				}
				return notSitemap, nil, nil, err
			}
			return kind, locs, mods, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			name := strings.ToLower(t.Name.Local)
			if depth == 1 {
				switch name {
				case "urlset":
					kind = sitemapURLs
				case "sitemapindex":
					kind = sitemapIndex
				default:
					return notSitemap, nil, nil, errNotSitemap
				}
				continue
			}
			if depth == 2 {
				entryLoc, entryMod = "", time.Time{}
			}
			if depth == 3 && name == "loc" {
				inLoc = true
				loc.Reset()
			}
			if depth == 3 && name == "lastmod" {
				inMod = true
				mod.Reset()
			}
		case xml.EndElement:
			if inLoc && depth == 3 {
				inLoc = false
				entryLoc = strings.TrimSpace(loc.String())
			}
			if inMod && depth == 3 {
				inMod = false
				entryMod = parseW3CDate(strings.TrimSpace(mod.String()))
			}
			if depth == 2 && entryLoc != "" {
				locs = append(locs, entryLoc)
				mods = append(mods, entryMod)
				entryLoc = ""
			}
			depth--
		case xml.CharData:
			if inLoc && loc.Len() < 8192 {
				loc.Write(t)
			}
			if inMod && mod.Len() < 64 {
				mod.Write(t)
			}
		}
	}
	return kind, locs, mods, nil
}

// w3cLayouts are the W3C Datetime forms sitemaps use for <lastmod>, each
// with the span of time one value covers. A date without a time has no
// zone: it covers that day in every zone, from UTC+14 to UTC-12.
var w3cLayouts = []struct {
	layout string
	span   func(time.Time) time.Time // the end of the span starting at t
}{
	{"2006-01-02T15:04:05Z07:00", func(t time.Time) time.Time { return t.Add(time.Second) }},
	{"2006-01-02T15:04Z07:00", func(t time.Time) time.Time { return t.Add(time.Minute) }},
	{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1).Add(12 * time.Hour) }},
	{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0).Add(12 * time.Hour) }},
	{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0).Add(12 * time.Hour) }},
}

// parseW3CDate parses a W3C Datetime (the <lastmod> format) and returns the
// end of the span it covers: "2026-11-28T10:00:00Z" says the page changed
// at some time within that second, "2026-11-28" within that day, so only a
// fetch made at or after the returned time is known to be as new as the
// page. Fractions of a second narrow the span to their last digit. Zero
// when s is not a W3C Datetime.
func parseW3CDate(s string) time.Time {
	if i := strings.IndexByte(s, '.'); i > 0 && strings.Contains(s, "T") {
		// Seconds with a fraction: the span is one unit of the last digit.
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}
		}
		digits := 0
		for j := i + 1; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
			digits++
		}
		unit := time.Second
		for range min(digits, 9) {
			unit /= 10
		}
		return t.Add(unit)
	}
	for _, f := range w3cLayouts {
		if t, err := time.Parse(f.layout, s); err == nil {
			return f.span(t)
		}
	}
	return time.Time{}
}

// parseSitemapText reads a text sitemap: one absolute http(s) URL a line.
func parseSitemapText(r io.Reader, maxURLs int) (sitemapKind, []string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	var locs []string
	for sc.Scan() && len(locs) < maxURLs {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "http://") || strings.HasPrefix(line, "https://") {
			locs = append(locs, line)
		}
	}
	if len(locs) == 0 {
		return notSitemap, nil, errNotSitemap
	}
	return sitemapURLs, locs, sc.Err()
}

// isSitemap reports whether a fetched URL should be read as a sitemap:
// it was queued as one, or its body looks like one.
func (c *Crawler) isSitemap(u string, body []byte) (known bool, maybe bool) {
	if !c.s.Sitemaps {
		return false, false
	}
	c.sitemapMu.Lock()
	_, known = c.sitemapSet[u]
	c.sitemapMu.Unlock()
	if known {
		return true, true
	}
	if bytes.HasPrefix(body, gzipMagic) {
		return false, true
	}
	head := body
	if len(head) > 1024 {
		head = head[:1024]
	}
	return false, bytes.Contains(head, []byte("<urlset")) || bytes.Contains(head, []byte("<sitemapindex"))
}

// queueSitemaps pushes sitemap files (from robots.txt or a sitemap index)
// that are in scope, remembering them as sitemaps.
func (c *Crawler) queueSitemaps(ctx context.Context, urls []string, referrer string, depth int) {
	var base *url.URL
	if referrer != "" {
		base, _ = url.Parse(referrer)
	}
	entries := make([]frontier.Entry, 0, len(urls))
	for _, raw := range urls {
		var (
			u   string
			err error
		)
		if base != nil {
			u, err = c.s.Normalizer.Resolve(base, raw)
		} else {
			u, err = c.s.Normalizer.Normalize(raw)
		}
		if err != nil {
			c.log.Debug("sitemap URL skipped", "url", raw, "err", err)
			continue
		}
		if v := c.scope.check(u, true); v != inScope {
			c.log.Debug("sitemap out of scope", "url", u, "why", string(v))
			continue
		}
		c.sitemapMu.Lock()
		c.sitemapSet[u] = struct{}{}
		c.sitemapMu.Unlock()
		entries = append(entries, frontier.Entry{URL: u, Depth: depth, Referrer: referrer})
	}
	if _, err := c.push(ctx, entries); err != nil {
		c.log.Warn("push sitemaps", "err", err)
	}
}

// expandSitemap parses a fetched sitemap and pushes what it lists: more
// sitemap files for an index, pages for a urlset. Pages keep the sitemap's
// depth (a sitemap is a list of seeds) but, unlike seeds, pass every scope
// rule. It returns the number of URLs found.
func (c *Crawler) expandSitemap(ctx context.Context, l *frontier.Lease, finalURL string, body []byte, known bool) int {
	kind, locs, mods, err := parseSitemapLastmod(body, known, DefaultMaxSitemapSize, DefaultMaxSitemapURLs)
	if kind == notSitemap {
		if known {
			c.log.Debug("sitemap unreadable", "url", l.URL, "err", err)
		}
		return 0
	}
	if err != nil {
		c.log.Debug("sitemap partly read", "url", l.URL, "err", err)
	}
	if kind == sitemapIndex {
		c.queueSitemaps(ctx, locs, finalURL, l.Depth)
		return len(locs)
	}
	base, _ := url.Parse(finalURL)
	entries := make([]frontier.Entry, 0, len(locs))
	for i, raw := range locs {
		u, err := c.s.Normalizer.Resolve(base, raw)
		if err != nil {
			continue
		}
		if c.scope.check(u, false) != inScope {
			continue
		}
		if i < len(mods) {
			// Before the push, so that the URL's fetch sees it.
			c.noteLastmod(ctx, u, mods[i])
		}
		entries = append(entries, frontier.Entry{URL: u, Depth: l.Depth, Referrer: l.URL})
	}
	if _, err := c.push(ctx, entries); err != nil {
		c.log.Warn("push sitemap URLs", "url", l.URL, "err", err)
	}
	return len(locs)
}

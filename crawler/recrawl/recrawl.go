// Package recrawl remembers what a crawl saw of each page, so that the next
// pass over a site costs only what changed.
//
// For every page fetched with a 2xx response the crawler saves a Page: the
// validators the server sent (ETag, Last-Modified), the freshness it gave
// (Cache-Control max-age and no-cache, Expires, Date, Age: RFC 9111 §4.2),
// a digest of the body, and the title and links of the page. On the next
// pass the crawler sends the validators back as If-None-Match and
// If-Modified-Since (RFC 9110 §13.1); a 304 Not Modified costs no body and
// the page's links are taken from the stored list, so the crawl still
// reaches new pages behind unchanged ones. A page whose server says
// Cache-Control: no-store is not saved.
//
// A Store keeps the pages. This package has the Page type, its compact
// binary encoding (shared by the backends), the freshness rules and an
// in-memory Store (Memory); the persistent backends live in subpackages
// named for them, recrawl/disk (a file of the --state directory) and
// recrawl/redis (shared by every process of a Redis crawl), and all pass
// the contract suite in recrawl/recrawltest.
//
// Files: recrawl.go holds Page, Store and Memory; fresh.go the freshness
// and skip rules; codec.go the encoding.
package recrawl

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
)

// ErrClosed is returned by a Store's methods after Close.
var ErrClosed = errors.New("recrawl: closed")

// Link is a stored link of a page: what pipeline.Link says of it, so that
// a 304's links look to Config.Follow as they did when the page was
// fetched.
type Link struct {
	URL      string // absolute, normalized
	NoFollow bool   // listed but not followed (rel=nofollow or a nofollow page)
	Tag      string // the element it came from ("a", "area", "frame", "iframe", "meta")
	Attr     string // the attribute that held it ("href", "src", "content")
	Rel      string // the rel attribute as written; "" when absent
	Text     string // the anchor text (pipeline.MaxLinkText bytes at most)
}

// Page is what a crawl remembers of one URL's latest 2xx response.
type Page struct {
	// URL is the normalized URL requested: the key.
	URL string
	// Depth is the link depth the URL was fetched at; a new pass queues
	// the URL at this depth.
	Depth int
	// Fetched is when the latest full response arrived, or a 304 that
	// the crawler recorded (it records one when it changes the
	// validators, or when the crawl uses a maximum age).
	Fetched time.Time
	// Status is the status of the latest full response (2xx).
	Status int
	// ETag and LastModified are the validators as received (a weak ETag
	// keeps its W/ prefix): they are sent back as they are. "" when the
	// server sent none.
	ETag         string
	LastModified string
	// FreshUntil is when the response stops being fresh by the server's
	// explicit freshness (Cache-Control max-age, else Expires - Date, minus
	// the age it had on arrival; RFC 9111 §4.2). Zero when the server gave
	// none.
	FreshUntil time.Time
	// NoCache is set when the server said Cache-Control: no-cache (or
	// Pragma: no-cache without Cache-Control): the page is always stale
	// and is revalidated on every pass.
	NoCache bool
	// Digest is a 64-bit xxhash of the body (see Digest); two bodies with
	// the same digest are taken as equal.
	Digest uint64
	// ContentType is the media type of the body ("text/html").
	ContentType string
	// Title, NoIndex, NoFollow and Links are what the page said, given
	// again to the pipeline when the server answers 304.
	Title    string
	NoIndex  bool
	NoFollow bool
	Links    []Link
	// Lastmod is the newest <lastmod> a sitemap gave for the URL, and
	// LastmodSeen when the crawl read it. Zero when no sitemap listed it.
	Lastmod     time.Time
	LastmodSeen time.Time
	// Data is what the crawl's extraction stages found in the page
	// (pipeline.Page.Data), given again to the pipeline when the server
	// answers 304; DataVersion names the extraction that found it
	// (crawler.Config.DataVersion). Nil and "" when there was none.
	Data        map[string][]string
	DataVersion string
	// Changed is set when the full response stored had a new body: its
	// digest differed from the page stored before it. A run of the same
	// pass that fetches the page again (its record lost to a kill) reports
	// the change again from it.
	Changed bool
}

// Digest returns the digest of a body, as Page.Digest holds it.
func Digest(body []byte) uint64 { return xxhash.Sum64(body) }

// Store keeps the Pages of a crawl.
//
// Contract (recrawltest.Run checks it):
//
//   - Load returns the page saved last for url, or nil and no error when
//     none is. The returned Page is the caller's.
//   - Save stores p under p.URL, replacing what was there; once it
//     returns, Load sees it, also from another process for shared stores,
//     and for persistent stores after a crash of the process (kill -9).
//     Save does not keep p.
//   - Delete forgets url; deleting an unknown URL is not an error.
//   - Range calls fn with the URL and depth of every saved page, in no
//     particular order, and stops at the first error fn returns (Range
//     returns it). Pages saved or deleted during Range may or may not be
//     seen.
//   - All methods are safe for concurrent use.
//
// A store that is also a Lener counts what Save and Delete leave: once
// they return, Len reflects them (and after a reopening, for persistent
// stores).
type Store interface {
	Load(ctx context.Context, url string) (*Page, error)
	Save(ctx context.Context, p *Page) error
	Delete(ctx context.Context, url string) error
	Range(ctx context.Context, fn func(url string, depth int) error) error
}

// A Lener is a Store that can tell how many pages it holds (Memory, and the
// disk and redis stores). The crawler asks once, at the start of a run: a
// store that held no page then holds, for the rest of the run, only pages
// of this run, so a URL leased need not be looked up (for a shared store,
// one round trip a URL less on a first crawl).
type Lener interface {
	Len(ctx context.Context) (int64, error)
}

// Memory is a Store in the process's memory. The zero value is ready to
// use; it is safe for concurrent use. It keeps each page encoded (see
// Page.AppendBinary), about the size of its links' text.
type Memory struct {
	mu     sync.RWMutex
	pages  map[string][]byte
	closed bool
}

// Load implements Store.
func (m *Memory) Load(_ context.Context, url string) (*Page, error) {
	m.mu.RLock()
	b, ok := m.pages[url]
	closed := m.closed
	m.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	if !ok {
		return nil, nil
	}
	p := &Page{URL: url}
	if err := p.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return p, nil
}

// Save implements Store.
func (m *Memory) Save(_ context.Context, p *Page) error {
	b, err := p.AppendBinary(nil)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.pages == nil {
		m.pages = map[string][]byte{}
	}
	m.pages[p.URL] = b
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, url string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	delete(m.pages, url)
	return nil
}

// Range implements Store. It calls fn in URL order, on a snapshot.
func (m *Memory) Range(ctx context.Context, fn func(url string, depth int) error) error {
	m.mu.RLock()
	if m.closed {
		m.mu.RUnlock()
		return ErrClosed
	}
	urls := make([]string, 0, len(m.pages))
	depths := make(map[string]int, len(m.pages))
	for u, b := range m.pages {
		d, err := DecodeDepth(b)
		if err != nil {
			m.mu.RUnlock()
			return err
		}
		urls = append(urls, u)
		depths[u] = d
	}
	m.mu.RUnlock()
	sort.Strings(urls)
	for _, u := range urls {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(u, depths[u]); err != nil {
			return err
		}
	}
	return nil
}

// Len returns the number of pages saved. It implements Lener.
func (m *Memory) Len(context.Context) (int64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return 0, ErrClosed
	}
	return int64(len(m.pages)), nil
}

// Close makes every later call return ErrClosed. It is idempotent.
func (m *Memory) Close() error {
	m.mu.Lock()
	m.closed = true
	m.pages = nil
	m.mu.Unlock()
	return nil
}

package crawler

import (
	"context"
	"errors"
	"net/http"

	"github.com/trawlhq/trawl/pipeline"
)

// Errors of the hooks.
var (
	// ErrVetoed: Config.BeforeRequest refused the request. The URL's
	// record carries it, wrapping the hook's error.
	ErrVetoed = errors.New("crawler: request vetoed")
	// ErrRetry is returned (or wrapped) by Config.AfterResponse to fetch the
	// URL again: the attempt counts against Retries, and once they are
	// spent the URL's record carries ErrRetriesExhausted.
	ErrRetry = errors.New("crawler: retry requested")
)

// Request is what Config.BeforeRequest sees of a page request, and may
// change.
type Request struct {
	URL      string // the URL to fetch, normalized; read-only
	Depth    int    // its depth (seeds 0); read-only
	Referrer string // the page it was found on; "" for seeds; read-only
	Attempt  int    // 0 on the first attempt, 1 on the first retry; read-only
	// Header holds headers sent with this request only, merged over the
	// session's default headers key by key. It starts empty, except in a
	// recrawl (Config.Recrawl), where a URL fetched before starts with its
	// conditional headers (If-None-Match, If-Modified-Since): deleting
	// them makes the fetch unconditional. To remove a session default (an
	// Authorization, say) call Remove.
	Header http.Header
}

// Remove makes the request go without the header name, even when the
// session sends it by default.
func (r *Request) Remove(name string) {
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header[http.CanonicalHeaderKey(name)] = []string{}
}

// Response is what Config.AfterResponse sees of a page's response: the
// last hop, after redirects.
type Response struct {
	URL      string      // the URL requested (the lease's)
	FinalURL string      // the URL that answered, after redirects
	Status   int         // HTTP status
	Header   http.Header // response header; read-only
	Body     []byte      // decompressed body, at most the session's cap; read-only, not to be kept
	Depth    int         // the URL's depth
	Attempt  int         // 0 on the first attempt
}

// followLink applies Config.Follow to one link the crawler's rules allow.
func (c *Crawler) followLink(from *pipeline.Page, l pipeline.Link) bool {
	return c.s.Follow == nil || c.s.Follow(from, l)
}

// beforeRequest runs Config.BeforeRequest; it returns the request's own
// headers, or the veto.
func (c *Crawler) beforeRequest(ctx context.Context, u string, depth int, referrer string, attempt int, header http.Header) (http.Header, error) {
	if c.s.BeforeRequest == nil {
		return header, nil
	}
	if header == nil {
		header = http.Header{}
	}
	r := &Request{URL: u, Depth: depth, Referrer: referrer, Attempt: attempt, Header: header}
	if err := c.s.BeforeRequest(ctx, r); err != nil {
		return nil, err
	}
	if len(r.Header) == 0 {
		return nil, nil
	}
	return r.Header, nil
}

// afterResponse runs Config.AfterResponse.
func (c *Crawler) afterResponse(ctx context.Context, r *Response) error {
	if c.s.AfterResponse == nil {
		return nil
	}
	return c.s.AfterResponse(ctx, c.sess, r)
}

package pipeline

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/trawlhq/trawl/frontier"
)

// Page is one fetched (or failed) URL on its way through the pipeline.
//
// The crawler fills the fetch fields; Process fills Links, Canonical,
// NoFollow, NoIndex and Title for HTML pages; stages fill Data. A Page is
// handled by one goroutine at a time and is not safe for concurrent use.
type Page struct {
	URL       string        // the URL requested, normalized
	FinalURL  string        // the URL after redirects; "" means URL
	Status    int           // HTTP status; 0 when there was no response
	Header    http.Header   // response header; nil when there was no response
	Depth     int           // links followed from a seed; seeds are 0
	Attempt   int           // fetch attempts before this one (retries); 0 for the first
	Referrer  string        // the page the URL was found on; "" for seeds
	Elapsed   time.Duration // time the fetch took
	FetchedAt time.Time     // when the fetch started
	Body      []byte        // the body after decompression, at most the size cap
	Truncated bool          // the body was longer than the cap and was cut
	Rendered  bool          // Body is the document a browser rendered, not the served HTML

	// NotModified is set by the crawler when the server answered 304 Not
	// Modified to a conditional request of a recrawl (see crawler/recrawl):
	// Body is empty and Title, Links, NoIndex, NoFollow and Data are those
	// stored from the page's last full response (the links' Text only when
	// the crawl has a Follow rule, crawler.Config.Follow; Data when it came
	// from the same crawler.Config.DataVersion). Extraction keeps them (an
	// X-Robots-Tag of the 304 still adds noindex or nofollow), and stages
	// should leave Data be.
	NotModified bool
	// Known is set by the crawler when the crawl had fetched the URL in an
	// earlier pass (its recrawl store held it). Changed is then whether
	// the body differs from that fetch's (a 304 is not changed); both are
	// false for URLs new to the crawl.
	Known   bool
	Changed bool
	// Gone is set by the crawler when a URL the crawl had fetched before
	// now answers 404 or 410.
	Gone bool

	// Err is the fetch or crawl error; nil on success. A failed URL still
	// becomes a Page, and so a record whose error field is Err's message.
	// Pages with an Err are not parsed.
	Err error

	// Links are the page's links (a[href], area[href], frame[src],
	// iframe[src], <meta http-equiv=refresh>) in document order,
	// deduplicated: absolute, normalized, fragment-free http(s) URLs. A link that occurs
	// several times has NoFollow set only if every occurrence is nofollow.
	Links []Link
	// Canonical is the resolved, normalized <link rel=canonical> URL; ""
	// when absent or unusable.
	Canonical string
	// NoFollow is set when meta robots or X-Robots-Tag say nofollow (or
	// none); every Link is then NoFollow too.
	NoFollow bool
	// NoIndex is set when meta robots or X-Robots-Tag say noindex (or none):
	// the page is crawled but exporters skip it unless Config.ExportNoIndex.
	NoIndex bool
	// Title is the first <title>'s text, in UTF-8, whitespace collapsed.
	Title string
	// Data holds what extraction stages found: name -> values.
	Data map[string][]string
	// StageErrors holds one message per failed stage, "stage N (name): cause".
	StageErrors []string
	// Dropped is set by Process when a stage returned ErrDrop.
	Dropped bool

	items    []any                // values given to Emit
	parsed   bool                 // Process's extraction ran
	normal   *frontier.Normalizer // the pipeline's, for AbsURL
	base     *url.URL             // document base URL (FinalURL, or <base href>)
	enc      string               // canonical charset name, "" until determined
	utf8     []byte               // Body decoded to UTF-8 (aliases Body when it is UTF-8)
	textDone bool
	doc      *goquery.Document
	docErr   error
}

// Link is a link found on a page. When a URL occurs several times on a
// page, Tag, Attr, Rel and Text are those of its first occurrence.
type Link struct {
	URL      string // absolute, normalized, fragment-free http(s) URL
	NoFollow bool   // rel=nofollow, or the page is nofollow: list, do not follow
	Tag      string // the element it came from: "a", "area", "frame", "iframe" or "meta" (refresh)
	Attr     string // the attribute that held it: "href", "src" or "content"
	Rel      string // the rel attribute as written ("nofollow noopener"); "" when absent
	// Text is the anchor text of an <a> (the alt text of an <area>), with
	// entities decoded and white space collapsed, cut to MaxLinkText bytes;
	// "" for other tags.
	Text string
}

// location is the URL the page's body came from.
func (p *Page) location() string {
	if p.FinalURL != "" {
		return p.FinalURL
	}
	return p.URL
}

// ContentType returns the media type of the body, lower case and without
// parameters ("text/html"): from the Content-Type header, or sniffed from
// the body when the header is absent. It is "" when there is no response.
func (p *Page) ContentType() string {
	if ct := p.Header.Get("Content-Type"); ct != "" {
		return mediaType(ct)
	}
	if len(p.Body) == 0 {
		return ""
	}
	return mediaType(http.DetectContentType(p.Body))
}

// mediaType returns the lower-case media type of a Content-Type value.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// IsHTML reports whether the body is HTML (text/html or
// application/xhtml+xml, by header or sniffed) and there was no fetch error.
func (p *Page) IsHTML() bool {
	return p.Err == nil && p.isHTMLType()
}

// Text returns the body decoded to UTF-8. The charset comes from, in order:
// a byte-order mark, the Content-Type header's charset, a <meta charset> or
// <meta http-equiv=Content-Type> in the first 1024 bytes (HTML only), and
// otherwise UTF-8 when the body is valid UTF-8, else windows-1252. Invalid
// sequences become U+FFFD. Non-text bodies are decoded the same way; the
// error is always nil and kept for future decoders that can fail.
func (p *Page) Text() (string, error) {
	return string(p.decoded()), nil
}

// Charset returns the canonical name of the charset Text decodes from
// ("utf-8", "shift_jis", "windows-1252").
func (p *Page) Charset() string {
	p.decoded()
	return p.enc
}

// decoded returns the body as UTF-8, decoding it once.
func (p *Page) decoded() []byte {
	if !p.textDone {
		p.textDone = true
		p.utf8, p.enc = decodeBody(p.Body, p.Header.Get("Content-Type"), p.isHTMLType())
	}
	return p.utf8
}

func (p *Page) isHTMLType() bool {
	switch p.ContentType() {
	case "text/html", "application/xhtml+xml":
		return true
	}
	return false
}

// Doc returns the page parsed by goquery. It is parsed on the first call,
// from the UTF-8 text, and shared by every later call and stage. It returns
// an error for pages that are not HTML (see IsHTML).
func (p *Page) Doc() (*goquery.Document, error) {
	if p.doc != nil || p.docErr != nil {
		return p.doc, p.docErr
	}
	if !p.IsHTML() {
		p.docErr = errNotHTML(p)
		return nil, p.docErr
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(p.decoded()))
	if err != nil {
		p.docErr = err
		return nil, err
	}
	if u := p.baseURL(); u != nil {
		doc.Url = u
	}
	p.doc = doc
	return doc, nil
}

// baseURL returns the document's base URL: <base href> when present (after
// Process), else the final URL. Nil when that does not parse.
func (p *Page) baseURL() *url.URL {
	if p.base != nil {
		return p.base
	}
	u, err := url.Parse(p.location())
	if err != nil {
		return nil
	}
	p.base = u
	return u
}

var defaultNormalizer frontier.Normalizer

// norm returns the normalizer links of this page are resolved with.
func (p *Page) norm() *frontier.Normalizer {
	if p.normal != nil {
		return p.normal
	}
	return &defaultNormalizer
}

// Package demosite is a small, realistic web site that trawl serves to
// itself on loopback, so that a crawl can be shown (trawl demo) and tested
// without the internet: a tea and coffee shop with a catalogue, a blog and
// guides in four non-UTF-8 charsets, and the usual breakage of a real site.
//
// Everything is generated in code, deterministically: the same pages, the
// same bytes, on every run. What a crawler should find is exported, so
// tests of trawl's features compare against the site's own description
// instead of hard-coding it:
//
//   - Pages lists every URL a crawler reaches by following links from "/",
//     with what it answers: status, title, charset, redirect hops, delay,
//     robots.txt verdict, noindex, product fields;
//   - Broken lists the known broken targets: links (404, 410, 500, a
//     redirect loop, host names that never resolve) and assets (images,
//     scripts, stylesheets that answer 404), each with the pages that
//     reference it.
//
// The site:
//
//   - /robots.txt: Crawl-delay 0.005 s for trawl (200 requests a second:
//     the pacing is real, and the whole site still takes about 1.3 s),
//     0.02 s for other agents, 30 s for "slowbot", nothing at all for
//     "greedybot"; /private/ and /cart are disallowed to everyone. Its
//     Sitemap: line names /sitemap.xml, a sitemap index of three sitemaps
//     that list every page answering 200 (not the redirects, the broken,
//     the disallowed or the noindex pages);
//   - /shop/: six categories of 20 products (name in h1.product-name,
//     price in .price, SKU in .sku), one of them in windows-1252;
//   - /blog/: 60 articles over six index pages, with headings that have
//     ids and a table of contents of #fragment links, and a noindex draft;
//   - /intl/: guides in ISO-8859-1 (declared by the Content-Type header),
//     windows-1252 (by <meta charset>), Shift_JIS (by header) and EUC-KR
//     (by <meta http-equiv>);
//   - /help/ (fragments and ids), /contact (mailto: and tel: links),
//     /about (off-site links to names that never resolve);
//   - /reports/2025: answers after 1.5 s;
//   - /promo: 301 to /promo/winter, 302 to /shop/sale;
//   - /members: 301 to /members/, which 301s back to /members (a loop);
//   - /blog/2019/01/summer-menu (404), /shop/discontinued/retro-kettle
//     (410), /shop/reviews (500 with Retry-After: 1).
//
// Handler serves the site; Start listens on an address (loopback by
// default) and serves it until Close, counting requests by path.
package demosite

import (
	"slices"
	"sync"
	"time"
)

// Page is one URL of the site that a crawler reaches by following links
// from "/", and what the site answers for it.
type Page struct {
	// Path is the URL path as linked, e.g. "/shop/tea/jade-sencha".
	Path string
	// Status is the status of the last response: 200, 404, 410 or 500;
	// for a redirect, the status at the end of the chain; 0 for a redirect
	// loop, which never ends.
	Status int
	// Title is the page's <title> as a browser shows it (decoded to
	// UTF-8, entities resolved); "" for a redirect loop.
	Title string
	// Charset is the encoding of the body: "utf-8", "iso-8859-1",
	// "windows-1252", "shift_jis" or "euc-kr".
	Charset string
	// Redirects are the URLs (paths) the redirects go to, in order; the
	// last one answers Status. Nil when the page does not redirect.
	Redirects []string
	// Loop is true when the redirects go back to Path for ever.
	Loop bool
	// Delay is how long the server waits before answering; 0 for at once.
	Delay time.Duration
	// Disallowed is true when robots.txt disallows the path to every
	// agent, trawl included: a polite crawler never requests it.
	Disallowed bool
	// NoIndex is true when the page says <meta name="robots"
	// content="noindex">: its links may be followed, it is not exported.
	NoIndex bool
	// InSitemap is true when the sitemaps list the page.
	InSitemap bool
	// Product holds the fields of a product page; nil for other pages.
	Product *Product
	// Depth is the fewest links from "/" to the page ("/" is 0).
	Depth int
}

// Product is what a product page shows. A selector extracts it with
// --select 'name=h1.product-name' --select 'price=.price' --select 'sku=.sku'.
type Product struct {
	Name     string // text of h1.product-name
	Price    string // text of .price, e.g. "€24.90", or "24,90 €" in the French category
	SKU      string // text of .sku, e.g. "TEA-007"
	Category string // category slug, e.g. "tea"
}

// Kind is what a broken target is referenced as.
type Kind string

// The kinds of references.
const (
	KindLink       Kind = "link"       // <a href>
	KindImage      Kind = "image"      // <img src>
	KindScript     Kind = "script"     // <script src>
	KindStylesheet Kind = "stylesheet" // <link rel=stylesheet href>
)

// Target is one known broken target of the site.
type Target struct {
	// URL is the path of a target on the site ("/static/old-theme.css") or
	// the absolute URL of an off-site one ("https://status.teacup.invalid/").
	URL string
	// Kind says how the pages reference it.
	Kind Kind
	// Status is what the target answers: 404, 410, 500, or 301 for a
	// redirect loop; 0 for an off-site host name that never resolves
	// (.invalid, RFC 2606).
	Status int
	// Problem says what is wrong, in a few words.
	Problem string
	// From are the paths of the pages that reference it, sorted.
	From []string
}

// Pages returns every URL a crawler reaches by following links from "/",
// sorted by path. The result is a fresh copy the caller may modify.
func Pages() []Page {
	s := theSite()
	out := make([]Page, 0, len(s.linked))
	for _, p := range s.linked {
		q := p.Page
		q.Redirects = slices.Clone(p.Redirects)
		if p.Product != nil {
			prod := *p.Product
			q.Product = &prod
		}
		out = append(out, q)
	}
	return out
}

// Broken returns the site's known broken targets, sorted by URL. The
// result is a fresh copy the caller may modify.
func Broken() []Target {
	s := theSite()
	out := make([]Target, len(s.broken))
	for i, t := range s.broken {
		out[i] = t
		out[i].From = slices.Clone(t.From)
	}
	return out
}

// theSite builds the site once.
var theSite = sync.OnceValue(build)

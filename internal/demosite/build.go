package demosite

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// CrawlDelay is the Crawl-delay robots.txt asks of trawl (the "trawl"
// group). It is small so that the demo crawl finishes in a second or two
// while still pacing the requests: about 200 requests a second.
const CrawlDelay = 5 * time.Millisecond

// SlowDelay is how long /reports/2025 takes to answer.
const SlowDelay = 1500 * time.Millisecond

// robotsTxt is /robots.txt. The groups show the usual variety: the
// catch-all group, a bot asked to crawl very slowly (a Crawl-delay trawl
// would honour if it were that bot), one shut out, and trawl's own group,
// which the crawler picks by its product token (RFC 9309 §2.2.1).
// Disallowed to every agent: /private/ (linked from every page's footer)
// and /cart.
var robotsTxt = fmt.Sprintf(`# robots.txt of the trawl demo site (Teacup & Co.)
#
# Every crawler: no staff area, no cart, and a gap of 20 ms between requests.
User-agent: *
Crawl-delay: 0.02
Disallow: /private/
Disallow: /cart

# A crawler that once overloaded the shop: one request every 30 seconds.
User-agent: slowbot
Crawl-delay: 30
Disallow: /private/
Disallow: /cart

# Not welcome at all.
User-agent: greedybot
Disallow: /

# trawl: the same rules, at %g s between requests, so the demo crawl of
# about 250 pages takes a second or two.
User-agent: trawl
Crawl-delay: %g
Disallow: /private/
Disallow: /cart
Allow: /

Sitemap: %%s/sitemap.xml
`, CrawlDelay.Seconds(), CrawlDelay.Seconds())

// disallowed are the path prefixes robots.txt disallows to every agent
// but greedybot (which gets "/").
var disallowed = []string{"/private/", "/cart"}

// resource is one thing the handler answers: a page, a redirect hop, an
// asset, robots.txt, a sitemap.
type resource struct {
	Page // Path, Status, Title, Charset, NoIndex, Product of a page

	contentType string
	body        []byte
	status      int               // of this response (a redirect's 301/302)
	location    string            // Location of a redirect
	header      map[string]string // extra response headers
	delay       time.Duration     // wait before answering
	refs        []ref             // links and assets of an HTML page
	// dynamic, when not nil, writes the body for the site's base URL
	// ("http://127.0.0.1:8080"): robots.txt and sitemaps hold absolute URLs.
	dynamic func(base string) []byte
}

// site is the whole site, built once by build.
type site struct {
	res      map[string]*resource // by path: everything served
	notFound *resource            // the answer for every other path
	linked   []*resource          // Pages: reached from "/" by links, sorted by path
	broken   []Target             // Broken, sorted by URL
}

// add registers a resource under its path; a path used twice is a bug.
func (s *site) add(r *resource) {
	if _, dup := s.res[r.Path]; dup {
		panic("demosite: path served twice: " + r.Path)
	}
	s.res[r.Path] = r
}

// redirect registers a redirect from path to target.
func (s *site) redirect(path, target string, status int) {
	r := &resource{status: status, location: target, contentType: "text/html; charset=utf-8"}
	r.body = []byte(fmt.Sprintf("<!doctype html>\n<title>Moved</title>\n<p>Moved to <a href=\"%s\">%s</a>.</p>\n", target, target))
	r.Path = path
	s.add(r)
}

// build generates the site and works out what a crawler finds in it.
func build() *site {
	s := &site{res: map[string]*resource{}}
	s.notFound = render(spec{path: "", title: "Page not found", status: 404, body: func(p *builder) {
		p.w("<h1>Page not found</h1>\n<p>The page you asked for is not here any more. Try the ")
		p.a("/shop/", "shop")
		p.w(" or the ")
		p.a("/blog/", "journal")
		p.w(".</p>")
	}})
	addContent(s)
	s.walk()
	s.add(&resource{Page: Page{Path: "/robots.txt"}, status: 200, contentType: "text/plain; charset=utf-8",
		dynamic: func(base string) []byte { return fmt.Appendf(nil, robotsTxt, base) }})
	addSitemaps(s)
	return s
}

// lookup returns what the site answers for a path.
func (s *site) lookup(path string) *resource {
	if r, ok := s.res[path]; ok {
		return r
	}
	return s.notFound
}

// isDisallowed reports whether robots.txt disallows path to trawl (and to
// every other agent).
func isDisallowed(path string) bool {
	for _, d := range disallowed {
		if strings.HasPrefix(path, d) {
			return true
		}
	}
	return false
}

// resolve resolves a reference written in the page at base to a path on
// the site (onSite true), or reports that it is off-site (abs is then the
// absolute URL) or not an http(s) URL at all, mailto: say (abs "").
func resolve(base, href string) (path string, abs string, onSite bool) {
	b := &url.URL{Scheme: "http", Host: "demo", Path: base}
	u, err := b.Parse(href)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", "", false
	}
	if u.Host != "demo" {
		u.Fragment = ""
		return "", u.String(), false
	}
	return u.EscapedPath(), "", true
}

// walk follows the links from "/" as a polite crawler does (not into
// disallowed paths, not past error pages, through redirects) and fills
// s.linked with what it reaches and s.broken with the broken targets the
// reached pages reference.
func (s *site) walk() {
	reached := map[string]*resource{}
	var order []string
	queue := []string{"/"}
	depth := map[string]int{"/": 0}
	type target struct {
		kind    Kind
		status  int
		problem string
		from    map[string]bool
	}
	bad := map[string]*target{}
	mark := func(u string, kind Kind, status int, problem, from string) {
		t := bad[u]
		if t == nil {
			t = &target{kind: kind, status: status, problem: problem, from: map[string]bool{}}
			bad[u] = t
		}
		t.from[from] = true
	}
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		pg := s.outcome(path)
		pg.Depth = depth[path]
		reached[path] = pg
		order = append(order, path)
		if pg.Disallowed || pg.Loop || pg.Status != 200 {
			continue
		}
		// The links of the page at the end of the redirects.
		final := path
		if n := len(pg.Redirects); n > 0 {
			final = pg.Redirects[n-1]
		}
		for _, r := range s.lookup(final).refs {
			p, abs, onSite := resolve(final, r.url)
			switch {
			case !onSite && abs != "":
				mark(abs, r.kind, 0, "host name never resolves", path)
				continue
			case !onSite:
				continue // mailto:, tel:
			}
			if r.kind != KindLink {
				if _, ok := s.res[p]; !ok {
					mark(p, r.kind, 404, "not found", path)
				}
				continue
			}
			s.markBroken(p, path, mark)
			if _, seen := depth[p]; !seen {
				depth[p] = depth[path] + 1
				queue = append(queue, p)
			}
		}
	}
	slices.Sort(order)
	for _, p := range order {
		r := reached[p]
		r.InSitemap = r.Status == 200 && r.Redirects == nil && !r.Disallowed && !r.NoIndex
		s.linked = append(s.linked, r)
	}
	for u, t := range bad {
		from := make([]string, 0, len(t.from))
		for f := range t.from {
			from = append(from, f)
		}
		slices.Sort(from)
		s.broken = append(s.broken, Target{URL: u, Kind: t.kind, Status: t.status, Problem: t.problem, From: from})
	}
	slices.SortFunc(s.broken, func(a, b Target) int { return strings.Compare(a.URL, b.URL) })
}

// markBroken records a link from page from to path when path is broken.
func (s *site) markBroken(path, from string, mark func(u string, kind Kind, status int, problem, from string)) {
	pg := s.outcome(path)
	switch {
	case pg.Loop:
		mark(path, KindLink, pg.status, "redirect loop", from)
	case pg.Status == 404:
		mark(path, KindLink, 404, "not found", from)
	case pg.Status == 410:
		mark(path, KindLink, 410, "gone", from)
	case pg.Status >= 500:
		mark(path, KindLink, pg.Status, "server error", from)
	}
}

// outcome is what a crawler gets for path: the page at the end of its
// redirects, described as a Page under path.
func (s *site) outcome(path string) *resource {
	if isDisallowed(path) {
		r := *s.lookup(path)
		r.Path = path
		r.Disallowed = true
		return &r
	}
	var hops []string
	seen := map[string]bool{path: true}
	cur := s.lookup(path)
	for cur.location != "" {
		next := cur.location
		hops = append(hops, next)
		if seen[next] {
			r := &resource{}
			r.Path = path
			r.Redirects = hops
			r.Loop = true
			r.status = cur.status
			r.Status = 0
			return r
		}
		seen[next] = true
		cur = s.lookup(next)
	}
	r := *cur
	r.Path = path
	r.Redirects = hops
	return &r
}

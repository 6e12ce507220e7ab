package robots_test

import (
	"fmt"

	"github.com/trawlhq/trawl/crawler/robots"
)

func Example() {
	body := []byte(`User-agent: *
Disallow: /private/
Allow: /private/press/   # more specific: wins
Crawl-delay: 2

User-agent: trawl
Disallow: /*.pdf$
Sitemap: https://example.com/sitemap.xml
`)
	r := robots.FromStatus(200, body)
	g := r.Group("trawl") // our own group: the "*" group does not apply
	fmt.Println(g.Allowed("/private/x"), g.Allowed("/report.pdf"), g.Allowed("/report.pdf?v=2"))
	g = r.Group("otherbot")
	fmt.Println(g.Allowed("/private/x"), g.Allowed("/private/press/2024"))
	d, ok := g.CrawlDelay()
	fmt.Println(d, ok, r.Sitemaps())

	// An unreachable robots.txt disallows everything; a missing one allows it.
	fmt.Println(robots.FromStatus(503, nil).Group("trawl").Allowed("/"), robots.FromStatus(404, nil).Group("trawl").Allowed("/"))
	// Output:
	// true false true
	// false true
	// 2s true [https://example.com/sitemap.xml]
	// false true
}

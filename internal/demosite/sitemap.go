package demosite

import (
	"bytes"
	"encoding/xml"
	"strings"
)

// The sitemaps (sitemaps.org): /sitemap.xml is an index of three sitemaps
// that together list every page with InSitemap set.
var sitemapFiles = []struct {
	path string
	has  func(p *Page) bool
}{
	{"/sitemaps/products.xml", func(p *Page) bool { return p.Product != nil }},
	{"/sitemaps/journal.xml", func(p *Page) bool { return p.Product == nil && strings.HasPrefix(p.Path, "/blog/") }},
	{"/sitemaps/pages.xml", func(p *Page) bool { return p.Product == nil && !strings.HasPrefix(p.Path, "/blog/") }},
}

// lastmod is the one modification date the sitemaps give.
const lastmod = "2026-11-01"

func addSitemaps(s *site) {
	var files []string
	for _, f := range sitemapFiles {
		var paths []string
		for _, r := range s.linked {
			if r.InSitemap && f.has(&r.Page) {
				paths = append(paths, r.Path)
			}
		}
		files = append(files, f.path)
		s.add(&resource{Page: Page{Path: f.path}, status: 200, contentType: "application/xml",
			dynamic: func(base string) []byte {
				var b bytes.Buffer
				b.WriteString(xml.Header + `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + "\n")
				for _, p := range paths {
					b.WriteString("<url><loc>")
					xml.EscapeText(&b, []byte(base+p))
					b.WriteString("</loc><lastmod>" + lastmod + "</lastmod></url>\n")
				}
				b.WriteString("</urlset>\n")
				return b.Bytes()
			}})
	}
	s.add(&resource{Page: Page{Path: "/sitemap.xml"}, status: 200, contentType: "application/xml",
		dynamic: func(base string) []byte {
			var b bytes.Buffer
			b.WriteString(xml.Header + `<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + "\n")
			for _, f := range files {
				b.WriteString("<sitemap><loc>")
				xml.EscapeText(&b, []byte(base+f))
				b.WriteString("</loc><lastmod>" + lastmod + "</lastmod></sitemap>\n")
			}
			b.WriteString("</sitemapindex>\n")
			return b.Bytes()
		}})
}

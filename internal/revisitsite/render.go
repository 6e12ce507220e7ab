package revisitsite

import (
	"bytes"
	"strconv"
	"time"
)

// mix hashes three numbers into one (splitmix64 finalizer over a
// combination): the ETags and the generators' seeds.
func mix(a, b, c uint64) uint64 {
	z := a ^ (b+1)*0x9e3779b97f4a7c15 ^ (c+1)*0xc2b2ae3d27d4eb4f
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// rng is a splitmix64 generator: small, fast, deterministic.
type rng struct{ s uint64 }

func newRNG(seed, a, b uint64) *rng { return &rng{s: mix(seed, a, b)} }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

var vocabulary = []string{
	"archive", "harbour", "lantern", "meadow", "quarry", "orchard", "ledger", "beacon", "canal", "foundry",
	"granary", "viaduct", "tannery", "almanac", "ferry", "mill", "chapel", "market", "signal", "terrace",
	"keeps", "records", "crosses", "follows", "opens", "lists", "returns", "marks", "joins", "holds",
	"old", "narrow", "northern", "quiet", "public", "early", "local", "broad", "upper", "western",
	"the", "a", "of", "and", "in", "near", "beside", "under", "after", "with", "for", "from", "by",
}

// makeParagraphs returns count paragraphs of filler text, by seed.
func makeParagraphs(seed uint64, count int) []string {
	r := newRNG(seed, 1<<62, 0)
	out := make([]string, count)
	var b bytes.Buffer
	for i := range out {
		b.Reset()
		for range 3 + r.intn(4) {
			n := 6 + r.intn(10)
			for k := range n {
				w := vocabulary[r.intn(len(vocabulary))]
				if k == 0 {
					b.WriteByte(w[0] - 'a' + 'A')
					b.WriteString(w[1:])
					continue
				}
				b.WriteByte(' ')
				b.WriteString(w)
			}
			b.WriteString(". ")
		}
		out[i] = b.String()
	}
	return out
}

// renderLocked writes the body of page id at its current version. s.mu is
// held (for reading).
func (s *Site) renderLocked(b *bytes.Buffer, id int) {
	p := s.pages[id]
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>")
	b.WriteString(p.title)
	b.WriteString("</title>\n</head>\n<body>\n<nav><a href=\"/\">Home</a>")
	links := p.links
	if p.next {
		b.WriteString(" | <a href=\"")
		b.WriteString(s.pages[links[0]].path)
		b.WriteString("\">Next</a>")
		links = links[1:]
	}
	b.WriteString("</nav>\n<main>\n<h1>")
	b.WriteString(p.title)
	b.WriteString("</h1>\n<p class=\"revision\">Revision ")
	b.WriteString(strconv.Itoa(p.version))
	b.WriteString(".</p>\n")

	// Paragraphs picked by page and version, each with one of the links,
	// until the body reaches its size; the links left over in a list.
	r := newRNG(s.seed, uint64(id), uint64(p.version)+1)
	const tail = 48 * 20
	k := 0
	for b.Len() < s.size-tail || b.Len() < s.size && k < len(links) {
		b.WriteString("<p>")
		b.WriteString(s.paras[r.intn(len(s.paras))])
		if k < len(links) {
			b.WriteString("See ")
			s.writeLink(b, links[k], r)
			b.WriteString(".")
			k++
		}
		b.WriteString("</p>\n")
	}
	if k < len(links) {
		b.WriteString("<ul>\n")
		for ; k < len(links); k++ {
			b.WriteString("<li>")
			s.writeLink(b, links[k], r)
			b.WriteString("</li>\n")
		}
		b.WriteString("</ul>\n")
	}
	b.WriteString("</main>\n</body>\n</html>\n")
}

// writeLink writes a link to page id, by its root-relative path, with a
// #fragment one time in four.
func (s *Site) writeLink(b *bytes.Buffer, id int, r *rng) {
	t := s.pages[id]
	b.WriteString("<a href=\"")
	b.WriteString(t.path)
	if r.intn(4) == 0 {
		b.WriteString("#s")
		b.WriteString(strconv.Itoa(r.intn(8)))
	}
	b.WriteString("\">")
	b.WriteString(t.title)
	b.WriteString("</a>")
}

// sitemapLocked writes /sitemap.xml: every live page with its lastmod
// (the second of its Last-Modified, whatever its section sends). s.mu is
// held (for reading).
func (s *Site) sitemapLocked(b *bytes.Buffer, base string) {
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n")
	for _, p := range s.pages {
		if p.gone != 0 {
			continue
		}
		b.WriteString("<url><loc>")
		b.WriteString(base)
		b.WriteString(p.path)
		b.WriteString("</loc><lastmod>")
		b.WriteString(p.modified.UTC().Truncate(time.Second).Format(time.RFC3339))
		b.WriteString("</lastmod></url>\n")
	}
	b.WriteString("</urlset>\n")
}

func robotsTxt(base string) string {
	return "User-agent: *\nAllow: /\n\nSitemap: " + base + "/sitemap.xml\n"
}

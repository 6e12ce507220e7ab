package pipeline

import (
	"bytes"
	"net/url"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/internal/htmlscan"
)

// rawLink is an href as found, before resolution.
type rawLink struct {
	href     string
	nofollow bool
	tag      string // "a", "area", "frame", "iframe", "meta"
	attr     string // "href", "src", "content"
	rel      string // the rel attribute, as written
	text     string // anchor text (a) or alt text (area), collapsed and capped

	textOff, textEnd int // the text's bytes in the scan's text buffer
}

// MaxLinkText is the longest Link.Text kept, in bytes: longer anchor text
// is cut at a character boundary.
const MaxLinkText = 256

// scan is what one tokenizer pass over a document finds.
type scan struct {
	links     []rawLink
	base      string // first <base href>
	hasBase   bool
	canonical string // first <link rel=canonical href>
	title     string
	hasTitle  bool
	robots    robots // from <meta name=robots> (and the agent's own)
}

// robots holds robots directives.
type robots struct{ noindex, nofollow bool }

// extract fills the page's Links, Canonical, Title, NoFollow and NoIndex
// from its header and (for HTML) its body, in one tokenizer pass. It runs
// once per page.
func (pl *Pipeline) extract(p *Page) {
	if p.parsed {
		return
	}
	p.parsed = true
	p.normal = pl.norm
	var rb robots
	if !pl.cfg.IgnoreRobots && p.Err == nil {
		for _, v := range p.Header.Values("X-Robots-Tag") {
			rb.parseHeader(v, pl.cfg.RobotsAgent)
		}
	}
	if p.NotModified {
		// The stored title, links and robots flags stand; the 304's own
		// header can only add to the flags.
		p.NoIndex, p.NoFollow = p.NoIndex || rb.noindex, p.NoFollow || rb.nofollow
		if p.NoFollow {
			for i := range p.Links {
				p.Links[i].NoFollow = true
			}
		}
		return
	}
	if p.IsHTML() {
		s := scanHTML(p.decoded(), pl.cfg.RobotsAgent)
		if !pl.cfg.IgnoreRobots {
			rb.noindex = rb.noindex || s.robots.noindex
			rb.nofollow = rb.nofollow || s.robots.nofollow
		}
		p.Title = s.title
		pl.resolveLinks(p, &s, rb.nofollow)
	}
	p.NoIndex, p.NoFollow = rb.noindex, rb.nofollow
}

// resolveLinks resolves the scanned hrefs against the document's base URL.
func (pl *Pipeline) resolveLinks(p *Page, s *scan, pageNoFollow bool) {
	doc, err := url.Parse(p.location())
	if err != nil || !doc.IsAbs() {
		return // nothing can be resolved against an unusable page URL
	}
	base := doc
	if s.hasBase {
		// Resolved like a link, so that it is parsed as browsers do.
		if b := resolve(pl.norm, doc, s.base); b != "" {
			if u, err := url.Parse(b); err == nil && u.Host != "" {
				base = u
			}
		}
	}
	p.base = base
	if s.canonical != "" {
		p.Canonical = resolve(pl.norm, base, s.canonical)
	}
	if len(s.links) == 0 {
		return
	}
	links := make([]Link, 0, len(s.links))
	seen := make(map[string]int, len(s.links))
	for _, rl := range s.links {
		u := resolve(pl.norm, base, rl.href)
		if u == "" {
			continue
		}
		nf := rl.nofollow || pageNoFollow
		if i, ok := seen[u]; ok {
			if !nf {
				links[i].NoFollow = false
			}
			continue
		}
		seen[u] = len(links)
		links = append(links, Link{URL: u, NoFollow: nf, Tag: rl.tag, Attr: rl.attr, Rel: rl.rel, Text: rl.text})
	}
	if len(links) > 0 {
		p.Links = links
	}
}

// resolve returns href resolved against base and normalized, or "" when it
// is not a usable http(s) link. Normalizer.Resolve already strips what
// browsers strip from an href, drops the fragment and refuses every scheme
// but http and https; skipScheme only spares it the error for the common
// javascript:, mailto:, tel: and data: links.
func resolve(n *frontier.Normalizer, base *url.URL, href string) string {
	h := href
	for len(h) > 0 && h[0] <= ' ' {
		h = h[1:]
	}
	if skipScheme(h) {
		return ""
	}
	u, err := n.Resolve(base, href)
	if err != nil {
		return ""
	}
	return u
}

// skipScheme reports whether an href (leading spaces trimmed) uses a scheme that is never
// crawled: javascript:, mailto:, tel:, data:.
func skipScheme(h string) bool {
	c := strings.IndexByte(h, ':')
	if c < 3 || c > 10 {
		return false
	}
	switch strings.ToLower(h[:c]) {
	case "javascript", "mailto", "tel", "data":
		return true
	}
	return false
}

// scanHTML scans doc (UTF-8) once and collects links, base, canonical,
// title and meta robots. agent is Config.RobotsAgent. It uses scanFast,
// and scanTokens for the documents scanFast leaves to it.
func scanHTML(doc []byte, agent string) scan {
	if s, ok := scanFast(doc, agent); ok {
		return s
	}
	return scanTokens(doc, agent)
}

// scanTokens is scanHTML with golang.org/x/net/html's Tokenizer.
func scanTokens(doc []byte, agent string) scan {
	var s scan
	z := html.NewTokenizer(bytes.NewReader(doc))
	svg := 0 // depth of <svg> elements, whose <title>s are not the page's
	inTitle := false
	var title []byte
	anchor := -1 // index in s.links of the <a> whose text is being read
	var text, texts []byte
	endAnchor := func() {
		if anchor >= 0 {
			l := &s.links[anchor]
			l.textOff = len(texts)
			texts = appendLinkText(texts, text)
			l.textEnd = len(texts)
			anchor, text = -1, text[:0]
		}
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if inTitle {
				s.title, s.hasTitle = collapseSpace(title), true
			}
			endAnchor()
			s.setTexts(texts)
			return s
		case html.TextToken:
			if inTitle {
				title = append(title, z.Text()...)
			}
			if anchor >= 0 && len(text) < 4*MaxLinkText {
				text = append(text, z.Raw()...)
			}
		case html.EndTagToken:
			switch rawTagName(z.Raw()) {
			case "a":
				endAnchor()
			case "title":
				if inTitle {
					inTitle = false
					s.title, s.hasTitle = collapseSpace(title), true
				}
			case "svg":
				if svg > 0 {
					svg--
				}
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			// TagName and TagAttr copy what they return; look at the raw
			// bytes first and call them only for the tags that matter.
			tag := rawTagName(z.Raw())
			if tag == "" {
				continue
			}
			// TagAttr copes with tags without attributes.
			switch tag {
			case "a", "area":
				if tag == "a" {
					endAnchor() // an <a> is closed by the next one
				}
				var href, rel, alt []byte
				found := false
				for more := true; more; {
					var k, v []byte
					k, v, more = z.TagAttr()
					switch string(k) {
					case "href":
						if !found {
							href, found = v, true
						}
					case "rel":
						rel = v
					case "alt":
						alt = v
					}
				}
				if found {
					l := rawLink{href: string(href), nofollow: hasToken(rel, "nofollow"), tag: tag, attr: "href"}
					if len(rel) > 0 {
						l.rel = string(rel)
					}
					if tag == "area" {
						l.textOff = len(texts)
						texts = appendLinkText(texts, alt)
						l.textEnd = len(texts)
					} else if tt == html.StartTagToken {
						anchor = len(s.links)
					}
					s.links = append(s.links, l)
				}
			case "frame", "iframe":
				if v, ok := attr(z, "src"); ok {
					s.links = append(s.links, rawLink{href: string(v), tag: tag, attr: "src"})
				}
			case "base":
				if !s.hasBase {
					if v, ok := attr(z, "href"); ok {
						s.base, s.hasBase = string(v), true
					}
				}
			case "link":
				if s.canonical == "" {
					var href []byte
					canonical := false
					for more := true; more; {
						var k, v []byte
						k, v, more = z.TagAttr()
						switch string(k) {
						case "href":
							if href == nil {
								href = v
							}
						case "rel":
							canonical = hasToken(v, "canonical")
						}
					}
					if canonical && len(href) > 0 {
						s.canonical = string(href)
					}
				}
			case "meta":
				var metaName, content []byte
				refresh := false
				for more := true; more; {
					var k, v []byte
					k, v, more = z.TagAttr()
					switch string(k) {
					case "name":
						metaName = v
					case "content":
						content = v
					case "http-equiv":
						refresh = bytes.EqualFold(bytes.TrimSpace(v), []byte("refresh"))
					}
				}
				if refresh {
					if u, ok := htmlscan.RefreshURL(string(content)); ok {
						s.links = append(s.links, rawLink{href: u, tag: "meta", attr: "content"})
					}
					continue
				}
				n := string(bytes.TrimSpace(metaName))
				if strings.EqualFold(n, "robots") || (agent != "" && strings.EqualFold(n, agent)) {
					s.robots.parseList(string(content))
				}
			case "title":
				if tt == html.StartTagToken && svg == 0 && !s.hasTitle {
					inTitle = true
					title = title[:0]
				}
			case "svg":
				if tt == html.StartTagToken {
					svg++
				}
			case "noscript", "noframes":
				// What a client without scripts or frames sees, so what a
				// crawler sees: tokenize the content as markup, not text.
				if tt == html.StartTagToken {
					z.NextIsNotRawText()
				}
			}
		}
	}
}

// rawTagName returns the name of the tag whose raw text ("<a href=...>",
// "</TITLE>") is raw, lower case, if it is one the scan looks at (a, area,
// frame, iframe, base, link, meta, title, svg, noscript, noframes), else "". It does not
// allocate.
func rawTagName(raw []byte) string {
	i := 1 // after '<'
	if i < len(raw) && raw[i] == '/' {
		i++
	}
	j := i
	for j < len(raw) {
		c := raw[j]
		if c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '/' || c == '>' {
			break
		}
		j++
	}
	name := raw[i:j]
	var t string
	switch len(name) {
	case 1:
		t = "a"
	case 3:
		t = "svg"
	case 4:
		switch name[0] | 0x20 {
		case 'a':
			t = "area"
		case 'b':
			t = "base"
		case 'l':
			t = "link"
		case 'm':
			t = "meta"
		}
	case 5:
		switch name[0] | 0x20 {
		case 'f':
			t = "frame"
		case 't':
			t = "title"
		}
	case 6:
		t = "iframe"
	case 8:
		switch name[2] | 0x20 {
		case 's':
			t = "noscript"
		case 'f':
			t = "noframes"
		}
	}
	if t == "" || !hasPrefixFoldASCII(name, t) {
		return ""
	}
	return t
}

// attr returns the first value of the attribute key of the current tag.
func attr(z *html.Tokenizer, key string) ([]byte, bool) {
	for more := true; more; {
		var k, v []byte
		k, v, more = z.TagAttr()
		if string(k) == key {
			return v, true
		}
	}
	return nil, false
}

// hasToken reports whether the space-separated list v contains tok,
// ignoring ASCII case.
func hasToken(v []byte, tok string) bool {
	for len(v) > 0 {
		i := 0
		for i < len(v) && isSpace(v[i]) {
			i++
		}
		v = v[i:]
		j := 0
		for j < len(v) && !isSpace(v[j]) {
			j++
		}
		if j == len(tok) && hasPrefixFoldASCII(v[:j], tok) {
			return true
		}
		v = v[j:]
	}
	return false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// collapseSpace trims b and turns every run of white space into one space,
// replacing invalid UTF-8 with U+FFFD.
func collapseSpace(b []byte) string {
	out := make([]byte, 0, len(b))
	space := false
	for _, c := range b {
		if isSpace(c) {
			space = len(out) > 0
			continue
		}
		if space {
			out = append(out, ' ')
			space = false
		}
		out = append(out, c)
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

// appendLinkText appends b, HTML text as written (entities unescaped here),
// to dst with its white space collapsed, cut to MaxLinkText bytes at a
// character boundary, and returns dst. The texts of a page's links share
// one buffer, turned into one string at the end of the scan (scan.texts).
func appendLinkText(dst, b []byte) []byte {
	if len(b) == 0 {
		return dst
	}
	if bytes.IndexByte(b, '&') >= 0 {
		b = []byte(html.UnescapeString(string(b)))
	}
	start := len(dst)
	space := false
	for _, c := range b {
		if isSpace(c) {
			space = len(dst) > start
			continue
		}
		if space {
			dst = append(dst, ' ')
			space = false
		}
		dst = append(dst, c)
	}
	if len(dst)-start > MaxLinkText {
		i := start + MaxLinkText
		for i > start && !utf8.RuneStart(dst[i]) {
			i--
		}
		dst = dst[:i]
	}
	return dst
}

// capText cuts t to MaxLinkText bytes at a character boundary.
func capText(t string) string {
	if len(t) <= MaxLinkText {
		return t
	}
	i := MaxLinkText
	for i > 0 && !utf8.RuneStart(t[i]) {
		i--
	}
	return t[:i]
}

// setTexts gives every link its text: one string for the page's texts,
// made valid UTF-8 text by text, sliced per link.
func (s *scan) setTexts(buf []byte) {
	if len(buf) == 0 {
		return
	}
	all := string(buf)
	for i := range s.links {
		l := &s.links[i]
		if l.textEnd > l.textOff {
			l.text = all[l.textOff:l.textEnd]
			if !utf8.ValidString(l.text) {
				l.text = capText(strings.ToValidUTF8(l.text, "\uFFFD"))
			}
		}
	}
}

// parseList applies a robots directive list ("noindex, nofollow").
func (r *robots) parseList(v string) {
	for _, d := range strings.Split(v, ",") {
		switch strings.ToLower(strings.TrimSpace(d)) {
		case "noindex":
			r.noindex = true
		case "nofollow":
			r.nofollow = true
		case "none":
			r.noindex, r.nofollow = true, true
		}
	}
}

// parseHeader applies one X-Robots-Tag value. Directives may be prefixed
// with a user agent ("googlebot: noindex"); they then apply only when it is
// agent. A prefix applies to the rest of the value.
func (r *robots) parseHeader(v, agent string) {
	applies := true
	for _, d := range strings.Split(v, ",") {
		d = strings.TrimSpace(d)
		if i := strings.IndexByte(d, ':'); i >= 0 {
			prefix := strings.TrimSpace(d[:i])
			if !isDirective(prefix) {
				applies = agent != "" && strings.EqualFold(prefix, agent)
				d = strings.TrimSpace(d[i+1:])
			}
		}
		if applies {
			r.parseList(d)
		}
	}
}

// isDirective reports whether s is a robots directive that takes a value
// after a colon, rather than a user-agent name.
func isDirective(s string) bool {
	switch strings.ToLower(s) {
	case "unavailable_after", "max-snippet", "max-image-preview", "max-video-preview":
		return true
	}
	return false
}

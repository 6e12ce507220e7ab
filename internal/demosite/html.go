package demosite

import (
	"fmt"
	"html"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
)

// siteName ends every title.
const siteName = "Teacup & Co."

// ref is one reference from a page: a link or an asset.
type ref struct {
	kind Kind
	url  string // as written in the page
}

// builder writes the HTML of one page and remembers what it references.
type builder struct {
	b    strings.Builder
	refs []ref
}

// w writes raw HTML.
func (p *builder) w(s string) { p.b.WriteString(s) }

// t writes escaped text.
func (p *builder) t(s string) { p.b.WriteString(html.EscapeString(s)) }

// f writes raw HTML from a format; the arguments are escaped.
func (p *builder) f(format string, args ...any) {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = html.EscapeString(s)
		}
	}
	fmt.Fprintf(&p.b, format, args...)
}

// a writes a link.
func (p *builder) a(href, text string) {
	p.refs = append(p.refs, ref{KindLink, href})
	p.f(`<a href="%s">%s</a>`, href, text)
}

// li writes a link in a list item.
func (p *builder) li(href, text string) {
	p.w("<li>")
	p.a(href, text)
	p.w("</li>")
}

// img writes an image.
func (p *builder) img(src, alt, class string) {
	p.refs = append(p.refs, ref{KindImage, src})
	if class != "" {
		p.f(`<img class="%s" src="%s" alt="%s">`, class, src, alt)
		return
	}
	p.f(`<img src="%s" alt="%s">`, src, alt)
}

// stylesheet writes a <link rel=stylesheet>.
func (p *builder) stylesheet(href string) {
	p.refs = append(p.refs, ref{KindStylesheet, href})
	p.f(`<link rel="stylesheet" href="%s">`, href)
}

// script writes a <script src>.
func (p *builder) script(src string) {
	p.refs = append(p.refs, ref{KindScript, src})
	p.f(`<script src="%s" defer></script>`, src)
}

// declaration is how a page says its charset.
type declaration int

const (
	declareBoth      declaration = iota // Content-Type header and <meta charset>
	declareHeader                       // Content-Type header only
	declareMeta                         // <meta charset> only
	declareHTTPEquiv                    // <meta http-equiv="Content-Type"> only
)

// charsets are the encodings the site writes, by Page.Charset name: the
// label used in declarations and the encoder (nil for UTF-8).
var charsets = map[string]struct {
	label string
	enc   encoding.Encoding
}{
	"utf-8":        {"utf-8", nil},
	"iso-8859-1":   {"ISO-8859-1", charmap.ISO8859_1},
	"windows-1252": {"windows-1252", charmap.Windows1252},
	"shift_jis":    {"Shift_JIS", japanese.ShiftJIS},
	"euc-kr":       {"EUC-KR", korean.EUCKR},
}

// spec describes one HTML page.
type spec struct {
	path     string
	title    string // without the site name
	lang     string // "" = "en"
	charset  string // "" = "utf-8"
	declare  declaration
	status   int // 0 = 200
	noindex  bool
	header   map[string]string // extra response headers
	head     func(p *builder)  // extra <head> content, or nil
	body     func(p *builder)
	noLayout bool // no site header and footer (error pages keep them)
}

// fullTitle is a page's title with the site name.
func fullTitle(t string) string {
	if t == "" {
		return siteName
	}
	return t + " | " + siteName
}

// render builds the resource of an HTML page in its charset. An
// unencodable character is a bug in the site: it panics.
func render(sp spec) *resource {
	cs := sp.charset
	if cs == "" {
		cs = "utf-8"
	}
	c, ok := charsets[cs]
	if !ok {
		panic("demosite: unknown charset " + cs)
	}
	lang := sp.lang
	if lang == "" {
		lang = "en"
	}
	p := &builder{}
	p.f("<!doctype html>\n<html lang=\"%s\">\n<head>\n", lang)
	switch sp.declare {
	case declareBoth, declareMeta:
		p.f("<meta charset=\"%s\">\n", c.label)
	case declareHTTPEquiv:
		p.f("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=%s\">\n", c.label)
	}
	p.f("<title>%s</title>\n", fullTitle(sp.title))
	p.w(`<meta name="viewport" content="width=device-width, initial-scale=1">` + "\n")
	if sp.noindex {
		p.w(`<meta name="robots" content="noindex">` + "\n")
	}
	p.stylesheet("/static/site.css")
	p.script("/static/app.js")
	if sp.head != nil {
		sp.head(p)
	}
	p.w("\n</head>\n<body>\n")
	if !sp.noLayout {
		p.w(`<header class="site">`)
		p.w(`<a class="logo" href="/">`)
		p.refs = append(p.refs, ref{KindLink, "/"})
		p.img("/img/logo.svg", siteName, "")
		p.w("</a>\n<nav><ul>")
		p.li("/", "Home")
		p.li("/shop/", "Shop")
		p.li("/blog/", "Journal")
		p.li("/intl/", "Guides")
		p.li("/help/", "Help")
		p.li("/cart", "Cart")
		p.w("</ul></nav></header>\n")
	}
	p.w("<main>\n")
	sp.body(p)
	p.w("\n</main>\n")
	if !sp.noLayout {
		p.w(`<footer class="site"><ul>`)
		p.li("/about", "About us")
		p.li("/contact", "Contact")
		p.li("/private/", "Staff area")
		p.w("</ul><p>&copy; 2026 Teacup &amp; Co. Prices include VAT.</p></footer>\n")
	}
	p.w("</body>\n</html>\n")

	body := []byte(p.b.String())
	if c.enc != nil {
		var err error
		if body, err = c.enc.NewEncoder().Bytes(body); err != nil {
			panic(fmt.Sprintf("demosite: %s: cannot encode in %s: %v", sp.path, cs, err))
		}
	}
	ct := "text/html"
	if sp.declare == declareBoth || sp.declare == declareHeader {
		ct += "; charset=" + c.label
	}
	status := sp.status
	if status == 0 {
		status = 200
	}
	r := &resource{
		contentType: ct,
		body:        body,
		status:      status,
		header:      sp.header,
		refs:        p.refs,
	}
	r.Path = sp.path
	r.Status = status
	r.Title = fullTitle(sp.title)
	r.Charset = cs
	r.NoIndex = sp.noindex
	return r
}

// slug turns a name into a URL path segment: lower-case ASCII letters and
// digits separated by single hyphens.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if f, ok := foldAccent[r]; ok {
			b.WriteString(f)
			dash = false
			continue
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

var foldAccent = map[rune]string{
	'à': "a", 'â': "a", 'ä': "ae", 'ç': "c", 'é': "e", 'è': "e", 'ê': "e", 'ë': "e",
	'î': "i", 'ï': "i", 'ô': "o", 'ö': "oe", 'œ': "oe", 'ù': "u", 'û': "u", 'ü': "ue", 'ß': "ss", 'ú': "u",
	'\'': "",
}

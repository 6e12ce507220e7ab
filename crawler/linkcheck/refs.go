package linkcheck

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// ref is one reference found on a page, before resolution.
type ref struct {
	href     string // the attribute's value (one candidate of a srcset)
	tag      string // element name, lower case
	attr     string // attribute name, lower case
	text     string // anchor text (a), alt text (img, area), else ""
	line     int    // 1-based line of the element's start tag
	asset    bool   // an embedded resource, not a link
	nofollow bool   // rel=nofollow
}

// scanned is what one tokenizer pass over a page finds.
type scanned struct {
	refs    []ref
	base    string // first <base href>
	hasBase bool
	anchors []string // id attributes and <a name> values, as written
}

// maxText caps a source's anchor text, in runes.
const maxText = 100

// assetRels are the <link rel> tokens whose href is an embedded resource
// the page needs.
var assetRels = []string{"stylesheet", "icon", "apple-touch-icon", "preload", "modulepreload", "manifest"}

// scanRefs tokenizes doc (UTF-8) once and collects every reference with its
// tag, attribute, text and line, the first <base href>, and the page's
// anchors (ids and a names). It builds no DOM.
func scanRefs(doc string) scanned {
	var s scanned
	z := html.NewTokenizer(strings.NewReader(doc))
	line := 1
	inA := -1 // index in s.refs of the open <a>'s ref, -1 when none
	var text []byte
	var attrs attrList
	closeA := func() {
		if inA >= 0 {
			if s.refs[inA].text == "" {
				s.refs[inA].text = clipText(text)
			}
			inA = -1
		}
	}
	for {
		tt := z.Next()
		raw := z.Raw()
		tagLine := line
		line += bytes.Count(raw, []byte{'\n'})
		switch tt {
		case html.ErrorToken:
			closeA()
			return s
		case html.TextToken:
			if inA >= 0 && len(text) < 4*maxText {
				text = append(text, z.Text()...)
				text = append(text, ' ')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if string(name) == "a" {
				closeA()
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := tagName(name)
			attrs.reset()
			if hasAttr {
				for more := true; more; {
					var k, v []byte
					k, v, more = z.TagAttr()
					attrs.add(k, v)
				}
			}
			if id, ok := attrs.get("id"); ok && id != "" {
				s.anchors = append(s.anchors, id)
			}
			add := func(attr string, asset bool, text string) {
				if v, ok := attrs.get(attr); ok {
					s.refs = append(s.refs, ref{href: v, tag: tag, attr: attr, text: text, line: tagLine, asset: asset})
				}
			}
			switch tag {
			case "a":
				closeA() // an <a> inside an <a> closes the first
				if n, ok := attrs.get("name"); ok && n != "" {
					s.anchors = append(s.anchors, n)
				}
				if v, ok := attrs.get("href"); ok {
					s.refs = append(s.refs, ref{href: v, tag: tag, attr: "href", line: tagLine,
						nofollow: hasToken(attrs.val("rel"), "nofollow")})
					if tt == html.StartTagToken {
						inA = len(s.refs) - 1
						text = text[:0]
					}
				}
			case "area":
				if v, ok := attrs.get("href"); ok {
					s.refs = append(s.refs, ref{href: v, tag: tag, attr: "href", text: clipText([]byte(attrs.val("alt"))),
						line: tagLine, nofollow: hasToken(attrs.val("rel"), "nofollow")})
				}
			case "iframe", "frame":
				add("src", false, "")
			case "img":
				alt := clipText([]byte(attrs.val("alt")))
				add("src", true, alt)
				s.addSrcset(&attrs, tag, alt, tagLine)
				if inA >= 0 && alt != "" && len(text) < 4*maxText {
					text = append(text, alt...)
					text = append(text, ' ')
				}
			case "source":
				add("src", true, "")
				s.addSrcset(&attrs, tag, "", tagLine)
			case "video":
				add("src", true, "")
				add("poster", true, "")
			case "audio", "track", "embed", "script":
				add("src", true, "")
			case "object":
				add("data", true, "")
			case "link":
				rel := attrs.val("rel")
				for _, r := range assetRels {
					if hasToken(rel, r) {
						add("href", true, "")
						break
					}
				}
			case "base":
				if v, ok := attrs.get("href"); ok && !s.hasBase {
					s.base, s.hasBase = v, true
				}
			case "meta":
				if strings.EqualFold(strings.TrimSpace(attrs.val("http-equiv")), "refresh") {
					if u, ok := refreshURL(attrs.val("content")); ok {
						s.refs = append(s.refs, ref{href: u, tag: tag, attr: "content", line: tagLine})
					}
				}
			case "noscript", "noframes":
				// As the pipeline does: a crawler runs no scripts, so the
				// content is markup, not text.
				if tt == html.StartTagToken {
					z.NextIsNotRawText()
				}
			}
		}
	}
}

// addSrcset adds the URLs of a srcset attribute.
func (s *scanned) addSrcset(attrs *attrList, tag, text string, line int) {
	v, ok := attrs.get("srcset")
	if !ok {
		return
	}
	for _, u := range srcsetURLs(v) {
		s.refs = append(s.refs, ref{href: u, tag: tag, attr: "srcset", text: text, line: line, asset: true})
	}
}

// srcsetURLs returns the URLs of a srcset value, following the HTML
// standard's "parse a srcset attribute": candidates are separated by
// commas; a URL runs to the next white space, and commas ending it end the
// candidate; descriptors run to the next comma outside parentheses.
func srcsetURLs(v string) []string {
	var out []string
	i := 0
	for i < len(v) {
		for i < len(v) && (isSpace(v[i]) || v[i] == ',') {
			i++
		}
		if i >= len(v) {
			break
		}
		start := i
		for i < len(v) && !isSpace(v[i]) {
			i++
		}
		u := v[start:i]
		endsCandidate := false
		if t := strings.TrimRight(u, ","); len(t) < len(u) {
			u, endsCandidate = t, true
		}
		if u != "" {
			out = append(out, u)
		}
		if endsCandidate {
			continue
		}
		depth := 0
		for i < len(v) {
			c := v[i]
			i++
			if c == '(' {
				depth++
			} else if c == ')' && depth > 0 {
				depth--
			} else if c == ',' && depth == 0 {
				break
			}
		}
	}
	return out
}

// refreshURL returns the URL of a <meta http-equiv=refresh> content value
// ("5; url='/next'"); ok is false when there is none.
func refreshURL(content string) (string, bool) {
	c := strings.TrimLeft(content, " \t\n\r\f")
	i := 0
	for i < len(c) && (c[i] >= '0' && c[i] <= '9' || c[i] == '.') {
		i++
	}
	if i == 0 {
		return "", false
	}
	c = strings.TrimLeft(c[i:], " \t\n\r\f")
	if c == "" || (c[0] != ';' && c[0] != ',') {
		return "", false
	}
	c = strings.TrimLeft(c[1:], " \t\n\r\f")
	if len(c) >= 3 && strings.EqualFold(c[:3], "url") {
		rest := strings.TrimLeft(c[3:], " \t\n\r\f")
		if rest != "" && rest[0] == '=' {
			c = strings.TrimLeft(rest[1:], " \t\n\r\f")
		}
	}
	if c != "" && (c[0] == '"' || c[0] == '\'') {
		q := c[0]
		c = c[1:]
		if j := strings.IndexByte(c, q); j >= 0 {
			c = c[:j]
		}
	}
	c = strings.TrimSpace(c)
	return c, c != ""
}

// hasToken reports whether the space-separated list v contains tok,
// ignoring ASCII case.
func hasToken(v, tok string) bool {
	for _, f := range strings.Fields(v) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// clipText collapses white space and cuts the text at maxText runes.
func clipText(b []byte) string {
	f := strings.Fields(strings.ToValidUTF8(string(b), "\uFFFD"))
	t := strings.Join(f, " ")
	if utf8.RuneCountInString(t) > maxText {
		r := []rune(t)
		t = string(r[:maxText-1]) + "…"
	}
	return t
}

// attrList holds the attributes of the current tag as the tokenizer returns
// them (valid until its next call), first occurrence winning, so that tags
// the scan does not care about cost no allocation.
type attrList struct{ kv [][2][]byte }

func (a *attrList) reset() { a.kv = a.kv[:0] }

func (a *attrList) add(k, v []byte) {
	for _, p := range a.kv {
		if bytes.Equal(p[0], k) {
			return
		}
	}
	a.kv = append(a.kv, [2][]byte{k, v})
}

// get returns the value of attribute k (lower case) as a string.
func (a *attrList) get(k string) (string, bool) {
	for _, p := range a.kv {
		if string(p[0]) == k {
			return string(p[1]), true
		}
	}
	return "", false
}

// val returns the value of attribute k, "" when absent.
func (a *attrList) val(k string) string {
	v, _ := a.get(k)
	return v
}

// tagName returns the tag name as a string, without allocating for the
// tags the scan handles.
func tagName(b []byte) string {
	switch string(b) {
	case "a":
		return "a"
	case "area":
		return "area"
	case "iframe":
		return "iframe"
	case "frame":
		return "frame"
	case "img":
		return "img"
	case "source":
		return "source"
	case "video":
		return "video"
	case "audio":
		return "audio"
	case "track":
		return "track"
	case "embed":
		return "embed"
	case "script":
		return "script"
	case "object":
		return "object"
	case "link":
		return "link"
	case "base":
		return "base"
	case "meta":
		return "meta"
	case "noscript":
		return "noscript"
	case "noframes":
		return "noframes"
	}
	return ""
}

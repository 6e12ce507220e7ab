package linkcheck

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/trawlhq/trawl/internal/htmlscan"
)

// ref is one reference found on a page, before resolution.
type ref struct {
	href     string // the attribute's value (one candidate of a srcset)
	tag      string // element name, lower case
	attr     string // attribute name, lower case
	text     string // anchor text (a), alt text (img, area), else ""; as found (see clipText)
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

// scanRefs scans doc (UTF-8) once and collects every reference with its
// tag, attribute, text and line, the first <base href>, and the page's
// anchors (ids and a names). It follows the HTML tokenizer's rules for what
// is markup (tags, attributes and their quoting, comments, raw text
// elements, character references in attribute values and text) but jumps
// from '<' to '<' instead of reading the text byte by byte, and builds no
// DOM. FuzzScanRefs checks it against golang.org/x/net/html's Tokenizer.
func scanRefs(doc string) scanned {
	sc := scanner{doc: doc, line: 1, inA: -1}
	sc.run()
	sc.closeA()
	return sc.s
}

// scanner is the state of one scanRefs.
type scanner struct {
	doc     string
	s       scanned
	line    int // line at counted
	counted int // bytes of doc whose newlines are in line
	inA     int // index in s.refs of the open <a>'s ref, -1 when none
	text    []byte
	attrs   strAttrs
}

// lineAt returns the line of byte i (i never decreases between calls).
func (sc *scanner) lineAt(i int) int {
	if i > sc.counted {
		sc.line += strings.Count(sc.doc[sc.counted:i], "\n")
		sc.counted = i
	}
	return sc.line
}

func (sc *scanner) closeA() {
	if sc.inA >= 0 {
		if sc.s.refs[sc.inA].text == "" {
			sc.s.refs[sc.inA].text = html.UnescapeString(string(sc.text))
		}
		sc.inA = -1
	}
}

// addText adds raw text to the open <a>'s text.
func (sc *scanner) addText(t string) {
	if sc.inA >= 0 && len(sc.text) < 4*maxText {
		sc.text = append(sc.text, t...)
		sc.text = append(sc.text, ' ')
	}
}

func (sc *scanner) run() {
	doc := sc.doc
	i := 0
	text := 0 // start of the text run not yet added
	for i < len(doc) {
		j := htmlscan.NextMarkup(doc, i)
		if j < 0 {
			break
		}
		c := doc[j+1]
		if c == '/' && j+2 >= len(doc) {
			break // "</" at the end is text
		}
		if j > text {
			sc.addText(doc[text:j])
		}
		switch {
		case c == '!':
			i = skipComment(doc, j)
		case c == '?':
			i = htmlscan.SkipPast(doc, j+2, '>')
		case c == '/':
			if j+2 < len(doc) && htmlscan.IsLetter(doc[j+2]) {
				name, k := htmlscan.TagName(doc, j+2)
				if name == "a" {
					sc.closeA()
				}
				i = skipTag(doc, k)
			} else if j+2 < len(doc) && doc[j+2] == '>' {
				i = j + 3 // "</>" is dropped
			} else {
				i = htmlscan.SkipPast(doc, j+2, '>') // a bogus comment
			}
		default:
			i = sc.startTag(j)
		}
		text = i
	}
	if text < len(doc) {
		sc.addText(doc[text:])
	}
}

// startTag handles the start tag at doc[j] ('<') and returns where the
// scan goes on.
func (sc *scanner) startTag(j int) int {
	doc := sc.doc
	name, k := htmlscan.TagName(doc, j+1)
	sc.attrs.reset()
	k, selfClosing, complete := parseAttrs(doc, k, &sc.attrs)
	if !complete {
		return len(doc) // a tag cut off at the end of the document is dropped
	}
	tag := tagName(name)
	if tag != "" || len(sc.attrs.kv) > 0 {
		sc.tag(j, tag, selfClosing)
	}
	if selfClosing {
		return k
	}
	// Raw text elements: their content is text up to their end tag. (The
	// content of noscript and noframes is markup, as for the pipeline: a
	// crawler runs no scripts.)
	switch name {
	case "script", "style", "textarea", "title", "xmp", "iframe", "noembed":
		return skipRawText(doc, k, name)
	case "plaintext":
		return len(doc)
	}
	return k
}

// tag records what the start tag at doc[j] holds.
func (sc *scanner) tag(j int, tag string, selfClosing bool) {
	line := sc.lineAt(j)
	if id, ok := sc.attrs.get("id"); ok && id != "" {
		sc.s.anchors = append(sc.s.anchors, id)
	}
	s := &sc.s
	a := &sc.attrs
	add := func(attr string, asset bool, text string) {
		if v, ok := a.get(attr); ok {
			s.refs = append(s.refs, ref{href: v, tag: tag, attr: attr, text: text, line: line, asset: asset})
		}
	}
	switch tag {
	case "a":
		sc.closeA()
		if n, ok := a.get("name"); ok && n != "" {
			s.anchors = append(s.anchors, n)
		}
		if v, ok := a.get("href"); ok {
			s.refs = append(s.refs, ref{href: v, tag: tag, attr: "href", line: line, nofollow: hasToken(a.val("rel"), "nofollow")})
			if !selfClosing {
				sc.inA = len(s.refs) - 1
				sc.text = sc.text[:0]
			}
		}
	case "area":
		if v, ok := a.get("href"); ok {
			s.refs = append(s.refs, ref{href: v, tag: tag, attr: "href", text: a.val("alt"),
				line: line, nofollow: hasToken(a.val("rel"), "nofollow")})
		}
	case "iframe", "frame":
		add("src", false, "")
	case "img":
		alt := a.val("alt")
		add("src", true, alt)
		s.addSrcset(a.val("srcset"), tag, alt, line)
		if alt != "" {
			sc.addText(html.EscapeString(alt)) // the text is unescaped as a whole
		}
	case "source":
		add("src", true, "")
		s.addSrcset(a.val("srcset"), tag, "", line)
	case "video":
		add("src", true, "")
		add("poster", true, "")
	case "audio", "track", "embed", "script":
		add("src", true, "")
	case "object":
		add("data", true, "")
	case "link":
		rel := a.val("rel")
		for _, r := range assetRels {
			if hasToken(rel, r) {
				add("href", true, "")
				break
			}
		}
	case "base":
		if v, ok := a.get("href"); ok && !s.hasBase {
			s.base, s.hasBase = v, true
		}
	case "meta":
		if strings.EqualFold(strings.TrimSpace(a.val("http-equiv")), "refresh") {
			if u, ok := htmlscan.RefreshURL(a.val("content")); ok {
				s.refs = append(s.refs, ref{href: u, tag: tag, attr: "content", line: line})
			}
		}
	}
}

// parseAttrs reads attributes from i (after the tag name) to the end of
// the tag, as the HTML tokenizer does, and returns the index after '>',
// whether the tag was self-closing ("/>") and whether it was complete (a
// tag cut off by the end of the document is not). Values are kept as
// written; strAttrs.get unescapes them.
func parseAttrs(doc string, i int, attrs *strAttrs) (end int, selfClosing, complete bool) {
	for i < len(doc) {
		c := doc[i]
		switch {
		case htmlscan.IsSpace(c):
			i++
			continue
		case c == '>':
			return i + 1, false, true
		case c == '/':
			if i+1 < len(doc) && doc[i+1] == '>' {
				return i + 2, true, true
			}
			i++
			continue
		}
		// An attribute name runs to white space, '/', '>' or '=' (a
		// leading '=' is part of it).
		start := i
		i++
		for i < len(doc) {
			c := doc[i]
			if htmlscan.IsSpace(c) || c == '/' || c == '>' || c == '=' {
				break
			}
			i++
		}
		key := doc[start:i]
		for i < len(doc) && htmlscan.IsSpace(doc[i]) {
			i++
		}
		val := ""
		if i < len(doc) && doc[i] == '=' {
			i++
			for i < len(doc) && htmlscan.IsSpace(doc[i]) {
				i++
			}
			if i < len(doc) && (doc[i] == '"' || doc[i] == '\'') {
				q := doc[i]
				end := strings.IndexByte(doc[i+1:], q)
				if end < 0 {
					return len(doc), false, false
				}
				val = doc[i+1 : i+1+end]
				i += end + 2
			} else {
				vs := i
				for i < len(doc) && !htmlscan.IsSpace(doc[i]) && doc[i] != '>' {
					i++
				}
				val = doc[vs:i]
			}
		}
		attrs.add(key, val)
	}
	return len(doc), false, false
}

// skipComment skips the markup declaration at doc[j] ("<!") and returns the
// index after it: a comment up to "-->" (or "--!>"; "<!-->" and "<!--->"
// end at once), anything else up to '>'.
func skipComment(doc string, j int) int {
	if strings.HasPrefix(doc[j:], "<!--") {
		k := j + 4
		if strings.HasPrefix(doc[k:], ">") {
			return k + 1
		}
		if strings.HasPrefix(doc[k:], "->") {
			return k + 2
		}
		for {
			e := strings.Index(doc[k:], "--")
			if e < 0 {
				return len(doc)
			}
			k += e + 2
			for k < len(doc) && doc[k] == '-' {
				k++
			}
			if strings.HasPrefix(doc[k:], ">") {
				return k + 1
			}
			if strings.HasPrefix(doc[k:], "!>") {
				return k + 2
			}
		}
	}
	return htmlscan.SkipPast(doc, j+2, '>')
}

// skipTag skips the rest of an end tag (attributes included) and returns
// the index after its '>'.
func skipTag(doc string, i int) int {
	var discard strAttrs
	k, _, _ := parseAttrs(doc, i, &discard)
	return k
}

// skipRawText returns the index after the end tag that closes the raw
// text element name whose content starts at i: "</name" in any case
// followed by white space, '/' or '>'.
func skipRawText(doc string, i int, name string) int {
	for {
		k := strings.Index(doc[i:], "</")
		if k < 0 {
			return len(doc)
		}
		k += i
		e := k + 2 + len(name)
		if e <= len(doc) && strings.EqualFold(doc[k+2:e], name) && (e == len(doc) || htmlscan.IsSpace(doc[e]) || doc[e] == '/' || doc[e] == '>') {
			return skipTag(doc, e)
		}
		i = k + 2
	}
}

// strAttrs holds the attributes of the current tag, first occurrence
// winning, keys lower-cased and values unescaped when asked for.
type strAttrs struct{ kv [][2]string }

func (a *strAttrs) reset() { a.kv = a.kv[:0] }

func (a *strAttrs) add(k, v string) {
	for _, p := range a.kv {
		if strings.EqualFold(p[0], k) {
			return
		}
	}
	a.kv = append(a.kv, [2]string{k, v})
}

// get returns the unescaped value of attribute k (lower case).
func (a *strAttrs) get(k string) (string, bool) {
	for _, p := range a.kv {
		if len(p[0]) == len(k) && strings.EqualFold(p[0], k) {
			v := p[1]
			if strings.IndexByte(v, '&') >= 0 {
				v = htmlscan.UnescapeAttr(v)
			}
			return v, true
		}
	}
	return "", false
}

// val returns the value of attribute k, "" when absent.
func (a *strAttrs) val(k string) string {
	v, _ := a.get(k)
	return v
}

// addSrcset adds the URLs of a srcset attribute's value v.
func (s *scanned) addSrcset(v string, tag, text string, line int) {
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
		for i < len(v) && (htmlscan.IsSpace(v[i]) || v[i] == ',') {
			i++
		}
		if i >= len(v) {
			break
		}
		start := i
		for i < len(v) && !htmlscan.IsSpace(v[i]) {
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

// clipText collapses white space and cuts the text at maxText runes. It is
// applied to a source's text when the source is kept.
func clipText(s string) string {
	f := strings.Fields(strings.ToValidUTF8(s, "\uFFFD"))
	t := strings.Join(f, " ")
	if utf8.RuneCountInString(t) > maxText {
		r := []rune(t)
		t = string(r[:maxText-1]) + "…"
	}
	return t
}

// tagName returns the tag name as a string, without allocating for the
// tags the scan handles.
func tagName(b string) string {
	switch b {
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

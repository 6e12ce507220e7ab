package pipeline

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"

	"github.com/trawlhq/trawl/internal/htmlscan"
)

// scanFast is scanHTML without golang.org/x/net/html's Tokenizer, which
// reads a document a byte at a time: it jumps from '<' to '<' and reads
// only the markup, following the Tokenizer's rules for what markup is (its
// tag names, attribute keys and values, duplicate attributes, self-closing
// tags, comments, raw text and RCDATA elements; version v0.62.0), so that
// it finds what scanHTML finds. FuzzScanFast checks that against scanHTML.
// ok is false for the documents it leaves to scanHTML: those with a NUL
// byte (the Tokenizer rewrites it) and those with a <script> whose text
// holds "<!--" (the Tokenizer's escaped script states).
func scanFast(d []byte, agent string) (s scan, ok bool) {
	if bytes.IndexByte(d, 0) >= 0 {
		return s, false
	}
	f := fastScanner{doc: string(d), agent: agent, anchor: -1}
	if !f.run() {
		return scan{}, false
	}
	return f.s, true
}

// fastScanner is the state of one scanFast; it mirrors scanHTML's.
type fastScanner struct {
	doc   string
	agent string
	s     scan

	svg     int // depth of <svg> elements, whose <title>s are not the page's
	inTitle bool
	title   []byte
	anchor  int // index in s.links of the <a> whose text is being read
	text    []byte
	texts   []byte
	attrs   []fastAttr
	seen    map[string]struct{} // keys of attrs, for tags with many
}

// fastAttr is one attribute: its key lower case, its value as written
// (unescaped by value), and where the value ends in the document.
type fastAttr struct {
	key, raw string
	end      int
}

func (f *fastScanner) endAnchor() {
	if f.anchor >= 0 {
		l := &f.s.links[f.anchor]
		l.textOff = len(f.texts)
		f.texts = appendLinkText(f.texts, f.text)
		l.textEnd = len(f.texts)
		f.anchor, f.text = -1, f.text[:0]
	}
}

// textToken handles a text token (raw as written). The title's text is
// what Tokenizer.Text gives: newlines normalised, entities decoded.
func (f *fastScanner) textToken(raw string) {
	if raw == "" {
		return
	}
	if f.inTitle {
		t := raw
		if strings.IndexByte(t, '\r') >= 0 {
			t = strings.ReplaceAll(t, "\r\n", "\n")
			t = strings.ReplaceAll(t, "\r", "\n")
		}
		if strings.IndexByte(t, '&') >= 0 {
			t = html.UnescapeString(t)
		}
		f.title = append(f.title, t...)
	}
	if f.anchor >= 0 && len(f.text) < 4*MaxLinkText {
		f.text = append(f.text, raw...)
	}
}

// finish is the Tokenizer's ErrorToken at the end of the document.
func (f *fastScanner) finish() {
	if f.inTitle {
		f.s.title, f.s.hasTitle = collapseSpace(f.title), true
	}
	f.endAnchor()
	f.s.setTexts(f.texts)
}

// run scans the document; false means it is left to scanHTML.
func (f *fastScanner) run() bool {
	doc := f.doc
	i, text := 0, 0
	for i < len(doc) {
		j := htmlscan.NextMarkup(doc, i)
		if j < 0 {
			break
		}
		c := doc[j+1]
		if c == '/' && j+2 >= len(doc) {
			// "</" at the end is text, a token of its own.
			f.textToken(doc[text:j])
			f.textToken(doc[j:])
			text = len(doc)
			break
		}
		f.textToken(doc[text:j])
		switch {
		case c == '!':
			i = skipMarkupDeclaration(doc, j+2)
		case c == '?':
			i = htmlscan.SkipPast(doc, j+1, '>')
		case c == '/':
			c2 := doc[j+2]
			switch {
			case c2 == '>':
				i = j + 3 // "</>" makes no token
			case htmlscan.IsLetter(c2):
				name, k := htmlscan.TagName(doc, j+2)
				end, complete := f.readAttrs(k, false)
				if !complete {
					f.finish()
					return true // a tag cut off by the end of the document is dropped
				}
				f.endTag(name)
				i = end
			default:
				i = htmlscan.SkipPast(doc, j+2, '>') // a bogus comment
			}
		default:
			name, k := htmlscan.TagName(doc, j+1)
			end, complete := f.readAttrs(k, true)
			if !complete {
				f.finish()
				return true
			}
			selfClosing := doc[end-2] == '/' && (len(f.attrs) == 0 || end-2 != f.attrs[len(f.attrs)-1].end-1)
			rawTag := rawTextTag(name)
			if !f.startTag(name, selfClosing) {
				rawTag = "" // <noscript>, <noframes>: their content is markup
			}
			i = end
			if rawTag != "" {
				var ok bool
				if i, ok = f.rawText(i, rawTag); !ok {
					return false
				}
			}
		}
		text = i
	}
	if text < len(doc) {
		f.textToken(doc[text:])
	}
	f.finish()
	return true
}

// rawText reads the text of raw text or RCDATA element tag from i, up to
// its end tag (left for the main loop), and returns where it ends.
func (f *fastScanner) rawText(i int, tag string) (int, bool) {
	doc := f.doc
	end := len(doc)
	if tag != "plaintext" {
		for k := i; ; {
			e := strings.Index(doc[k:], "</")
			if e < 0 {
				break
			}
			e += k
			n := e + 2 + len(tag)
			if n < len(doc) && equalFoldLetters(doc[e+2:n], tag) && (htmlscan.IsSpace(doc[n]) || doc[n] == '/' || doc[n] == '>') {
				end = e
				break
			}
			k = e + 2
		}
	}
	if tag == "script" && strings.Contains(doc[i:end], "<!--") {
		return 0, false // escaped script states: scanHTML's
	}
	f.textToken(doc[i:end])
	return end, true
}

// equalFoldLetters compares s with the lower case letters tag, as the
// Tokenizer does: ASCII letters in either case.
func equalFoldLetters(s, tag string) bool {
	for i := 0; i < len(tag); i++ {
		if s[i] != tag[i] && s[i] != tag[i]-('a'-'A') {
			return false
		}
	}
	return true
}

// rawTextTag returns the name of a raw text or RCDATA element ("" for
// others), as the Tokenizer recognises them.
func rawTextTag(name string) string {
	switch name {
	case "iframe", "noembed", "noframes", "noscript", "plaintext", "script", "style", "textarea", "title", "xmp":
		return name
	}
	return ""
}

// readAttrs reads the rest of a tag from i (after its name) to its '>' as
// the Tokenizer's readTag does, keeping its attributes (the first of each
// key) when keep is set, and returns the index after the '>' and whether
// the tag was complete (one cut off by the end of the document is not).
func (f *fastScanner) readAttrs(i int, keep bool) (int, bool) {
	doc := f.doc
	f.attrs = f.attrs[:0]
	clear(f.seen)
	skipSpace := func() bool { // false at the end of the document
		for i < len(doc) && htmlscan.IsSpace(doc[i]) {
			i++
		}
		return i < len(doc)
	}
	// readTagName stopped at white space (consumed), '/' or '>'.
	if i < len(doc) && htmlscan.IsSpace(doc[i]) {
		i++
	}
	if !skipSpace() {
		return len(doc), false
	}
	for {
		if i >= len(doc) {
			return len(doc), false
		}
		if doc[i] == '>' {
			return i + 1, true
		}
		// readTagAttrKey.
		ks := i
		for i < len(doc) {
			c := doc[i]
			if c == '=' && i == ks {
				i++ // a '=' before the name begins is part of it
				continue
			}
			if c == '=' || htmlscan.IsSpace(c) || c == '/' || c == '>' {
				break
			}
			i++
		}
		ke := i
		// readTagAttrVal.
		vs, ve := i, i
		eof := false
		func() {
			if !skipSpace() {
				eof = true
				return
			}
			c := doc[i]
			i++
			if c == '/' {
				return
			}
			if c != '=' {
				i--
				return
			}
			if !skipSpace() {
				eof = true
				return
			}
			q := doc[i]
			i++
			switch q {
			case '>':
				i--
			case '\'', '"':
				vs = i
				e := strings.IndexByte(doc[i:], q)
				if e < 0 {
					i, ve, eof = len(doc), len(doc), true
					return
				}
				ve, i = i+e, i+e+1
			default:
				vs = i - 1
				for i < len(doc) {
					c := doc[i]
					if htmlscan.IsSpace(c) {
						ve = i
						i++
						return
					}
					if c == '>' {
						ve = i
						return
					}
					i++
				}
				ve, eof = len(doc), true
			}
		}()
		if keep && ke > ks {
			f.keepAttr(doc[ks:ke], doc[vs:ve], ve)
		}
		if eof || !skipSpace() {
			return len(doc), false
		}
	}
}

// keepAttr keeps an attribute unless its key (lower-cased) was seen.
func (f *fastScanner) keepAttr(key, raw string, end int) {
	for i := 0; i < len(key); i++ {
		if c := key[i]; 'A' <= c && c <= 'Z' {
			key = htmlscan.LowerASCII(key)
			break
		}
	}
	// A map once a tag has many attributes: a page of one tag with a
	// million of them must not take a trillion comparisons.
	if len(f.attrs) >= 8 {
		if len(f.seen) == 0 {
			if f.seen == nil {
				f.seen = make(map[string]struct{})
			}
			for _, a := range f.attrs {
				f.seen[a.key] = struct{}{}
			}
		}
		if _, dup := f.seen[key]; dup {
			return
		}
		f.seen[key] = struct{}{}
	} else {
		for _, a := range f.attrs {
			if a.key == key {
				return
			}
		}
	}
	f.attrs = append(f.attrs, fastAttr{key: key, raw: raw, end: end})
}

// attr returns the value of attribute key as Tokenizer.TagAttr does:
// newlines normalised, character references decoded as in attributes.
func (f *fastScanner) attr(key string) ([]byte, bool) {
	for _, a := range f.attrs {
		if a.key == key {
			v := a.raw
			if strings.IndexByte(v, '\r') >= 0 { // as TagAttr does
				v = strings.ReplaceAll(v, "\r\n", "\n")
				v = strings.ReplaceAll(v, "\r", "\n")
			}
			if strings.IndexByte(v, '&') >= 0 {
				v = htmlscan.UnescapeAttr(v)
			}
			return []byte(v), true
		}
	}
	return nil, false
}

// startTag handles a start tag as scanHTML does; it reports false when the
// element's content is to be read as markup although the Tokenizer makes
// it raw text (<noscript>, <noframes>).
func (f *fastScanner) startTag(name string, selfClosing bool) bool {
	s := &f.s
	switch name {
	case "a", "area":
		if name == "a" {
			f.endAnchor()
		}
		href, found := f.attr("href")
		if !found {
			return true
		}
		rel, _ := f.attr("rel")
		// The tag as a constant: name may have been lowered into a copy.
		l := rawLink{href: string(href), nofollow: hasToken(rel, "nofollow"), tag: "a", attr: "href"}
		if len(rel) > 0 {
			l.rel = string(rel)
		}
		if name == "area" {
			alt, _ := f.attr("alt")
			l.tag = "area"
			l.textOff = len(f.texts)
			f.texts = appendLinkText(f.texts, alt)
			l.textEnd = len(f.texts)
		} else if !selfClosing {
			f.anchor = len(s.links)
		}
		s.links = append(s.links, l)
	case "frame", "iframe":
		if v, ok := f.attr("src"); ok {
			t := "frame"
			if name == "iframe" {
				t = "iframe"
			}
			s.links = append(s.links, rawLink{href: string(v), tag: t, attr: "src"})
		}
	case "base":
		if !s.hasBase {
			if v, ok := f.attr("href"); ok {
				s.base, s.hasBase = string(v), true
			}
		}
	case "link":
		if s.canonical == "" {
			href, _ := f.attr("href")
			rel, _ := f.attr("rel")
			if hasToken(rel, "canonical") && len(href) > 0 {
				s.canonical = string(href)
			}
		}
	case "meta":
		metaName, _ := f.attr("name")
		content, _ := f.attr("content")
		equiv, _ := f.attr("http-equiv")
		if bytes.EqualFold(bytes.TrimSpace(equiv), []byte("refresh")) {
			if u, ok := htmlscan.RefreshURL(string(content)); ok {
				s.links = append(s.links, rawLink{href: u, tag: "meta", attr: "content"})
			}
			return true
		}
		n := string(bytes.TrimSpace(metaName))
		if strings.EqualFold(n, "robots") || (f.agent != "" && strings.EqualFold(n, f.agent)) {
			s.robots.parseList(string(content))
		}
	case "title":
		if !selfClosing && f.svg == 0 && !s.hasTitle {
			f.inTitle = true
			f.title = f.title[:0]
		}
	case "svg":
		if !selfClosing {
			f.svg++
		}
	case "noscript", "noframes":
		return selfClosing
	}
	return true
}

// endTag handles an end tag as scanHTML does.
func (f *fastScanner) endTag(name string) {
	switch name {
	case "a":
		f.endAnchor()
	case "title":
		if f.inTitle {
			f.inTitle = false
			f.s.title, f.s.hasTitle = collapseSpace(f.title), true
		}
	case "svg":
		if f.svg > 0 {
			f.svg--
		}
	}
}

// skipMarkupDeclaration skips what follows "<!" at i (a comment, a doctype
// or a bogus comment) as the Tokenizer does and returns the index after it.
func skipMarkupDeclaration(doc string, i int) int {
	if i+2 > len(doc) {
		return len(doc) // cut off: a bogus comment to the end
	}
	if doc[i] == '-' && doc[i+1] == '-' {
		return skipComment(doc, i+2)
	}
	return htmlscan.SkipPast(doc, i, '>')
}

// skipComment skips a comment's text from i (after "<!--") to its end, as
// the Tokenizer's readComment does, and returns the index after it.
func skipComment(doc string, i int) int {
	dashes := 0
	beginning := true
	for i < len(doc) {
		c := doc[i]
		i++
		switch c {
		case '-':
			dashes++
			continue
		case '>':
			if dashes >= 2 || beginning {
				return i
			}
		case '!':
			if dashes >= 2 {
				if i >= len(doc) {
					return len(doc)
				}
				c = doc[i]
				i++
				if c == '>' {
					return i
				}
				if c == '-' {
					dashes, beginning = 1, false
					continue
				}
			}
		}
		dashes, beginning = 0, false
	}
	return len(doc)
}

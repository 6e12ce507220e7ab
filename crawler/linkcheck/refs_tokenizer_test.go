package linkcheck

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"

	"github.com/trawlhq/trawl/internal/htmlscan"
)

// This file keeps a reference implementation of scanRefs on
// golang.org/x/net/html's Tokenizer; FuzzScanRefs checks that the fast
// scanner finds the same references and anchors.

// scanRefsTokenizer tokenizes doc (UTF-8) once and collects every reference with its
// tag, attribute, text and line, the first <base href>, and the page's
// anchors (ids and a names). It builds no DOM.
func scanRefsTokenizer(doc string) scanned {
	var s scanned
	z := html.NewTokenizer(strings.NewReader(doc))
	line := 1
	inA := -1 // index in s.refs of the open <a>'s ref, -1 when none
	var text []byte
	var attrs attrList
	rawText := false // the next text token is a raw text element's content
	closeA := func() {
		if inA >= 0 {
			if s.refs[inA].text == "" {
				s.refs[inA].text = string(text)
			}
			inA = -1
		}
	}
	prevText := false // the token before this one was text
	for {
		tt := z.Next()
		raw := z.Raw()
		wasText := prevText
		prevText = tt == html.TextToken
		tagLine := line
		line += bytes.Count(raw, []byte{'\n'})
		switch tt {
		case html.ErrorToken:
			closeA()
			return s
		case html.TextToken:
			if rawText {
				rawText = false
				continue
			}
			if inA >= 0 && len(text) < 4*maxText {
				if wasText && len(text) > 0 && text[len(text)-1] == ' ' {
					// The tokenizer splits one run of text at a '<' that
					// starts no tag ("0</" at the end): no tag came between.
					text = text[:len(text)-1]
				}
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
			switch string(name) {
			case "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "plaintext":
				rawText = tt == html.StartTagToken
			}
			tag := tagName(string(name))
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
					s.refs = append(s.refs, ref{href: v, tag: tag, attr: "href", text: attrs.val("alt"),
						line: tagLine, nofollow: hasToken(attrs.val("rel"), "nofollow")})
				}
			case "iframe", "frame":
				add("src", false, "")
			case "img":
				alt := attrs.val("alt")
				add("src", true, alt)
				s.addSrcsetBytes(&attrs, tag, alt, tagLine)
				if inA >= 0 && alt != "" && len(text) < 4*maxText {
					text = append(text, alt...)
					text = append(text, ' ')
				}
			case "source":
				add("src", true, "")
				s.addSrcsetBytes(&attrs, tag, "", tagLine)
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
					if u, ok := htmlscan.RefreshURL(attrs.val("content")); ok {
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

// addSrcsetBytes is addSrcset for the reference scanner's attributes.
func (s *scanned) addSrcsetBytes(attrs *attrList, tag, text string, line int) {
	s.addSrcset(attrs.val("srcset"), tag, text, line)
}

package render

import (
	"bytes"

	"golang.org/x/net/html"
)

// LooksClientRendered reports whether a served HTML body looks like a shell
// that scripts fill in: it has no link (a or area with an href), at least
// one script, and its scripts outweigh its visible text (or the text is
// under 200 bytes). It reads the body with one pass of a tokenizer and
// never fails: a body it cannot read is judged served complete.
func LooksClientRendered(body []byte) bool {
	z := html.NewTokenizer(bytes.NewReader(body))
	var links, scripts, scriptBytes, textBytes int
	inScript, inStyle := false, false
	for {
		switch z.Next() {
		case html.ErrorToken:
			return links == 0 && scripts > 0 && (textBytes < 200 || scriptBytes > textBytes)
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch string(name) {
			case "a", "area":
				for hasAttr {
					var k []byte
					k, _, hasAttr = z.TagAttr()
					if string(k) == "href" {
						links++
						break
					}
				}
			case "script":
				scripts++
				inScript = true
				for hasAttr {
					var k []byte
					k, _, hasAttr = z.TagAttr()
					if string(k) == "src" {
						// An external script counts as much text as a
						// small page: it is what builds the page.
						scriptBytes += 1024
					}
				}
			case "style":
				inStyle = true
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script":
				inScript = false
			case "style":
				inStyle = false
			}
		case html.TextToken:
			t := bytes.TrimSpace(z.Text())
			switch {
			case inScript:
				scriptBytes += len(t)
			case !inStyle:
				textBytes += len(t)
			}
		}
	}
}

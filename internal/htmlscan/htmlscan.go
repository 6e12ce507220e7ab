// Package htmlscan holds what the fast HTML scanners of pipeline (links,
// title, robots) and crawler/linkcheck (references, anchors) share: they
// jump from '<' to '<' instead of reading text a byte at a time, and read
// markup as golang.org/x/net/html's Tokenizer does.
package htmlscan

import (
	"strings"

	"golang.org/x/net/html"
)

// IsLetter reports whether c is an ASCII letter.
func IsLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// IsSpace reports whether c is HTML white space (space, tab, newline,
// carriage return, form feed).
func IsSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// NextMarkup returns the index of the first '<' at or after i that starts
// markup as the Tokenizer reads it (followed by a letter, '!', '?' or '/'),
// or -1: any other '<' is text.
func NextMarkup(doc string, i int) int {
	for i < len(doc) {
		j := strings.IndexByte(doc[i:], '<')
		if j < 0 {
			return -1
		}
		j += i
		if j+1 >= len(doc) {
			return -1
		}
		if c := doc[j+1]; c == '!' || c == '?' || c == '/' || IsLetter(c) {
			return j
		}
		i = j + 1
	}
	return -1
}

// TagName reads a tag name from i (a letter) as the Tokenizer does, up to
// white space, '/' or '>', and returns it lower case (allocating only when
// it has upper case letters) and where it ends.
func TagName(doc string, i int) (string, int) {
	k := i
	upper := false
	for k < len(doc) {
		c := doc[k]
		if IsSpace(c) || c == '/' || c == '>' {
			break
		}
		if 'A' <= c && c <= 'Z' {
			upper = true
		}
		k++
	}
	name := doc[i:k]
	if upper {
		name = LowerASCII(name)
	}
	return name, k
}

// LowerASCII returns s with its ASCII letters in lower case, as the
// Tokenizer lowers tag names and attribute keys.
func LowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// SkipPast returns the index after the first c at or after i, or len(doc).
func SkipPast(doc string, i int, c byte) int {
	if i >= len(doc) {
		return len(doc)
	}
	k := strings.IndexByte(doc[i:], c)
	if k < 0 {
		return len(doc)
	}
	return i + k + 1
}

// UnescapeAttr decodes the character references of an attribute value as
// the Tokenizer does in attributes, where a legacy reference without its
// ';' followed by a letter, digit or '=' stays as written ("?a=1&copy=2"
// keeps its "&copy"). Values whose references cannot differ
// (PlainRefs) are decoded directly; the others by having the Tokenizer
// read them.
func UnescapeAttr(v string) string {
	if PlainRefs(v) {
		return html.UnescapeString(v)
	}
	q := `"`
	if strings.Contains(v, q) {
		q = "'"
		if strings.Contains(v, q) {
			// Both quotes: the value was written unquoted (so it has no
			// white space or '>', and starts with no quote); read it so.
			if strings.ContainsAny(v, " \t\n\r\f>") || v[0] == '"' || v[0] == '\'' {
				return html.UnescapeString(v)
			}
			q = ""
		}
	}
	z := html.NewTokenizer(strings.NewReader("<a v=" + q + v + q + ">"))
	z.Next()
	_, val, _ := z.TagAttr()
	return string(val)
}

// PlainRefs reports whether every character reference in v decodes the
// same in an attribute as in text: &amp; &lt; &gt; &quot; &apos; and
// numeric references ended by ';'.
func PlainRefs(v string) bool {
	for {
		i := strings.IndexByte(v, '&')
		if i < 0 {
			return true
		}
		v = v[i+1:]
		switch {
		case strings.HasPrefix(v, "amp;"), strings.HasPrefix(v, "lt;"), strings.HasPrefix(v, "gt;"),
			strings.HasPrefix(v, "quot;"), strings.HasPrefix(v, "apos;"):
		case strings.HasPrefix(v, "#"):
			j := 1
			if j < len(v) && (v[j] == 'x' || v[j] == 'X') {
				j++
			}
			k := j
			for k < len(v) && ('0' <= v[k] && v[k] <= '9' || 'a' <= v[k]|0x20 && v[k]|0x20 <= 'f') {
				k++
			}
			if k == j || k >= len(v) || v[k] != ';' {
				return false
			}
		default:
			return false
		}
	}
}

// RefreshURL returns the URL of a <meta http-equiv=refresh> content value
// ("5; url='/next'"); ok is false when there is none.
func RefreshURL(content string) (string, bool) {
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

package pipeline

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"
)

// Charset detection, in order (the WHATWG encoding-sniffing order that
// browsers use):
//
//  1. a byte-order mark: proof of how the bytes were written, so it wins
//     even over a header that disagrees;
//  2. the charset parameter of the Content-Type header;
//  3. for HTML, <meta charset> or <meta http-equiv=Content-Type> in the
//     first 1024 bytes (the header wins over meta);
//  4. UTF-8 if the body is valid UTF-8, else windows-1252.
//
// Unknown labels are ignored. The fast path (no BOM, utf-8 or nothing
// declared, valid UTF-8) returns the body itself without copying.

const metaPrescanLen = 1024

// decodeBody returns body as UTF-8 and the canonical name of the charset it
// was decoded from. The result aliases body when no conversion is needed.
func decodeBody(body []byte, contentType string, html bool) ([]byte, string) {
	enc, name := detectCharset(body, contentType, html)
	if enc == nil { // UTF-8
		body = bytes.TrimPrefix(body, utf8BOM)
		if !utf8.Valid(body) {
			return bytes.ToValidUTF8(body, []byte("\uFFFD")), "utf-8"
		}
		return body, "utf-8"
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		// The x/text decoders replace invalid input rather than fail; this
		// is a last resort that never loses the page.
		return bytes.ToValidUTF8(body, []byte("\uFFFD")), "utf-8"
	}
	return out, name
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// detectCharset returns the body's encoding, or nil for UTF-8, and its
// canonical name.
func detectCharset(body []byte, contentType string, html bool) (encoding.Encoding, string) {
	switch {
	case bytes.HasPrefix(body, utf8BOM):
		return nil, "utf-8"
	case bytes.HasPrefix(body, []byte{0xFE, 0xFF}):
		return unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM), "utf-16be"
	case bytes.HasPrefix(body, []byte{0xFF, 0xFE}):
		return unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM), "utf-16le"
	}
	if label := contentTypeCharset(contentType); label != "" {
		if e, name, ok := lookup(label); ok {
			return e, name
		}
	}
	if html {
		head := body
		if len(head) > metaPrescanLen {
			head = head[:metaPrescanLen]
		}
		if hasFoldASCII(head, "charset") {
			if label, ok := quickMetaCharset(head); ok {
				if e, name, ok := lookup(label); ok {
					return e, name
				}
			} else if label := prescanMeta(head); label != "" {
				if e, name, ok := lookup(label); ok {
					return e, name
				}
			}
		}
	}
	if validUTF8(body) {
		return nil, "utf-8"
	}
	e, name, _ := lookup("windows-1252")
	return e, name
}

// prescanMeta returns the charset label declared by the first <meta
// charset> or <meta http-equiv=Content-Type content="...; charset=x"> in
// head, or "".
func prescanMeta(head []byte) string {
	z := html.NewTokenizer(bytes.NewReader(head))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if string(name) != "meta" || !hasAttr {
				continue
			}
			var cs, content string
			httpEquiv := false
			for more := true; more; {
				var k, v []byte
				k, v, more = z.TagAttr()
				switch string(k) {
				case "charset":
					cs = strings.TrimSpace(string(v))
				case "content":
					content = string(v)
				case "http-equiv":
					httpEquiv = strings.EqualFold(strings.TrimSpace(string(v)), "content-type")
				}
			}
			if cs != "" {
				return cs
			}
			if httpEquiv {
				if l := contentTypeCharset(content); l != "" {
					return l
				}
			}
		}
	}
}

// validUTF8 reports whether b is valid UTF-8 but for an incomplete
// character at its very end (a body cut at the size cap).
func validUTF8(b []byte) bool {
	if utf8.Valid(b) {
		return true
	}
	for i := 1; i <= 3 && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return utf8.Valid(b[:len(b)-i])
			}
			break
		}
	}
	return false
}

// lookup maps a charset label to its encoding (nil for UTF-8). ok is false
// for unknown labels. As in browsers, a UTF-16 label found in a document
// means UTF-8 (the document could not have been read otherwise).
func lookup(label string) (e encoding.Encoding, name string, ok bool) {
	if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "utf8") {
		return nil, "utf-8", true
	}
	e, name = charset.Lookup(label)
	if e == nil {
		return nil, "", false
	}
	if name == "utf-8" || name == "utf-16be" || name == "utf-16le" {
		return nil, "utf-8", true
	}
	return e, name, true
}

// contentTypeCharset returns the charset parameter of a Content-Type value,
// unquoted, or "".
func contentTypeCharset(ct string) string {
	for {
		i := strings.IndexByte(ct, ';')
		if i < 0 {
			return ""
		}
		ct = ct[i+1:]
		param := strings.TrimLeft(ct, " \t")
		if len(param) >= 8 && strings.EqualFold(param[:8], "charset=") {
			v := param[8:]
			if strings.HasPrefix(v, `"`) {
				v = v[1:]
				if j := strings.IndexByte(v, '"'); j >= 0 {
					v = v[:j]
				}
			} else if j := strings.IndexAny(v, "; \t"); j >= 0 {
				v = v[:j]
			}
			return strings.TrimSpace(v)
		}
	}
}

// quickMetaCharset recognizes the common declaration cheaply:
// <meta charset="x"> (quoted or not, charset the first attribute) as the
// only occurrence of "charset" in head. ok is false when it is unsure; the caller then runs the full
// prescan.
func quickMetaCharset(head []byte) (string, bool) {
	i := indexFoldASCII(head, "charset")
	if i < 0 || indexFoldASCII(head[i+7:], "charset") >= 0 {
		return "", false
	}
	// Must be the attribute of a <meta ...> tag: "<meta" then only
	// attributes up to "charset".
	lt := bytes.LastIndexByte(head[:i], '<')
	if lt < 0 || bytes.IndexByte(head[lt:i], '>') >= 0 || !hasPrefixFoldASCII(head[lt+1:], "meta") {
		return "", false
	}
	// charset must be the first attribute: "<meta" and white space only.
	if len(bytes.TrimLeft(head[lt+5:i], " \t\r\n\f")) != 0 || i == lt+5 {
		return "", false
	}
	rest := bytes.TrimLeft(head[i+7:], " \t\r\n")
	if len(rest) == 0 || rest[0] != '=' {
		return "", false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 {
		return "", false
	}
	var v []byte
	if q := rest[0]; q == '"' || q == '\'' {
		j := bytes.IndexByte(rest[1:], q)
		if j < 0 {
			return "", false
		}
		v = rest[1 : 1+j]
	} else {
		j := bytes.IndexAny(rest, " \t\r\n>/")
		if j < 0 {
			return "", false
		}
		v = rest[:j]
	}
	return strings.TrimSpace(string(v)), true
}

func hasFoldASCII(b []byte, lower string) bool { return indexFoldASCII(b, lower) >= 0 }

// indexFoldASCII returns the index of the ASCII string lower (lower case)
// in b, ignoring ASCII case, or -1.
func indexFoldASCII(b []byte, lower string) int {
	if len(lower) == 0 {
		return 0
	}
	c0, c0u := lower[0], lower[0]-'a'+'A'
	for i := 0; i+len(lower) <= len(b); i++ {
		if c := b[i]; c != c0 && c != c0u {
			continue
		}
		if hasPrefixFoldASCII(b[i:], lower) {
			return i
		}
	}
	return -1
}

func hasPrefixFoldASCII(b []byte, lower string) bool {
	if len(b) < len(lower) {
		return false
	}
	for j := 0; j < len(lower); j++ {
		c := b[j]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[j] {
			return false
		}
	}
	return true
}

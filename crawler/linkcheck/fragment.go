package linkcheck

import (
	"slices"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// anchorSet is the ids and <a name>s of one page as sorted 64-bit
// fingerprints: 8 bytes an anchor, whatever their length.
type anchorSet []uint64

func newAnchorSet(names []string) anchorSet {
	if len(names) == 0 {
		return anchorSet{} // not nil: the page was scanned
	}
	s := make(anchorSet, len(names))
	for i, n := range names {
		s[i] = xxhash.Sum64String(n)
	}
	slices.Sort(s)
	return slices.Compact(s)
}

func (s anchorSet) has(name string) bool {
	_, ok := slices.BinarySearch(s, xxhash.Sum64String(name))
	return ok
}

// fragmentOK reports whether fragment (as it appears in the URL, percent-
// encoded per the URL standard) indicates a part of a document with the
// given anchors, by the HTML standard's "find a potential indicated
// element" and "indicated part" rules: the empty fragment is the top of the
// document; an element whose id (or an <a> whose name) equals the fragment;
// else equals the fragment percent-decoded as UTF-8; else "top" (ASCII case
// insensitive) is the top of the document.
func fragmentOK(fragment string, anchors anchorSet) bool {
	if fragment == "" || anchors.has(fragment) {
		return true
	}
	decoded := percentDecode(fragment)
	if decoded != fragment && anchors.has(decoded) {
		return true
	}
	return strings.EqualFold(decoded, "top")
}

// percentDecode decodes %XX escapes and then the bytes as UTF-8 (invalid
// sequences become U+FFFD, as "UTF-8 decode without BOM" does).
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	// "UTF-8 decode without BOM" keeps a leading BOM as a character.
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// encodeFragment returns the fragment of an href as the URL parser stores
// it: the fragment percent-encode set (C0 controls, space, ", <, >, `)
// and every non-ASCII code point percent-encoded as UTF-8; tabs and
// newlines removed.
func encodeFragment(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\t' || c == '\n' || c == '\r':
			continue
		case c < 0x20 || c == ' ' || c == '"' || c == '<' || c == '>' || c == '`' || c >= 0x7F:
			const hex = "0123456789ABCDEF"
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f' }

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c|0x20 && c|0x20 <= 'f':
		return c | 0x20 - 'a' + 10
	}
	return 0
}

package session

import (
	"fmt"
	"net/url"
	"strings"
)

// redirectURL resolves a Location header against the URL that answered it, after
// requoting it (see Config.NoRequoteRedirectURL).
func (s *Session) redirectURL(from *url.URL, location string) (*url.URL, error) {
	ref, err := url.Parse(requote(location, s.requote))
	if err != nil {
		return nil, fmt.Errorf("bad Location %q: %w", location, err)
	}
	next := from.ResolveReference(ref)
	next.Fragment, next.RawFragment = "", ""
	next.Scheme = strings.ToLower(next.Scheme)
	if next.Scheme != "http" && next.Scheme != "https" {
		return nil, fmt.Errorf("bad Location %q: unsupported scheme %q", location, next.Scheme)
	}
	if next.Hostname() == "" {
		return nil, fmt.Errorf("bad Location %q: no host", location)
	}
	return next, nil
}

const upperHex = "0123456789ABCDEF"

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// isURLChar reports whether c may appear unescaped in a URL (RFC 3986 unreserved,
// sub-delims and gen-delims).
func isURLChar(c byte) bool {
	return isUnreserved(c) || strings.IndexByte("!$&'()*+,;=:/?#[]@", c) >= 0
}

// requote percent-escapes every byte of s that may not appear in a URL (spaces,
// controls, non-ASCII, a '%' not starting an escape). When normalize is set it also
// decodes escapes of unreserved characters and upper-cases the hex digits of the
// others, as aiohttp's requote_redirect_url does; otherwise valid escapes are kept
// exactly as written. The result is ASCII and requote is idempotent.
func requote(s string, normalize bool) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			if normalize {
				v := unhex(s[i+1])<<4 | unhex(s[i+2])
				if isUnreserved(v) {
					b.WriteByte(v)
				} else {
					b.WriteByte('%')
					b.WriteByte(upperHex[v>>4])
					b.WriteByte(upperHex[v&15])
				}
			} else {
				b.WriteString(s[i : i+3])
			}
			i += 2
		case c != '%' && isURLChar(c):
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		}
	}
	return b.String()
}

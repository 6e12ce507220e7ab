package frontier

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Normalizer normalizes URLs so that the spellings of one resource map to
// one string, and so to one Fingerprint. The zero value applies the default
// rules; a Normalizer is safe for concurrent use as long as its fields are
// not changed.
//
// The default rules, applied to every URL: parse as browsers do (the WHATWG
// URL standard, for the http and https schemes); trim surrounding whitespace
// and remove tabs and newlines; lowercase the scheme and host; convert
// internationalized hosts to punycode (IDNA UTS #46, non-transitional);
// canonicalize IPv4 hosts (0x7f.1 is 127.0.0.1) and IPv6 hosts (compressed,
// lowercase); drop the default port; remove dot segments ("/a/./b/../c" is
// "/a/c"); decode percent-encoded unreserved characters (A-Z a-z 0-9 - . _
// ~), uppercase the remaining escapes and encode a "%" that starts no escape
// as "%25"; percent-encode what browsers encode (spaces, controls, non-ASCII
// bytes...); drop the fragment and an empty query ("?"); make an empty path
// "/".
//
// Beyond the standard, hosts must consist of letters, digits, "-", "." and
// "_" after IDNA mapping (what DNS can resolve and net/url accepts), so the
// result always parses with net/url.
type Normalizer struct {
	// SortQuery sorts query parameters by key. The sort is stable:
	// parameters with equal keys keep their order. False leaves the order
	// alone.
	SortQuery bool
	// StripParams lists query parameter names to remove. A trailing "*" is
	// a prefix match: "utm_*" removes utm_source and utm_medium. Nil
	// removes none.
	StripParams []string
}

// Normalize normalizes raw with the zero Normalizer.
func Normalize(raw string) (string, error) {
	var n Normalizer
	return n.Normalize(raw)
}

// Normalize returns the normalized form of the absolute http or https URL
// raw, or an error naming raw.
func (n *Normalizer) Normalize(raw string) (string, error) {
	return n.Resolve(nil, raw)
}

// Resolve resolves href against base the way browsers resolve a link's
// href against the page's URL (the WHATWG URL parser), then normalizes the
// result. base must be an absolute http or https URL; nil means href must be
// absolute. The result must be an http or https URL: a "mailto:" or
// "javascript:" href is an error, which names href.
func (n *Normalizer) Resolve(base *url.URL, href string) (string, error) {
	out, err := n.resolve(base, href)
	if err != nil {
		return "", &urlError{href: href, err: err}
	}
	return out, nil
}

// urlError is the error of Normalize and Resolve: one line naming the URL.
type urlError struct {
	href string
	err  error
}

func (e *urlError) Error() string { return fmt.Sprintf("frontier: URL %q: %v", e.href, e.err) }
func (e *urlError) Unwrap() error { return e.err }

var (
	errNotHTTP  = errors.New("not an http or https URL")
	errNoBase   = errors.New("relative URL without a base")
	errBadBase  = errors.New("base is not an absolute http or https URL")
	errNoHost   = errors.New("missing host")
	errBadHost  = errors.New("invalid host")
	errBadPort  = errors.New("invalid port")
	errBadIPv4  = errors.New("invalid IPv4 address")
	errBadIPv6  = errors.New("invalid IPv6 address")
	errUserinfo = errors.New("credentials without a host")
)

// idnaProfile is UTS #46 as the WHATWG URL standard calls it: no STD3 rules,
// no hyphen checks, no DNS length checks, non-transitional.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.StrictDomainName(false),
	idna.CheckHyphens(false),
	idna.VerifyDNSLength(false),
)

func (n *Normalizer) resolve(base *url.URL, href string) (string, error) {
	s := cleanInput(href)
	scheme, rest, hasScheme := splitScheme(s)
	b := builderPool.Get().(*builder)
	defer b.release()
	b.buf = b.buf[:0]
	if hasScheme {
		switch {
		case strings.EqualFold(scheme, "http"):
			scheme = "http"
		case strings.EqualFold(scheme, "https"):
			scheme = "https"
		default:
			return "", errNotHTTP
		}
		if base == nil || !strings.EqualFold(base.Scheme, scheme) {
			return n.absolute(b, scheme, trimSlashes(rest))
		}
		// With the page's own scheme, "http:foo" and "http:/foo" are
		// relative to the page; "http://host" is not.
		s = rest
	} else if base == nil {
		return "", errNoBase
	}
	if len(s) >= 2 && isSlash(s[0]) && isSlash(s[1]) {
		bs := strings.ToLower(base.Scheme)
		if bs != "http" && bs != "https" {
			return "", errBadBase
		}
		return n.absolute(b, bs, trimSlashes(s))
	}
	return n.relative(b, base, s)
}

// absolute parses an authority-first remainder: "host:port/path?query".
func (n *Normalizer) absolute(b *builder, scheme, s string) (string, error) {
	end := len(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '/' || c == '\\' || c == '?' || c == '#' {
			end = i
			break
		}
	}
	b.str(scheme)
	b.str("://")
	if err := b.authority(scheme, s[:end]); err != nil {
		return "", err
	}
	n.pathQuery(b, s[end:])
	return b.String(), nil
}

// pathQuery appends the path, query (and drops the fragment) of s, which
// starts with a slash, "?", "#" or nothing.
func (n *Normalizer) pathQuery(b *builder, s string) {
	path, query, hasQuery := splitPathQuery(s)
	mark := len(b.buf)
	if path != "" {
		path = path[1:] // the leading slash
	}
	b.segments(mark, path)
	if hasQuery {
		n.query(b, query)
	}
}

// relative resolves the scheme-less reference s against base.
func (n *Normalizer) relative(b *builder, base *url.URL, s string) (string, error) {
	scheme := strings.ToLower(base.Scheme)
	if scheme != "http" && scheme != "https" || base.Host == "" {
		return "", errBadBase
	}
	b.str(scheme)
	b.str("://")
	if err := b.baseAuthority(scheme, base); err != nil {
		return "", err
	}
	mark := len(b.buf)
	switch {
	case s == "" || s[0] == '#':
		b.segments(mark, strings.TrimPrefix(base.EscapedPath(), "/"))
		if base.RawQuery != "" || base.ForceQuery {
			n.query(b, base.RawQuery)
		}
	case s[0] == '?':
		b.segments(mark, strings.TrimPrefix(base.EscapedPath(), "/"))
		_, query, _ := splitPathQuery(s)
		n.query(b, query)
	case isSlash(s[0]):
		n.pathQuery(b, s)
	default:
		// The base path without its last segment, then s's path.
		bp := strings.TrimPrefix(base.EscapedPath(), "/")
		if i := strings.LastIndexByte(bp, '/'); i >= 0 {
			b.segments(mark, bp[:i])
		}
		path, query, hasQuery := splitPathQuery(s)
		b.segments(mark, path)
		if hasQuery {
			n.query(b, query)
		}
	}
	return b.String(), nil
}

// cleanInput trims leading and trailing C0 controls and spaces and removes
// tabs and newlines, as the WHATWG parser does.
func cleanInput(s string) string {
	i, j := 0, len(s)
	for i < j && s[i] <= ' ' {
		i++
	}
	for j > i && s[j-1] <= ' ' {
		j--
	}
	s = s[i:j]
	if strings.ContainsAny(s, "\t\n\r") {
		b := make([]byte, 0, len(s))
		for i := 0; i < len(s); i++ {
			if c := s[i]; c != '\t' && c != '\n' && c != '\r' {
				b = append(b, c)
			}
		}
		s = string(b)
	}
	return s
}

// splitScheme splits "scheme:rest".
func splitScheme(s string) (scheme, rest string, ok bool) {
	if s == "" || !isAlpha(s[0]) {
		return "", s, false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlpha(c) || isDigit(c) || c == '+' || c == '-' || c == '.':
		case c == ':':
			return s[:i], s[i+1:], true
		default:
			return "", s, false
		}
	}
	return "", s, false
}

func splitPathQuery(s string) (path, query string, hasQuery bool) {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

func isSlash(c byte) bool { return c == '/' || c == '\\' }
func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }

func trimSlashes(s string) string {
	for s != "" && isSlash(s[0]) {
		s = s[1:]
	}
	return s
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

const upperHex = "0123456789ABCDEF"

// Percent-encode sets: which bytes a component encodes (besides bytes
// >= 0x7F and controls, which all sets encode).
type encodeSet [4]uint64 // bitmap over bytes 0-255

func (s *encodeSet) has(c byte) bool { return s[c>>6]&(1<<(c&63)) != 0 }

func newEncodeSet(extra string) *encodeSet {
	var s encodeSet
	for c := 0; c < 256; c++ {
		if c <= ' ' || c >= 0x7F || strings.IndexByte(extra, byte(c)) >= 0 {
			s[c>>6] |= 1 << (c & 63)
		}
	}
	return &s
}

var (
	pathSet     = newEncodeSet("\"#<>?`{}")
	querySet    = newEncodeSet("\"#<>'")
	userinfoSet = newEncodeSet("\"#<>?`{}/:;=@[\\]^|")
)

// isUnreserved reports RFC 3986 unreserved characters, whose escapes are
// decoded.
func isUnreserved(c byte) bool {
	return isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~'
}

// builder accumulates the normalized URL.
type builder struct {
	buf []byte
}

// builderPool recycles builders, so that Resolve allocates only its result.
var builderPool = sync.Pool{New: func() any { return &builder{buf: make([]byte, 0, 256)} }}

// release returns b to the pool, unless an outsized URL grew it.
func (b *builder) release() {
	if cap(b.buf) <= 64<<10 {
		builderPool.Put(b)
	}
}

func (b *builder) byte(c byte)    { b.buf = append(b.buf, c) }
func (b *builder) str(s string)   { b.buf = append(b.buf, s...) }
func (b *builder) String() string { return string(b.buf) }

// escaped appends s percent-encoded with set, decoding escapes of
// unreserved characters, uppercasing the others and encoding a "%" that
// starts no escape.
func (b *builder) escaped(s string, set *encodeSet) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
				d := unhex(s[i+1])<<4 | unhex(s[i+2])
				if isUnreserved(d) {
					b.byte(d)
				} else {
					b.buf = append(b.buf, '%', upperHex[d>>4], upperHex[d&15])
				}
				i += 2
			} else {
				b.str("%25")
			}
		case c >= utf8.RuneSelf:
			// Browsers see invalid UTF-8 as U+FFFD and encode that.
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.str("%EF%BF%BD")
				continue
			}
			for _, c := range []byte(s[i : i+size]) {
				b.buf = append(b.buf, '%', upperHex[c>>4], upperHex[c&15])
			}
			i += size - 1
		case set.has(c):
			b.buf = append(b.buf, '%', upperHex[c>>4], upperHex[c&15])
		default:
			b.byte(c)
		}
	}
}

// segments appends the path segments of p (separated by "/" or "\"),
// resolving "." and ".." against what is already in b.buf[mark:].
func (b *builder) segments(mark int, p string) {
	for {
		end := len(p)
		last := true
		for i := 0; i < len(p); i++ {
			if isSlash(p[i]) {
				end, last = i, false
				break
			}
		}
		seg := p[:end]
		switch {
		case isDoubleDot(seg):
			if i := lastSlash(b.buf, mark); i >= 0 {
				b.buf = b.buf[:i]
			}
			if last {
				b.byte('/')
			}
		case isSingleDot(seg):
			if last {
				b.byte('/')
			}
		default:
			b.byte('/')
			b.escaped(seg, pathSet)
		}
		if last {
			return
		}
		p = p[end+1:]
	}
}

func lastSlash(buf []byte, mark int) int {
	for i := len(buf) - 1; i >= mark; i-- {
		if buf[i] == '/' {
			return i
		}
	}
	return -1
}

func isSingleDot(s string) bool { return s == "." || strings.EqualFold(s, "%2e") }

func isDoubleDot(s string) bool {
	switch len(s) {
	case 2:
		return s == ".."
	case 4:
		return strings.EqualFold(s, ".%2e") || strings.EqualFold(s, "%2e.")
	case 6:
		return strings.EqualFold(s, "%2e%2e")
	}
	return false
}

// query appends "?" and the normalized query q, unless it ends up empty.
func (n *Normalizer) query(b *builder, q string) {
	if !n.SortQuery && len(n.StripParams) == 0 {
		if q != "" {
			b.byte('?')
			b.escaped(q, querySet)
		}
		return
	}
	var params []string
	for q != "" {
		var p string
		p, q, _ = strings.Cut(q, "&")
		if p == "" {
			continue
		}
		pb := builder{buf: make([]byte, 0, len(p)+8)}
		pb.escaped(p, querySet)
		p = pb.String()
		key, _, _ := strings.Cut(p, "=")
		if n.strip(key) {
			continue
		}
		params = append(params, p)
	}
	if n.SortQuery {
		slices.SortStableFunc(params, func(a, b string) int {
			ka, _, _ := strings.Cut(a, "=")
			kb, _, _ := strings.Cut(b, "=")
			return strings.Compare(ka, kb)
		})
	}
	for i, p := range params {
		if i == 0 {
			b.byte('?')
		} else {
			b.byte('&')
		}
		b.str(p)
	}
}

// strip reports whether the query parameter key is to be removed.
func (n *Normalizer) strip(key string) bool {
	for _, p := range n.StripParams {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(key, prefix) {
				return true
			}
		} else if key == p {
			return true
		}
	}
	return false
}

// authority appends the normalized "userinfo@host:port" of a.
func (b *builder) authority(scheme, a string) error {
	hostport := a
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		hostport = a[i+1:]
		user, pass, hasPass := strings.Cut(a[:i], ":")
		if hostport == "" {
			return errUserinfo
		}
		if user != "" || pass != "" {
			b.escaped(user, userinfoSet)
			if hasPass && pass != "" {
				b.byte(':')
				b.escaped(pass, userinfoSet)
			}
			b.byte('@')
		}
	}
	host, port := hostport, ""
	if strings.HasPrefix(hostport, "[") {
		i := strings.IndexByte(hostport, ']')
		if i < 0 {
			return errBadIPv6
		}
		host, port = hostport[:i+1], hostport[i+1:]
		if port != "" && port[0] != ':' {
			return errBadHost
		}
	} else if i := strings.IndexByte(hostport, ':'); i >= 0 {
		host, port = hostport[:i], hostport[i:]
	}
	if host == "" {
		return errNoHost
	}
	if err := b.host(host); err != nil {
		return err
	}
	if port != "" {
		return b.port(scheme, port[1:])
	}
	return nil
}

// baseAuthority appends the normalized authority of base.
func (b *builder) baseAuthority(scheme string, base *url.URL) error {
	if base.User == nil && isPlainHost(base.Host) {
		host, port, _ := strings.Cut(base.Host, ":")
		b.str(host)
		if port != "" {
			return b.port(scheme, port)
		}
		return nil
	}
	a := base.Host
	if base.User != nil {
		a = base.User.String() + "@" + a
	}
	return b.authority(scheme, a)
}

// isPlainHost reports whether h is an already-normal "host" or
// "host:port": lowercase letters, digits, "-", "." and "_", no punycode.
func isPlainHost(h string) bool {
	if h == "" || strings.Contains(h, "xn--") {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || isDigit(c) || c == '-' || c == '.' || c == '_') {
			if c == ':' {
				return isDigits(h[i+1:]) && !endsInNumber(h[:i])
			}
			return false
		}
	}
	return !endsInNumber(h)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// port appends ":port" unless p is empty or the scheme's default.
func (b *builder) port(scheme, p string) error {
	if p == "" {
		return nil
	}
	v := 0
	for i := 0; i < len(p); i++ {
		if !isDigit(p[i]) {
			return errBadPort
		}
		v = v*10 + int(p[i]-'0')
		if v > 65535 {
			return errBadPort
		}
	}
	if scheme == "http" && v == 80 || scheme == "https" && v == 443 {
		return nil
	}
	b.byte(':')
	b.buf = strconv.AppendInt(b.buf, int64(v), 10)
	return nil
}

// host appends the normalized host h: an IPv6 literal, an IPv4 address or
// a domain in punycode.
func (b *builder) host(h string) error {
	if h[0] == '[' {
		if h[len(h)-1] != ']' {
			return errBadIPv6
		}
		return b.ipv6(h[1 : len(h)-1])
	}
	if !asciiDomain(h) {
		d, err := domainToASCII(h)
		if err != nil {
			return err
		}
		h = d
	}
	if endsInNumber(h) {
		return b.ipv4(h)
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.byte(c)
	}
	return nil
}

// asciiDomain reports whether IDNA would only lowercase h: it has only
// letters, digits, "-", "." and "_", and no punycode ("xn--") label.
func asciiDomain(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_') {
			return false
		}
		if (i == 0 || h[i-1] == '.') && len(h)-i >= 4 && strings.EqualFold(h[i:i+4], "xn--") {
			return false
		}
	}
	return true
}

// domainToASCII percent-decodes h and maps it through IDNA. A host with
// invalid UTF-8, raw or percent-encoded, is rejected, as the WHATWG URL
// parser rejects it: it reads invalid bytes as U+FFFD, which no domain may
// hold (raw "\xdb%97" must not pass as the valid "\xdb\x97" once decoded).
func domainToASCII(h string) (string, error) {
	if !utf8.ValidString(h) {
		return "", errBadHost
	}
	if strings.IndexByte(h, '%') >= 0 {
		d, err := url.PathUnescape(h)
		if err != nil {
			return "", errBadHost
		}
		h = d
	}
	if !utf8.ValidString(h) {
		return "", errBadHost
	}
	a, err := idnaProfile.ToASCII(h)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errBadHost, err)
	}
	a = lowerASCII(a)
	if a == "" {
		return "", errBadHost
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if !('a' <= c && c <= 'z' || isDigit(c) || c == '-' || c == '.' || c == '_') {
			return "", fmt.Errorf("%w: character %q", errBadHost, c)
		}
	}
	return a, nil
}

// endsInNumber reports whether the last label of h is a number, which
// makes h an IPv4 address (or an invalid host).
func endsInNumber(h string) bool {
	h = strings.TrimSuffix(h, ".")
	last := h[strings.LastIndexByte(h, '.')+1:]
	if last == "" {
		return false
	}
	if isDigits(last) {
		return true
	}
	_, ok := ipv4Number(last)
	return ok
}

// ipv4Number parses one part of an IPv4 address: decimal, octal with a
// leading 0 or hexadecimal with 0x. Values beyond 2^32 fail.
func ipv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := uint64(10)
	if len(s) >= 2 && s[0] == '0' && s[1]|0x20 == 'x' {
		base, s = 16, s[2:]
	} else if len(s) >= 2 && s[0] == '0' {
		base, s = 8, s[1:]
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d uint64
		switch {
		case isDigit(c):
			d = uint64(c - '0')
		case base == 16 && isHex(c):
			d = uint64(unhex(c))
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		v = v*base + d
		if v > 1<<32 {
			v = 1<<32 + 1 // keep it out of range without overflowing
		}
	}
	return v, true
}

// ipv4 appends the dotted-decimal form of the WHATWG IPv4 host h.
func (b *builder) ipv4(h string) error {
	h = strings.TrimSuffix(h, ".")
	parts := strings.Split(h, ".")
	if len(parts) > 4 {
		return errBadIPv4
	}
	var nums [4]uint64
	for i, p := range parts {
		v, ok := ipv4Number(p)
		if !ok {
			return errBadIPv4
		}
		nums[i] = v
	}
	n := len(parts)
	for i := 0; i < n-1; i++ {
		if nums[i] > 255 {
			return errBadIPv4
		}
	}
	if nums[n-1] >= 1<<(8*(5-n)) {
		return errBadIPv4
	}
	v := nums[n-1]
	for i := 0; i < n-1; i++ {
		v += nums[i] << (8 * (3 - i))
	}
	for i := 3; i >= 0; i-- {
		b.buf = strconv.AppendUint(b.buf, (v>>(8*i))&255, 10)
		if i > 0 {
			b.byte('.')
		}
	}
	return nil
}

// ipv6 appends "[addr]" in the WHATWG serialization: lowercase hex, the
// first longest run of two or more zero pieces compressed.
func (b *builder) ipv6(s string) error {
	if strings.IndexByte(s, '%') >= 0 || s == "" {
		return errBadIPv6
	}
	addr, err := netip.ParseAddr(s)
	if err != nil || !addr.Is6() {
		return errBadIPv6
	}
	a := addr.As16()
	var pieces [8]uint16
	for i := range pieces {
		pieces[i] = uint16(a[2*i])<<8 | uint16(a[2*i+1])
	}
	start, length := -1, 1
	for i := 0; i < 8; {
		if pieces[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && pieces[j] == 0 {
			j++
		}
		if j-i > length {
			start, length = i, j-i
		}
		i = j
	}
	b.byte('[')
	for i := 0; i < 8; i++ {
		if i == start {
			if i == 0 {
				b.byte(':')
			}
			b.byte(':')
			i += length - 1
			continue
		}
		b.buf = strconv.AppendUint(b.buf, uint64(pieces[i]), 16)
		if i < 7 {
			b.byte(':')
		}
	}
	b.byte(']')
	return nil
}

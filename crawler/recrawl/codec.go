package recrawl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// codecVersion is the first byte of every encoded Page. Version 1 coded
// times as Unix nanoseconds, which confused the epoch with the zero time
// and wrapped times after 2262 (an Expires of 9999) or before 1678.
// Version 2 kept of each link its URL and nofollow alone; version 3 adds
// where the link was found (tag, attribute, rel, anchor text), which
// Config.Follow rules read. Version 2 records are still read (their
// links without those fields).
const (
	codecVersion = 3
	codecV2      = 2
)

// Limits of what is encoded: a Page beyond them is refused by AppendBinary
// (the crawler cuts titles and link lists before it saves).
const (
	// MaxLinks is the most links a stored Page holds.
	MaxLinks = 1 << 16
	// maxString bounds every string of the encoding.
	maxString = 1 << 20
	// maxLinkBytes bounds the decoded size of a page's links: front-coding
	// lets a small damaged record claim gigabytes of long shared prefixes.
	maxLinkBytes = 1 << 26
)

var errCorrupt = errors.New("recrawl: corrupt page record")

// Flags of the encoding.
const (
	flagNoCache = 1 << iota
	flagNoIndex
	flagNoFollow
	flagData    // version 3: DataVersion and Data follow the links
	flagChanged // Page.Changed (readers before it ignore the bit)
)

// Flags of a link (version 3): the low bits say what follows the URL, the
// high four bits are the link's kind, an index into linkKinds, or
// kindCustom when the tag and attribute follow as strings.
const (
	linkNoFollow = 1 << iota
	linkRel
	linkText
	linkKindShift = 4
	kindCustom    = 15
)

// linkKinds are the (tag, attribute) pairs links come from (see
// pipeline.Link), coded in a link's flags; the first is a link without
// them.
var linkKinds = [...][2]string{{"", ""}, {"a", "href"}, {"area", "href"}, {"frame", "src"}, {"iframe", "src"}, {"meta", "content"}}

func linkKind(tag, attr string) int {
	for i, k := range linkKinds {
		if k[0] == tag && k[1] == attr {
			return i
		}
	}
	return kindCustom
}

// AppendBinary appends p's encoding, without its URL (the key), to b.
// Links are front-coded: each stores only what differs from the one before
// it (the first from the page's URL), so a page's same-site links cost
// little more than their paths.
//
// Layout: version byte, uvarint depth, varint Fetched (Unix ns), uvarint
// status, string ETag, string LastModified, varint FreshUntil, flags byte,
// 8-byte digest, string content type, string title, varint Lastmod, varint
// LastmodSeen, uvarint link count, then per link: a flags byte (nofollow,
// rel and text present, and the kind: tag and attribute), the tag and
// attribute strings when the kind is not a common one, uvarint bytes
// shared with the previous URL, string of the rest, then the rel and the
// text strings when present; then, when the flags say so, string
// DataVersion, uvarint field count and per field (in name order) string
// name, uvarint value count and the value strings. A time
// is a varint of its seconds since January 1, year 1 UTC (0 for the zero
// time) and a uvarint of its nanoseconds: every time.Time round-trips
// (as the same instant). Strings are a uvarint length and the bytes.
func (p *Page) AppendBinary(b []byte) ([]byte, error) {
	if len(p.Links) > MaxLinks {
		return b, fmt.Errorf("recrawl: %s: %d links, more than %d", p.URL, len(p.Links), MaxLinks)
	}
	if p.Depth < 0 || p.Status < 0 || p.Depth > math.MaxInt32 || p.Status > math.MaxInt32 {
		return b, fmt.Errorf("recrawl: %s: depth or status out of range", p.URL)
	}
	for _, s := range [...]string{p.ETag, p.LastModified, p.ContentType, p.Title} {
		if len(s) > maxString {
			return b, fmt.Errorf("recrawl: %s: field longer than %d bytes", p.URL, maxString)
		}
	}
	b = append(b, codecVersion)
	b = binary.AppendUvarint(b, uint64(p.Depth))
	b = appendTime(b, p.Fetched)
	b = binary.AppendUvarint(b, uint64(p.Status))
	b = appendString(b, p.ETag)
	b = appendString(b, p.LastModified)
	b = appendTime(b, p.FreshUntil)
	var flags byte
	if p.NoCache {
		flags |= flagNoCache
	}
	if p.NoIndex {
		flags |= flagNoIndex
	}
	if p.NoFollow {
		flags |= flagNoFollow
	}
	if len(p.Data) > 0 || p.DataVersion != "" {
		flags |= flagData
	}
	if p.Changed {
		flags |= flagChanged
	}
	b = append(b, flags)
	b = binary.BigEndian.AppendUint64(b, p.Digest)
	b = appendString(b, p.ContentType)
	b = appendString(b, p.Title)
	b = appendTime(b, p.Lastmod)
	b = appendTime(b, p.LastmodSeen)
	b = binary.AppendUvarint(b, uint64(len(p.Links)))
	prev := p.URL
	for _, l := range p.Links {
		if max(len(l.URL), len(l.Tag), len(l.Attr), len(l.Rel), len(l.Text)) > maxString {
			return b, fmt.Errorf("recrawl: %s: link field longer than %d bytes", p.URL, maxString)
		}
		kind := linkKind(l.Tag, l.Attr)
		flags := byte(kind) << linkKindShift
		if l.NoFollow {
			flags |= linkNoFollow
		}
		if l.Rel != "" {
			flags |= linkRel
		}
		if l.Text != "" {
			flags |= linkText
		}
		b = append(b, flags)
		if kind == kindCustom {
			b = appendString(b, l.Tag)
			b = appendString(b, l.Attr)
		}
		n := sharedPrefix(prev, l.URL)
		b = binary.AppendUvarint(b, uint64(n))
		b = appendString(b, l.URL[n:])
		if l.Rel != "" {
			b = appendString(b, l.Rel)
		}
		if l.Text != "" {
			b = appendString(b, l.Text)
		}
		prev = l.URL
	}
	if flags&flagData != 0 {
		if len(p.DataVersion) > maxString {
			return b, fmt.Errorf("recrawl: %s: data version longer than %d bytes", p.URL, maxString)
		}
		b = appendString(b, p.DataVersion)
		names := make([]string, 0, len(p.Data))
		for k := range p.Data {
			names = append(names, k)
		}
		slices.Sort(names)
		b = binary.AppendUvarint(b, uint64(len(names)))
		for _, k := range names {
			vals := p.Data[k]
			if len(k) > maxString || slices.ContainsFunc(vals, func(v string) bool { return len(v) > maxString }) {
				return b, fmt.Errorf("recrawl: %s: data field longer than %d bytes", p.URL, maxString)
			}
			b = appendString(b, k)
			b = binary.AppendUvarint(b, uint64(len(vals)))
			for _, v := range vals {
				b = appendString(b, v)
			}
		}
	}
	return b, nil
}

// UnmarshalBinary decodes what AppendBinary wrote into p, whose URL must
// already be set (the first link is coded against it). It never panics on
// damaged input: it returns an error.
func (p *Page) UnmarshalBinary(data []byte) error {
	d := decoder{b: data}
	version := d.byte()
	if version != codecVersion && version != codecV2 {
		return errCorrupt
	}
	depth := d.uvarint()
	p.Depth = int(min(depth, math.MaxInt32))
	p.Fetched = d.time()
	p.Status = int(min(d.uvarint(), math.MaxInt32))
	p.ETag = d.string()
	p.LastModified = d.string()
	p.FreshUntil = d.time()
	flags := d.byte()
	p.NoCache = flags&flagNoCache != 0
	p.NoIndex = flags&flagNoIndex != 0
	p.NoFollow = flags&flagNoFollow != 0
	p.Changed = flags&flagChanged != 0
	p.Digest = d.uint64()
	p.ContentType = d.string()
	p.Title = d.string()
	p.Lastmod = d.time()
	p.LastmodSeen = d.time()
	n := d.uvarint()
	if d.err != nil || n > MaxLinks || n > uint64(len(d.b)) {
		return errCorrupt
	}
	p.Links = nil
	if n > 0 {
		if err := p.decodeLinks(&d, int(n), version); err != nil {
			return err
		}
	}
	p.Data, p.DataVersion = nil, ""
	if flags&flagData != 0 {
		if version == codecV2 {
			return errCorrupt
		}
		if err := p.decodeData(&d); err != nil {
			return err
		}
	}
	if d.err != nil || len(d.b) != 0 {
		return errCorrupt
	}
	return nil
}

// decodeData decodes DataVersion and Data.
func (p *Page) decodeData(d *decoder) error {
	p.DataVersion = d.string()
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		return errCorrupt
	}
	if n == 0 {
		return nil
	}
	p.Data = make(map[string][]string, n)
	last := ""
	for i := range n {
		k := d.string()
		m := d.uvarint()
		if d.err != nil || m > uint64(len(d.b)) || (i > 0 && k <= last) {
			return errCorrupt // names are distinct, in order
		}
		last = k
		vals := make([]string, m)
		for j := range vals {
			vals[j] = d.string()
		}
		if d.err != nil {
			return errCorrupt
		}
		p.Data[k] = vals
	}
	return nil
}

// decodeLinks decodes n links. Their strings share one allocation: a
// page's links are read on every 304 of a recrawl, and a string apiece
// was most of the decoding's cost.
func (p *Page) decodeLinks(d *decoder, n int, version byte) error {
	links := make([]Link, n)
	// Each string is cut from the builder's contents as soon as it is
	// written: Builder only appends, so a string taken stays valid even
	// when a later write outgrows the buffer (it then keeps the old one).
	var arena strings.Builder
	arena.Grow(len(d.b) + n*len(p.URL))
	take := func(b []byte) string {
		if len(b) == 0 {
			return ""
		}
		off := arena.Len()
		arena.Write(b)
		return arena.String()[off:]
	}
	prev := p.URL
	for i := range links {
		l := &links[i]
		flags := d.byte()
		if version == codecV2 && flags > 1 {
			return errCorrupt
		}
		if flags&^(linkNoFollow|linkRel|linkText|0xf<<linkKindShift) != 0 {
			return errCorrupt
		}
		l.NoFollow = flags&linkNoFollow != 0
		switch kind := int(flags >> linkKindShift); {
		case kind == kindCustom:
			l.Tag, l.Attr = take(d.bytes()), take(d.bytes())
		case kind < len(linkKinds):
			l.Tag, l.Attr = linkKinds[kind][0], linkKinds[kind][1]
		default:
			return errCorrupt
		}
		shared := d.uvarint()
		rest := d.bytes()
		if d.err != nil || shared > uint64(len(prev)) {
			return errCorrupt
		}
		if arena.Len()+int(shared)+len(rest) > maxLinkBytes {
			return errCorrupt
		}
		off := arena.Len()
		arena.WriteString(prev[:shared])
		arena.Write(rest)
		l.URL = arena.String()[off:]
		prev = l.URL
		if flags&linkRel != 0 {
			l.Rel = take(d.bytes())
		}
		if flags&linkText != 0 {
			l.Text = take(d.bytes())
		}
		if d.err != nil {
			return errCorrupt
		}
	}
	p.Links = links
	return nil
}

// DecodeDepth returns the depth of an encoded Page without decoding the
// rest (for Range).
func DecodeDepth(data []byte) (int, error) {
	d := decoder{b: data}
	if v := d.byte(); v != codecVersion && v != codecV2 {
		return 0, errCorrupt
	}
	depth := d.uvarint()
	if d.err != nil {
		return 0, errCorrupt
	}
	return int(min(depth, math.MaxInt32)), nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func sharedPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// zeroUnix is the Unix time of the zero time.Time (January 1, year 1 UTC).
var zeroUnix = time.Time{}.Unix()

// appendTime appends t's seconds since the zero time and its nanoseconds.
// (The subtraction may wrap for times hundreds of billions of years away;
// time.Unix in decoding wraps back the same way.)
func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix()-zeroUnix)
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// decoder reads the encoding; the first error sticks and later reads
// return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) < 1 {
		d.err = errCorrupt
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) time() time.Time {
	sec := d.varint()
	nsec := d.uvarint()
	if d.err != nil {
		return time.Time{}
	}
	if nsec >= 1e9 {
		d.err = errCorrupt
		return time.Time{}
	}
	if sec == 0 && nsec == 0 {
		return time.Time{}
	}
	return time.Unix(sec+zeroUnix, int64(nsec))
}

func (d *decoder) uint64() uint64 {
	if d.err != nil || len(d.b) < 8 {
		d.err = errCorrupt
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

// bytes returns a string of the encoding without copying it.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > maxString || n > uint64(len(d.b)) {
		d.err = errCorrupt
		return nil
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > maxString || n > uint64(len(d.b)) {
		d.err = errCorrupt
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

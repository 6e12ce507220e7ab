package recrawl_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/trawlhq/trawl/crawler/recrawl"
	"github.com/trawlhq/trawl/crawler/recrawl/recrawltest"
)

// FuzzUnmarshalPage checks the encoding of a Page both ways:
//
//   - decoding arbitrary bytes (a damaged store) never panics, DecodeDepth
//     agrees with UnmarshalBinary, and a page decoded without error encodes
//     again to bytes that decode to the same page;
//   - a page built from the fuzzer's values (any strings, any time a
//     server's date header or a sitemap can give, from year 1 to 9999)
//     encodes without error when within the limits, and decodes to itself.
func FuzzUnmarshalPage(f *testing.F) {
	seed := func(p *recrawl.Page) []byte {
		b, err := p.AppendBinary(nil)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	s1 := recrawltest.Sample("http://a.example/p/1", 1)
	f.Add(s1.URL, seed(s1), `W/"x"`, "a\nb/c\n\nhttp://other/", 3, int64(1_800_000_000), int64(5))
	bare := &recrawl.Page{URL: "http://a.example/"}
	f.Add(bare.URL, seed(bare), "", "", 0, int64(0), int64(0))
	f.Add("", []byte{1}, "\xff", "/", 1<<40, int64(-62135596800), int64(999_999_999))
	f.Add("http://x/", []byte{}, "t", "x", -1, int64(253402300799), int64(0))
	// A version 2 record (links without tag, attribute, rel or text).
	f.Add("http://x/", []byte{2, 1, 0, 0, 200, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 8, 1, 'a', 0, 9, 1, 'b'}, "", "", 0, int64(0), int64(0))
	f.Add("http://x/", []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 5, 'a'}, "", "", 0, int64(-1), int64(0))

	// The range of times from year 1 to year 9999, in Unix seconds.
	const minSec, maxSec = -62135596800, 253402300799
	f.Fuzz(func(t *testing.T, url string, data []byte, s, links string, depth int, sec, nsec int64) {
		// Decoding arbitrary bytes.
		p := &recrawl.Page{URL: url}
		err := p.UnmarshalBinary(data)
		d, derr := recrawl.DecodeDepth(data)
		if err == nil {
			if derr != nil || d != p.Depth {
				t.Fatalf("DecodeDepth = %d, %v; UnmarshalBinary gave depth %d", d, derr, p.Depth)
			}
			b, err := p.AppendBinary(nil)
			if err != nil {
				t.Fatalf("a decoded page does not encode: %v\n%+v", err, p)
			}
			q := &recrawl.Page{URL: url}
			if err := q.UnmarshalBinary(b); err != nil {
				t.Fatalf("re-encoded page does not decode: %v", err)
			}
			if diff := recrawltest.Equal(q, p); diff != "" {
				t.Fatalf("decode(encode(decode(data))) differs: %s", diff)
			}
		}

		// Encoding a page built from the fuzzer's values.
		if sec < minSec || sec > maxSec {
			sec = minSec + int64(uint64(sec)%uint64(maxSec-minSec+1))
		}
		nsec = int64(uint64(nsec) % 1e9)
		tm := time.Unix(sec, nsec)
		var ls []recrawl.Link
		if links != "" {
			for i, l := range strings.Split(links, "\n") {
				if strings.HasPrefix(l, "/") {
					l = url + l // mostly same-site links: front-coding at work
				}
				lk := recrawl.Link{URL: l, NoFollow: i%3 == 1}
				switch i % 4 { // common kinds, none, and any strings
				case 1:
					lk.Tag, lk.Attr, lk.Text = "a", "href", s
				case 2:
					lk.Tag, lk.Attr, lk.Rel = s, l, "nofollow"
				case 3:
					lk.Tag, lk.Attr, lk.Rel, lk.Text = "meta", "content", s, l
				}
				ls = append(ls, lk)
			}
		}
		in := &recrawl.Page{
			URL: url, Depth: depth, Fetched: tm, Status: int(uint16(depth)),
			ETag: s, LastModified: strings.ToUpper(s), FreshUntil: tm.Add(time.Duration(nsec) * time.Hour),
			NoCache: depth%2 == 0, Digest: uint64(sec) ^ uint64(nsec)<<7, ContentType: s + "/html",
			Title: links, NoIndex: depth%3 == 0, NoFollow: depth%5 == 0, Changed: depth%7 == 0, Links: ls,
			Lastmod: time.Unix(-sec, 0).UTC(), LastmodSeen: tm.Truncate(time.Second),
		}
		if depth%7 == 0 {
			in.Fetched, in.Lastmod = time.Time{}, time.Time{} // zero times
		}
		switch depth % 3 { // stored data: none, a version alone, fields
		case 1:
			in.DataVersion = s
		case 2:
			in.DataVersion = links
			in.Data = map[string][]string{s: strings.Split(links, "\n"), "x" + s: nil}
		}
		b, err := in.AppendBinary(nil)
		if err != nil {
			within := depth >= 0 && depth <= math.MaxInt32 && len(ls) <= recrawl.MaxLinks &&
				len(s)+len("/html") <= 1<<20 && len(links) <= 1<<20 && len(url) <= 1<<20
			if within {
				t.Fatalf("AppendBinary refused a page within the limits: %v", err)
			}
			return
		}
		out := &recrawl.Page{URL: url}
		if err := out.UnmarshalBinary(b); err != nil {
			t.Fatalf("decoding an encoded page: %v\n%+v", err, in)
		}
		if diff := recrawltest.Equal(out, in); diff != "" {
			t.Fatalf("decode(encode(page)) differs: %s", diff)
		}
		if d, err := recrawl.DecodeDepth(b); err != nil || d != in.Depth {
			t.Fatalf("DecodeDepth = %d, %v; want %d", d, err, in.Depth)
		}
	})
}

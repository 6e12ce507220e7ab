package linkcheck

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func TestScanRefs(t *testing.T) {
	doc := strings.Join([]string{
		`<!doctype html><html><head><base href="/base/">`,
		`<link rel="Stylesheet" href="a.css"><link rel="canonical" href="/c"><link rel="preload icon" href="i.png">`,
		`<script src="s.js">var x = "<a href='/not-a-link'>";</script>`,
		`<!-- <a href="/commented"> -->`,
		`<title>A <a href="/t"> title</title>`,
		`</head><body id="top-id">`,
		`<a href="/p?a=1&amp;b=2&copy=3" rel="nofollow">Link &amp; <b>bold</b>`,
		`text</a>`,
		`<A HREF='/upper' NAME="named">Upper</A>`,
		`<img src="x.png" srcset="x1.png 1x, x2.png 2x" alt="Alt text">`,
		`<picture><source srcset="a.webp 100w,b.webp  200w"></picture>`,
		`<video src="v.mp4" poster="p.jpg"><track src="t.vtt"></video>`,
		`<object data="o.swf"></object><embed src="e.swf"><iframe src="/frame">ignored <a href="/x"></iframe>`,
		`<area href="/area" alt="Area">`,
		`<meta http-equiv="refresh" content="5; url='/refresh'">`,
		`<a href=/unquoted>U</a><a href="/img"><img src="/i.png" alt="Pic"></a>`,
		`<textarea><a href="/in-textarea"></textarea>`,
		`</body></html>`,
	}, "\n")
	s := scanRefs(doc)
	var got []string
	for _, r := range s.refs {
		got = append(got, fmt.Sprintf("%d %s %s %q %q asset=%v nofollow=%v", r.line, r.tag, r.attr, r.href, clipText(r.text), r.asset, r.nofollow))
	}
	want := []string{
		`2 link href "a.css" "" asset=true nofollow=false`,
		`2 link href "i.png" "" asset=true nofollow=false`,
		`3 script src "s.js" "" asset=true nofollow=false`,
		`7 a href "/p?a=1&b=2&copy=3" "Link & bold text" asset=false nofollow=true`,
		`9 a href "/upper" "Upper" asset=false nofollow=false`,
		`10 img src "x.png" "Alt text" asset=true nofollow=false`,
		`10 img srcset "x1.png" "Alt text" asset=true nofollow=false`,
		`10 img srcset "x2.png" "Alt text" asset=true nofollow=false`,
		`11 source srcset "a.webp" "" asset=true nofollow=false`,
		`11 source srcset "b.webp" "" asset=true nofollow=false`,
		`12 video src "v.mp4" "" asset=true nofollow=false`,
		`12 video poster "p.jpg" "" asset=true nofollow=false`,
		`12 track src "t.vtt" "" asset=true nofollow=false`,
		`13 object data "o.swf" "" asset=true nofollow=false`,
		`13 embed src "e.swf" "" asset=true nofollow=false`,
		`13 iframe src "/frame" "" asset=false nofollow=false`,
		`14 area href "/area" "Area" asset=false nofollow=false`,
		`15 meta content "/refresh" "" asset=false nofollow=false`,
		`16 a href "/unquoted" "U" asset=false nofollow=false`,
		`16 a href "/img" "Pic" asset=false nofollow=false`,
		`16 img src "/i.png" "Pic" asset=true nofollow=false`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("refs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !s.hasBase || s.base != "/base/" {
		t.Errorf("base = %q, %v", s.base, s.hasBase)
	}
	if fmt.Sprint(s.anchors) != "[top-id named]" {
		t.Errorf("anchors = %v", s.anchors)
	}
	if ref := scanRefsTokenizer(doc); fmt.Sprint(clipped(ref)) != fmt.Sprint(clipped(s)) {
		t.Errorf("differs from the tokenizer:\n%+v\n%+v", ref, s)
	}
}

func TestSrcset(t *testing.T) {
	for in, want := range map[string]string{
		"a.png":                          "[a.png]",
		"a.png 1x, b.png 2x":             "[a.png b.png]",
		"a.png,b.png":                    "[a.png,b.png]",
		"a.png, b.png":                   "[a.png b.png]",
		" a.png 100w ,  b.png 200w ":     "[a.png b.png]",
		"data:image/png;base64,xx 1x, c": "[data:image/png;base64,xx c]",
		"a.png (x, y) 1x, b.png":         "[a.png b.png]",
		"":                               "[]",
	} {
		if got := fmt.Sprint(srcsetURLs(in)); got != want {
			t.Errorf("srcsetURLs(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestFragmentOK(t *testing.T) {
	anchors := newAnchorSet([]string{"sec", "café", "a b", "%41", "Top-1"})
	for _, c := range []struct {
		href string
		ok   bool
	}{
		{"", true},
		{"top", true},
		{"TOP", true},
		{"sec", true},
		{"Sec", false}, // ids are case-sensitive
		{"café", true},
		{"caf%C3%A9", true},
		{"a b", true},   // encoded to a%20b, then decoded
		{"a%20b", true}, // decoded
		{"%41", true},   // the id "%41" as written
		{"A", false},
		{"%74op", true}, // decodes to "top"
		{"missing", false},
		{"caf%E9", false}, // not UTF-8: decodes to U+FFFD
	} {
		if got := fragmentOK(encodeFragment(c.href), anchors); got != c.ok {
			t.Errorf("fragment %q: %v, want %v", c.href, got, c.ok)
		}
	}
}

// FuzzScanRefs checks the fast scanner against the reference scanner built
// on golang.org/x/net/html's Tokenizer.
func FuzzScanRefs(f *testing.F) {
	f.Add(benchPage(1))
	f.Add(`<a href="x">t</a><img src=y alt=z><!-- <a href=c> --><script><a href=s></script>`)
	f.Add(`<a href="?a&amp;b&copy=1&lt">x &amp; y</a><p id=q>`)
	f.Add(`<a href='/q' rel=nofollow name=n>a<a href=/b>b</a>`)
	f.Add(`<link rel=stylesheet href=/s.css><source srcset="a 1x, b 2x"><base href=/z/>`)
	f.Add("<a\nhref=\"/l\"\n>multi\nline</a>")
	f.Add("<A href")     // cut off: dropped
	f.Add("<a href>a<0") // a '<' that is text

	f.Fuzz(func(t *testing.T, doc string) {
		if strings.ContainsRune(doc, 0) || strings.Contains(doc, "\r") || !utf8Valid(doc) {
			t.Skip("NUL, CR and invalid UTF-8 are rewritten by the tokenizer; pages reach the scan as UTF-8 (an input skipped, in CI too)")
		}
		if strings.Contains(strings.ToLower(doc), "<svg") || strings.Contains(strings.ToLower(doc), "<math") ||
			strings.Contains(doc, "<![CDATA[") {
			t.Skip("foreign content (an input skipped, in CI too)")
		}
		if unquotedSlashEnd.MatchString(doc) {
			t.Skip("x/net/html reads '/>' after an unquoted attribute value as a self-closing tag; the HTML standard reads the '/' as part of the value, as scanRefs does (an input skipped, in CI too)")
		}
		got, want := clipped(scanRefs(doc)), clipped(scanRefsTokenizer(doc))
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("fast scanner:\n%+v\ntokenizer:\n%+v", got, want)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }

// FuzzFragment checks the round trip a browser makes: a link to "#" + id
// (as written in the href) indicates the element with that id. (Not for
// ids with a '%' and a character the URL parser encodes: the raw fragment
// then differs from the id and its decoding too, in browsers as here.)
func FuzzFragment(f *testing.F) {
	for _, s := range []string{"sec", "café", "a b", "%41", "50%", "x\"y<z>", "日本語"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if id == "" || !utf8Valid(id) || strings.ContainsAny(id, "\t\n\r") ||
			(strings.Contains(id, "%") && encodeFragment(id) != id) {
			t.Skip("not an id a page gives (an input skipped, in CI too)")
		}
		if !fragmentOK(encodeFragment(id), newAnchorSet([]string{id})) {
			t.Errorf("#%s does not find id %q (encoded %q)", id, id, encodeFragment(id))
		}
	})
}

// FuzzSrcset checks that every URL of a srcset is a non-empty substring
// without white space.
func FuzzSrcset(f *testing.F) {
	f.Add("a.png 1x, b.png 2x")
	f.Add("a.png (x, y) 1x,b,c.png")
	f.Fuzz(func(t *testing.T, v string) {
		for _, u := range srcsetURLs(v) {
			if u == "" || strings.ContainsAny(u, " \t\n\r\f") || !strings.Contains(v, u) {
				t.Errorf("srcset %q gave %q", v, u)
			}
		}
	})
}

// clipped returns s with its texts as sources keep them.
func clipped(s scanned) scanned {
	for i := range s.refs {
		s.refs[i].text = clipText(s.refs[i].text)
	}
	return s
}

// unquotedSlashEnd matches an unquoted attribute value ending in '/' right
// before '>' (<a href=/>): see FuzzScanRefs.
var unquotedSlashEnd = regexp.MustCompile("=[ \t\n\f]*[^ \t\n\f\"'=<>`]*/>")

package htmlscan

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// tokenizerAttr is the Tokenizer's own reading of an attribute value,
// written with whichever quoting can hold it.
func tokenizerAttr(v string) (string, bool) {
	for _, q := range []string{`"`, `'`, ""} {
		if q == "" && (v == "" || strings.ContainsAny(v, " \t\n\r\f>") || v[0] == '"' || v[0] == '\'') {
			continue
		}
		if q == "" || !strings.Contains(v, q) {
			z := html.NewTokenizer(strings.NewReader("<a v=" + q + v + q + ">"))
			z.Next()
			_, val, _ := z.TagAttr()
			return string(val), true
		}
	}
	return "", false
}

func TestUnescapeAttr(t *testing.T) {
	for _, v := range []string{`&00'0&copy00000"`, `a"b'&copy=1`, "", "plain", "a&amp;b", "&lt;&gt;&quot;&apos;", "&#38;&#x26;&#X3C;", "?a=1&copy=2", "&copy", "&ampx;", "&notin;", "&not", "&#38", "&", "&;", "a&b=c"} {
		want, ok := tokenizerAttr(v)
		if !ok {
			continue
		}
		if got := UnescapeAttr(v); got != want {
			t.Errorf("UnescapeAttr(%q) = %q, want the Tokenizer's %q", v, got, want)
		}
	}
}

// FuzzUnescapeAttr checks UnescapeAttr (and its PlainRefs shortcut)
// against the Tokenizer.
func FuzzUnescapeAttr(f *testing.F) {
	for _, s := range []string{"a&amp;b", "&#x26;", "&copy=2", "&ampx;", "&#12ab;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		want, ok := tokenizerAttr(v)
		if !ok || strings.ContainsAny(v, "\r\x00") {
			return // both quotes: no attribute value holds it; CR and NUL: rewritten before decoding
		}
		if got := UnescapeAttr(v); got != want {
			t.Fatalf("UnescapeAttr(%q) = %q, want %q", v, got, want)
		}
	})
}

func TestTagName(t *testing.T) {
	for _, c := range []struct {
		doc, name string
		end       int
	}{{"<a href>", "a", 2}, {"<DiV/>", "div", 4}, {"<p\n", "p", 2}, {"<x", "x", 2}} {
		if n, e := TagName(c.doc, 1); n != c.name || e != c.end {
			t.Errorf("TagName(%q) = %q, %d; want %q, %d", c.doc, n, e, c.name, c.end)
		}
	}
	if got := SkipPast("ab>cd", 0, '>'); got != 3 {
		t.Errorf("SkipPast = %d", got)
	}
	if got := SkipPast("abc", 1, '>'); got != 3 {
		t.Errorf("SkipPast without c = %d", got)
	}
}

func TestRefreshURL(t *testing.T) {
	tests := []struct {
		content, want string
		ok            bool
	}{
		{"0; url=/next", "/next", true},
		{"5;URL='/q?a=1'", "/q?a=1", true},
		{` 3 , url = "http://x.example/" `, "http://x.example/", true},
		{"0;/bare", "/bare", true},
		{"1.5; url=/dot", "/dot", true},
		{"10", "", false},
		{"url=/x", "", false},
		{"0; url=", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := RefreshURL(tt.content)
		if got != tt.want || ok != tt.ok {
			t.Errorf("RefreshURL(%q) = %q, %v; want %q, %v", tt.content, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNextMarkup(t *testing.T) {
	for _, c := range []struct {
		doc  string
		i    int
		want int
	}{{"a < b <p>", 0, 6}, {"<!-- x", 0, 0}, {"x<?y", 0, 1}, {"</", 0, 0}, {"a<", 0, -1}, {"<1<2<a", 0, 4}, {"<a><b>", 1, 3}, {"text", 0, -1}} {
		if got := NextMarkup(c.doc, c.i); got != c.want {
			t.Errorf("NextMarkup(%q, %d) = %d, want %d", c.doc, c.i, got, c.want)
		}
	}
}

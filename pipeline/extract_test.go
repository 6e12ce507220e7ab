package pipeline

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// htmlPage returns a 200 text/html page at u with body.
func htmlPage(u, body string) *Page {
	return &Page{
		URL:    u,
		Status: 200,
		Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}},
		Body:   []byte(body),
	}
}

func process(t *testing.T, cfg Config, p *Page) Record {
	t.Helper()
	pl, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := pl.Process(context.Background(), p)
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	return rec
}

func TestLinkExtraction(t *testing.T) {
	const page = "http://example.com/dir/page.html?q=1"
	tests := []struct {
		name string
		body string
		want []Link
	}{
		{"absolute", `<a href="http://other.org/x">x</a>`, []Link{{URL: "http://other.org/x"}}},
		{"relative path", `<a href="next.html">`, []Link{{URL: "http://example.com/dir/next.html"}}},
		{"parent path", `<a href="../up/a">`, []Link{{URL: "http://example.com/up/a"}}},
		{"root relative", `<a href="/root">`, []Link{{URL: "http://example.com/root"}}},
		{"protocol relative", `<a href="//cdn.example.net/a.js">`, []Link{{URL: "http://cdn.example.net/a.js"}}},
		{"query only", `<a href="?page=2">`, []Link{{URL: "http://example.com/dir/page.html?page=2"}}},
		{"fragment only is the page", `<a href="#top">`, []Link{{URL: "http://example.com/dir/page.html?q=1"}}},
		{"fragment removed", `<a href="/a#sec">`, []Link{{URL: "http://example.com/a"}}},
		{"whitespace around", "<a href=\"  \n /b \t\">", []Link{{URL: "http://example.com/b"}}},
		{"newline inside", "<a href=\"/c\nd\">", []Link{{URL: "http://example.com/cd"}}},
		{"entities", `<a href="/s?a=1&amp;b=2">`, []Link{{URL: "http://example.com/s?a=1&b=2"}}},
		{"upper-case host and scheme", `<a href="HTTP://EXAMPLE.COM:80/A">`, []Link{{URL: "http://example.com/A"}}},
		{"area frame iframe", `<map><area href="/area"></map><frameset><frame src="/frame"></frameset><iframe src="/iframe"></iframe>`,
			[]Link{{URL: "http://example.com/area"}, {URL: "http://example.com/frame"}, {URL: "http://example.com/iframe"}}},
		{"ignored elements", `<link href="/style.css" rel=stylesheet><img src="/i.png"><script src="/s.js"></script><a>no href</a>`, nil},
		{"links in script are not tags", `<script>var s = '<a href="/no">';</script><a href="/yes">`, []Link{{URL: "http://example.com/yes"}}},
		{"document order and dedup", `<a href="/b"></a><a href="/a"></a><a href="/b#x"></a><a href="/c"></a>`,
			[]Link{{URL: "http://example.com/b"}, {URL: "http://example.com/a"}, {URL: "http://example.com/c"}}},
		{"rel nofollow", `<a href="/n" rel="external NoFollow">n</a><a href="/f">f</a>`,
			[]Link{{URL: "http://example.com/n", NoFollow: true}, {URL: "http://example.com/f"}}},
		{"rel nofollow then followed", `<a href="/n" rel=nofollow></a><a href="/n"></a>`, []Link{{URL: "http://example.com/n"}}},
		{"rel nofollowing is not nofollow", `<a href="/n" rel="nofollowing">`, []Link{{URL: "http://example.com/n"}}},
		{"skipped schemes", `<a href="javascript:void(0)"></a><a href="mailto:a@b.c"></a><a href="tel:+1"></a><a href="DATA:text/plain,x"></a><a href=" JavaScript:x"></a><a href="ftp://f.example.com/"></a>`, nil},
		{"bad hrefs skipped, page kept", `<a href="http://[::1">x</a><a href="http://exa mple.com/">y</a><a href="http://%zz/">z</a><a href="/ok">ok</a>`,
			[]Link{{URL: "http://example.com/ok"}}},
		{"base href", `<head><base href="http://cdn.example.org/base/"></head><a href="x">`, []Link{{URL: "http://cdn.example.org/base/x"}}},
		{"relative base href", `<base href="/other/"><a href="x">`, []Link{{URL: "http://example.com/other/x"}}},
		{"base applies to earlier links", `<a href="x"></a><base href="/b/">`, []Link{{URL: "http://example.com/b/x"}}},
		{"first base wins", `<base href="/one/"><base href="/two/"><a href="x">`, []Link{{URL: "http://example.com/one/x"}}},
		{"base without href ignored", `<base target="_blank"><base href="/b/"><a href="x">`, []Link{{URL: "http://example.com/b/x"}}},
		{"backslash base", `<base href="\\other\dir\"><a href="x">`, []Link{{URL: "http://other/dir/x"}}},
		{"host-less base ignored", `<base href="https:"><a href="/x">`, []Link{{URL: "http://example.com/x"}}},
		{"javascript base ignored", `<base href="javascript:x"><a href="x">`, []Link{{URL: "http://example.com/dir/x"}}},
		{"empty href is the page", `<a href="">`, []Link{{URL: "http://example.com/dir/page.html?q=1"}}},
		{"links in noscript and noframes", `<noscript><a href="/ns">x</a></noscript><noframes><a href="/nf"></noframes><a href="/after">`,
			[]Link{{URL: "http://example.com/ns"}, {URL: "http://example.com/nf"}, {URL: "http://example.com/after"}}},
		{"links in template and textarea", `<template><a href="/tpl"></template><textarea><a href="/ta"></textarea><style>a{}</style>`,
			[]Link{{URL: "http://example.com/tpl"}}},
		{"meta refresh", `<meta http-equiv="Refresh" content="0; URL='/moved#x'"><a href="/a">`,
			[]Link{{URL: "http://example.com/moved"}, {URL: "http://example.com/a"}}},
		{"meta refresh without url", `<meta http-equiv=refresh content="30">`, nil},
		{"first href attribute wins", `<a href="/first" href="/second">`, []Link{{URL: "http://example.com/first"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := htmlPage(page, tt.body)
			rec := process(t, Config{}, p)
			if !reflect.DeepEqual(urlsOnly(p.Links), tt.want) {
				t.Errorf("Links = %v, want %v", p.Links, tt.want)
			}
			if len(rec.Links) != len(tt.want) {
				t.Fatalf("record links = %v, want %d", rec.Links, len(tt.want))
			}
			for i, l := range tt.want {
				if rec.Links[i] != l.URL {
					t.Errorf("record link %d = %q, want %q", i, rec.Links[i], l.URL)
				}
			}
		})
	}
}

// urlsOnly keeps the URL and NoFollow of links.
func urlsOnly(ls []Link) []Link {
	var out []Link
	for _, l := range ls {
		out = append(out, Link{URL: l.URL, NoFollow: l.NoFollow})
	}
	return out
}

// TestLinkDetails: each link says where it came from (tag, attribute, rel)
// and carries its anchor text, entities decoded, white space collapsed and
// capped at MaxLinkText bytes on a character boundary; a repeated URL keeps
// its first occurrence's details.
func TestLinkDetails(t *testing.T) {
	long := strings.Repeat("é", MaxLinkText) // 2 bytes each
	body := `<meta http-equiv=refresh content="0; url=/r">` +
		"<a href=/a rel='nofollow  noopener'>  Read\n the <b>docs</b> &amp; more </a>" +
		`<a href=/a>second occurrence</a>` +
		`<area href=/map alt="Map &lt;1&gt;"><iframe src=/frame></iframe>` +
		`<a href=/long>` + long + `</a><a href=/empty></a><a href=/unclosed>one<a href=/next>two`
	p := htmlPage("http://example.com/", body)
	process(t, Config{}, p)
	want := []Link{
		{URL: "http://example.com/r", Tag: "meta", Attr: "content"},
		{URL: "http://example.com/a", Tag: "a", Attr: "href", Rel: "nofollow  noopener", Text: "Read the docs & more"},
		{URL: "http://example.com/map", Tag: "area", Attr: "href", Text: "Map <1>"},
		{URL: "http://example.com/frame", Tag: "iframe", Attr: "src"},
		{URL: "http://example.com/long", Tag: "a", Attr: "href", Text: long[:MaxLinkText]},
		{URL: "http://example.com/empty", Tag: "a", Attr: "href"},
		{URL: "http://example.com/unclosed", Tag: "a", Attr: "href", Text: "one"},
		{URL: "http://example.com/next", Tag: "a", Attr: "href", Text: "two"},
	}
	if !reflect.DeepEqual(p.Links, want) {
		t.Errorf("Links =\n%+v\nwant\n%+v", p.Links, want)
	}
}

func TestLinksResolveAgainstFinalURL(t *testing.T) {
	p := htmlPage("http://example.com/old", `<a href="x">`)
	p.FinalURL = "https://www.example.com/new/"
	process(t, Config{}, p)
	if want := []Link{{URL: "https://www.example.com/new/x"}}; !reflect.DeepEqual(urlsOnly(p.Links), want) {
		t.Errorf("Links = %v, want %v", p.Links, want)
	}
}

func TestMalformedHTML(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		title     string
		links     []string
		canonical string
	}{
		{"unclosed tags", `<html><head><title>Open<body><div><p><a href=/a>one<a href=/b>two<div><span>`,
			"Open<body><div><p><a href=/a>one<a href=/b>two<div><span>", nil, ""},
		{"unclosed tags after title", `<html><head><title>T</title><body><div><p><a href=/a>one<a href=/b>two<div><span>`,
			"T", []string{"http://example.com/a", "http://example.com/b"}, ""},
		{"unquoted and upper-case attributes", `<HTML><HEAD><TITLE>Up</TITLE><LINK REL=Canonical HREF=/canon></HEAD><BODY><A HREF=/x REL=NOFOLLOW>x</A><Area hRef='/y'><IFRAME SRC=/z></IFRAME>`,
			"Up", []string{"http://example.com/x", "http://example.com/y", "http://example.com/z"}, "http://example.com/canon"},
		{"content after </html>", `<html><head><title>After</title></head><body></body></html><a href="/late">late</a><p>text`,
			"After", []string{"http://example.com/late"}, ""},
		{"unterminated attribute", `<title>Q</title><a href="/ok">ok</a><a href="/broken>`,
			"Q", []string{"http://example.com/ok"}, ""},
		{"stray end tags and comments", `</div></a><!-- <a href="/commented"> --><title> Spaced
			 out </title><a href=/c>`, "Spaced out", []string{"http://example.com/c"}, ""},
		{"svg title is not the page title", `<body><svg><title>icon</title></svg><title>Real</title>`, "Real", nil, ""},
		{"entities in title", `<title>Fish &amp; Chips &lt;3&gt; &eacute;</title>`, "Fish & Chips <3> é", nil, ""},
		{"only first title", `<title>One</title><title>Two</title>`, "One", nil, ""},
		{"nul bytes", "<title>a\x00b</title><a href=\"/n\x00\">", "a\ufffdb", nil, ""},
		{"empty", ``, "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := htmlPage("http://example.com/", tt.body)
			rec := process(t, Config{}, p)
			if rec.Title != tt.title {
				t.Errorf("title = %q, want %q", rec.Title, tt.title)
			}
			if tt.links == nil {
				tt.links = []string{}
			}
			if tt.name != "nul bytes" && !reflect.DeepEqual(rec.Links, tt.links) {
				t.Errorf("links = %q, want %q", rec.Links, tt.links)
			}
			if p.Canonical != tt.canonical {
				t.Errorf("canonical = %q, want %q", p.Canonical, tt.canonical)
			}
			if rec.Error != "" {
				t.Errorf("error = %q, want none", rec.Error)
			}
			// The goquery document parses the same bytes without trouble.
			if _, err := p.Doc(); err != nil {
				t.Errorf("Doc: %v", err)
			}
		})
	}
}

func TestRobotsDirectives(t *testing.T) {
	tests := []struct {
		name              string
		header            string
		body              string
		cfg               Config
		noindex, nofollow bool
	}{
		{"none", "", `<a href=/a>`, Config{}, false, false},
		{"meta nofollow", "", `<meta name="robots" content="nofollow"><a href=/a>`, Config{}, false, true},
		{"meta noindex upper case", "", `<META NAME=ROBOTS CONTENT="NOINDEX, follow"><a href=/a>`, Config{}, true, false},
		{"meta none", "", `<meta name=robots content=none><a href=/a>`, Config{}, true, true},
		{"meta for another bot", "", `<meta name=googlebot content=noindex,nofollow><a href=/a>`, Config{}, false, false},
		{"meta for our bot", "", `<meta name=Trawl content=nofollow><a href=/a>`, Config{RobotsAgent: "trawl"}, false, true},
		{"header nofollow", "nofollow", `<a href=/a>`, Config{}, false, true},
		{"header noindex nofollow", "noindex, nofollow", `<a href=/a>`, Config{}, true, true},
		{"header for another bot", "googlebot: noindex, nofollow", `<a href=/a>`, Config{}, false, false},
		{"header for our bot", "trawl: noindex", `<a href=/a>`, Config{RobotsAgent: "trawl"}, true, false},
		{"header unavailable_after", "unavailable_after: 25 Jun 2010 15:00:00 PST, nofollow", `<a href=/a>`, Config{}, false, true},
		{"ignored", "noindex", `<meta name=robots content=nofollow><a href=/a>`, Config{IgnoreRobots: true}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := htmlPage("http://example.com/", tt.body)
			if tt.header != "" {
				p.Header.Set("X-Robots-Tag", tt.header)
			}
			process(t, tt.cfg, p)
			if p.NoIndex != tt.noindex || p.NoFollow != tt.nofollow {
				t.Errorf("noindex, nofollow = %v, %v; want %v, %v", p.NoIndex, p.NoFollow, tt.noindex, tt.nofollow)
			}
			if len(p.Links) != 1 {
				t.Fatalf("links = %v, want one (nofollow links are listed)", p.Links)
			}
			if p.Links[0].NoFollow != tt.nofollow {
				t.Errorf("link NoFollow = %v, want the page's %v", p.Links[0].NoFollow, tt.nofollow)
			}
		})
	}
}

func TestNonHTMLNotParsed(t *testing.T) {
	tests := []struct {
		name, ct, body, wantCT string
	}{
		{"pdf", "application/pdf", "%PDF-1.4 <a href=/x>", "application/pdf"},
		{"json", "application/json; charset=utf-8", `{"html":"<a href=/x>"}`, "application/json"},
		{"image", "image/png", "\x89PNG\r\n\x1a\n<a href=/x>", "image/png"},
		{"sniffed html", "", "<!DOCTYPE html><title>S</title><a href=/x>", "text/html"},
		{"sniffed text", "", "plain <a href=/x>", "text/plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Page{URL: "http://example.com/f", Status: 200, Header: http.Header{}, Body: []byte(tt.body)}
			if tt.ct != "" {
				p.Header.Set("Content-Type", tt.ct)
			}
			rec := process(t, Config{}, p)
			if rec.ContentType != tt.wantCT {
				t.Errorf("content_type = %q, want %q", rec.ContentType, tt.wantCT)
			}
			wantLinks := 0
			if tt.wantCT == "text/html" {
				wantLinks = 1
			}
			if len(rec.Links) != wantLinks {
				t.Errorf("links = %v, want %d", rec.Links, wantLinks)
			}
			if rec.Bytes != int64(len(tt.body)) {
				t.Errorf("bytes = %d, want %d", rec.Bytes, len(tt.body))
			}
			if _, err := p.Doc(); (err == nil) != (wantLinks == 1) {
				t.Errorf("Doc error = %v", err)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct{ body, want string }{
		{`<link rel="canonical" href="/c#frag">`, "http://example.com/c"},
		{`<base href="/b/"><link rel="alternate canonical" href="c">`, "http://example.com/b/c"},
		{`<link rel="canonical" href="javascript:x">`, ""},
		{`<link rel="canonical"><link rel=canonical href="/second">`, "http://example.com/second"},
		{`<link rel="stylesheet" href="/s.css">`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			p := htmlPage("http://example.com/", tt.body)
			process(t, Config{}, p)
			if p.Canonical != tt.want {
				t.Errorf("Canonical = %q, want %q", p.Canonical, tt.want)
			}
		})
	}
}

func TestFailedPageNotParsed(t *testing.T) {
	p := htmlPage("http://example.com/", `<title>T</title><a href=/x>`)
	p.Status = 0
	p.Err = errString("crawler: http://example.com/: timeout after 10s")
	rec := process(t, Config{}, p)
	if rec.Title != "" || len(rec.Links) != 0 {
		t.Errorf("failed page parsed: title %q links %v", rec.Title, rec.Links)
	}
	if rec.Error != "crawler: http://example.com/: timeout after 10s" {
		t.Errorf("error = %q", rec.Error)
	}
	if rec.FinalURL != "" || rec.Status != 0 {
		t.Errorf("final_url %q status %d, want none", rec.FinalURL, rec.Status)
	}
}

func TestFailedRedirectKeepsFinalURL(t *testing.T) {
	p := &Page{URL: "http://example.com/a", FinalURL: "http://example.com/loop", Err: errString("crawler: too many redirects")}
	if rec := p.Record(); rec.FinalURL != "http://example.com/loop" {
		t.Errorf("final_url = %q", rec.FinalURL)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func FuzzExtract(f *testing.F) {
	seeds := []string{
		`<a href="/a">a</a><a href="b#c" rel=nofollow>`,
		`<base href="http://h.example/x/"><a href="../y"><iframe src="//z.example">`,
		`<a href="javascript:alert(1)"><a href="http://[::1]:80/"><a href=" \n/sp ace">`,
		`<title>t<a href=/x>`,
		`<html></html><area href="HTTP://Ex.COM/%7e?#">`,
		`<meta charset=shift_jis><a href="/\x82\xa0">`,
		"<a href=\"http://xn--n3h.example/\u2603\">",
		`<a href="http://user:pass@host.example:8080/p?q#f">`,
		`<base href="//other.example"><a href="?q">`,
	}
	for _, s := range seeds {
		f.Add(s, "text/html")
	}
	f.Add(`<a href="/x">`, "text/html; charset=euc-kr")
	f.Fuzz(func(t *testing.T, body, ct string) {
		p := &Page{URL: "http://example.com/dir/", Status: 200, Header: http.Header{"Content-Type": {ct}}, Body: []byte(body)}
		pl, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		rec, err := pl.Process(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, l := range rec.Links {
			if !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") {
				t.Errorf("link %q is not absolute http(s)", l)
			}
			if strings.Contains(l, "#") {
				t.Errorf("link %q has a fragment", l)
			}
			if seen[l] {
				t.Errorf("link %q listed twice", l)
			}
			seen[l] = true
		}
		for _, l := range p.Links {
			if len(l.Text) > MaxLinkText || !utf8.ValidString(l.Text) || strings.Trim(l.Text, " \t\n\r\f") != l.Text {
				t.Errorf("link text %q: longer than MaxLinkText, not UTF-8 or not trimmed", l.Text)
			}
			if l.Tag == "" || l.Attr == "" {
				t.Errorf("link %q has no tag or attribute", l.URL)
			}
		}
		if p.Canonical != "" && !strings.HasPrefix(p.Canonical, "http") {
			t.Errorf("canonical %q is not absolute", p.Canonical)
		}
		if !utf8.ValidString(rec.Title) {
			t.Errorf("title %q is not UTF-8", rec.Title)
		}
	})
}

func TestRawTagName(t *testing.T) {
	tests := map[string]string{
		"<a href=x>": "a", "<A>": "a", "</a>": "a", "<abbr>": "", "<AREA/>": "area", "<base\nhref>": "base",
		"<link>": "link", "<meta charset=x>": "meta", "</TITLE>": "title", "<title\t>": "title", "<svg>": "svg",
		"<frame src>": "frame", "<IFrame>": "iframe", "<iframes>": "", "<b>": "", "<>": "", "<": "", "<aside>": "",
		"<metas>": "", "<bold>": "", "<tiTLe/>": "title", "<NoScript>": "noscript", "<noframes>": "noframes", "<nosuchtg>": "",
	}
	for raw, want := range tests {
		if got := rawTagName([]byte(raw)); got != want {
			t.Errorf("rawTagName(%q) = %q, want %q", raw, got, want)
		}
	}
}

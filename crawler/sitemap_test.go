package crawler

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func gz(t testing.TB, s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const urlsetTmpl = `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">%s</urlset>`

func urlset(locs ...string) string {
	var b strings.Builder
	for _, l := range locs {
		fmt.Fprintf(&b, "<url><loc> %s </loc><lastmod>2026-01-01</lastmod></url>", l)
	}
	return fmt.Sprintf(urlsetTmpl, b.String())
}

func TestParseSitemap(t *testing.T) {
	index := `<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>http://h/s1.xml</loc></sitemap><sitemap><loc>http://h/s2.xml.gz</loc></sitemap></sitemapindex>`
	for _, tc := range []struct {
		name    string
		body    []byte
		text    bool
		max     int
		kind    sitemapKind
		locs    []string
		wantErr bool
	}{
		{"urlset", []byte(urlset("http://h/a", "http://h/b?x=1&amp;y=2")), false, 10, sitemapURLs, []string{"http://h/a", "http://h/b?x=1&y=2"}, false},
		{"index", []byte(index), false, 10, sitemapIndex, []string{"http://h/s1.xml", "http://h/s2.xml.gz"}, false},
		{"gzip", gz(t, urlset("http://h/z")), false, 10, sitemapURLs, []string{"http://h/z"}, false},
		{"url cap", []byte(urlset("http://h/1", "http://h/2", "http://h/3")), false, 2, sitemapURLs, []string{"http://h/1", "http://h/2"}, false},
		{"broken XML keeps what came before", []byte(`<urlset><url><loc>http://h/ok</loc></url><url><loc>http://h/x</lo`), false, 10, sitemapURLs, []string{"http://h/ok"}, true},
		{"html is not a sitemap", []byte("<html><body>hi</body></html>"), false, 10, notSitemap, nil, true},
		{"text sitemap when expected", []byte("http://h/1\n\n  https://h/2  \nnot a url\n"), true, 10, sitemapURLs, []string{"http://h/1", "https://h/2"}, false},
		{"text not expected", []byte("http://h/1\n"), false, 10, notSitemap, nil, true},
		{"nested loc ignored", []byte(`<urlset><url><image><loc>http://h/img.png</loc></image><loc>http://h/p</loc></url></urlset>`), false, 10, sitemapURLs, []string{"http://h/p"}, false},
		{"bad gzip", append([]byte{0x1f, 0x8b}, "junk"...), false, 10, notSitemap, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind, locs, err := parseSitemap(tc.body, tc.text, 1<<20, tc.max)
			if kind != tc.kind || strings.Join(locs, " ") != strings.Join(tc.locs, " ") || (err != nil) != tc.wantErr {
				t.Errorf("got %v %q %v; want %v %q err=%v", kind, locs, err, tc.kind, tc.locs, tc.wantErr)
			}
		})
	}
}

// TestParseSitemapSizeCap: a gzip bomb stops at the size cap.
func TestParseSitemapSizeCap(t *testing.T) {
	body := urlset("http://h/a") + strings.Repeat(" ", 300<<10) + urlset("http://h/b")
	kind, locs, _ := parseSitemap(gz(t, body), false, 256<<10, 100)
	if kind != sitemapURLs || len(locs) != 1 {
		t.Errorf("got %v %q, want only the URL before the cap", kind, locs)
	}
}

// FuzzSitemap: any body parses without panicking, within the caps.
func FuzzSitemap(f *testing.F) {
	f.Add([]byte(urlset("http://h/a")), false)
	f.Add([]byte(`<sitemapindex><sitemap><loc>x</loc></sitemap></sitemapindex>`), false)
	f.Add(gz(f, urlset("http://h/a", "http://h/b")), false)
	f.Add([]byte("http://a/\nhttps://b/\n"), true)
	f.Add([]byte("<urlset><url><loc><![CDATA[http://h/c]]></loc></url>"), false)
	f.Add([]byte{0x1f, 0x8b, 0x08}, false)
	f.Fuzz(func(t *testing.T, body []byte, text bool) {
		kind, locs, _ := parseSitemap(body, text, 1<<16, 5)
		if kind == notSitemap && len(locs) != 0 {
			t.Fatalf("not a sitemap but %d locs", len(locs))
		}
		if len(locs) > 5 {
			t.Fatalf("%d locs beyond the cap of 5", len(locs))
		}
		for _, l := range locs {
			if l == "" {
				t.Fatal("empty loc")
			}
		}
	})
}

// TestSitemaps: with Sitemaps on, URLs listed only in sitemaps (robots.txt
// Sitemap: lines, /sitemap.xml, an index, a gzip sitemap) are crawled,
// and they still pass scope and robots.
func TestSitemaps(t *testing.T) {
	s := newSite(t, nil)
	s.handle = func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprintf(w, "User-agent: *\nDisallow: /blocked\nSitemap: %s/index.xml\nSitemap: http://elsewhere.invalid/s.xml\n", s.URL)
		case "/":
			html(w) // links to nothing
		case "/index.xml":
			fmt.Fprintf(w, `<sitemapindex><sitemap><loc>%s/s1.xml.gz</loc></sitemap></sitemapindex>`, s.URL)
		case "/s1.xml.gz":
			w.Header().Set("Content-Type", "application/gzip")
			_, _ = w.Write(gz(t, urlset(s.URL+"/from-gz", s.URL+"/blocked", "http://elsewhere.invalid/x")))
		case "/sitemap.xml":
			w.Header().Set("Content-Type", "application/xml")
			_, _ = w.Write([]byte(urlset(s.URL+"/from-default", "/relative")))
		case "/from-gz", "/from-default", "/relative":
			html(w)
		default:
			http.NotFound(w, r)
		}
	}
	t.Run("on", func(t *testing.T) {
		r := crawl(t, Config{Sitemaps: true}, s.URL+"/")
		hits := s.pageHits()
		for _, p := range []string{"/", "/sitemap.xml", "/index.xml", "/s1.xml.gz", "/from-gz", "/from-default", "/relative"} {
			if hits[p] != 1 {
				t.Errorf("%s fetched %d times, want 1", p, hits[p])
			}
		}
		if hits["/blocked"] != 0 {
			t.Error("/blocked fetched despite robots.txt")
		}
		recs := r.col.byURL(t)
		if rec, ok := recs[s.URL+"/blocked"]; !ok || !strings.Contains(rec.Error, "robots") {
			t.Errorf("/blocked record %+v, want a robots error", rec)
		}
		for u := range recs {
			if strings.Contains(u, "elsewhere") {
				t.Errorf("out-of-scope sitemap URL %s was queued", u)
			}
		}
	})
	t.Run("off", func(t *testing.T) {
		s.mu.Lock()
		clear(s.hits)
		s.mu.Unlock()
		crawl(t, Config{}, s.URL+"/")
		if hits := s.pageHits(); len(hits) != 1 {
			t.Errorf("fetched %v, want only the seed", hits)
		}
	})
}

func TestParseW3CDate(t *testing.T) {
	tests := map[string]string{
		"2026-11-28T10:00:00Z":        "2026-11-28T10:00:01Z",
		"2026-11-28T10:00:00+02:00":   "2026-11-28T08:00:01Z",
		"2026-11-28T10:00Z":           "2026-11-28T10:01:00Z",
		"2026-11-28T10:00:00.5Z":      "2026-11-28T10:00:00.6Z",
		"2026-11-28T10:00:00.123456Z": "2026-11-28T10:00:00.123457Z",
		"2026-11-28":                  "2026-11-29T12:00:00Z",
		"2026-11":                     "2026-12-01T12:00:00Z",
		"2026":                        "2027-01-01T12:00:00Z",
		"yesterday":                   "",
		"2026-11-28T10:00:00":         "", // a time needs a zone
		"2026-11-28T10:00:00.Z":       "",
		"2026-13-01":                  "",
	}
	for in, want := range tests {
		got := parseW3CDate(in)
		if want == "" {
			if !got.IsZero() {
				t.Errorf("parseW3CDate(%q) = %v, want zero", in, got)
			}
			continue
		}
		w, err := time.Parse(time.RFC3339Nano, want)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(w) {
			t.Errorf("parseW3CDate(%q) = %v, want %v", in, got.UTC(), w)
		}
	}
}

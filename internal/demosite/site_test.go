package demosite_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/temoto/robotstxt"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"

	"github.com/trawlhq/trawl/internal/demosite"
)

// noRedirects is a client that returns redirects instead of following
// them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, c *http.Client, u string) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading: %v", u, err)
	}
	return resp, body
}

// title decodes body with x/net/html/charset (an encoding sniffer
// independent of trawl's pipeline) and returns its <title>.
func title(t *testing.T, body []byte, contentType string) string {
	t.Helper()
	r, err := charset.NewReader(bytes.NewReader(body), contentType)
	if err != nil {
		t.Fatalf("charset: %v", err)
	}
	doc, err := html.Parse(r)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var find func(*html.Node) string
	find = func(n *html.Node) string {
		if n.Type == html.ElementNode && n.Data == "title" && n.FirstChild != nil {
			return n.FirstChild.Data
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if s := find(c); s != "" {
				return s
			}
		}
		return ""
	}
	return find(doc)
}

// declared returns how a response declares its charset: the header's
// charset parameter and the <meta> one, lower-cased ("" when absent), and
// which <meta> said it.
func declared(resp *http.Response, body []byte) (header, meta, style string) {
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil {
		header = strings.ToLower(params["charset"])
	}
	head := string(body[:min(len(body), 1024)])
	for _, prefix := range []string{`<meta charset="`, `<meta http-equiv="Content-Type" content="text/html; charset=`} {
		if i := strings.Index(head, prefix); i >= 0 {
			rest := head[i+len(prefix):]
			meta = strings.ToLower(rest[:strings.IndexByte(rest, '"')])
			style = strings.Fields(prefix)[1]
		}
	}
	return header, meta, style
}

func TestPagesAnswerAsDescribed(t *testing.T) {
	ts := httptest.NewServer(demosite.Handler())
	defer ts.Close()
	pages := demosite.Pages()
	if len(pages) < 200 {
		t.Fatalf("%d pages, want a few hundred", len(pages))
	}
	charsets := map[string]int{}
	ways := map[string]bool{} // how the non-UTF-8 pages declare their charset, alone
	for _, p := range pages {
		if p.Delay > 0 {
			continue // TestSlowPage
		}
		t.Run(p.Path, func(t *testing.T) {
			u := ts.URL + p.Path
			if p.Loop {
				_, err := http.Get(u)
				if err == nil || !strings.Contains(err.Error(), "redirects") {
					t.Fatalf("GET %s: err %v, want a redirect loop", u, err)
				}
				return
			}
			resp, body := get(t, http.DefaultClient, u)
			if resp.StatusCode != p.Status {
				t.Errorf("status %d, want %d", resp.StatusCode, p.Status)
			}
			final := p.Path
			if n := len(p.Redirects); n > 0 {
				final = p.Redirects[n-1]
			}
			if resp.Request.URL.Path != final {
				t.Errorf("ended at %s, want %s", resp.Request.URL.Path, final)
			}
			ct := resp.Header.Get("Content-Type")
			if got := title(t, body, ct); got != p.Title {
				t.Errorf("title %q, want %q", got, p.Title)
			}
			header, meta, style := declared(resp, body)
			if header == "" && meta == "" {
				t.Errorf("charset declared neither in the header nor in <meta>")
			}
			if p.Charset != "utf-8" {
				switch {
				case header != "" && meta == "":
					ways["header"] = true
				case header == "" && meta != "":
					ways[style] = true
				}
			}
			for _, d := range []string{header, meta} {
				if d != "" && d != p.Charset {
					t.Errorf("declares %q, want %q", d, p.Charset)
				}
			}
			if p.Product != nil {
				for _, field := range []string{p.Product.Name, p.Product.Price, p.Product.SKU} {
					if !strings.Contains(title(t, body, ct)+decode(t, body, ct), field) {
						t.Errorf("page lacks product field %q", field)
					}
				}
			}
			if strings.Contains(string(body), `content="noindex"`) != p.NoIndex {
				t.Errorf("noindex in page = %v, want %v", !p.NoIndex, p.NoIndex)
			}
		})
		charsets[p.Charset]++
	}
	for _, cs := range []string{"utf-8", "iso-8859-1", "windows-1252", "shift_jis", "euc-kr"} {
		if charsets[cs] == 0 {
			t.Errorf("no page in %s", cs)
		}
	}
	for _, way := range []string{"header", `charset="`, `http-equiv="Content-Type"`} {
		if !ways[way] {
			t.Errorf("no non-UTF-8 page declares its charset by %s alone", way)
		}
	}
}

// decode returns the whole body decoded to UTF-8.
func decode(t *testing.T, body []byte, contentType string) string {
	r, err := charset.NewReader(bytes.NewReader(body), contentType)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return html.UnescapeString(string(b))
}

func TestRedirects(t *testing.T) {
	ts := httptest.NewServer(demosite.Handler())
	defer ts.Close()
	tests := []struct {
		path   string
		status int
		to     string
	}{
		{"/promo", 301, "/promo/winter"},
		{"/promo/winter", 302, "/shop/sale"},
		{"/shop/sale", 200, ""},
		{"/members", 301, "/members/"},
		{"/members/", 301, "/members"},
	}
	for _, tt := range tests {
		resp, _ := get(t, noRedirects, ts.URL+tt.path)
		if resp.StatusCode != tt.status || resp.Header.Get("Location") != tt.to {
			t.Errorf("%s: %d to %q, want %d to %q", tt.path, resp.StatusCode, resp.Header.Get("Location"), tt.status, tt.to)
		}
	}
	var promo, loop *demosite.Page
	for _, p := range demosite.Pages() {
		switch p.Path {
		case "/promo":
			promo = &p
		case "/members":
			loop = &p
		}
	}
	if promo == nil || !slices.Equal(promo.Redirects, []string{"/promo/winter", "/shop/sale"}) || promo.Status != 200 {
		t.Errorf("Pages: /promo = %+v", promo)
	}
	if loop == nil || !loop.Loop || loop.Status != 0 {
		t.Errorf("Pages: /members = %+v", loop)
	}
}

func TestRobotsTxt(t *testing.T) {
	ts := httptest.NewServer(demosite.Handler())
	defer ts.Close()
	resp, body := get(t, http.DefaultClient, ts.URL+"/robots.txt")
	robots, err := robotstxt.FromStatusAndBytes(resp.StatusCode, body)
	if err != nil {
		t.Fatal(err)
	}
	trawl := robots.FindGroup("trawl")
	if trawl.CrawlDelay != demosite.CrawlDelay {
		t.Errorf("trawl's Crawl-delay %v, want %v", trawl.CrawlDelay, demosite.CrawlDelay)
	}
	if d := robots.FindGroup("otherbot").CrawlDelay; d <= demosite.CrawlDelay {
		t.Errorf("other agents' Crawl-delay %v, want more than trawl's", d)
	}
	if robots.TestAgent("/", "greedybot") {
		t.Error("greedybot is allowed /")
	}
	disallowed := 0
	for _, p := range demosite.Pages() {
		for _, agent := range []string{"trawl", "otherbot"} {
			if robots.TestAgent(p.Path, agent) == p.Disallowed {
				t.Errorf("%s: robots.txt allows it to %s: %v, want %v", p.Path, agent, !p.Disallowed, p.Disallowed)
			}
		}
		if p.Disallowed {
			disallowed++
		}
	}
	if disallowed < 2 {
		t.Errorf("%d disallowed pages, want some", disallowed)
	}
	if !slices.Equal(robots.Sitemaps, []string{ts.URL + "/sitemap.xml"}) {
		t.Errorf("Sitemap lines %q, want the absolute URL of /sitemap.xml", robots.Sitemaps)
	}
}

func TestSitemapsListRealPages(t *testing.T) {
	ts := httptest.NewServer(demosite.Handler())
	defer ts.Close()
	var index struct {
		Sitemaps []string `xml:"sitemap>loc"`
	}
	_, body := get(t, http.DefaultClient, ts.URL+"/sitemap.xml")
	if err := xml.Unmarshal(body, &index); err != nil {
		t.Fatalf("sitemap index: %v", err)
	}
	if len(index.Sitemaps) < 2 {
		t.Fatalf("sitemap index lists %q", index.Sitemaps)
	}
	listed := map[string]bool{}
	for _, sm := range index.Sitemaps {
		var set struct {
			URLs []string `xml:"url>loc"`
		}
		_, body := get(t, http.DefaultClient, sm)
		if err := xml.Unmarshal(body, &set); err != nil {
			t.Fatalf("%s: %v", sm, err)
		}
		for _, loc := range set.URLs {
			u, err := url.Parse(loc)
			if err != nil || u.Scheme+"://"+u.Host != ts.URL {
				t.Errorf("%s: loc %q is not an absolute URL of the site", sm, loc)
				continue
			}
			if listed[u.Path] {
				t.Errorf("%s listed twice", u.Path)
			}
			listed[u.Path] = true
		}
	}
	n := 0
	for _, p := range demosite.Pages() {
		if listed[p.Path] != p.InSitemap {
			t.Errorf("%s: listed %v, InSitemap %v", p.Path, listed[p.Path], p.InSitemap)
		}
		if p.InSitemap {
			n++
			if p.Status != 200 || p.Redirects != nil || p.Disallowed || p.NoIndex {
				t.Errorf("%s is in the sitemap but is not a plain page: %+v", p.Path, p)
			}
			if p.Delay > 0 {
				continue // answers 200 too, in its own time (TestSlowPage)
			}
			resp, _ := get(t, noRedirects, ts.URL+p.Path)
			if resp.StatusCode != 200 {
				t.Errorf("%s: status %d", p.Path, resp.StatusCode)
			}
		}
	}
	if n != len(listed) || n < 200 {
		t.Errorf("sitemaps list %d URLs, %d pages are InSitemap", len(listed), n)
	}
}

func TestBrokenTargets(t *testing.T) {
	ts := httptest.NewServer(demosite.Handler())
	defer ts.Close()
	broken := demosite.Broken()
	kinds := map[demosite.Kind]bool{}
	statuses := map[int]bool{}
	for _, b := range broken {
		kinds[b.Kind] = true
		statuses[b.Status] = true
		if len(b.From) == 0 {
			t.Errorf("%s: referenced from nowhere", b.URL)
		}
		if strings.HasPrefix(b.URL, "/") {
			resp, _ := get(t, noRedirects, ts.URL+b.URL)
			if resp.StatusCode != b.Status {
				t.Errorf("%s: status %d, want %d", b.URL, resp.StatusCode, b.Status)
			}
		} else if u, err := url.Parse(b.URL); err != nil || !strings.HasSuffix(u.Hostname(), ".invalid") || b.Status != 0 {
			t.Errorf("%s: off-site target that may resolve, or status %d", b.URL, b.Status)
		}
		// Every page it is listed under references it.
		for _, from := range b.From {
			_, body := get(t, http.DefaultClient, ts.URL+from)
			if !bytes.Contains(body, []byte(`="`+b.URL+`"`)) {
				t.Errorf("%s does not reference %s", from, b.URL)
			}
		}
	}
	for _, k := range []demosite.Kind{demosite.KindLink, demosite.KindImage, demosite.KindScript, demosite.KindStylesheet} {
		if !kinds[k] {
			t.Errorf("no broken %s", k)
		}
	}
	for _, s := range []int{0, 301, 404, 410, 500} {
		if !statuses[s] {
			t.Errorf("no broken target with status %d", s)
		}
	}
}

func TestSlowPage(t *testing.T) {
	ts := httptest.NewServer(demosite.Handler())
	defer ts.Close()
	var slow *demosite.Page
	for _, p := range demosite.Pages() {
		if p.Delay > 0 {
			slow = &p
		}
	}
	if slow == nil || slow.Delay != demosite.SlowDelay {
		t.Fatalf("slow page: %+v", slow)
	}
	// The handler answers after the delay, or gives up when the client
	// does: a short deadline must fail.
	ctx, cancel := context.WithTimeout(context.Background(), slow.Delay/20)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+slow.Path, nil)
	if resp, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		if err == nil {
			resp.Body.Close()
		}
		t.Fatalf("GET with a %v deadline: %v, want the deadline exceeded", slow.Delay/20, err)
	}
}

func TestStartCountsAndCloses(t *testing.T) {
	s, err := demosite.Start("")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Errorf("URL %q, want a loopback address", s.URL)
	}
	for range 2 {
		resp, _ := get(t, http.DefaultClient, s.URL+"/shop/?sort=price")
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if h := s.Hits(); h["/shop/"] != 2 || len(h) != 1 {
		t.Errorf("Hits = %v, want /shop/ twice", h)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.Close() // twice is fine
	c := &http.Client{Timeout: 5 * time.Second}
	if resp, err := c.Get(s.URL + "/"); err == nil {
		resp.Body.Close()
		t.Fatal("still serving after Close")
	}
}

func TestMethodNotAllowed(t *testing.T) {
	ts := httptest.NewServer(demosite.Handler())
	defer ts.Close()
	resp, err := http.Post(ts.URL+"/cart", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestPagesIsACopy(t *testing.T) {
	a := demosite.Pages()
	a[0].Path = "changed"
	a[0].Redirects = append(a[0].Redirects, "x")
	b := demosite.Broken()
	b[0].From[0] = "changed"
	if demosite.Pages()[0].Path == "changed" || demosite.Broken()[0].From[0] == "changed" {
		t.Error("Pages or Broken share memory with the site")
	}
}

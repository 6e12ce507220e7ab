package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trawlhq/trawl/internal/demosite"
)

// demoRecord is the part of a record the demo tests check.
type demoRecord struct {
	URL      string              `json:"url"`
	FinalURL string              `json:"final_url"`
	Status   int                 `json:"status"`
	Depth    int                 `json:"depth"`
	Title    string              `json:"title"`
	Error    string              `json:"error"`
	Data     map[string][]string `json:"data"`
}

// TestDemoCrawlsTheSite runs 'trawl demo -o FILE' in-process and checks
// the records against the demo site's own description: every page a polite
// crawler reaches is recorded once with its status and its title decoded
// from its charset, the disallowed pages are refused without a request, the
// redirect chain and loop are followed and reported, and --select extracts
// the product fields.
func TestDemoCrawlsTheSite(t *testing.T) {
	var site *demosite.Server
	start := startDemoSite
	startDemoSite = func(addr string) (*demosite.Server, error) {
		s, err := start(addr)
		site = s
		return s, err
	}
	defer func() { startDemoSite = start }()

	out := filepath.Join(t.TempDir(), "pages.jsonl")
	var stdout, stderr strings.Builder
	began := time.Now()
	err := Run(context.Background(), []string{"demo", "-o", out,
		"--select", "name=h1.product-name", "--select", "price=.price"}, &stdout, &stderr)
	t.Logf("demo crawl took %v", time.Since(began))
	if code := exitCode(err); code != 0 {
		t.Fatalf("exit %d: %v\nstderr:\n%s", code, err, stderr.String())
	}
	if site == nil {
		t.Fatal("the demo site was not started through startDemoSite")
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout has %d bytes with -o", stdout.Len())
	}

	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	records := map[string]demoRecord{}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var r demoRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("bad record %q: %v", line, err)
		}
		u, err := url.Parse(r.URL)
		if err != nil || u.Scheme+"://"+u.Host != site.URL {
			t.Fatalf("record of %q: not on the demo site %s", r.URL, site.URL)
		}
		if _, dup := records[u.Path]; dup {
			t.Errorf("%s recorded twice", u.Path)
		}
		records[u.Path] = r
	}

	hits := site.Hits()
	pages := demosite.Pages()
	known := map[string]bool{"/robots.txt": true}
	exported := 0
	for _, p := range pages {
		known[p.Path] = true
		for _, hop := range p.Redirects {
			known[hop] = true
		}
		r, ok := records[p.Path]
		switch {
		case p.NoIndex:
			if ok {
				t.Errorf("%s: noindex page exported", p.Path)
			}
			if hits[p.Path] == 0 {
				t.Errorf("%s: noindex page not fetched (its links are to be followed)", p.Path)
			}
			continue
		case !ok:
			t.Errorf("%s: no record", p.Path)
			continue
		}
		exported++
		if r.Depth < p.Depth {
			t.Errorf("%s: depth %d, but the site has no path to it shorter than %d links", p.Path, r.Depth, p.Depth)
		}
		switch {
		case p.Disallowed:
			if hits[p.Path] != 0 || r.Status != 0 || !strings.Contains(r.Error, "robots") {
				t.Errorf("%s: disallowed by robots.txt, yet %d requests, status %d, error %q", p.Path, hits[p.Path], r.Status, r.Error)
			}
		case p.Loop:
			if !strings.Contains(r.Error, "redirect loop") {
				t.Errorf("%s: error %q, want a redirect loop", p.Path, r.Error)
			}
		default:
			want := p.Title
			if p.Status >= 500 {
				want = "" // an error record after the retries: the body is not parsed
			}
			if r.Status != p.Status || r.Title != want {
				t.Errorf("%s: status %d title %q, want %d %q (%s)", p.Path, r.Status, r.Title, p.Status, want, p.Charset)
			}
			final := p.Path
			if n := len(p.Redirects); n > 0 {
				final = p.Redirects[n-1]
			}
			if r.FinalURL != site.URL+final {
				t.Errorf("%s: final_url %q, want %q", p.Path, r.FinalURL, site.URL+final)
			}
			if (r.Error != "") != (p.Status >= 500) {
				t.Errorf("%s: status %d with error %q", p.Path, r.Status, r.Error)
			}
		}
		if p.Product != nil && !(slices.Equal(r.Data["name"], []string{p.Product.Name}) && slices.Equal(r.Data["price"], []string{p.Product.Price})) {
			t.Errorf("%s: --select data %v, want name %q price %q", p.Path, r.Data, p.Product.Name, p.Product.Price)
		}
	}
	if len(records) != exported {
		for path := range records {
			if !known[path] {
				t.Errorf("record of %s, which the site does not list", path)
			}
		}
	}
	for path := range hits {
		if !known[path] {
			t.Errorf("requested %s, which no followed link leads to", path)
		}
	}
	if got := stderr.String(); !strings.Contains(got, "trawl: demo: crawling the built-in demo site at "+site.URL) ||
		!strings.Contains(got, "trawl: done: ") {
		t.Errorf("stderr lacks the demo line or the summary:\n%s", got)
	}
	if resp, err := http.Get(site.URL + "/"); err == nil {
		resp.Body.Close()
		t.Error("the demo site still serves after the crawl")
	}
}

func TestDemoServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	var stderr strings.Builder // written only before the URL and after ctx ends
	go func() {
		done <- Run(ctx, []string{"demo", "--serve", "--addr", "127.0.0.1:0"}, pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the URL: %v (Run: %v)", err, <-done)
	}
	base := strings.TrimSpace(line)
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/") {
		t.Fatalf("printed %q, want the site's URL", base)
	}
	resp, err := http.Get(base + "robots.txt")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Sitemap: "+base+"sitemap.xml") {
		t.Errorf("robots.txt:\n%s", body)
	}
	cancel()
	go io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		t.Fatalf("Run after the end of ctx: %v, want nil", err)
	}
	if resp, err := http.Get(base); err == nil {
		resp.Body.Close()
		t.Error("still serving after Run returned")
	}
}

func TestDemoUsage(t *testing.T) {
	runCases(t, []runCase{
		{[]string{"help", "demo"}, 0, "trawl demo --serve [--addr HOST:PORT]", ""},
		{[]string{"demo", "-h"}, 0, "--per-host N", ""},
		{[]string{"help"}, 0, "trawl demo [flags]", ""},
		{[]string{"demo", "https://example.com/"}, 2, "", `demo: unexpected argument "https://example.com/"`},
		{[]string{"demo", "--serve", "-o", "x.jsonl"}, 2, "", "--output would have no effect"},
		{[]string{"demo", "--workers", "0"}, 2, "", "--workers: must be at least 1"},
		{[]string{"demo", "--bogus"}, 2, "", "demo: unknown flag: --bogus"},
	})

}

package crawler_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"

	"github.com/trawlhq/trawl/crawler"
	"github.com/trawlhq/trawl/frontier/memory"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// Example crawls a three-page site with one session, an in-memory frontier
// and a pipeline whose only stage collects what was fetched.
func Example() {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nDisallow: /private\n")
		case "/":
			fmt.Fprint(w, `<a href="/about">About</a> <a href="/private">Private</a> <a href="https://example.org/">Elsewhere</a>`)
		case "/about":
			fmt.Fprint(w, `<title>About</title><a href="/">Home</a>`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer site.Close()

	sess, err := session.New(session.Config{})
	if err != nil {
		panic(err)
	}
	defer sess.Close()
	front := memory.New(memory.Config{})
	defer front.Close()

	var mu sync.Mutex
	var lines []string
	collect := pipeline.StageFunc(func(_ context.Context, p *pipeline.Page) error {
		r := p.Record()
		mu.Lock()
		defer mu.Unlock()
		line := fmt.Sprintf("%s status=%d depth=%d error=%q", r.URL, r.Status, r.Depth, r.Error)
		lines = append(lines, strings.ReplaceAll(line, site.URL, "")) // the port varies
		return nil
	})
	pipe, err := pipeline.New(pipeline.Config{Stages: []pipeline.Stage{collect}})
	if err != nil {
		panic(err)
	}
	defer pipe.Close()

	c, err := crawler.New(crawler.Config{Workers: 4, MaxDepth: 2}, sess, front, pipe)
	if err != nil {
		panic(err)
	}
	if err := c.Run(context.Background(), site.URL+"/"); err != nil {
		panic(err)
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	st := c.Stats()
	fmt.Printf("pages=%d ok=%d errors=%d\n", st.Pages, st.OK, st.Errors)
	// Output:
	// / status=200 depth=0 error=""
	// /about status=200 depth=1 error=""
	// /private status=0 depth=1 error="crawler: robots: disallowed: /private by /robots.txt"
	// pages=3 ok=2 errors=1
}

// ExampleConfig_follow leaves the session, frontier and pipeline to the
// crawler (nil) and follows only the links to /docs/ pages.
func ExampleConfig_follow() {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, `<a href="/docs/intro">Intro</a> <a href="/blog/">Blog</a>`)
		case "/docs/intro":
			fmt.Fprint(w, `<a href="/docs/more">More</a>`)
		case "/docs/more", "/blog/":
			fmt.Fprint(w, `<p>text</p>`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer site.Close()

	var mu sync.Mutex
	var lines []string
	collect := pipeline.StageFunc(func(_ context.Context, p *pipeline.Page) error {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf("%s %d", strings.TrimPrefix(p.URL, site.URL), p.Status))
		return nil
	})
	c, err := crawler.New(crawler.Config{
		Stages: []pipeline.Stage{collect},
		Follow: func(from *pipeline.Page, link pipeline.Link) bool {
			return strings.Contains(link.URL, "/docs/")
		},
	}, nil, nil, nil)
	if err != nil {
		panic(err)
	}
	if err := c.Run(context.Background(), site.URL+"/"); err != nil {
		panic(err)
	}
	sort.Strings(lines)
	fmt.Println(strings.Join(lines, "\n"))
	// Output:
	// / 200
	// /docs/intro 200
	// /docs/more 200
}

// ExampleConfig_beforeRequest sends a header of its own with every request
// and vetoes the /admin pages, which become error records.
func ExampleConfig_beforeRequest() {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			fmt.Fprintf(w, `<title>X-Crawl: %s</title><a href="/admin/">Admin</a> <a href="/about">About</a>`, r.Header.Get("X-Crawl"))
		case "/about":
			fmt.Fprintf(w, `<title>X-Crawl: %s</title>`, r.Header.Get("X-Crawl"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer site.Close()

	var mu sync.Mutex
	var lines []string
	collect := pipeline.StageFunc(func(_ context.Context, p *pipeline.Page) error {
		r := p.Record()
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf("%s %d %q %q", strings.TrimPrefix(r.URL, site.URL), r.Status, r.Title, r.Error))
		return nil
	})
	c, err := crawler.New(crawler.Config{
		Stages: []pipeline.Stage{collect},
		BeforeRequest: func(_ context.Context, r *crawler.Request) error {
			if strings.Contains(r.URL, "/admin/") {
				return errors.New("not for crawlers")
			}
			r.Header.Set("X-Crawl", "example")
			return nil
		},
	}, nil, nil, nil)
	if err != nil {
		panic(err)
	}
	if err := c.Run(context.Background(), site.URL+"/"); err != nil {
		panic(err)
	}
	sort.Strings(lines)
	fmt.Println(strings.Join(lines, "\n"))
	// Output:
	// / 200 "X-Crawl: example" ""
	// /about 200 "X-Crawl: example" ""
	// /admin/ 0 "" "crawler: request vetoed: not for crawlers"
}

package pipeline_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/trawlhq/trawl/pipeline"
)

// page is what the crawler hands to Process for a fetched HTML page.
func page(url, body string) *pipeline.Page {
	return &pipeline.Page{
		URL:       url,
		Status:    200,
		Header:    http.Header{"Content-Type": {"text/html; charset=utf-8"}},
		FetchedAt: time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC),
		Elapsed:   12 * time.Millisecond,
		Body:      []byte(body),
	}
}

// A pipeline that extracts two fields with CSS selectors and writes JSON
// Lines.
func Example() {
	sel, err := pipeline.Select(map[string]string{
		"name":  "h1",
		"price": ".price",
	})
	if err != nil {
		log.Fatal(err)
	}
	out := pipeline.NewJSONL(os.Stdout)
	pl, err := pipeline.New(pipeline.Config{Stages: []pipeline.Stage{sel, out}})
	if err != nil {
		log.Fatal(err)
	}
	defer pl.Close()

	p := page("http://shop.example/widget", `<title>Widget</title><h1>Widget</h1>
		<span class=price> 9.99 </span><a href="/gadget">next</a>`)
	if _, err := pl.Process(context.Background(), p); err != nil {
		log.Fatal(err)
	}
	// Output:
	// {"url":"http://shop.example/widget","final_url":"http://shop.example/widget","status":200,"depth":0,"referrer":"","content_type":"text/html","title":"Widget","bytes":96,"truncated":false,"elapsed_ms":12,"fetched_at":"2026-11-25T22:00:00.000Z","links":["http://shop.example/gadget"],"data":{"name":["Widget"],"price":["9.99"]},"error":""}
}

// Process extracts links: resolved against <base href>, normalized,
// without fragments, deduplicated, in document order. Nofollow links are
// listed but marked.
func ExamplePipeline_Process() {
	pl, err := pipeline.New(pipeline.Config{})
	if err != nil {
		log.Fatal(err)
	}
	p := page("https://Example.com/a/b.html", `<html><head><base href="/docs/">
		<link rel=canonical href="https://example.com/a/b.html#main"></head>
		<body><a href="intro.html#top">Intro</a> <a href="../about" rel="nofollow">About</a>
		<a href="INTRO.html">dup? no: paths are case-sensitive</a> <a href="intro.html">dup</a>
		<a href="mailto:team@example.com">mail</a> <iframe src="//cdn.example.com/embed"></iframe>`)
	rec, err := pl.Process(context.Background(), p)
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range p.Links {
		fmt.Println(l.URL, l.NoFollow)
	}
	fmt.Println("canonical:", p.Canonical)
	fmt.Println("record links:", len(rec.Links))
	// Output:
	// https://example.com/docs/intro.html false
	// https://example.com/about true
	// https://example.com/docs/INTRO.html false
	// https://cdn.example.com/embed false
	// canonical: https://example.com/a/b.html
	// record links: 4
}

// OnHTML runs a function for each element matching a selector, like
// Colly's OnHTML, as a stage fixed when the pipeline is built.
func ExampleOnHTML() {
	stage, err := pipeline.OnHTML("li.book", func(_ context.Context, p *pipeline.Page, e *goquery.Selection) error {
		title := strings.TrimSpace(e.Find(".title").Text())
		href, _ := e.Find("a").Attr("href")
		fmt.Printf("%s -> %s\n", title, p.AbsURL(href))
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	pl, err := pipeline.New(pipeline.Config{Stages: []pipeline.Stage{stage}})
	if err != nil {
		log.Fatal(err)
	}
	p := page("http://books.example/list", `<ul>
		<li class=book><span class=title>Dune</span> <a href="/b/1">more</a></li>
		<li class=book><span class=title>Emma</span> <a href="/b/2#reviews">more</a></li></ul>`)
	if _, err := pl.Process(context.Background(), p); err != nil {
		log.Fatal(err)
	}
	// Output:
	// Dune -> http://books.example/b/1
	// Emma -> http://books.example/b/2
}

// A filter drops pages before the exporters; a noindex page is crawled but
// not exported.
func ExampleFilter() {
	var out strings.Builder
	pl, err := pipeline.New(pipeline.Config{Stages: []pipeline.Stage{
		pipeline.Filter(func(p *pipeline.Page) bool { return p.Status == 200 }),
		pipeline.NewCSV(&out),
	}})
	if err != nil {
		log.Fatal(err)
	}
	ok := page("http://example.com/", `<title>Home</title>`)
	gone := page("http://example.com/gone", `<title>Not found</title>`)
	gone.Status = 404
	hidden := page("http://example.com/private", `<meta name=robots content=noindex><title>Private</title>`)
	for _, p := range []*pipeline.Page{ok, gone, hidden} {
		if _, err := pl.Process(context.Background(), p); err != nil {
			log.Fatal(err)
		}
	}
	if err := pl.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Print(out.String())
	s := pl.Stats()
	fmt.Println("exported", s.Exported, "dropped", s.Dropped, "noindex", s.NoIndex)
	// Output:
	// url,final_url,status,depth,referrer,content_type,title,bytes,truncated,elapsed_ms,fetched_at,links,data,error
	// http://example.com/,http://example.com/,200,0,,text/html,Home,19,false,12,2026-11-25T22:00:00.000Z,,{},
	// exported 1 dropped 1 noindex 1
}

// A CSV export of a recrawl: the not_modified, changed and gone columns
// follow error, and a data column per selected field comes last.
func ExampleNewCSVWith() {
	no := false
	at := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	ex := pipeline.NewCSVWith(os.Stdout, pipeline.CSVOptions{DataColumns: []string{"price"}, Recrawl: true})
	_ = ex.WriteRecord(pipeline.Record{URL: "https://shop.example/a", Status: 304, NotModified: true, Changed: &no, FetchedAt: at,
		Data: map[string][]string{"price": {"9.99"}}})
	_ = ex.WriteRecord(pipeline.Record{URL: "https://shop.example/b", Status: 410, Gone: true, Error: "410 Gone", FetchedAt: at})
	_ = ex.Close()
	// Output:
	// url,final_url,status,depth,referrer,content_type,title,bytes,truncated,elapsed_ms,fetched_at,links,error,not_modified,changed,gone,price
	// https://shop.example/a,,304,0,,,,0,false,0,2026-11-29T06:00:00.000Z,,,true,false,,9.99
	// https://shop.example/b,,410,0,,,,0,false,0,2026-11-29T06:00:00.000Z,,410 Gone,,,true,
}

package linkcheck

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/trawlhq/trawl/frontier/memory"
	"github.com/trawlhq/trawl/pipeline"
	"github.com/trawlhq/trawl/session"
)

// benchPage is a page like the bench's sitegen pages: paragraphs of text
// with ids, 20 links in various forms, some with fragments.
func benchPage(i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Page %d</title>\n</head>\n<body>\n", i)
	fmt.Fprintf(&b, "<header><nav><a href=\"/\">Home</a> | <a href=\"%d.html\">Next</a> | <a href=\"#content\">Skip</a></nav></header>\n<main id=\"content\">\n", i+1)
	for p := 0; p < 20; p++ {
		fmt.Fprintf(&b, "<p id=\"s%d\">Small during record from, system open several early harbor. From common northern forest water local museum garden design valley season source company open describes from. ", p)
		switch p % 4 {
		case 0:
			fmt.Fprintf(&b, "See <a href=\"http://127.0.0.1:8080/p/%d.html#s3\">Page</a>. ", (i*7+p)%5000)
		case 1:
			fmt.Fprintf(&b, "See <a href=\"%d.html\">Page</a>. ", (i*13+p)%5000)
		case 2:
			fmt.Fprintf(&b, "See <a href=\"./%d.html\">annual window</a>. ", (i*17+p)%5000)
		case 3:
			fmt.Fprintf(&b, "See <a href=\"/p/%d.html\">Page</a>. ", (i*19+p)%5000)
		}
		b.WriteString("Island the, by place to is journey to. Water island road small, modern forest early, moved central trade became from mountain records records.</p>\n")
	}
	b.WriteString("</main>\n<footer><a href=\"http://external.invalid/x\">x</a></footer></body>\n</html>\n")
	return b.String()
}

// BenchmarkScanRefs measures the reference scan of one page.
func BenchmarkScanRefs(b *testing.B) {
	doc := benchPage(3)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		scanRefs(doc)
	}
}

// BenchmarkStage measures the checker's stage on one page: the scan, the
// resolution of every reference and the bookkeeping of its targets (the
// pipeline's own extraction is BenchmarkPipelineAlone).
func BenchmarkStage(b *testing.B) {
	sess, err := session.New(session.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	c, err := New(Config{}, sess, memory.New(memory.Config{}))
	if err != nil {
		b.Fatal(err)
	}
	if err := c.crawl.Run(canceled(), "http://127.0.0.1:8080/"); err == nil {
		b.Fatal("want the crawl cancelled") // sets the seed host, fetches nothing
	}
	docs := make([]string, 100)
	for i := range docs {
		docs[i] = benchPage(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := &pipeline.Page{
			URL:    fmt.Sprintf("http://127.0.0.1:8080/p/%d.html", i%5000),
			Status: 200,
			Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}},
			Body:   []byte(docs[i%len(docs)]),
		}
		if err := (stage{c}).Process(context.Background(), p); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// BenchmarkPipelineAlone is BenchmarkStage's baseline: the pipeline's own
// extraction without the checker's stage.
func BenchmarkPipelineAlone(b *testing.B) {
	pl, err := pipeline.New(pipeline.Config{})
	if err != nil {
		b.Fatal(err)
	}
	docs := make([]string, 100)
	for i := range docs {
		docs[i] = benchPage(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := &pipeline.Page{
			URL:    fmt.Sprintf("http://127.0.0.1:8080/p/%d.html", i%5000),
			Status: 200,
			Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}},
			Body:   []byte(docs[i%len(docs)]),
		}
		if _, err := pl.Process(context.Background(), p); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

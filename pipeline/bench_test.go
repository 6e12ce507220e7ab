package pipeline

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// benchPage returns a ~16 KiB HTML page with 25 links, like the synthetic
// site the crawler is measured on.
func benchPage() []byte {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Synthetic page 42 — trawl benchmark</title>` +
		`<meta name="viewport" content="width=device-width"><link rel="canonical" href="/page/42"><link rel="stylesheet" href="/s.css">` +
		`<script>var x = "<a href='/not-a-link'>";</script></head><body><nav>`)
	for i := range 25 {
		switch i % 5 {
		case 0:
			b.WriteString(`<a href="/page/` + itoa(i) + `">Page ` + itoa(i) + `</a> `)
		case 1:
			b.WriteString(`<a class="rel" href="sub/` + itoa(i) + `?q=a&amp;r=b">Sub ` + itoa(i) + `</a> `)
		case 2:
			b.WriteString(`<a href="http://127.0.0.1:8080/abs/` + itoa(i) + `#frag" rel="nofollow">Abs</a> `)
		case 3:
			b.WriteString(`<a href="../up/` + itoa(i) + `" title="x">Up</a> `)
		case 4:
			b.WriteString(`<a href="/page/` + itoa(i) + `#section">Frag</a> `)
		}
		if i%8 == 0 {
			b.WriteString("</nav><div class=\"content\"><p>")
			b.WriteString(strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. ", 20))
			b.WriteString("</p></div><nav>")
		}
	}
	b.WriteString("</nav><footer>")
	for b.Len() < 16<<10-40 {
		b.WriteString("<p>filler text filler text filler text</p>")
	}
	b.WriteString("</footer></body></html>")
	return []byte(b.String())
}

func benchPageStruct(body []byte) *Page {
	return &Page{
		URL:       "http://127.0.0.1:8080/dir/page/42",
		Status:    200,
		Header:    http.Header{"Content-Type": {"text/html; charset=utf-8"}},
		FetchedAt: time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC),
		Elapsed:   3 * time.Millisecond,
		Body:      body,
	}
}

// BenchmarkExtract measures Process with no stages: charset check, one
// tokenizer pass, link resolution and normalization, per 16 KiB page.
func BenchmarkExtract(b *testing.B) {
	body := benchPage()
	pl, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	p := benchPageStruct(body)
	pl.Process(context.Background(), p)
	if len(p.Links) < 20 {
		b.Fatalf("only %d links", len(p.Links))
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		p := benchPageStruct(body)
		if _, err := pl.Process(context.Background(), p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGoqueryBaseline is the reference the crawler is measured
// against: goquery parse of the same page plus a[href] extraction and
// resolution.
func BenchmarkGoqueryBaseline(b *testing.B) {
	body := benchPage()
	base, _ := url.Parse("http://127.0.0.1:8080/dir/page/42")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		var links []string
		doc.Find("a[href]").Each(func(_ int, s *goquery.Selection) {
			href, _ := s.Attr("href")
			if u, err := base.Parse(href); err == nil {
				links = append(links, u.String())
			}
		})
		_ = doc.Find("title").Text()
	}
}

// BenchmarkJSONLExport measures one record written by the JSONL exporter.
func BenchmarkJSONLExport(b *testing.B) {
	p := benchPageStruct(benchPage())
	pl, _ := New(Config{})
	pl.Process(context.Background(), p)
	p.Data = map[string][]string{"price": {"9.99"}, "name": {"Widget"}}
	ex := NewJSONL(io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		if err := ex.Process(context.Background(), p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCSVExport measures one record written by the CSV exporter.
func BenchmarkCSVExport(b *testing.B) {
	p := benchPageStruct(benchPage())
	pl, _ := New(Config{})
	pl.Process(context.Background(), p)
	p.Data = map[string][]string{"price": {"9.99"}, "name": {"Widget"}}
	ex := NewCSV(io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		if err := ex.Process(context.Background(), p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSelect measures a CSS extraction stage, which builds the goquery
// document lazily.
func BenchmarkSelect(b *testing.B) {
	body := benchPage()
	sel, err := Select(map[string]string{"title": "title", "links": "a@abs:href", "para": "div.content p"})
	if err != nil {
		b.Fatal(err)
	}
	pl, _ := New(Config{Stages: []Stage{sel}})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pl.Process(context.Background(), benchPageStruct(body)); err != nil {
			b.Fatal(err)
		}
	}
}

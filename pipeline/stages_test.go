package pipeline

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

const shop = `<html><head><base href="/shop/"><title>Shop</title></head><body>
<div class="item"><h2> Widget </h2><span class="price">9.99</span><a href="widget#top" class="more">more</a></div>
<div class="item"><h2>Gadget
</h2><span class="price"> 19.50 </span><a class="more">no href</a></div>
<a href="mailto:x@example.com" class="more">mail</a>
<img src="/i.png" data-x="@at">
</body></html>`

func TestSelect(t *testing.T) {
	sel, err := Select(map[string]string{
		"name":    "div.item h2",
		"price":   ".price",
		"more":    "a.more@href",
		"moreabs": "a.more@abs:href",
		"none":    "table td",
		"at":      `img[data-x*="@"]@data-x`,
		"upper":   "img@SRC",
	})
	if err != nil {
		t.Fatal(err)
	}
	p := htmlPage("http://example.com/index.html", shop)
	rec := process(t, Config{Stages: []Stage{sel}}, p)
	want := map[string][]string{
		"name":    {"Widget", "Gadget"},
		"price":   {"9.99", "19.50"},
		"more":    {"widget#top", "mailto:x@example.com"},
		"moreabs": {"http://example.com/shop/widget"},
		"none":    {},
		"at":      {"@at"},
		"upper":   {"/i.png"},
	}
	if !reflect.DeepEqual(rec.Data, want) {
		t.Errorf("data = %q\nwant   %q", rec.Data, want)
	}
	if rec.Error != "" {
		t.Errorf("error = %q", rec.Error)
	}
}

func TestSelectNonHTML(t *testing.T) {
	sel, err := Select(map[string]string{"x": "p"})
	if err != nil {
		t.Fatal(err)
	}
	p := &Page{URL: "http://example.com/a.json", Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{}`)}
	rec := process(t, Config{Stages: []Stage{sel}}, p)
	if len(rec.Data) != 0 || rec.Error != "" {
		t.Errorf("non-HTML page: data %v error %q", rec.Data, rec.Error)
	}
}

func TestSelectInvalid(t *testing.T) {
	tests := []struct {
		fields map[string]string
		want   string
	}{
		{map[string]string{"ok": "p", "price": "div[class="}, `pipeline: select field "price": invalid selector "div[class="`},
		{map[string]string{"title": "@href"}, `pipeline: select field "title": empty selector in "@href"`},
		{map[string]string{"": "p"}, `pipeline: select: empty field name for selector "p"`},
		{map[string]string{"bad": "p >> q"}, `pipeline: select field "bad": invalid selector "p >> q"`},
	}
	for _, tt := range tests {
		_, err := Select(tt.fields)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Select(%v) error = %v, want prefix %q", tt.fields, err, tt.want)
		}
	}
}

func TestOnHTML(t *testing.T) {
	stage, err := OnHTML("div.item", func(_ context.Context, p *Page, e *goquery.Selection) error {
		if p.Data == nil {
			p.Data = map[string][]string{}
		}
		p.Data["items"] = append(p.Data["items"], strings.TrimSpace(e.Find("h2").Text())+"="+strings.TrimSpace(e.Find(".price").Text()))
		if href, ok := e.Find("a[href]").Attr("href"); ok {
			p.Data["links"] = append(p.Data["links"], p.AbsURL(href))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p := htmlPage("http://example.com/", shop)
	rec := process(t, Config{Stages: []Stage{stage}}, p)
	want := map[string][]string{"items": {"Widget=9.99", "Gadget=19.50"}, "links": {"http://example.com/shop/widget"}}
	if !reflect.DeepEqual(rec.Data, want) {
		t.Errorf("data = %q, want %q", rec.Data, want)
	}

	if _, err := OnHTML("div[", func(context.Context, *Page, *goquery.Selection) error { return nil }); err == nil || !strings.Contains(err.Error(), `"div["`) {
		t.Errorf("invalid selector error = %v", err)
	}
	if _, err := OnHTML("div", nil); err == nil {
		t.Error("nil func accepted")
	}
}

func TestOnHTMLStopsAtFirstError(t *testing.T) {
	calls := 0
	stage := MustOnHTML("div.item", func(context.Context, *Page, *goquery.Selection) error {
		calls++
		return errors.New("cannot parse item")
	})
	rec := process(t, Config{Stages: []Stage{stage}}, htmlPage("http://example.com/", shop))
	if calls != 1 {
		t.Errorf("fn called %d times after an error", calls)
	}
	if rec.Error != "stage 1 (OnHTML div.item): cannot parse item" {
		t.Errorf("record error = %q", rec.Error)
	}
}

func TestDocParsedOnce(t *testing.T) {
	p := htmlPage("http://example.com/", shop)
	var docs []*goquery.Document
	grab := StageFunc(func(_ context.Context, p *Page) error {
		d, err := p.Doc()
		docs = append(docs, d)
		return err
	})
	process(t, Config{Stages: []Stage{grab, grab}}, p)
	if len(docs) != 2 || docs[0] == nil || docs[0] != docs[1] {
		t.Errorf("stages got documents %p, want one shared", docs)
	}
	if p.doc != docs[0] {
		t.Error("document not kept on the page")
	}
	q := htmlPage("http://example.com/", shop)
	process(t, Config{}, q)
	if q.doc != nil {
		t.Error("document built although no stage asked for it")
	}
}

package pipeline

import (
	"bytes"
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

type product struct {
	Name   string    `json:"name"`
	Price  float64   `json:"price" csv:"price_eur"`
	Tags   []string  `json:"tags"`
	Seen   time.Time `json:"-" csv:"seen"`
	Secret string    `json:"-" csv:"-"`
	hidden int
}

type other struct{ X int }

// writeLog records every Write call.
type writeLog struct {
	writes []string
	fail   error
}

func (w *writeLog) Write(b []byte) (int, error) {
	if w.fail != nil {
		return 0, w.fail
	}
	w.writes = append(w.writes, string(b))
	return len(b), nil
}

// itemsPage runs a page whose OnHTML stage emits one product per
// .product element (and one item of another type) through stages.
func itemsPage(t *testing.T, body string, stages ...Stage) (*Page, error) {
	t.Helper()
	seen := time.Date(2026, 11, 29, 7, 0, 0, 0, time.UTC)
	emit := MustOnHTML(".product", func(_ context.Context, p *Page, e *goquery.Selection) error {
		p.Emit(product{Name: e.Find("h2").Text(), Price: 9.5, Tags: []string{"a", "b"}, Seen: seen, Secret: "s", hidden: 1})
		return nil
	})
	other := StageFunc(func(_ context.Context, p *Page) error { p.Emit(other{1}); return nil })
	pl, err := New(Config{Stages: append([]Stage{emit, other}, stages...)})
	if err != nil {
		t.Fatal(err)
	}
	p := htmlPage("http://example.com/", body)
	_, err = pl.Process(context.Background(), p)
	return p, err
}

const twoProducts = `<div class=product><h2>Tea</h2></div><div class=product><h2>Cup, "big"</h2></div>`

// TestItemJSONL: each item of the exporter's type is one line, written in
// its own Write call; items of other types are not its business.
func TestItemJSONL(t *testing.T) {
	var w writeLog
	ex := NewItemJSONL[product](&w)
	p, err := itemsPage(t, twoProducts, ex)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"name":"Tea","price":9.5,"tags":["a","b"]}` + "\n",
		`{"name":"Cup, \"big\"","price":9.5,"tags":["a","b"]}` + "\n",
	}
	if !reflect.DeepEqual(w.writes, want) || ex.Items() != 2 {
		t.Errorf("writes %q (%d items), want %q", w.writes, ex.Items(), want)
	}
	if got := ItemsOf[product](p); len(got) != 2 || got[1].Name != `Cup, "big"` || len(p.Items()) != 3 {
		t.Errorf("ItemsOf = %+v, Items = %v", got, p.Items())
	}
}

// TestItemCSV: one column per exported field, named by csv then json tag;
// the header comes with the first item, in the same Write.
func TestItemCSV(t *testing.T) {
	var w writeLog
	ex, err := NewItemCSV[*product](&w)
	if err != nil {
		t.Fatal(err)
	}
	if got := ex.Columns(); !reflect.DeepEqual(got, []string{"name", "price_eur", "tags", "seen"}) {
		t.Fatalf("columns %q", got)
	}
	pl, err := New(Config{Stages: []Stage{StageFunc(func(_ context.Context, p *Page) error {
		p.Emit(&product{Name: "Tea", Price: 2, Tags: []string{"x", "y"}, Seen: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
		p.Emit((*product)(nil))
		return nil
	}), ex}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pl.Process(context.Background(), htmlPage("http://example.com/", "")); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"name,price_eur,tags,seen\nTea,2,\"x\ny\",2026-01-02T03:04:05Z\n",
		",,,\n",
	}
	if !reflect.DeepEqual(w.writes, want) {
		t.Errorf("writes %q, want %q", w.writes, want)
	}
	if _, err := NewItemCSV[string](&w); err == nil {
		t.Error("NewItemCSV accepted a non-struct type")
	}
}

// TestItemExporterContract: item exporters are exporters: skipped on
// noindex pages, their write errors returned (a crawl stops rather than
// lose an item), closed with the pipeline.
func TestItemExporterContract(t *testing.T) {
	var w writeLog
	ex := NewItemJSONL[product](&w)
	if _, err := itemsPage(t, `<meta name=robots content=noindex>`+twoProducts, ex); err != nil || len(w.writes) != 0 {
		t.Errorf("noindex page: %v, %d writes, want none", err, len(w.writes))
	}
	w.fail = errors.New("disk full")
	if _, err := itemsPage(t, twoProducts, ex); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("failing writer: %v, want the error returned", err)
	}
	ex.Close()
	w.fail = nil
	if err := ex.Write(product{}); !errors.Is(err, ErrExporterClosed) {
		t.Errorf("write after Close: %v", err)
	}
	var buf bytes.Buffer
	c, _ := NewItemCSV[product](&buf)
	c.Close()
	if buf.String() != "name,price_eur,tags,seen\n" {
		t.Errorf("CSV closed without items wrote %q, want the header", buf.String())
	}
}

// Example of typed items: an OnHTML stage emits one value of the caller's
// type per matching element and an item exporter writes them as JSON
// Lines.
func ExampleNewItemJSONL() {
	type Product struct {
		Name  string `json:"name"`
		Price string `json:"price"`
	}
	pl, _ := New(Config{Stages: []Stage{
		MustOnHTML(".product", func(_ context.Context, p *Page, e *goquery.Selection) error {
			p.Emit(Product{Name: e.Find("h2").Text(), Price: e.Find(".price").Text()})
			return nil
		}),
		NewItemJSONL[Product](os.Stdout),
	}})
	defer pl.Close()
	page := &Page{URL: "http://shop.example/", Status: 200, Body: []byte(
		`<div class=product><h2>Tea</h2><span class=price>4.50</span></div>` +
			`<div class=product><h2>Cup</h2><span class=price>9.00</span></div>`)}
	pl.Process(context.Background(), page)
	// Output:
	// {"name":"Tea","price":"4.50"}
	// {"name":"Cup","price":"9.00"}
}

package recrawl_test

import (
	"strings"
	"testing"

	"github.com/trawlhq/trawl/crawler/recrawl"
	"github.com/trawlhq/trawl/crawler/recrawl/recrawltest"
)

// TestCodecLinkFields: a link's tag, attribute, rel and anchor text
// survive the store, common kinds and others alike, and so does the
// page's data (Sample has some).
func TestCodecLinkFields(t *testing.T) {
	p := recrawltest.Sample("http://a.example/p", 4)
	p.Links = append(p.Links,
		recrawl.Link{URL: "http://a.example/q", Tag: "area", Attr: "href", Text: "map region"},
		recrawl.Link{URL: "http://a.example/f", Tag: "frame", Attr: "src"},
		recrawl.Link{URL: "http://a.example/m", Tag: "meta", Attr: "content", Rel: "x"},
		recrawl.Link{URL: "http://a.example/c", Tag: "a", Attr: "data-href"},
		recrawl.Link{URL: "http://a.example/e", Text: "no tag"})
	b, err := p.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	got := &recrawl.Page{URL: p.URL}
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if diff := recrawltest.Equal(got, p); diff != "" {
		t.Fatal(diff)
	}
	if len(got.Data) != 3 || got.Data["price"][0] != "4.99" || got.DataVersion != "v1" {
		t.Errorf("data %v version %q, want Sample's", got.Data, got.DataVersion)
	}
	// Damaged data: names out of order.
	q := &recrawl.Page{URL: "http://x/", Data: map[string][]string{"a": {"1"}, "b": {"2"}}}
	b, err = q.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndex(string(b), "a\x01\x011")
	j := strings.LastIndex(string(b), "b\x01\x012")
	if i < 0 || j < 0 {
		t.Fatalf("fields not found in %q", b)
	}
	b[i], b[j] = 'b', 'a'
	if err := (&recrawl.Page{URL: q.URL}).UnmarshalBinary(b); err == nil {
		t.Error("data with names out of order decoded")
	}
}

// TestCodecVersion2: records written before links kept their tag,
// attribute, rel and text (version 2) still decode, their links with URL
// and nofollow; a version 2 link byte other than 0 or 1 is damage.
func TestCodecVersion2(t *testing.T) {
	p := recrawltest.Sample("http://a.example/p", 3)
	p.Links = []recrawl.Link{{URL: "http://a.example/p/x"}, {URL: "http://b.example/", NoFollow: true}}
	withData, err := p.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	withData[0] = 2
	if err := (&recrawl.Page{URL: p.URL}).UnmarshalBinary(withData); err == nil {
		t.Fatal("a version 2 record with stored data decoded")
	}
	p.Data, p.DataVersion = nil, ""
	b, err := p.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 3 {
		t.Fatalf("version byte %d, want 3", b[0])
	}
	// Links without the new fields are laid out as version 2 laid them out.
	b[0] = 2
	got := &recrawl.Page{URL: p.URL}
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatalf("version 2 record: %v", err)
	}
	if diff := recrawltest.Equal(got, p); diff != "" {
		t.Fatal(diff)
	}
	if d, err := recrawl.DecodeDepth(b); err != nil || d != p.Depth {
		t.Fatalf("DecodeDepth of a version 2 record = %d, %v", d, err)
	}
	// A rel flag is not version 2.
	p.Links[0].Rel = "nofollow"
	b, err = p.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	b[0] = 2
	if err := (&recrawl.Page{URL: p.URL}).UnmarshalBinary(b); err == nil {
		t.Fatal("a version 2 record with a version 3 link decoded")
	}
	b[0] = 4
	if err := (&recrawl.Page{URL: p.URL}).UnmarshalBinary(b); err == nil {
		t.Fatal("version 4 decoded")
	}
}

// BenchmarkUnmarshalPage: decoding a stored page of 20 links, what every
// 304 of a recrawl costs.
func BenchmarkUnmarshalPage(b *testing.B) {
	p := recrawltest.Sample("http://www.example.com/products/garden/item-0001234", 1)
	p.Links = nil
	for i := range 20 {
		p.Links = append(p.Links, recrawl.Link{URL: p.URL + "/related/" + string(rune('a'+i)) + "/item",
			Tag: "a", Attr: "href", Text: "Related item, 30 m"})
	}
	data, err := p.AppendBinary(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		q := &recrawl.Page{URL: p.URL}
		if err := q.UnmarshalBinary(data); err != nil {
			b.Fatal(err)
		}
	}
}

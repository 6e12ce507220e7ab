package pipeline

import (
	"bytes"
	"encoding/csv"
	"slices"
	"testing"
)

// TestCSVRecrawlColumns: with Recrawl, every record carries not_modified,
// changed and gone after error, empty where the record has no such field;
// data columns, when chosen, still come last. encoding/csv reads it back.
func TestCSVRecrawlColumns(t *testing.T) {
	yes, no := true, false
	recs := []Record{
		{URL: "http://a.test/new", Status: 200},
		{URL: "http://a.test/304", Status: 304, NotModified: true, Changed: &no},
		{URL: "http://a.test/same", Status: 200, Changed: &no, Data: map[string][]string{"price": {"1"}}},
		{URL: "http://a.test/edit", Status: 200, Changed: &yes},
		{URL: "http://a.test/gone", Status: 404, Gone: true, Error: "404 Not Found"},
	}
	want := map[string][3]string{
		"http://a.test/new":  {"", "", ""},
		"http://a.test/304":  {"true", "false", ""},
		"http://a.test/same": {"", "false", ""},
		"http://a.test/edit": {"", "true", ""},
		"http://a.test/gone": {"", "", "true"},
	}
	for _, opt := range []CSVOptions{{Recrawl: true}, {Recrawl: true, DataColumns: []string{"price"}}} {
		var buf bytes.Buffer
		c := NewCSVWith(&buf, opt)
		for _, r := range recs {
			if err := c.WriteRecord(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("%+v: %v\n%s", opt, err, buf.String())
		}
		header := rows[0]
		if !slices.Equal(header, c.Columns()) {
			t.Errorf("%+v: header %v, Columns %v", opt, header, c.Columns())
		}
		col := func(name string) int {
			i := slices.Index(header, name)
			if i < 0 {
				t.Fatalf("%+v: no column %q in %v", opt, name, header)
			}
			return i
		}
		errCol := col("error")
		if col("not_modified") != errCol+1 || col("changed") != errCol+2 || col("gone") != errCol+3 {
			t.Errorf("%+v: recrawl columns not right after error: %v", opt, header)
		}
		if len(opt.DataColumns) > 0 && header[len(header)-1] != "price" {
			t.Errorf("%+v: data column not last: %v", opt, header)
		}
		for _, row := range rows[1:] {
			if len(row) != len(header) {
				t.Fatalf("%+v: row of %d cells under %d columns: %v", opt, len(row), len(header), row)
			}
			w := want[row[col("url")]]
			got := [3]string{row[col("not_modified")], row[col("changed")], row[col("gone")]}
			if got != w {
				t.Errorf("%+v: %s: not_modified/changed/gone %q, want %q", opt, row[col("url")], got, w)
			}
		}
	}
	// Without Recrawl the columns are the documented ones.
	if got := NewCSVWith(&bytes.Buffer{}, CSVOptions{}).Columns(); !slices.Equal(got, CSVColumns) {
		t.Errorf("zero CSVOptions: columns %v, want CSVColumns", got)
	}
}

package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingWriter keeps every Write call separately.
type recordingWriter struct {
	mu     sync.Mutex
	writes [][]byte
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, bytes.Clone(b))
	return len(b), nil
}

func (w *recordingWriter) all() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Join(w.writes, nil)
}

// tricky returns a page whose record exercises escaping.
func tricky(i int) *Page {
	body := `<title>"Quotes", commas, new
lines &amp; ünïcode ☃ ` + "\u2028 \t tab" + `</title><a href="/a?x=1,2">a</a><a href="/b">b</a>`
	p := &Page{
		URL:       "http://example.com/p/" + itoa(i),
		Status:    200,
		Header:    http.Header{"Content-Type": {"text/html"}},
		Depth:     i % 3,
		Referrer:  "http://example.com/",
		Elapsed:   1500 * time.Microsecond,
		FetchedAt: time.Date(2026, 11, 25, 22, 0, 0, 123456789, time.FixedZone("X", 3600)),
		Body:      []byte(body),
	}
	if i%2 == 1 {
		p.Data = map[string][]string{"price": {"9,99 €", `say "hi"`}, "empty": {}, "ctl": {"\x01\x1f"}}
	}
	return p
}

func TestJSONLConcurrentWriters(t *testing.T) {
	const writers, each = 8, 50
	w := &recordingWriter{}
	ex := NewJSONL(w)
	sel, err := Select(map[string]string{"first": "a@abs:href"})
	if err != nil {
		t.Fatal(err)
	}
	pl, err := New(Config{Stages: []Stage{sel, ex}})
	if err != nil {
		t.Fatal(err)
	}
	processConcurrently(t, pl, writers, each)
	if len(w.writes) != writers*each {
		t.Fatalf("%d Write calls for %d records, want one each", len(w.writes), writers*each)
	}
	seen := map[string]bool{}
	for _, wr := range w.writes {
		if bytes.Count(wr, []byte("\n")) != 1 || wr[len(wr)-1] != '\n' {
			t.Fatalf("write is not exactly one line: %q", wr)
		}
		var r Record
		if err := json.Unmarshal(wr, &r); err != nil {
			t.Fatalf("invalid JSON line %q: %v", wr, err)
		}
		seen[r.URL] = true
	}
	if len(seen) != writers*each {
		t.Errorf("%d distinct records, want %d", len(seen), writers*each)
	}
}

func TestRecordJSON(t *testing.T) {
	for i := range 2 {
		p := tricky(i)
		pl, _ := New(Config{})
		rec, err := pl.Process(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		var back Record
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		// The hand-written encoding round-trips through encoding/json
		// (time at millisecond precision, in UTC).
		want := rec
		want.FetchedAt = rec.FetchedAt.UTC().Truncate(time.Millisecond)
		if !reflect.DeepEqual(back, want) {
			t.Errorf("round trip:\n got %+v\nwant %+v", back, want)
		}
		var generic map[string]any
		json.Unmarshal(b, &generic)
		keys := []string{"url", "final_url", "status", "depth", "referrer", "content_type", "title", "bytes",
			"truncated", "elapsed_ms", "fetched_at", "links", "data", "error"}
		if len(generic) != len(keys) {
			t.Errorf("record has %d fields, want %d: %s", len(generic), len(keys), b)
		}
		for _, k := range keys {
			if _, ok := generic[k]; !ok {
				t.Errorf("record lacks %q: %s", k, b)
			}
		}
		if got := generic["fetched_at"]; got != "2026-11-25T21:00:00.123Z" {
			t.Errorf("fetched_at = %v", got)
		}
		if got := generic["elapsed_ms"]; got != 1.0 {
			t.Errorf("elapsed_ms = %v", got)
		}
	}
}

func TestRecordEmptyCollections(t *testing.T) {
	p := &Page{URL: "http://example.com/x", Err: errors.New("crawler: http://example.com/x: disallowed by robots.txt")}
	b, _ := json.Marshal(p.Record())
	for _, want := range []string{`"links":[]`, `"data":{}`, `"status":0`, `"final_url":""`, `"content_type":""`,
		`"error":"crawler: http://example.com/x: disallowed by robots.txt"`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("record %s lacks %s", b, want)
		}
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "a\"b\\c", "\x00\x01\x1f\x7f", "\n\r\t", "é☃𝄞", "\xff\xfe bad", "\u2028\u2029", "<>&"} {
		got := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q encodes to invalid JSON %s: %v", s, got, err)
			continue
		}
		std, _ := json.Marshal(s)
		var want string
		json.Unmarshal(std, &want)
		if back != want {
			t.Errorf("%q round-trips to %q", s, back)
		}
	}
}

func TestCSVConcurrentWriters(t *testing.T) {
	const writers, each = 8, 50
	w := &recordingWriter{}
	ex := NewCSV(w)
	pl, err := New(Config{Stages: []Stage{ex}})
	if err != nil {
		t.Fatal(err)
	}
	processConcurrently(t, pl, writers, each)
	if len(w.writes) != writers*each {
		t.Fatalf("%d Write calls for %d records, want one each (header with the first)", len(w.writes), writers*each)
	}
	// Every single write is a whole number of CSV rows.
	for _, wr := range w.writes {
		rows, err := csv.NewReader(bytes.NewReader(wr)).ReadAll()
		if err != nil {
			t.Fatalf("write %q is not whole CSV: %v", wr, err)
		}
		if len(rows) < 1 || len(rows) > 2 {
			t.Fatalf("write has %d rows", len(rows))
		}
	}
	rows, err := csv.NewReader(bytes.NewReader(w.all())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows[0], CSVColumns) {
		t.Fatalf("header = %q", rows[0])
	}
	if len(rows) != writers*each+1 {
		t.Fatalf("%d rows, want %d", len(rows), writers*each+1)
	}
	for _, row := range rows[1:] {
		if len(row) != len(CSVColumns) {
			t.Fatalf("row has %d fields: %q", len(row), row)
		}
		var data map[string][]string
		if err := json.Unmarshal([]byte(row[12]), &data); err != nil {
			t.Fatalf("data column %q: %v", row[12], err)
		}
		if !strings.Contains(row[6], "\"Quotes\", commas, new lines & ünïcode") {
			t.Errorf("title column %q", row[6])
		}
		if row[11] != "http://example.com/a?x=1,2 http://example.com/b" {
			t.Errorf("links column %q", row[11])
		}
		if row[10] != "2026-11-25T21:00:00.123Z" {
			t.Errorf("fetched_at column %q", row[10])
		}
	}
}

func TestCSVColumns(t *testing.T) {
	var buf bytes.Buffer
	ex := NewCSVColumns(&buf, "price", "missing")
	if err := ex.Process(context.Background(), tricky(1)); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := append(append([]string{}, CSVColumns[:12]...), "error", "price", "missing")
	if !reflect.DeepEqual(rows[0], wantHeader) || !reflect.DeepEqual(ex.Columns(), wantHeader) {
		t.Fatalf("header = %q, want %q", rows[0], wantHeader)
	}
	if got := rows[1][13:]; !reflect.DeepEqual(got, []string{"9,99 €\nsay \"hi\"", ""}) {
		t.Errorf("data cells = %q", got)
	}
}

func TestCSVHeaderWithoutRecords(t *testing.T) {
	var buf bytes.Buffer
	ex := NewCSV(&buf)
	if err := ex.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ex.Close(); err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(CSVColumns, ",") + "\n"; buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

func TestExporterFlushesBufferedWriter(t *testing.T) {
	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	ex := NewJSONL(bw)
	if err := ex.WriteRecord(tricky(0).Record()); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Fatal("bufio.Writer flushed early; test is not testing Flush")
	}
	if err := ex.Flush(); err != nil {
		t.Fatal(err)
	}
	if out.Len() == 0 {
		t.Error("Flush did not flush the underlying writer")
	}
	var _ io.Writer = bw
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00\xff", "\u2028", "é☃", `\u0000`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q encodes to invalid JSON %s: %v", s, got, err)
		}
		std, _ := json.Marshal(s)
		var want string
		if err := json.Unmarshal(std, &want); err != nil {
			t.Fatal(err)
		}
		if back != want {
			t.Errorf("%q decodes to %q, encoding/json's to %q", s, back, want)
		}
	})
}

// processConcurrently sends tricky pages 0 to writers*each-1 through pl from
// writers goroutines, each records, then closes pl.
func processConcurrently(t *testing.T, pl *Pipeline, writers, each int) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := pl.Process(context.Background(), tricky(g*each+i)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := pl.Close(); err != nil {
		t.Fatal(err)
	}
}

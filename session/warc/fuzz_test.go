package warc_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trawlhq/trawl/session/warc"
)

// FuzzReader: the reader never panics or loops on any input, and every
// record it returns has a block of its Content-Length.
func FuzzReader(f *testing.F) {
	dir := f.TempDir()
	w, err := warc.Open(warc.Config{Prefix: filepath.Join(dir, "seed")})
	if err != nil {
		f.Fatal(err)
	}
	w.Write(response("/a", "hello"), response("/b", ""))
	w.Close()
	seed, _ := os.ReadFile(filepath.Join(dir, "seed-00000.warc.gz"))
	f.Add(seed)
	f.Add(seed[:len(seed)-7])
	f.Add([]byte("WARC/1.1\r\nWARC-Type: response\r\nContent-Length: 5\r\n\r\nhello\r\n\r\n"))
	f.Add([]byte("WARC/1.1\r\nWARC-Type: x\r\n folded\r\nContent-Length: 99999999999\r\n\r\nhe"))
	f.Add([]byte("\x1f\x8b\x08\x00garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := warc.NewReader(bytes.NewReader(data))
		var end int64
		for i := 0; ; i++ {
			rec, loc, err := r.Next()
			if err != nil {
				if _, _, err2 := r.Next(); !errors.Is(err2, err) && err2.Error() != err.Error() {
					t.Fatalf("after %v, Next returned %v", err, err2)
				}
				return
			}
			b, _ := io.ReadAll(rec.Block)
			if int64(len(b)) != rec.Length {
				t.Fatalf("record %d: block %d bytes, Content-Length %d", i, len(b), rec.Length)
			}
			if loc.Offset != end || loc.Length <= 0 {
				t.Fatalf("record %d at %d+%d, previous ended at %d", i, loc.Offset, loc.Length, end)
			}
			end = loc.Offset + loc.Length
		}
	})
}

// FuzzWriteRead: whatever fields and block a record has, what is read back
// is what was written (field values on one line).
func FuzzWriteRead(f *testing.F) {
	f.Add("response", "http://example.com/", []byte("HTTP/1.1 200 OK\r\n\r\nbody"))
	f.Add("metadata", "a\r\nb", []byte{})
	f.Add("resource", " spaced ", []byte("\r\n\r\n"))
	f.Fuzz(func(t *testing.T, typ, value string, block []byte) {
		dir := t.TempDir()
		w, err := warc.Open(warc.Config{Prefix: filepath.Join(dir, "f")})
		if err != nil {
			t.Fatal(err)
		}
		date := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
		in := &warc.Record{Type: typ, Date: date, Fields: []warc.Field{{Name: "X-Value", Value: value}},
			Block: bytes.NewReader(block), Length: int64(len(block))}
		_, err = w.Write(in)
		w.Close()
		if err != nil {
			return // a type the writer refuses
		}
		recs := readSet(t, filepath.Join(dir, "f"))
		if len(recs) != 2 {
			t.Fatalf("%d records, want warcinfo and ours", len(recs))
		}
		got := recs[1]
		want := strings.TrimSpace(strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(value))
		if got.Type != typ || got.ID != in.ID || !got.Date.Equal(date) || got.Get("X-Value") != want || !bytes.Equal(got.block, block) {
			t.Fatalf("read %s %s %v %q %q; wrote %s %s %v %q %q", got.Type, got.ID, got.Date, got.Get("X-Value"), got.block,
				typ, in.ID, date, want, block)
		}
	})
}

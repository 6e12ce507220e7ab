package warc_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trawlhq/trawl/session/warc"
)

// response builds a response record for path with body.
func response(path, body string) *warc.Record {
	block := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + body
	return &warc.Record{
		Type: warc.TypeResponse,
		Fields: []warc.Field{
			{Name: "WARC-Target-URI", Value: "http://example.com" + path},
			{Name: "Content-Type", Value: "application/http; msgtype=response"},
			{Name: "WARC-Payload-Digest", Value: digest([]byte(body))},
			{Name: "WARC-Block-Digest", Value: digest([]byte(block))},
		},
		Block:  strings.NewReader(block),
		Length: int64(len(block)),
	}
}

func writeN(t *testing.T, w *warc.Writer, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if _, err := w.Write(response(fmt.Sprintf("/p%d", i), strings.Repeat("x", i))); err != nil {
			t.Fatal(err)
		}
	}
}

func cdxLines(t *testing.T, prefix string) []string {
	t.Helper()
	b, err := os.ReadFile(prefix + ".cdxj")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// TestWriterResume: a set left by a killed writer (a torn record at the end
// of its last file, an index missing the last lines and ending in a torn
// one) is repaired by Open: the torn record is cut, the index completed,
// earlier files are left alone and new records go to a new file.
func TestWriterResume(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "set")
	clock := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	cfg := warc.Config{Prefix: prefix, CDX: true, MaxSize: 2 << 10, Now: func() time.Time { return clock }}
	w, err := warc.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeN(t, w, 0, 40)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(prefix + "-*.warc.gz")
	if len(files) < 3 {
		t.Fatalf("%d files; want rotation at 2 KiB", len(files))
	}
	first, _ := os.ReadFile(files[0])
	last := files[len(files)-1]
	lastRecs := readFile(t, last)

	// The kill: half a record at the end of the last file, and an index
	// that lost the lines of the file's last two records and ends in half
	// a line.
	whole, _ := os.ReadFile(last)
	lastRec := lastRecs[len(lastRecs)-1]
	member := whole[lastRec.loc.Offset:]
	torn := append(append([]byte(nil), whole...), member[:len(member)/2]...)
	os.WriteFile(last, torn, 0o644)
	lines := cdxLines(t, prefix)
	var kept []string
	dropped := 0
	for _, l := range lines {
		if dropped < 2 && strings.Contains(l, filepath.Base(last)) &&
			(strings.Contains(l, fmt.Sprintf(`"offset":"%d"`, lastRec.loc.Offset)) ||
				strings.Contains(l, fmt.Sprintf(`"offset":"%d"`, lastRecs[len(lastRecs)-2].loc.Offset))) {
			dropped++
			continue
		}
		kept = append(kept, l)
	}
	if dropped != 2 {
		t.Fatalf("dropped %d index lines, want 2", dropped)
	}
	os.WriteFile(prefix+".cdxj", []byte(strings.Join(kept, "\n")+"\n"+kept[0][:20]), 0o644)

	w, err = warc.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if f, cut := w.Repaired(); f != last || cut != int64(len(member)/2) {
		t.Errorf("Repaired() = %s, %d; want %s, %d", f, cut, last, len(member)/2)
	}
	writeN(t, w, 40, 5)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(last); !bytes.Equal(b, whole) {
		t.Errorf("repaired %s is %d bytes, want the %d it had before the torn record", last, len(b), len(whole))
	}
	if b, _ := os.ReadFile(files[0]); !bytes.Equal(b, first) {
		t.Errorf("%s changed", files[0])
	}
	files2, _ := filepath.Glob(prefix + "-*.warc.gz")
	if len(files2) != len(files)+1 {
		t.Errorf("%d files after resume, want %d (one new)", len(files2), len(files)+1)
	}
	recs := readSet(t, prefix)
	seen := map[string]int{}
	n := 0
	for _, r := range recs {
		if r.Type == warc.TypeResponse {
			seen[r.Get("WARC-Target-URI")]++
			n++
			checkDigests(t, r)
		}
	}
	if n != 45 || len(seen) != 45 {
		t.Errorf("%d responses for %d URLs, want 45 each", n, len(seen))
	}
	if got := cdxLines(t, prefix); len(got) != 45 {
		t.Errorf("index has %d lines, want 45", len(got))
	}
	checkWarcio(t, prefix, recs)
}

// TestWriterNeverOverwrites: a file of the set that is in the way (another
// writer's, say) is skipped, not overwritten; a last file that is not a
// WARC file is refused, not cut.
func TestWriterNeverOverwrites(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "set")
	w, err := warc.Open(warc.Config{Prefix: prefix, MaxSize: 1}) // every Write starts a file
	if err != nil {
		t.Fatal(err)
	}
	other := fmt.Sprintf("%s-%05d.warc.gz", prefix, 1)
	os.WriteFile(other, []byte("not ours"), 0o644)
	writeN(t, w, 0, 3)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(other); string(b) != "not ours" {
		t.Errorf("%s was written to: %q", other, b)
	}
	for _, name := range []string{"00000", "00002", "00003"} {
		if _, err := os.Stat(prefix + "-" + name + ".warc.gz"); err != nil {
			t.Errorf("file %s: %v", name, err)
		}
	}
	last := fmt.Sprintf("%s-%05d.warc.gz", prefix, 7)
	os.WriteFile(last, []byte("not ours"), 0o644)
	if _, err := warc.Open(warc.Config{Prefix: prefix}); err == nil || !strings.Contains(err.Error(), "not a WARC file") {
		t.Errorf("Open with a foreign last file: %v; want a refusal", err)
	}
	if b, _ := os.ReadFile(last); string(b) != "not ours" {
		t.Errorf("%s was changed: %q", last, b)
	}
}

func TestWriterBadRecord(t *testing.T) {
	w, err := warc.Open(warc.Config{Prefix: filepath.Join(t.TempDir(), "set")})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, r := range []*warc.Record{
		{Type: ""},
		{Type: "response", Fields: []warc.Field{{Name: "Content-Length", Value: "3"}}},
		{Type: "response", Fields: []warc.Field{{Name: "Bad Name", Value: "x"}}},
		{Type: "response", Length: 3},
	} {
		if _, err := w.Write(r); err == nil || !strings.HasPrefix(err.Error(), "warc: ") {
			t.Errorf("Write(%+v) = %v; want a warc: error", r, err)
		}
	}
	if _, err := warc.Open(warc.Config{}); err == nil {
		t.Error("Open without a prefix succeeded")
	}
	if _, err := warc.Open(warc.Config{Prefix: filepath.Join(t.TempDir(), "no", "such", "dir", "x")}); err == nil {
		t.Error("Open in a missing directory succeeded")
	}
}

// TestWriterLockedLastFile: Open leaves the last file alone while another
// Writer writes it, and writes a file of its own.
func TestWriterLockedLastFile(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "set")
	a, err := warc.Open(warc.Config{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	writeN(t, a, 0, 2)
	// a's file as a reader mid-write would see it: a torn record at its end
	name := prefix + "-00000.warc.gz"
	appendBytes(t, name, []byte{0x1f, 0x8b, 8, 0})
	before, _ := os.ReadFile(name)
	b, err := warc.Open(warc.Config{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	writeN(t, b, 2, 1)
	b.Close()
	if f, cut := b.Repaired(); cut != 0 {
		t.Errorf("second writer cut %d bytes of %s, which the first one holds", cut, f)
	}
	if after, _ := os.ReadFile(name); !bytes.Equal(before, after) {
		t.Errorf("the first writer's file changed: %d bytes, was %d", len(after), len(before))
	}
	if _, err := os.Stat(prefix + "-00001.warc.gz"); err != nil {
		t.Errorf("second writer's file: %v", err)
	}
}

func appendBytes(t *testing.T, name string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

// TestWriterLargeRecord: a record set over 1 MiB is streamed into the file
// and reads back whole, with the index line of its response.
func TestWriterLargeRecord(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "set")
	w, err := warc.Open(warc.Config{Prefix: prefix, CDX: true})
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("0123456789abcdef", 3<<16) // 3 MiB
	writeN(t, w, 0, 1)
	locs, err := w.Write(response("/large", body), response("/after", "x"))
	if err != nil {
		t.Fatal(err)
	}
	writeN(t, w, 1, 1)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs := readSet(t, prefix)
	if len(recs) != 5 {
		t.Fatalf("%d records, want 5", len(recs))
	}
	large := recs[2]
	if _, p := split(t, large.block); string(p) != body || large.loc != locs[0] || recs[3].loc != locs[1] {
		t.Errorf("large record: payload %d bytes (want %d), at %+v (Write said %+v)", len(p), len(body), large.loc, locs[0])
	}
	checkDigests(t, large)
	if lines := cdxLines(t, prefix); len(lines) != 4 {
		t.Errorf("%d index lines, want 4", len(lines))
	}
}

// TestWriterLevels: every level writes records that read back whole, each
// its own gzip member, and that warcio.js reads; Store does not compress
// (the file is larger than the blocks; the body takes two stored blocks)
// and level 1 does.
func TestWriterLevels(t *testing.T) {
	body := strings.Repeat("<p>the same paragraph again</p>\n", 2000)
	size := map[int]int64{}
	for _, level := range []int{warc.DefaultLevel, 9, warc.HuffmanOnly, warc.Store} {
		prefix := filepath.Join(t.TempDir(), "set")
		w, err := warc.Open(warc.Config{Prefix: prefix, Level: level, CDX: true})
		if err != nil {
			t.Fatalf("level %d: %v", level, err)
		}
		if _, err := w.Write(response("/a", body), response("/b", "short")); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		recs := readSet(t, prefix)
		if len(recs) != 3 {
			t.Fatalf("level %d: %d records, want warcinfo + 2", level, len(recs))
		}
		if _, p := split(t, recs[1].block); string(p) != body {
			t.Errorf("level %d: payload of %d bytes, want %d", level, len(p), len(body))
		}
		checkDigests(t, recs[1])
		checkWarcio(t, prefix, recs)
		st, err := os.Stat(prefix + "-00000.warc.gz")
		if err != nil {
			t.Fatal(err)
		}
		size[level] = st.Size()
	}
	if size[warc.Store] <= int64(len(body)) || size[warc.DefaultLevel] >= int64(len(body))/4 {
		t.Errorf("file sizes %v for a %d-byte body: want Store larger than the body, level 1 a fraction of it", size, len(body))
	}
	if _, err := warc.Open(warc.Config{Prefix: filepath.Join(t.TempDir(), "x"), Level: -1}); err == nil {
		t.Error("Open accepted Level -1")
	}
}

// TestWriterStoredBlocks: stored members whose content ends just before,
// at and just after the end of a 65535-byte deflate block, or spans
// several, read back whole with their checksums verified, and the blocks
// given as bytes.Reader (written without a copy buffer) and as other
// readers give the same file.
func TestWriterStoredBlocks(t *testing.T) {
	hdr := len("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
	var sizes []int
	for _, end := range []int{65535, 2 * 65535} {
		for d := -400; d <= -280; d++ { // the WARC header is some 340 bytes
			sizes = append(sizes, end+d-hdr)
		}
	}
	sizes = append(sizes, 0, 1, 1<<20+1) // the last one streamed (over 1 MiB)
	files := map[bool][]byte{}
	for _, asBytes := range []bool{false, true} {
		prefix := filepath.Join(t.TempDir(), "set")
		date := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		w, err := warc.Open(warc.Config{Prefix: prefix, Level: warc.Store, Now: func() time.Time { return date }})
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range sizes {
			r := response(fmt.Sprintf("/%d", n), strings.Repeat(string(rune('a'+i%26)), n))
			r.ID = fmt.Sprintf("<urn:uuid:%d>", i)
			if asBytes {
				b, _ := io.ReadAll(r.Block)
				r.Block = bytes.NewReader(b)
			}
			if _, err := w.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		recs := readSet(t, prefix)
		if len(recs) != len(sizes)+1 {
			t.Fatalf("%d records, want %d", len(recs), len(sizes)+1)
		}
		exact := map[int64]bool{}
		for i, n := range sizes {
			if _, p := split(t, recs[i+1].block); len(p) != n || strings.Trim(string(p), string(rune('a'+i%26))) != "" {
				t.Fatalf("record %d: payload of %d bytes, want %d", i, len(p), n)
			}
			checkDigests(t, recs[i+1])
			exact[recs[i+1].loc.Length] = true
		}
		// gzip header 10 bytes, 5 per stored block, trailer 8.
		if !exact[10+5+65535+8] || !exact[10+2*5+2*65535+8] {
			t.Error("no record filled one or two stored blocks exactly: move the sizes tried")
		}
		b, err := os.ReadFile(prefix + "-00000.warc.gz")
		if err != nil {
			t.Fatal(err)
		}
		files[asBytes] = b
	}
	// The warcinfo records differ (their IDs); the rest is the same.
	a, b := files[false], files[true]
	if len(a) != len(b) || !bytes.Equal(a[len(a)-(1<<20):], b[len(b)-(1<<20):]) {
		t.Errorf("the file written from bytes.Readers (%d bytes) differs from the other (%d bytes)", len(b), len(a))
	}
}

// TestWriterBuffer: with Config.Buffer, records are held until the buffer
// fills, Flush or Close, and their index lines with them (a line never
// comes before its record); Write's locations, rotation and the CDXJ index
// are what they are without a buffer, and warcio.js reads the set.
func TestWriterBuffer(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "set")
	w, err := warc.Open(warc.Config{Prefix: prefix, CDX: true, Buffer: 64 << 10, MaxSize: 200 << 10, Level: warc.Store})
	if err != nil {
		t.Fatal(err)
	}
	name := prefix + "-00000.warc.gz"
	st, _ := os.Stat(name)
	head := st.Size() // the warcinfo record, written at once
	locs, err := w.Write(response("/a", "first"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(name); st.Size() != head {
		t.Errorf("file of %d bytes after a buffered Write, want %d (the warcinfo record only)", st.Size(), head)
	}
	if b, _ := os.ReadFile(prefix + ".cdxj"); len(b) != 0 {
		t.Errorf("index line written before its record: %q", b)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	recs := readSet(t, prefix)
	if len(recs) != 2 || recs[1].loc != locs[0] || len(cdxLines(t, prefix)) != 1 {
		t.Fatalf("after Flush: %d records (want 2), at %+v (Write said %+v)", len(recs), recs[len(recs)-1].loc, locs[0])
	}
	// Enough to fill the buffer several times and rotate the file.
	var want []warc.Location
	for i := range 60 {
		l, err := w.Write(response(fmt.Sprintf("/b%d", i), strings.Repeat("y", 10<<10)))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, l...)
		if i == 7 { // 80 KiB: the buffer was written out, up to a page boundary
			if st, _ := os.Stat(name); st.Size() <= head || st.Size()%4096 != 0 {
				t.Errorf("file of %d bytes once the buffer filled: want more than %d, a multiple of 4096", st.Size(), head)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs = readSet(t, prefix)
	var got []warc.Location
	for _, r := range recs {
		if r.Type == warc.TypeResponse && r.Get("WARC-Target-URI") != "http://example.com/a" {
			got = append(got, r.loc)
		}
		if r.Type == warc.TypeResponse {
			checkDigests(t, r)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("records at\n%v\nWrite said\n%v", got, want)
	}
	if files, _ := filepath.Glob(prefix + "-*.warc.gz"); len(files) < 3 {
		t.Errorf("%d files, want the set rotated at 200 KiB (3 or more)", len(files))
	}
	checkWarcio(t, prefix, recs)
	if _, err := w.Write(response("/late", "x")); err == nil {
		t.Error("Write after Close succeeded")
	}
}

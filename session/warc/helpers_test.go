package warc_test

import (
	"bytes"
	"crypto/sha1"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/trawlhq/trawl/session/warc"
)

// rec is a record read back, with its block and where it was.
type rec struct {
	*warc.Record
	block []byte
	loc   warc.Location
}

// readSet reads every record of the files of prefix, in file order.
func readSet(t testing.TB, prefix string) []rec {
	t.Helper()
	files, err := filepath.Glob(prefix + "-*.warc.gz")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var out []rec
	for _, name := range files {
		out = append(out, readFile(t, name)...)
	}
	return out
}

func readFile(t testing.TB, name string) []rec {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := warc.NewReader(f)
	var out []rec
	for {
		r2, loc, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: record %d: %v", name, len(out), err)
		}
		b, _ := io.ReadAll(r2.Block)
		loc.File = filepath.Base(name)
		out = append(out, rec{r2, b, loc})
	}
}

// split returns the HTTP head (through the blank line) and the payload of an
// application/http block.
func split(t testing.TB, block []byte) (head, payload []byte) {
	t.Helper()
	i := bytes.Index(block, []byte("\r\n\r\n"))
	if i < 0 {
		t.Fatalf("block without an HTTP header end: %.80q", block)
	}
	return block[:i+4], block[i+4:]
}

func digest(b []byte) string {
	s := sha1.Sum(b)
	return warc.DigestOf(s[:])
}

// checkDigests verifies the block and payload digests of an HTTP record.
func checkDigests(t testing.TB, r rec) {
	t.Helper()
	if got, want := r.Get("WARC-Block-Digest"), digest(r.block); got != want {
		t.Errorf("%s %s: WARC-Block-Digest %s, block hashes to %s", r.Type, r.Get("WARC-Target-URI"), got, want)
	}
	if r.Type == warc.TypeResponse {
		_, p := split(t, r.block)
		if got, want := r.Get("WARC-Payload-Digest"), digest(p); got != want {
			t.Errorf("response %s: WARC-Payload-Digest %s, payload hashes to %s", r.Get("WARC-Target-URI"), got, want)
		}
	}
}

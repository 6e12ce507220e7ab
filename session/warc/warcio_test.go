package warc_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/trawlhq/trawl/internal/warciotest"
	"github.com/trawlhq/trawl/session/warc"
)

// checkWarcio reads the set with warcio.js and compares its records
// (count, order, type, id, offsets, lengths, digests) with ours (recs), the
// payload digests with what warcio.js's raw payloads hash to, and its CDXJ
// index with ours.
func checkWarcio(t *testing.T, prefix string, recs []rec) {
	t.Helper()
	files, _ := filepath.Glob(prefix + "-*.warc.gz")
	sort.Strings(files)
	theirs := warciotest.Records(t, files...)
	if len(theirs) != len(recs) {
		t.Fatalf("warcio.js read %d records, we read %d", len(theirs), len(recs))
	}
	for i, w := range theirs {
		r := recs[i]
		if w.Type != r.Type || w.ID != r.ID || w.File != r.loc.File || w.Offset != r.loc.Offset || w.Length != r.loc.Length {
			t.Errorf("record %d: warcio.js %s %s at %s:%d+%d; we %s %s at %s:%d+%d", i,
				w.Type, w.ID, w.File, w.Offset, w.Length, r.Type, r.ID, r.loc.File, r.loc.Offset, r.loc.Length)
		}
		if w.PayloadDigest != r.Get("WARC-Payload-Digest") {
			t.Errorf("record %d: warcio.js payload digest %q, ours %q", i, w.PayloadDigest, r.Get("WARC-Payload-Digest"))
		}
		if r.Type == warc.TypeResponse && w.RawPayloadSHA1 != w.PayloadDigest {
			t.Errorf("response %s: the payload warcio.js reads hashes to %s, WARC-Payload-Digest says %s", w.URI, w.RawPayloadSHA1, w.PayloadDigest)
		}
	}
	want := warciotest.CDXJ(t, files...)
	b, err := os.ReadFile(prefix + ".cdxj")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if !sort.StringsAreSorted(got) {
		t.Error("our CDXJ index is not sorted")
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("CDXJ index differs from warcio.js's:\nours:\n%s\nwarcio.js:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

package disk

import (
	"testing"

	"github.com/trawlhq/trawl/frontier"
)

// FuzzDecodeEntry feeds decodeEntry arbitrary bytes, as a damaged store
// would: it must return an error or an entry, never panic, and an entry it
// encodes must decode to itself.
func FuzzDecodeEntry(f *testing.F) {
	f.Add(encodeEntry(nil, frontier.Entry{URL: "http://a.test/x", Depth: 2, Priority: -1, Referrer: "http://a.test/"}, 3))
	f.Add([]byte{})
	f.Add([]byte{0x80})
	f.Add([]byte{0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, attempt, err := decodeEntry(b)
		if err != nil {
			return
		}
		e2, attempt2, err := decodeEntry(encodeEntry(nil, e, attempt))
		if err != nil {
			t.Fatalf("re-encoded entry %+v does not decode: %v", e, err)
		}
		if e2 != e || attempt2 != attempt {
			t.Fatalf("round trip: %+v/%d became %+v/%d", e, attempt, e2, attempt2)
		}
	})
}

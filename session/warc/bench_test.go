package warc_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trawlhq/trawl/session"
	"github.com/trawlhq/trawl/session/warc"
)

// BenchmarkSession measures a session fetching a 16 KiB HTML page over
// loopback, without and with the recording transport (at the default level,
// stored, and as trawl crawl --warc writes: stored or level 1, buffered):
// the cost of archiving per exchange. Run it with -cpu 1 for the CPU time
// of one exchange (server included).
func BenchmarkSession(b *testing.B) {
	page := benchPage(16 << 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write(page)
	}))
	defer srv.Close()
	for _, c := range []struct {
		name          string
		archive       bool
		level, buffer int
	}{
		{"plain", false, 0, 0},
		{"warc", true, 0, 0},
		{"warc-store", true, warc.Store, 0},
		{"warc-store-buffered", true, warc.Store, 256 << 10}, // as trawl crawl --warc without --state
		{"warc-level1-buffered", true, 1, 256 << 10},         // and with --warc-level 1
	} {
		b.Run(c.name, func(b *testing.B) {
			cfg := session.Config{}
			var w *warc.Writer
			if c.archive {
				var err error
				if w, err = warc.Open(warc.Config{Prefix: filepath.Join(b.TempDir(), "bench"), Level: c.level, Buffer: c.buffer}); err != nil {
					b.Fatal(err)
				}
				cfg.WrapTransport = func(next http.RoundTripper) http.RoundTripper {
					return &warc.Transport{Next: next, Writer: w, Index: &warc.MemoryIndex{}}
				}
			}
			s, err := session.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					resp, err := s.Get(ctx, srv.URL+"/p")
					if err != nil {
						b.Error(err)
						return
					}
					resp.Release()
				}
			})
			b.StopTimer()
			if w != nil {
				w.Close()
			}
		})
	}
}

// benchPage is an HTML page of n bytes of text made of words drawn at
// random from a small vocabulary: it compresses like prose (about 3:1).
func benchPage(n int) []byte {
	words := strings.Fields("the of and to in is was for on that with as by at from his her they this which are were be had not but have an or one all their there been has when who will more no if out so said what up its about into than them can only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three")
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString("<!doctype html><html><head><title>bench</title></head><body>\n<p>")
	for b.Len() < n-20 {
		b.WriteString(words[rng.IntN(len(words))])
		if rng.IntN(12) == 0 {
			b.WriteString(".</p>\n<p>")
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteString("</p></body></html>")
	return []byte(b.String())
}

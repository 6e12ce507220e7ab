package warc_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/trawlhq/trawl/session"
	"github.com/trawlhq/trawl/session/warc"
)

// A session whose every exchange is archived: the Transport goes under the
// session with Config.WrapTransport.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello, archive")
	}))
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "warc-example")
	defer os.RemoveAll(dir)

	w, err := warc.Open(warc.Config{Prefix: filepath.Join(dir, "crawl")})
	if err != nil {
		panic(err)
	}
	sess, err := session.New(session.Config{
		WrapTransport: func(next http.RoundTripper) http.RoundTripper {
			return &warc.Transport{Next: next, Writer: w, Index: &warc.MemoryIndex{}}
		},
	})
	if err != nil {
		panic(err)
	}
	for _, path := range []string{"/a", "/b"} { // same payload: /b is a revisit
		if _, err := sess.Get(context.Background(), srv.URL+path); err != nil {
			panic(err)
		}
	}
	sess.Close()
	w.Close()

	f, _ := os.Open(filepath.Join(dir, "crawl-00000.warc.gz"))
	defer f.Close()
	r := warc.NewReader(f)
	for {
		rec, _, err := r.Next()
		if err != nil {
			break
		}
		fmt.Println(strings.TrimSpace(rec.Type + " " + strings.TrimPrefix(rec.Get("WARC-Target-URI"), srv.URL)))
	}
	// Output:
	// warcinfo
	// response /a
	// request /a
	// revisit /b
	// request /b
}

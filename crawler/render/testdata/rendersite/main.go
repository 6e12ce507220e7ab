// Command rendersite serves rendertest.Site (a site built by JavaScript)
// for benchmarks: go run ./crawler/render/testdata/rendersite -pages 2000.
// It prints its URL on the first line of stdout; GET /__stats returns the
// server's counters as JSON.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/trawlhq/trawl/crawler/render/rendertest"
)

func main() {
	pages := flag.Int("pages", 2000, "pages besides the home page")
	links := flag.Int("links", 10, "navigation links per page")
	latency := flag.Duration("latency", 0, "latency of every answer")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	site := &rendertest.Site{Pages: *pages, Links: *links, Latency: *latency}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/__stats", func(w http.ResponseWriter, r *http.Request) {
		pagesHit := 0
		for _, p := range site.Paths() {
			if site.Hits(p) > 0 {
				pagesHit++
			}
		}
		json.NewEncoder(w).Encode(map[string]any{
			"pages_fetched": pagesHit, "max_in_flight": site.MaxInFlight(),
			"nav_json": site.Hits("/nav.json"), "logo_png": site.Hits("/logo.png"),
		})
	})
	mux.Handle("/", site)
	fmt.Printf("http://%s/\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

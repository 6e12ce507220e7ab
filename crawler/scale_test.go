package crawler

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingSite serves n tiny pages /p/0 … /p/n-1: page i links to 2i+1,
// 2i+2 and i+1 (relative, root-relative and absolute forms, one with a
// fragment), and counts requests per page in a lock-free array.
type countingSite struct {
	*httptest.Server
	n     int
	hits  []atomic.Int32
	other atomic.Int64 // requests for anything else (robots.txt included)
}

func newCountingSite(tb testing.TB, n int) *countingSite {
	s := &countingSite{n: n, hits: make([]atomic.Int32, n)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/p/"))
		if err != nil || i < 0 || i >= n {
			s.other.Add(1)
			http.NotFound(w, r)
			return
		}
		s.hits[i].Add(1)
		var b strings.Builder
		b.WriteString("<html><head><title>p</title></head><body>")
		if j := 2*i + 1; j < n {
			b.WriteString(`<a href="` + strconv.Itoa(j) + `">a</a>`)
		}
		if j := 2*i + 2; j < n {
			b.WriteString(`<a href="/p/` + strconv.Itoa(j) + `#frag">b</a>`)
		}
		if j := i + 1; j < n {
			b.WriteString(`<a href="http://` + r.Host + `/p/` + strconv.Itoa(j) + `">c</a>`)
		}
		b.WriteString("</body></html>")
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(b.String()))
	}))
	tb.Cleanup(s.Close)
	return s
}

// exactlyOnce crawls a countingSite of n pages and checks, server side,
// that every page was fetched exactly once, and that every page got one
// record.
func exactlyOnce(t *testing.T, n int) {
	s := newCountingSite(t, n)
	start := time.Now()
	r := newRig(t, Config{Workers: 32, PerHost: 32}, sessionConfig())
	r.col.countOnly = true
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := r.c.Run(ctx, s.URL+"/p/0"); err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	missing, dups := 0, 0
	for i := range s.hits {
		switch k := s.hits[i].Load(); {
		case k == 0:
			missing++
		case k > 1:
			dups += int(k - 1)
		}
	}
	if missing != 0 || dups != 0 {
		t.Errorf("%d pages never fetched, %d duplicate requests", missing, dups)
	}
	st := r.c.Stats()
	if st.Pages != int64(n) || st.OK != int64(n) {
		t.Errorf("stats: %d pages, %d ok; want %d", st.Pages, st.OK, n)
	}
	if got := r.col.count(); got != n {
		t.Errorf("%d records, want %d", got, n)
	}
	t.Logf("%d pages in %v (%.0f pages/s), %d conns opened, %d reused",
		n, el, float64(n)/el.Seconds(), st.ConnsOpened, st.ConnsReused)
}

// TestExactlyOnce5k always runs, race detector included.
func TestExactlyOnce5k(t *testing.T) { exactlyOnce(t, 5_000) }

// TestExactlyOnce50k is the full-size check. It takes about 10 s
// on 2 cores without the race detector but minutes with it, so it runs in
// `go test ./crawler` and is skipped by -short and by -race (where
// TestExactlyOnce5k checks the same property).
func TestExactlyOnce50k(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("50,000-page crawl is slow under -race: .ci/run (CI) runs it without -race; TestExactlyOnce5k covers -race")
	}
	exactlyOnce(t, 50_000)
}

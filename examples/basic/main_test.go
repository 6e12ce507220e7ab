package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	// A chain /0 -> /1 -> ... -> /5: depth 3 fetches /0 to /3.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var i int
		if _, err := fmt.Sscanf(r.URL.Path, "/%d", &i); err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<title>page %d</title><a href="/%d">next</a>`, i, i+1)
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, []string{srv.URL + "/0"}, &out); err != nil {
		t.Fatal(err)
	}
	var got []string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var rec struct {
			URL    string `json:"url"`
			Status int    `json:"status"`
			Title  string `json:"title"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		if rec.Status != 200 || !strings.HasPrefix(rec.Title, "page ") {
			t.Fatalf("bad record %+v", rec)
		}
		got = append(got, strings.TrimPrefix(rec.URL, srv.URL))
	}
	sort.Strings(got)
	if want := []string{"/0", "/1", "/2", "/3"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("crawled %q, want %q", got, want)
	}
	if err := run(ctx, nil, &out); err == nil {
		t.Fatal("run without a URL succeeded")
	}
}

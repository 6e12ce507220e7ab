// Package recrawltest is the contract test suite every recrawl.Store
// backend runs:
//
//	func TestContract(t *testing.T) {
//		recrawltest.Run(t, recrawltest.Options{
//			Open: func(t *testing.T) recrawl.Store { return new(recrawl.Memory) },
//		})
//	}
package recrawltest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/trawlhq/trawl/crawler/recrawl"
)

// Options configures Run.
type Options struct {
	// Open returns a fresh, empty store. The suite closes it (with its
	// Close method, when it has one) at the end of each test. Required.
	Open func(t *testing.T) recrawl.Store
	// Reopen closes old as a process that dies would (without a clean
	// shutdown, where the backend can simulate one) and returns a store
	// opened on the same persistent state. Nil for stores that do not
	// persist: the persistence test is skipped.
	Reopen func(t *testing.T, old recrawl.Store) recrawl.Store
	// Pages is how many pages the bulk tests save. Zero means 2000.
	Pages int
}

// Sample returns a page with every field set, for URL u.
func Sample(u string, i int) *recrawl.Page {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.UTC).Add(time.Duration(i) * time.Second)
	return &recrawl.Page{
		URL:          u,
		Depth:        i % 7,
		Fetched:      t0,
		Status:       200,
		ETag:         fmt.Sprintf(`W/"etag-%d"`, i),
		LastModified: "Sat, 28 Nov 2026 09:00:00 GMT",
		FreshUntil:   t0.Add(time.Hour),
		NoCache:      i%2 == 0,
		Digest:       uint64(i)*0x9e3779b97f4a7c15 + 1,
		ContentType:  "text/html",
		Title:        fmt.Sprintf("Page %d – ü", i),
		NoIndex:      i%3 == 0,
		NoFollow:     i%5 == 0,
		Changed:      i%2 == 0,
		Links: []recrawl.Link{
			{URL: u + "/a", Tag: "a", Attr: "href", Text: fmt.Sprintf("Link %d – ü", i)},
			{URL: u + "/ab", NoFollow: true, Tag: "a", Attr: "href", Rel: "nofollow noopener"},
			{URL: "https://other.example/x?q=1", Tag: "iframe", Attr: "src"},
			{URL: "https://other.example/x?q=1&r=2", Tag: "link", Attr: "href"},
			{URL: "https://other.example/y"},
		},
		Lastmod:     t0.Add(-time.Hour),
		LastmodSeen: t0.Add(time.Minute),
		Data:        map[string][]string{"price": {fmt.Sprintf("%d.99", i)}, "tags": {"a", "b – ü"}, "none": nil},
		DataVersion: "v1",
	}
}

// Equal reports how got differs from want ("" when equal), comparing times
// with Equal.
func Equal(got, want *recrawl.Page) string {
	if got == nil || want == nil {
		if got == want {
			return ""
		}
		return fmt.Sprintf("got %v, want %v", got, want)
	}
	g, w := *got, *want
	for _, pair := range [][2]*time.Time{{&g.Fetched, &w.Fetched}, {&g.FreshUntil, &w.FreshUntil}, {&g.Lastmod, &w.Lastmod}, {&g.LastmodSeen, &w.LastmodSeen}} {
		if !pair[0].Equal(*pair[1]) {
			return fmt.Sprintf("time %v, want %v", *pair[0], *pair[1])
		}
		*pair[0], *pair[1] = time.Time{}, time.Time{}
	}
	if len(g.Links) == 0 && len(w.Links) == 0 {
		g.Links, w.Links = nil, nil
	}
	// Data: no map and an empty one are alike, and so are no values and
	// an empty list.
	g.Data, w.Data = normData(g.Data), normData(w.Data)
	if !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("got %+v\nwant %+v", g, w)
	}
	return ""
}

func normData(m map[string][]string) map[string][]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		if len(v) == 0 {
			v = nil
		}
		out[k] = v
	}
	return out
}

// Run runs the contract suite.
func Run(t *testing.T, o Options) {
	t.Helper()
	if o.Open == nil {
		t.Fatal("recrawltest: Options.Open is nil")
	}
	if o.Pages == 0 {
		o.Pages = 2000
	}
	open := func(t *testing.T) recrawl.Store {
		s := o.Open(t)
		t.Cleanup(func() { closeStore(s) })
		return s
	}
	ctx := context.Background()

	t.Run("LoadUnknown", func(t *testing.T) {
		s := open(t)
		p, err := s.Load(ctx, "http://a.example/none")
		if err != nil || p != nil {
			t.Fatalf("Load of an unknown URL = %v, %v; want nil, nil", p, err)
		}
		if err := s.Delete(ctx, "http://a.example/none"); err != nil {
			t.Fatalf("Delete of an unknown URL: %v", err)
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		pages := []*recrawl.Page{
			Sample("http://a.example/p/1", 1),
			Sample("http://a.example/p/2", 2),
			{URL: "http://a.example/bare", Status: 204, Fetched: time.Unix(1, 0)},
			{URL: "http://a.example/%E2%82%AC?q=%20#", Status: 200, Title: "\x00\xff", Links: []recrawl.Link{{URL: "http://a.example/"}, {URL: "http://a.example/"}}},
		}
		for _, p := range pages {
			if err := s.Save(ctx, p); err != nil {
				t.Fatalf("Save %s: %v", p.URL, err)
			}
		}
		for _, want := range pages {
			got, err := s.Load(ctx, want.URL)
			if err != nil {
				t.Fatalf("Load %s: %v", want.URL, err)
			}
			if d := Equal(got, want); d != "" {
				t.Errorf("Load %s: %s", want.URL, d)
			}
		}
	})

	t.Run("SaveDoesNotKeep", func(t *testing.T) {
		s := open(t)
		p := Sample("http://a.example/k", 3)
		want := Sample("http://a.example/k", 3)
		if err := s.Save(ctx, p); err != nil {
			t.Fatal(err)
		}
		p.Title = "changed after Save"
		p.Links[0].URL = "http://changed.example/"
		got, err := s.Load(ctx, want.URL)
		if err != nil {
			t.Fatal(err)
		}
		if d := Equal(got, want); d != "" {
			t.Errorf("the store kept the caller's page: %s", d)
		}
		got.Title = "changed after Load"
		again, _ := s.Load(ctx, want.URL)
		if d := Equal(again, want); d != "" {
			t.Errorf("the store handed out its own page: %s", d)
		}
	})

	t.Run("ReplaceAndDelete", func(t *testing.T) {
		s := open(t)
		u := "http://a.example/r"
		for i := range 3 {
			if err := s.Save(ctx, Sample(u, i)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Load(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if d := Equal(got, Sample(u, 2)); d != "" {
			t.Errorf("after three saves: %s", d)
		}
		if err := s.Delete(ctx, u); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Load(ctx, u); err != nil || got != nil {
			t.Errorf("Load after Delete = %v, %v; want nil, nil", got, err)
		}
		n := 0
		if err := s.Range(ctx, func(string, int) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("Range after Delete saw %d pages", n)
		}
	})

	t.Run("Len", func(t *testing.T) {
		s := open(t)
		l, ok := s.(recrawl.Lener)
		if !ok {
			t.Skip("the store is not a recrawl.Lener")
		}
		checkLen(t, l, 0, "a fresh store")
		for i := range 5 {
			if err := s.Save(ctx, Sample(fmt.Sprintf("http://len.example/%d", i), i)); err != nil {
				t.Fatal(err)
			}
		}
		checkLen(t, l, 5, "5 saves")
		if err := s.Save(ctx, Sample("http://len.example/0", 9)); err != nil {
			t.Fatal(err)
		}
		checkLen(t, l, 5, "a page saved again")
		for _, u := range []string{"http://len.example/1", "http://len.example/1", "http://len.example/none"} {
			if err := s.Delete(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		checkLen(t, l, 4, "a page deleted twice and an unknown one")
	})

	t.Run("Range", func(t *testing.T) {
		s := open(t)
		want := map[string]int{}
		for i := range o.Pages {
			u := fmt.Sprintf("http://h%d.example/p/%d", i%13, i)
			want[u] = i % 7
			if err := s.Save(ctx, Sample(u, i)); err != nil {
				t.Fatal(err)
			}
		}
		got := map[string]int{}
		var mu sync.Mutex
		err := s.Range(ctx, func(u string, depth int) error {
			mu.Lock()
			defer mu.Unlock()
			if _, dup := got[u]; dup {
				t.Errorf("Range gave %s twice", u)
			}
			got[u] = depth
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Range saw %d pages, want %d (first differences: %v)", len(got), len(want), diff(got, want))
		}
		stop := errors.New("stop")
		calls := 0
		if err := s.Range(ctx, func(string, int) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
			t.Errorf("Range with fn failing at once = %v after %d calls; want the error after 1", err, calls)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		s := open(t)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range o.Pages / 8 {
					u := fmt.Sprintf("http://c.example/%d/%d", g, i)
					if err := s.Save(ctx, Sample(u, i)); err != nil {
						errs <- err
						return
					}
					p, err := s.Load(ctx, u)
					if err != nil || p == nil {
						errs <- fmt.Errorf("Load %s right after Save = %v, %v", u, p, err)
						return
					}
					if i%3 == 0 {
						if err := s.Delete(ctx, u); err != nil {
							errs <- err
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		n := 0
		if err := s.Range(ctx, func(string, int) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		want := 0
		for i := range o.Pages / 8 {
			if i%3 != 0 {
				want++
			}
		}
		if n != want*8 {
			t.Errorf("after concurrent saves and deletes Range saw %d pages, want %d", n, want*8)
		}
	})

	t.Run("Persist", func(t *testing.T) {
		if o.Reopen == nil {
			t.Skip("the store does not persist")
		}
		s := o.Open(t)
		for i := range 100 {
			if err := s.Save(ctx, Sample(fmt.Sprintf("http://p.example/%d", i), i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Delete(ctx, "http://p.example/7"); err != nil {
			t.Fatal(err)
		}
		s = o.Reopen(t, s)
		t.Cleanup(func() { closeStore(s) })
		if l, ok := s.(recrawl.Lener); ok {
			checkLen(t, l, 99, "reopening")
		}
		for i := range 100 {
			u := fmt.Sprintf("http://p.example/%d", i)
			got, err := s.Load(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			if i == 7 {
				if got != nil {
					t.Errorf("a deleted page came back after reopening")
				}
				continue
			}
			if d := Equal(got, Sample(u, i)); d != "" {
				t.Errorf("after reopening, %s: %s", u, d)
			}
		}
	})
}

// checkLen fails t unless l holds want pages, after what tells.
func checkLen(t *testing.T, l recrawl.Lener, want int64, after string) {
	t.Helper()
	if n, err := l.Len(context.Background()); err != nil || n != want {
		t.Errorf("Len after %s = %d, %v; want %d", after, n, err, want)
	}
}

func closeStore(s recrawl.Store) {
	if c, ok := s.(interface{ Close() error }); ok {
		_ = c.Close()
	}
}

func diff(got, want map[string]int) []string {
	var out []string
	for u, d := range want {
		if g, ok := got[u]; !ok || g != d {
			out = append(out, fmt.Sprintf("%s: got depth %d (present %v), want %d", u, g, ok, d))
		}
	}
	for u := range got {
		if _, ok := want[u]; !ok {
			out = append(out, "unexpected "+u)
		}
	}
	sort.Strings(out)
	if len(out) > 5 {
		out = out[:5]
	}
	return out
}

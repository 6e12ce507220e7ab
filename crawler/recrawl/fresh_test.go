package recrawl

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCacheOf(t *testing.T) {
	recv := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	date := recv.Format(http.TimeFormat)
	tests := []struct {
		name    string
		h       http.Header
		noStore bool
		noCache bool
		fresh   time.Duration // FreshUntil - recv; -1 = zero FreshUntil
	}{
		{"none", http.Header{}, false, false, -1},
		{"max-age", http.Header{"Cache-Control": {"public, max-age=3600"}, "Date": {date}}, false, false, time.Hour},
		{"max-age minus age", http.Header{"Cache-Control": {"max-age=3600"}, "Date": {date}, "Age": {"600"}}, false, false, 50 * time.Minute},
		{"max-age minus apparent age", http.Header{"Cache-Control": {"max-age=3600"}, "Date": {recv.Add(-10 * time.Minute).Format(http.TimeFormat)}}, false, false, 50 * time.Minute},
		{"max-age wins over expires", http.Header{"Cache-Control": {"max-age=60"}, "Expires": {recv.Add(time.Hour).Format(http.TimeFormat)}, "Date": {date}}, false, false, time.Minute},
		{"expires minus date", http.Header{"Expires": {recv.Add(2 * time.Hour).Format(http.TimeFormat)}, "Date": {date}}, false, false, 2 * time.Hour},
		{"invalid expires is expired", http.Header{"Expires": {"0"}, "Date": {date}}, false, false, 0},
		{"invalid max-age is stale", http.Header{"Cache-Control": {"max-age=soon"}}, false, false, 0},
		{"first max-age counts", http.Header{"Cache-Control": {"max-age=10", "max-age=99"}}, false, false, 10 * time.Second},
		{"quoted max-age", http.Header{"Cache-Control": {`max-age="120"`}}, false, false, 2 * time.Minute},
		{"no-store", http.Header{"Cache-Control": {"no-store"}}, true, false, -1},
		{"no-cache", http.Header{"Cache-Control": {"No-Cache"}}, false, true, -1},
		{"no-cache with fields is not no-cache", http.Header{"Cache-Control": {`no-cache="Set-Cookie", max-age=5`}}, false, false, 5 * time.Second},
		{"pragma without cache-control", http.Header{"Pragma": {"no-cache"}}, false, true, -1},
		{"pragma ignored with cache-control", http.Header{"Pragma": {"no-cache"}, "Cache-Control": {"max-age=5"}}, false, false, 5 * time.Second},
		{"age beyond lifetime", http.Header{"Cache-Control": {"max-age=5"}, "Age": {"100"}}, false, false, 0},
		{"huge max-age capped", http.Header{"Cache-Control": {"max-age=99999999999999999999"}}, false, false, (1 << 31) * time.Second},
	}
	for _, tc := range tests {
		c := CacheOf(tc.h, recv)
		if c.NoStore != tc.noStore || c.NoCache != tc.noCache {
			t.Errorf("%s: no-store %v no-cache %v, want %v %v", tc.name, c.NoStore, c.NoCache, tc.noStore, tc.noCache)
		}
		if tc.fresh < 0 {
			if !c.FreshUntil.IsZero() {
				t.Errorf("%s: FreshUntil %v, want none", tc.name, c.FreshUntil)
			}
		} else if got := c.FreshUntil.Sub(recv); got != tc.fresh {
			t.Errorf("%s: fresh for %v, want %v", tc.name, got, tc.fresh)
		}
	}
}

func TestSkip(t *testing.T) {
	f := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	now := f.Add(2 * time.Hour)
	tests := []struct {
		name   string
		p      Page
		maxAge time.Duration
		want   string
	}{
		{"no max-age", Page{Fetched: f}, 0, SkipNone},
		{"young", Page{Fetched: f}, 24 * time.Hour, SkipMaxAge},
		{"old", Page{Fetched: f}, time.Hour, SkipNone},
		{"young but stale by server", Page{Fetched: f, FreshUntil: f.Add(time.Hour)}, 24 * time.Hour, SkipNone},
		{"young and fresh by server", Page{Fetched: f, FreshUntil: f.Add(3 * time.Hour)}, 24 * time.Hour, SkipMaxAge},
		{"young but no-cache", Page{Fetched: f, NoCache: true}, 24 * time.Hour, SkipNone},
		{"lastmod old, read after fetch", Page{Fetched: f, Lastmod: f.Add(-time.Hour), LastmodSeen: f.Add(time.Minute)}, 0, SkipLastmod},
		{"lastmod equal to fetch", Page{Fetched: f, Lastmod: f, LastmodSeen: f.Add(time.Minute)}, 0, SkipLastmod},
		{"lastmod newer than fetch", Page{Fetched: f, Lastmod: f.Add(time.Minute), LastmodSeen: f.Add(time.Hour)}, 0, SkipNone},
		{"lastmod read before the fetch", Page{Fetched: f, Lastmod: f.Add(-time.Hour), LastmodSeen: f.Add(-time.Minute)}, 0, SkipNone},
		{"never fetched", Page{}, 24 * time.Hour, SkipNone},
	}
	for _, tc := range tests {
		if got := tc.p.Skip(now, tc.maxAge); got != tc.want {
			t.Errorf("%s: Skip = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestConditional(t *testing.T) {
	h := http.Header{}
	p := Page{ETag: `W/"x y"`, LastModified: "Sat, 28 Nov 2026 09:00:00 GMT"}
	if !p.Conditional(h) || h.Get("If-None-Match") != `W/"x y"` || h.Get("If-Modified-Since") != p.LastModified {
		t.Errorf("Conditional set %v", h)
	}
	h = http.Header{}
	p = Page{LastModified: "yesterday"}
	if p.Conditional(h) || len(h) != 0 {
		t.Errorf("an unparsable Last-Modified was sent back: %v", h)
	}
}

// FuzzCacheOf: any header values give a consistent answer and no panic.
func FuzzCacheOf(f *testing.F) {
	f.Add("max-age=60, no-cache", "Sat, 28 Nov 2026 09:00:00 GMT", "Sat, 28 Nov 2026 10:00:00 GMT", "30", "no-cache")
	f.Add(`no-cache="a", max-age="5"`, "", "0", "", "")
	f.Add("max-age=99999999999999999999999", "Mon, 02 Jan 2006 15:04:05 GMT", "", "-1", "")
	f.Fuzz(func(t *testing.T, cc, date, expires, age, pragma string) {
		recv := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
		h := http.Header{}
		for k, v := range map[string]string{"Cache-Control": cc, "Date": date, "Expires": expires, "Age": age, "Pragma": pragma} {
			if v != "" {
				h.Set(k, v)
			}
		}
		c := CacheOf(h, recv)
		if !c.FreshUntil.IsZero() && c.FreshUntil.Before(recv) {
			t.Fatalf("FreshUntil %v before the response arrived", c.FreshUntil)
		}
		if !strings.Contains(strings.ToLower(cc), "max-age") && expires == "" && !c.FreshUntil.IsZero() {
			t.Fatalf("FreshUntil %v without max-age or Expires", c.FreshUntil)
		}
		if strings.EqualFold(strings.TrimSpace(cc), "no-store") != c.NoStore && !strings.Contains(cc, ",") {
			t.Fatalf("no-store %v for Cache-Control %q", c.NoStore, cc)
		}
	})
}

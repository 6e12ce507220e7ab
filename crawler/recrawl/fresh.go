package recrawl

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Cache says what a response's headers allow a crawl to remember of it
// (RFC 9111 §5.2.2 and §4.2).
type Cache struct {
	// NoStore: Cache-Control: no-store. The page must not be saved (and a
	// page saved before is forgotten).
	NoStore bool
	// NoCache: Cache-Control: no-cache, or Pragma: no-cache without a
	// Cache-Control header. The page is stale at once: always revalidated.
	NoCache bool
	// FreshUntil is when the response stops being fresh: its arrival plus
	// its freshness lifetime (max-age, else Expires - Date) minus the age
	// it already had (Age, or the arrival minus Date when larger). Zero
	// when the server gave no explicit freshness. An Expires that is not a
	// valid date means already expired (RFC 9111 §5.3): FreshUntil is then
	// the arrival time.
	FreshUntil time.Time
}

// CacheOf reads the caching headers of a response that arrived at
// received. A crawler's store is a private cache: s-maxage and "private"
// do not apply to it.
func CacheOf(h http.Header, received time.Time) Cache {
	var c Cache
	cc := h.Values("Cache-Control")
	maxAge := time.Duration(-1)
	for _, v := range cc {
		for _, dir := range strings.Split(v, ",") {
			name, arg, _ := strings.Cut(strings.TrimSpace(dir), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store":
				c.NoStore = true
			case "no-cache":
				// A no-cache with field names (no-cache="Set-Cookie") only
				// restricts those fields; the response may still be reused.
				if strings.TrimSpace(arg) == "" {
					c.NoCache = true
				}
			case "max-age":
				if d, ok := deltaSeconds(arg); ok && maxAge < 0 {
					maxAge = d
				} else if !ok && maxAge < 0 {
					// An invalid max-age makes the response stale
					// (RFC 9111 §4.2.1: treat it as 0 when the cache
					// cannot parse it).
					maxAge = 0
				}
			}
		}
	}
	if len(cc) == 0 {
		for _, v := range h.Values("Pragma") {
			if strings.EqualFold(strings.TrimSpace(v), "no-cache") {
				c.NoCache = true
			}
		}
	}
	date, dateOK := httpDate(h.Get("Date"))
	if !dateOK {
		date = received
	}
	var lifetime time.Duration
	switch {
	case maxAge >= 0:
		lifetime = maxAge
	case h.Get("Expires") != "":
		exp, ok := httpDate(h.Get("Expires"))
		if !ok {
			c.FreshUntil = received
			return c
		}
		lifetime = max(0, exp.Sub(date))
	default:
		return c
	}
	// RFC 9111 §4.2.3: the age the response had when it arrived.
	age := max(0, received.Sub(date))
	if a, ok := deltaSeconds(h.Get("Age")); ok && a > age {
		age = a
	}
	c.FreshUntil = received.Add(lifetime - age)
	if c.FreshUntil.Before(received) {
		c.FreshUntil = received
	}
	return c
}

// deltaSeconds parses RFC 9111 §1.2.2 delta-seconds (a quoted value is
// accepted, as caches do); values too large for a Duration are capped.
func deltaSeconds(s string) (time.Duration, bool) {
	s = strings.Trim(strings.TrimSpace(s), `"`)
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > 1<<31 {
		n = 1 << 31 // RFC 9111: a cache must treat larger values as 2^31
	}
	return time.Duration(n) * time.Second, true
}

func httpDate(s string) (time.Time, bool) {
	if s = strings.TrimSpace(s); s == "" {
		return time.Time{}, false
	}
	t, err := http.ParseTime(s)
	return t, err == nil
}

// Stale reports whether the page must be revalidated at now by the
// server's own freshness: it said no-cache, or its explicit freshness has
// run out. A page without explicit freshness is not stale by this test.
func (p *Page) Stale(now time.Time) bool {
	return p.NoCache || (!p.FreshUntil.IsZero() && !now.Before(p.FreshUntil))
}

// Reasons Skip gives.
const (
	SkipNone    = ""
	SkipMaxAge  = "max-age"
	SkipLastmod = "lastmod"
)

// Skip reports whether a new pass may leave the page unfetched at now, and
// why:
//
//   - SkipLastmod: a sitemap read after the page was last fetched gives it
//     a <lastmod> no later than that fetch: the site says it has not
//     changed since.
//   - SkipMaxAge: maxAge > 0, the page was fetched less than maxAge ago,
//     and the server's freshness does not say it is stale (see Stale).
//
// SkipNone otherwise: fetch it (conditionally).
func (p *Page) Skip(now time.Time, maxAge time.Duration) string {
	if p.Fetched.IsZero() {
		return SkipNone
	}
	if !p.Lastmod.IsZero() && p.LastmodSeen.After(p.Fetched) && !p.Lastmod.After(p.Fetched) {
		return SkipLastmod
	}
	if maxAge > 0 && now.Sub(p.Fetched) < maxAge && !p.Stale(now) {
		return SkipMaxAge
	}
	return SkipNone
}

// Conditional sets the request headers of a conditional request for the
// page (RFC 9110 §13.1): If-None-Match with its ETag as received (weak
// ones too: the weak comparison is the server's), If-Modified-Since with
// its Last-Modified. It reports whether it set any.
func (p *Page) Conditional(h http.Header) bool {
	set := false
	if p.ETag != "" {
		h.Set("If-None-Match", p.ETag)
		set = true
	}
	if p.LastModified != "" {
		if _, ok := httpDate(p.LastModified); ok {
			h.Set("If-Modified-Since", p.LastModified)
			set = true
		}
	}
	return set
}

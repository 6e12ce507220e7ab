package revisitsite

import (
	"net/http"
	"testing"
	"time"
)

// TestEvaluate checks the preconditions against the rules of RFC 9110
// §13.1 (each field) and §13.2.2 (their order).
func TestEvaluate(t *testing.T) {
	// The representation was modified at 03:04:05.5; Last-Modified says
	// 03:04:05 (one-second resolution).
	mod := time.Date(2026, 1, 2, 3, 4, 5, 5e8, time.UTC)
	const lm = "Fri, 02 Jan 2026 03:04:05 GMT"
	const before = "Fri, 02 Jan 2026 03:04:04 GMT"
	const after = "Fri, 02 Jan 2026 03:04:06 GMT"
	type hdr = map[string][]string
	tests := []struct {
		name     string
		method   string
		h        hdr
		etag     string
		modified time.Time
		want     Outcome
	}{
		{"no preconditions", "GET", nil, `"v1"`, mod, Proceed},

		// §13.1.2 If-None-Match, weak comparison.
		{"inm strong match", "GET", hdr{"If-None-Match": {`"v1"`}}, `"v1"`, mod, NotModified},
		{"inm weak tag vs strong", "GET", hdr{"If-None-Match": {`W/"v1"`}}, `"v1"`, mod, NotModified},
		{"inm strong tag vs weak", "GET", hdr{"If-None-Match": {`"v1"`}}, `W/"v1"`, mod, NotModified},
		{"inm weak vs weak", "GET", hdr{"If-None-Match": {`W/"v1"`}}, `W/"v1"`, mod, NotModified},
		{"inm no match", "GET", hdr{"If-None-Match": {`"v2"`}}, `"v1"`, mod, Proceed},
		{"inm opaque is case-sensitive", "GET", hdr{"If-None-Match": {`"V1"`}}, `"v1"`, mod, Proceed},
		{"inm list", "GET", hdr{"If-None-Match": {`"a", "b", "v1"`}}, `"v1"`, mod, NotModified},
		{"inm list without spaces", "GET", hdr{"If-None-Match": {`"a","v1"`}}, `"v1"`, mod, NotModified},
		{"inm list with empty elements", "GET", hdr{"If-None-Match": {` , "a" ,, W/"v1" ,`}}, `"v1"`, mod, NotModified},
		{"inm list no match", "GET", hdr{"If-None-Match": {`"a", W/"b"`}}, `"v1"`, mod, Proceed},
		{"inm field lines combine", "GET", hdr{"If-None-Match": {`"a"`, `"v1"`}}, `"v1"`, mod, NotModified},
		{"inm star", "GET", hdr{"If-None-Match": {`*`}}, `"v1"`, mod, NotModified},
		{"inm star without etag", "GET", hdr{"If-None-Match": {`*`}}, "", time.Time{}, NotModified},
		{"inm list without etag", "GET", hdr{"If-None-Match": {`"v1"`}}, "", mod, Proceed},
		{"inm quoted star is a tag", "GET", hdr{"If-None-Match": {`"*"`}}, `"v1"`, mod, Proceed},
		{"inm star in a list is invalid", "GET", hdr{"If-None-Match": {`*, "v1"`}}, `"v1"`, mod, Proceed},
		{"inm unquoted is invalid", "GET", hdr{"If-None-Match": {`v1`}}, `"v1"`, mod, Proceed},
		{"inm lowercase w/ is invalid", "GET", hdr{"If-None-Match": {`w/"v1"`}}, `"v1"`, mod, Proceed},
		{"inm junk after tag is invalid", "GET", hdr{"If-None-Match": {`"v1"x`}}, `"v1"`, mod, Proceed},
		{"inm unterminated", "GET", hdr{"If-None-Match": {`"v1`}}, `"v1"`, mod, Proceed},
		{"inm space inside is invalid", "GET", hdr{"If-None-Match": {`"v 1"`}}, `"v 1"`, mod, Proceed},
		{"inm empty", "GET", hdr{"If-None-Match": {``}}, `"v1"`, mod, Proceed},
		{"inm head", "HEAD", hdr{"If-None-Match": {`"v1"`}}, `"v1"`, mod, NotModified},
		{"inm other method fails", "POST", hdr{"If-None-Match": {`"v1"`}}, `"v1"`, mod, PreconditionFailed},

		// §13.1.3 If-Modified-Since, only without If-None-Match.
		{"ims equal", "GET", hdr{"If-Modified-Since": {lm}}, `"v1"`, mod, NotModified},
		{"ims later", "GET", hdr{"If-Modified-Since": {after}}, `"v1"`, mod, NotModified},
		{"ims earlier", "GET", hdr{"If-Modified-Since": {before}}, `"v1"`, mod, Proceed},
		{"ims rfc850", "GET", hdr{"If-Modified-Since": {"Friday, 02-Jan-26 03:04:05 GMT"}}, "", mod, NotModified},
		{"ims asctime", "GET", hdr{"If-Modified-Since": {"Fri Jan  2 03:04:05 2026"}}, "", mod, NotModified},
		{"ims invalid date ignored", "GET", hdr{"If-Modified-Since": {"yesterday"}}, "", mod, Proceed},
		{"ims two members ignored", "GET", hdr{"If-Modified-Since": {lm, after}}, "", mod, Proceed},
		{"ims without last-modified ignored", "GET", hdr{"If-Modified-Since": {after}}, `"v1"`, time.Time{}, Proceed},
		{"ims head", "HEAD", hdr{"If-Modified-Since": {lm}}, "", mod, NotModified},
		{"ims ignored for other methods", "POST", hdr{"If-Modified-Since": {lm}}, "", mod, Proceed},
		{"ims ignored with inm no match", "GET", hdr{"If-None-Match": {`"v0"`}, "If-Modified-Since": {after}}, `"v1"`, mod, Proceed},
		{"ims ignored with invalid inm", "GET", hdr{"If-None-Match": {`junk`}, "If-Modified-Since": {after}}, `"v1"`, mod, Proceed},
		{"inm match wins over old ims", "GET", hdr{"If-None-Match": {`"v1"`}, "If-Modified-Since": {before}}, `"v1"`, mod, NotModified},

		// §13.1.1 If-Match, strong comparison; §13.1.4 If-Unmodified-Since.
		{"if-match strong", "GET", hdr{"If-Match": {`"v1"`}}, `"v1"`, mod, Proceed},
		{"if-match weak tag never matches", "GET", hdr{"If-Match": {`W/"v1"`}}, `"v1"`, mod, PreconditionFailed},
		{"if-match weak representation", "GET", hdr{"If-Match": {`W/"v1"`}}, `W/"v1"`, mod, PreconditionFailed},
		{"if-match star", "GET", hdr{"If-Match": {`*`}}, "", mod, Proceed},
		{"if-match no match", "GET", hdr{"If-Match": {`"a", "b"`}}, `"v1"`, mod, PreconditionFailed},
		{"ius earlier fails", "GET", hdr{"If-Unmodified-Since": {before}}, "", mod, PreconditionFailed},
		{"ius equal", "GET", hdr{"If-Unmodified-Since": {lm}}, "", mod, Proceed},
		{"ius invalid ignored", "GET", hdr{"If-Unmodified-Since": {"soon"}}, "", mod, Proceed},
		{"ius ignored with if-match", "GET", hdr{"If-Match": {`"v1"`}, "If-Unmodified-Since": {before}}, `"v1"`, mod, Proceed},

		// §13.2.2: step 1 before step 3.
		{"if-match fails before inm", "GET", hdr{"If-Match": {`"x"`}, "If-None-Match": {`"v1"`}}, `"v1"`, mod, PreconditionFailed},
		{"if-match then inm", "GET", hdr{"If-Match": {`"v1"`}, "If-None-Match": {`"v1"`}}, `"v1"`, mod, NotModified},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, vs := range tc.h {
				for _, v := range vs {
					h.Add(k, v)
				}
			}
			if got := Evaluate(tc.method, h, tc.etag, tc.modified); got != tc.want {
				t.Errorf("Evaluate(%s, %v, %q, %v) = %v; want %v", tc.method, tc.h, tc.etag, tc.modified, got, tc.want)
			}
		})
	}
}

func FuzzParseETagList(f *testing.F) {
	for _, s := range []string{`"a"`, `W/"a", "b"`, `*`, ` ,, "x" ,`, `"a`, `w/"a"`, "\"\x80\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tags, ok := parseETagList(s)
		if !ok {
			return
		}
		for _, tag := range tags {
			if scanETag(tag) != len(tag) {
				t.Fatalf("parseETagList(%q) returned %q, not one entity-tag", s, tag)
			}
		}
	})
}

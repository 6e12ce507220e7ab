package revisitsite

import (
	"net/http"
	"strings"
	"time"
)

// Outcome is what the preconditions of a request decide (RFC 9110 §13.2.2).
type Outcome int

const (
	// Proceed: perform the method; a GET answers 200 with the body.
	Proceed Outcome = iota
	// NotModified: answer 304 Not Modified, without a body.
	NotModified
	// PreconditionFailed: answer 412 Precondition Failed.
	PreconditionFailed
)

func (o Outcome) String() string {
	switch o {
	case Proceed:
		return "proceed"
	case NotModified:
		return "304"
	case PreconditionFailed:
		return "412"
	}
	return "outcome(?)"
}

// Evaluate applies the preconditions of a request for an existing
// representation whose entity tag is etag (as sent in ETag, with its W/
// prefix when weak; "" when it has none) and whose last modification is
// modified (zero when it has none), in the order of RFC 9110 §13.2.2:
//
//  1. If-Match (strong comparison; "*" matches any current
//     representation): false means 412.
//  2. If-Unmodified-Since, only without If-Match: false (modified after
//     the date) means 412.
//  3. If-None-Match (weak comparison; "*" matches any current
//     representation): false means 304 for GET and HEAD, 412 otherwise.
//  4. If-Modified-Since, only for GET and HEAD without If-None-Match:
//     false (not modified after the date) means 304.
//
// A date precondition is ignored when its value is not one valid HTTP-date
// (IMF-fixdate, RFC 850 or asctime form; several field lines count as
// several members) or when the representation has no modification date
// (§13.1.3, §13.1.4). Dates compare at the one-second resolution of
// Last-Modified. An entity-tag list that does not parse is taken as
// present and matching nothing: the full response is never wrong.
//
// The caller applies Evaluate only when the response without
// preconditions would be 2xx (§13.2.1): a removed page answers 404 or 410
// whatever the request says.
func Evaluate(method string, h http.Header, etag string, modified time.Time) Outcome {
	getOrHead := method == http.MethodGet || method == http.MethodHead
	modified = modified.Truncate(time.Second)

	// Step 1, then step 2 only when there is no If-Match.
	if vals, ok := h[http.CanonicalHeaderKey("If-Match")]; ok {
		if !etagListMatches(vals, etag, true) {
			return PreconditionFailed
		}
	} else if vals, ok := h[http.CanonicalHeaderKey("If-Unmodified-Since")]; ok && !modified.IsZero() {
		if t, ok := oneDate(vals); ok && modified.After(t) {
			return PreconditionFailed
		}
	}

	// Step 3, then step 4 only when there is no If-None-Match.
	if vals, ok := h[http.CanonicalHeaderKey("If-None-Match")]; ok {
		if etagListMatches(vals, etag, false) {
			if getOrHead {
				return NotModified
			}
			return PreconditionFailed
		}
	} else if vals, ok := h[http.CanonicalHeaderKey("If-Modified-Since")]; ok && getOrHead && !modified.IsZero() {
		if t, ok := oneDate(vals); ok && !modified.After(t) {
			return NotModified
		}
	}
	return Proceed
}

// oneDate parses a date precondition's field lines: exactly one member, a
// valid HTTP-date.
func oneDate(vals []string) (time.Time, bool) {
	if len(vals) != 1 {
		return time.Time{}, false
	}
	t, err := http.ParseTime(strings.TrimSpace(vals[0]))
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// etagListMatches reports whether an If-Match or If-None-Match field (its
// field lines, combined as a list) matches the representation's tag:
// "*" matches any current representation, a list matches when one member
// compares equal to etag (strongly or weakly). A field that is not "*" or a
// valid list matches nothing.
func etagListMatches(vals []string, etag string, strong bool) bool {
	joined := strings.TrimSpace(strings.Join(vals, ","))
	if joined == "*" {
		return true
	}
	tags, ok := parseETagList(joined)
	if !ok || etag == "" {
		return false
	}
	for _, t := range tags {
		if strong && etagStrongEqual(t, etag) || !strong && etagWeakEqual(t, etag) {
			return true
		}
	}
	return false
}

// parseETagList parses a comma-separated list of entity-tags
// (RFC 9110 §8.8.3, with the empty elements §5.6.1 allows). ok is false
// when the list is not valid; tags then holds nothing useful.
func parseETagList(s string) (tags []string, ok bool) {
	i := 0
	for {
		// Skip OWS and empty elements.
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == ',') {
			i++
		}
		if i == len(s) {
			return tags, len(tags) > 0
		}
		n := scanETag(s[i:])
		if n == 0 {
			return nil, false
		}
		tags = append(tags, s[i:i+n])
		i += n
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i < len(s) && s[i] != ',' {
			return nil, false
		}
	}
}

// scanETag returns the length of the entity-tag at the start of s:
// [ "W/" ] DQUOTE *etagc DQUOTE, where etagc is %x21 / %x23-7E / obs-text;
// 0 when s does not start with one.
func scanETag(s string) int {
	i := 0
	if strings.HasPrefix(s, "W/") {
		i = 2
	}
	if i >= len(s) || s[i] != '"' {
		return 0
	}
	for i++; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return i + 1
		case c == 0x21 || c >= 0x23 && c != 0x7f:
		default:
			return 0
		}
	}
	return 0
}

// opaque splits an entity-tag into its opaque-tag and weakness.
func opaque(tag string) (string, bool) {
	if strings.HasPrefix(tag, "W/") {
		return tag[2:], true
	}
	return tag, false
}

// etagStrongEqual is the strong comparison of RFC 9110 §8.8.3.2: both tags
// strong and their opaque-tags equal.
func etagStrongEqual(a, b string) bool {
	oa, wa := opaque(a)
	ob, wb := opaque(b)
	return !wa && !wb && oa == ob
}

// etagWeakEqual is the weak comparison: opaque-tags equal, weakness
// ignored.
func etagWeakEqual(a, b string) bool {
	oa, _ := opaque(a)
	ob, _ := opaque(b)
	return oa == ob
}

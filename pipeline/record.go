package pipeline

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Record is what exporters write: one per requested URL, success or
// failure. The JSON names are part of trawl's output format.
//
// Links is never null in JSON ([] when none) and Data never null ({} when
// none). FetchedAt is written in UTC, RFC 3339 with milliseconds.
type Record struct {
	URL         string              `json:"url"`                // normalized, as requested
	FinalURL    string              `json:"final_url"`          // after redirects ("" when the fetch failed before any redirect)
	Status      int                 `json:"status"`             // 0 when there was no response
	Depth       int                 `json:"depth"`              // seeds are 0
	Referrer    string              `json:"referrer"`           // "" for seeds
	ContentType string              `json:"content_type"`       // media type without parameters
	Title       string              `json:"title"`              // UTF-8
	Bytes       int64               `json:"bytes"`              // body size after decompression (as kept, see Truncated)
	Truncated   bool                `json:"truncated"`          // body cut at the size cap
	ElapsedMS   int64               `json:"elapsed_ms"`         // fetch time in milliseconds
	FetchedAt   time.Time           `json:"fetched_at"`         // RFC 3339
	Links       []string            `json:"links"`              // absolute, normalized, fragment-free, document order, deduplicated
	Data        map[string][]string `json:"data"`               // extraction stage name -> values
	Error       string              `json:"error"`              // "" on success
	Rendered    bool                `json:"rendered,omitempty"` // rendered in a browser; written only when true
	// NotModified: the server answered 304 to a recrawl's conditional
	// request; Title and Links are the stored ones. Written only when true.
	NotModified bool `json:"not_modified,omitempty"`
	// Changed: for a URL fetched in an earlier pass of the crawl and
	// answered now with a 2xx or 304, whether the body changed since. Nil
	// (not written) for URLs new to the crawl and for other statuses.
	Changed *bool `json:"changed,omitempty"`
	// Gone: a URL fetched in an earlier pass now answers 404 or 410.
	// Written only when true.
	Gone bool `json:"gone,omitempty"`
}

// Record returns the page's record. Error is "" when the page has no Err
// and no stage failed; otherwise Err's message followed by the stage error
// messages, joined by "; ". FinalURL is Page.FinalURL, else URL when
// there was a response, else "" (a failed fetch without redirects).
func (p *Page) Record() Record {
	r := Record{
		URL:         p.URL,
		Status:      p.Status,
		Depth:       p.Depth,
		Referrer:    p.Referrer,
		ContentType: p.ContentType(),
		Title:       p.Title,
		Bytes:       int64(len(p.Body)),
		Truncated:   p.Truncated,
		Rendered:    p.Rendered,
		NotModified: p.NotModified,
		Gone:        p.Gone,
		ElapsedMS:   p.Elapsed.Milliseconds(),
		FetchedAt:   p.FetchedAt,
		Links:       make([]string, len(p.Links)),
		Data:        p.Data,
	}
	switch {
	case p.FinalURL != "":
		r.FinalURL = p.FinalURL
	case p.Status != 0 || p.Err == nil:
		r.FinalURL = p.URL
	}
	for i, l := range p.Links {
		r.Links[i] = l.URL
	}
	if p.Known && (p.Status == 304 || p.Status >= 200 && p.Status < 300) && p.Err == nil {
		changed := p.Changed && !p.NotModified
		r.Changed = &changed
	}
	if r.Data == nil {
		r.Data = map[string][]string{}
	}
	var msgs []string
	if p.Err != nil {
		msgs = append(msgs, p.Err.Error())
	}
	msgs = append(msgs, p.StageErrors...)
	r.Error = strings.Join(msgs, "; ")
	return r
}

// timeLayout is RFC 3339 with fixed milliseconds, so that records sort as
// text.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalJSON encodes the record as one JSON object with the field order of
// the struct, links as [] and data as {} when empty. It does not escape
// <, > and &.
func (r Record) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(make([]byte, 0, 512)), nil
}

// AppendJSON appends the record's JSON encoding (see MarshalJSON) to b,
// without a trailing newline.
func (r Record) AppendJSON(b []byte) []byte {
	b = append(b, `{"url":`...)
	b = appendJSONString(b, r.URL)
	b = append(b, `,"final_url":`...)
	b = appendJSONString(b, r.FinalURL)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, `,"depth":`...)
	b = strconv.AppendInt(b, int64(r.Depth), 10)
	b = append(b, `,"referrer":`...)
	b = appendJSONString(b, r.Referrer)
	b = append(b, `,"content_type":`...)
	b = appendJSONString(b, r.ContentType)
	b = append(b, `,"title":`...)
	b = appendJSONString(b, r.Title)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, r.Bytes, 10)
	b = append(b, `,"truncated":`...)
	b = strconv.AppendBool(b, r.Truncated)
	b = append(b, `,"elapsed_ms":`...)
	b = strconv.AppendInt(b, r.ElapsedMS, 10)
	b = append(b, `,"fetched_at":"`...)
	b = r.FetchedAt.UTC().AppendFormat(b, timeLayout)
	b = append(b, `","links":[`...)
	for i, l := range r.Links {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, l)
	}
	b = append(b, `],"data":`...)
	b = appendData(b, r.Data)
	b = append(b, `,"error":`...)
	b = appendJSONString(b, r.Error)
	if r.Rendered {
		b = append(b, `,"rendered":true`...)
	}
	if r.NotModified {
		b = append(b, `,"not_modified":true`...)
	}
	if r.Changed != nil {
		b = append(b, `,"changed":`...)
		b = strconv.AppendBool(b, *r.Changed)
	}
	if r.Gone {
		b = append(b, `,"gone":true`...)
	}
	return append(b, '}')
}

// appendData appends m as a JSON object with sorted keys; values are
// arrays, [] when nil.
func appendData(b []byte, m map[string][]string) []byte {
	b = append(b, '{')
	var small [16]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':', '[')
		for j, v := range m[k] {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, v)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// jsonSafe[c] reports whether the ASCII byte c is written as is.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString appends s as a JSON string. Control characters, quotes
// and backslashes are escaped, invalid UTF-8 becomes U+FFFD, and U+2028 and
// U+2029 are escaped so that the output is also valid JavaScript.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func errNotHTML(p *Page) error {
	if p.Err != nil {
		return fmt.Errorf("pipeline: %s: no document: the fetch failed", p.URL)
	}
	ct := p.ContentType()
	if ct == "" {
		ct = "empty body"
	}
	return fmt.Errorf("pipeline: %s: no document: not HTML (%s)", p.URL, ct)
}

package warc_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/trawlhq/trawl/session"
	"github.com/trawlhq/trawl/session/warc"
)

// site serves the bodies of a test site and remembers what it sent.
type site struct {
	pages map[string]page
}

type page struct {
	body     []byte // bytes sent (after content coding)
	encoding string
	chunked  bool
	status   int
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func br(b []byte) []byte {
	var buf bytes.Buffer
	zw := brotli.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func newSite() *site {
	html := []byte(strings.Repeat("<p>hello, archive</p>\n", 200))
	big := randomBytes(90 << 10) // above MemoryBody: spilled to a file
	return &site{pages: map[string]page{
		"/plain":   {body: html},
		"/chunked": {body: []byte(strings.Repeat("chunk ", 5000)), chunked: true},
		"/gzip":    {body: gz(html), encoding: "gzip"},
		"/br":      {body: br(html), encoding: "br"},
		"/big":     {body: big},
		"/dup-a":   {body: []byte("same payload twice")},
		"/dup-b":   {body: []byte("same payload twice")},
		"/missing": {body: []byte("not here"), status: 404},
		"/huge":    {body: gz(randomBytes(200 << 10)), encoding: "gzip"},
	}}
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/redirect" {
		http.Redirect(w, r, "/plain", http.StatusFound)
		return
	}
	p, ok := s.pages[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if p.encoding != "" {
		w.Header().Set("Content-Encoding", p.encoding)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if !p.chunked {
		w.Header().Set("Content-Length", strconv.Itoa(len(p.body)))
	}
	if p.status != 0 {
		w.WriteHeader(p.status)
	}
	if p.chunked {
		for b := p.body; len(b) > 0; {
			n := min(len(b), 1000)
			w.Write(b[:n])
			w.(http.Flusher).Flush()
			b = b[n:]
		}
		return
	}
	w.Write(p.body)
}

// TestTransportRoundTrip crawls a local site through a session whose
// transport records into a Writer, then reads the files back: every
// response payload is the bytes the server sent (content coding kept,
// chunking removed), digests verify, requests point at their responses,
// duplicates became revisits, and the capped body is marked truncated.
func TestTransportRoundTrip(t *testing.T) {
	s := newSite()
	srv := httptest.NewServer(s)
	defer srv.Close()

	prefix := filepath.Join(t.TempDir(), "crawl")
	w, err := warc.Open(warc.Config{Prefix: prefix, CDX: true, MaxSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	idx := &warc.MemoryIndex{}
	sess, err := session.New(session.Config{
		MaxBodySize: 100 << 10,
		WrapTransport: func(next http.RoundTripper) http.RoundTripper {
			return &warc.Transport{Next: next, Writer: w, Index: idx, MemoryBody: 4 << 10, TempDir: t.TempDir()}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ctx := context.Background()
	paths := []string{"/plain", "/chunked", "/gzip", "/br", "/big", "/dup-a", "/dup-b", "/missing", "/redirect", "/huge"}
	for _, p := range paths {
		resp, err := sess.Get(ctx, srv.URL+p)
		if err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
		resp.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	recs := readSet(t, prefix)
	byID := map[string]rec{}
	responses := map[string]rec{}
	files := map[string]bool{}
	for i, r := range recs {
		byID[r.ID] = r
		if r.Type == warc.TypeWarcinfo {
			files[r.loc.File] = true
			if r.loc.Offset != 0 || r.Get("WARC-Filename") != r.loc.File {
				t.Errorf("warcinfo at %s:%d names %q; want one at offset 0 of every file", r.loc.File, r.loc.Offset, r.Get("WARC-Filename"))
			}
			continue
		}
		if i > 0 && recs[i-1].loc.File != r.loc.File && r.Type != warc.TypeWarcinfo {
			t.Errorf("%s does not start with a warcinfo record", r.loc.File)
		}
		if r.Type == warc.TypeResponse || r.Type == warc.TypeRevisit {
			u := strings.TrimPrefix(r.Get("WARC-Target-URI"), srv.URL)
			if _, ok := responses[u]; !ok {
				responses[u] = r // the first: /plain is fetched again after /redirect
			}
		}
		if ip := r.Get("WARC-IP-Address"); ip != "127.0.0.1" {
			t.Errorf("%s %s: WARC-IP-Address %q, want 127.0.0.1", r.Type, r.Get("WARC-Target-URI"), ip)
		}
		if !strings.HasPrefix(r.Get("Content-Type"), "application/http; msgtype=") {
			t.Errorf("%s record Content-Type %q", r.Type, r.Get("Content-Type"))
		}
	}
	if len(files) < 2 {
		t.Errorf("wrote %d files with MaxSize 64 KiB; want rotation", len(files))
	}
	requests := 0
	for _, r := range recs {
		if r.Type != warc.TypeRequest {
			continue
		}
		requests++
		checkDigests(t, r)
		to, ok := byID[r.Get("WARC-Concurrent-To")]
		if !ok || to.Get("WARC-Target-URI") != r.Get("WARC-Target-URI") || !to.Date.Equal(r.Date) {
			t.Errorf("request %s: WARC-Concurrent-To %q does not name its response", r.Get("WARC-Target-URI"), r.Get("WARC-Concurrent-To"))
		}
		if !bytes.HasPrefix(r.block, []byte("GET /")) || !bytes.Contains(r.block, []byte("\r\nUser-Agent: "+session.DefaultUserAgent+"\r\n")) {
			t.Errorf("request block %.200q lacks the request line or the session's User-Agent", r.block)
		}
	}
	if want := len(paths) + 1; requests != want { // the redirect is two exchanges
		t.Errorf("%d request records, want %d", requests, want)
	}

	for path, p := range s.pages {
		r, ok := responses[path]
		if !ok {
			t.Errorf("%s: no response record", path)
			continue
		}
		head, payload := split(t, r.block)
		switch path {
		case "/dup-b":
			if r.Type != warc.TypeRevisit || len(payload) != 0 {
				t.Errorf("/dup-b: %s record with %d payload bytes, want a revisit without payload", r.Type, len(payload))
			}
			first := responses["/dup-a"]
			if r.Get("WARC-Refers-To") != first.ID || r.Get("WARC-Refers-To-Target-URI") != first.Get("WARC-Target-URI") ||
				r.Get("WARC-Refers-To-Date") != warc.FormatDate(first.Date) || r.Get("WARC-Profile") != warc.ProfileIdenticalPayload ||
				r.Get("WARC-Payload-Digest") != first.Get("WARC-Payload-Digest") {
				t.Errorf("/dup-b revisit fields %v do not refer to /dup-a's response %s", r.Fields, first.ID)
			}
			if got := r.Get("WARC-Block-Digest"); got != digest(r.block) {
				t.Errorf("revisit block digest %s, want %s", got, digest(r.block))
			}
			continue
		case "/huge":
			// 200 KiB of incompressible data, capped at 100 KiB after decompression
			if r.Get("WARC-Truncated") != "length" || !bytes.HasPrefix(p.body, payload) || len(payload) >= len(p.body) {
				t.Errorf("/huge: WARC-Truncated %q, payload %d of %d bytes (prefix: %v); want a truncated prefix",
					r.Get("WARC-Truncated"), len(payload), len(p.body), bytes.HasPrefix(p.body, payload))
			}
			checkDigests(t, r)
			continue
		}
		if r.Type != warc.TypeResponse {
			t.Errorf("%s: %s record, want response", path, r.Type)
			continue
		}
		checkDigests(t, r)
		if !bytes.Equal(payload, p.body) {
			t.Errorf("%s: payload %d bytes, server sent %d (equal prefix %v)", path, len(payload), len(p.body), bytes.HasPrefix(p.body, payload))
		}
		if r.Get("WARC-Truncated") != "" {
			t.Errorf("%s: WARC-Truncated %q on a whole body", path, r.Get("WARC-Truncated"))
		}
		if p.encoding != "" && !bytes.Contains(head, []byte("\r\nContent-Encoding: "+p.encoding+"\r\n")) {
			t.Errorf("%s: head lacks Content-Encoding %s: %q", path, p.encoding, head)
		}
		if p.chunked && bytes.Contains(bytes.ToLower(head), []byte("transfer-encoding")) {
			t.Errorf("%s: head keeps Transfer-Encoding though the body is recorded without chunks: %q", path, head)
		}
	}
	if r := responses["/redirect"]; !bytes.HasPrefix(r.block, []byte("HTTP/1.1 302 Found\r\n")) {
		t.Errorf("redirect hop recorded as %.40q", r.block)
	}
	if r := responses["/missing"]; !bytes.HasPrefix(r.block, []byte("HTTP/1.1 404 Not Found\r\n")) {
		t.Errorf("404 recorded as %.40q", r.block)
	}
	checkWarcio(t, prefix, recs)
}

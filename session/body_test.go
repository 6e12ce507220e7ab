package session_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"

	"github.com/trawlhq/trawl/session"
)

func encode(t testing.TB, coding string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	switch coding {
	case "gzip":
		w = gzip.NewWriter(&b)
	case "deflate": // zlib-wrapped, as RFC 9110 says
		w = zlib.NewWriter(&b)
	case "raw-deflate": // what many servers actually send
		w, _ = flate.NewWriter(&b, flate.DefaultCompression)
	case "br":
		w = brotli.NewWriter(&b)
	case "zstd":
		w, _ = zstd.NewWriter(&b)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func TestAutoDecompress(t *testing.T) {
	plain := bytes.Repeat([]byte("trawl decodes bodies itself. "), 200)
	gzBr := encode(t, "br", encode(t, "gzip", plain)) // gzip applied first, then br
	tests := []struct {
		name    string
		header  string
		payload []byte
	}{
		{"gzip", "gzip", encode(t, "gzip", plain)},
		{"deflate zlib", "deflate", encode(t, "deflate", plain)},
		{"deflate raw", "deflate", encode(t, "raw-deflate", plain)},
		{"br", "br", encode(t, "br", plain)},
		{"zstd", "zstd", encode(t, "zstd", plain)},
		{"gzip then br", "gzip, br", gzBr},
		{"identity", "", plain},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					w := newWire(t, m, func(rw http.ResponseWriter, r *http.Request) {
						if tc.header != "" {
							rw.Header().Set("Content-Encoding", tc.header)
						}
						rw.Write(tc.payload)
					})
					on := newSession(t, w, session.Config{})
					for i := 0; i < 2; i++ { // twice: pooled decoders are reused
						resp := mustGet(t, on, w.URL)
						if !bytes.Equal(resp.Body, plain) {
							t.Fatalf("decoded body: %d bytes, want the %d-byte original", len(resp.Body), len(plain))
						}
						if resp.Header.Get("Content-Encoding") != "" {
							t.Errorf("Content-Encoding %q left on a decoded response", resp.Header.Get("Content-Encoding"))
						}
					}
					if on.Stats().ConnsOpened != 1 {
						t.Errorf("decoding prevented keep-alive: %d connections", on.Stats().ConnsOpened)
					}
					off := newSession(t, w, session.Config{NoDecompress: true})
					if resp := mustGet(t, off, w.URL); !bytes.Equal(resp.Body, tc.payload) {
						t.Errorf("NoDecompress: body is not the raw bytes")
					}
				})
			}
		})
	}
}

func TestCorruptEncodingIsReadError(t *testing.T) {
	w := newWire(t, modes[0], func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Encoding", "gzip")
		rw.Write([]byte("this is not gzip"))
	})
	s := newSession(t, w, session.Config{})
	_, err := s.Get(ctxT(t), w.URL)
	var e *session.Error
	if !errors.As(err, &e) || e.Op != "read" || !strings.Contains(err.Error(), "gzip") {
		t.Errorf("err = %v, want a read error naming gzip", err)
	}
}

// gzipBombServer streams a gzip body of `total` zero bytes without holding it in
// memory: the same small gzip member (1 MiB of zeros) is written over and over, which
// a gzip reader decodes as one multi-member stream.
func gzipBombServer(t testing.TB, total int64) *wire {
	member := encode(t, "gzip", make([]byte, 1<<20))
	return newWire(t, modes[0], func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Encoding", "gzip")
		for n := int64(0); n < total; n += 1 << 20 {
			if _, err := rw.Write(member); err != nil {
				return // the client hung up at its cap
			}
		}
	})
}

func TestGzipBombStopsAtCap(t *testing.T) {
	const gib, cap = 1 << 30, 1 << 20
	w := gzipBombServer(t, gib)
	s := newSession(t, w, session.Config{MaxBodySize: cap})
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	resp := mustGet(t, s, w.URL)
	runtime.ReadMemStats(&after)
	if len(resp.Body) != cap || !resp.Truncated {
		t.Fatalf("body %d bytes truncated=%v, want %d and true", len(resp.Body), resp.Truncated, cap)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("reading a 1 GiB bomb with a 1 MiB cap allocated %d MiB", alloc>>20)
	}
	if wire := s.Stats().BytesRead; wire > 16<<20 {
		t.Errorf("read %d MiB off the wire for a 1 MiB cap", wire>>20)
	}
	resp.Release()

	// per-request cap, and no cap
	resp, err := s.Do(ctxT(t), &session.Request{URL: w.URL, MaxBodySize: 1000})
	if err != nil || len(resp.Body) != 1000 || !resp.Truncated {
		t.Errorf("per-request cap: err=%v len=%d", err, len(resp.Body))
	}
}

func TestBodyCapPlain(t *testing.T) {
	body := strings.Repeat("x", 5000)
	w := newWire(t, modes[0], func(rw http.ResponseWriter, r *http.Request) { io.WriteString(rw, body) })
	s := newSession(t, w, session.Config{})
	for _, tc := range []struct {
		cap       int64
		wantLen   int
		truncated bool
	}{{4999, 4999, true}, {5000, 5000, false}, {-1, 5000, false}, {0, 5000, false}} {
		resp, err := s.Do(ctxT(t), &session.Request{URL: w.URL, MaxBodySize: tc.cap})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Body) != tc.wantLen || resp.Truncated != tc.truncated {
			t.Errorf("cap %d: len %d truncated %v, want %d %v", tc.cap, len(resp.Body), resp.Truncated, tc.wantLen, tc.truncated)
		}
		resp.Release()
		resp.Release() // harmless
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name, ctype string
		body        []byte
		want        string
	}{
		{"utf8", "text/plain; charset=utf-8", []byte("héllo"), "héllo"},
		{"latin1 header", "text/html; charset=ISO-8859-1", []byte("h\xe9llo"), "héllo"},
		{"meta", "text/html", []byte(`<meta charset="windows-1252"><p>` + "caf\xe9 \x80"), "<meta charset=\"windows-1252\"><p>café €"},
		{"bom", "text/plain", []byte("\xef\xbb\xbfbom"), "bom"},
		{"shift_jis", "text/plain; charset=Shift_JIS", []byte("\x82\xb1\x82\xf1"), "こん"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWire(t, modes[0], func(rw http.ResponseWriter, r *http.Request) {
				rw.Header().Set("Content-Type", tc.ctype)
				rw.Write(tc.body)
			})
			resp := mustGet(t, newSession(t, w, session.Config{}), w.URL)
			got, err := resp.Text()
			if err != nil || got != tc.want {
				t.Errorf("Text() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

package session

import (
	"bytes"
	"sync"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
)

// maxPooled is the largest buffer kept for reuse by Release.
const maxPooled = 4 << 20

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuf() *bytes.Buffer {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func putBuf(b *bytes.Buffer) {
	if b != nil && b.Cap() <= maxPooled {
		b.Reset()
		bufPool.Put(b)
	}
}

// Text returns the body decoded to UTF-8 from its charset, chosen by the
// Content-Type header, a byte-order mark or an HTML <meta> tag, in that order
// (UTF-8 when none says otherwise).
func (r *Response) Text() (string, error) {
	enc, name, _ := charset.DetermineEncoding(r.Body, r.Header.Get("Content-Type"))
	if name == "utf-8" {
		b := bytes.TrimPrefix(r.Body, []byte("\xef\xbb\xbf"))
		if utf8.Valid(b) {
			return string(b), nil
		}
	}
	out, err := enc.NewDecoder().Bytes(r.Body)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// Release returns the body's buffer to a pool for reuse by later responses. Body
// must not be used after Release. Calling it is optional; calling it twice is harmless.
func (r *Response) Release() {
	if r == nil {
		return
	}
	b := r.buf
	r.buf = nil
	r.Body = nil
	putBuf(b)
}

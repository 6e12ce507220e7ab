package session

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// maxZstdWindow bounds the memory a zstd stream may make the decoder allocate.
const maxZstdWindow = 8 << 20

var gzipPool sync.Pool // *gzip.Reader

var zstdPool = sync.Pool{New: func() any {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(maxZstdWindow))
	if err != nil {
		return nil
	}
	return d
}}

// decoder decodes a body through the chain of its Content-Encoding codings.
type decoder struct {
	r       io.Reader
	closers []func()
}

func (d *decoder) Read(p []byte) (int, error) { return d.r.Read(p) }

func (d *decoder) close() {
	for _, c := range d.closers {
		c()
	}
}

// newDecoder returns nil when the body is not encoded, or encoded with a coding it
// does not know (the body is then returned as sent, Content-Encoding kept).
func newDecoder(wire io.Reader, h http.Header) (*decoder, error) {
	var codings []string
	for _, v := range h.Values("Content-Encoding") {
		for _, c := range strings.Split(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			switch c {
			case "", "identity":
				continue
			case "gzip", "x-gzip", "deflate", "br", "zstd":
				codings = append(codings, c)
			default:
				return nil, nil
			}
		}
	}
	if len(codings) == 0 {
		return nil, nil
	}
	d := &decoder{r: wire}
	// codings are listed in the order they were applied: undo from the last
	for i := len(codings) - 1; i >= 0; i-- {
		if err := d.push(codings[i]); err != nil {
			d.close()
			return nil, err
		}
	}
	return d, nil
}

// lazyReader defers building a decoder until the first read, so that building it
// (which reads the stream header) happens under the read watchdog.
type lazyReader struct {
	open func() (io.Reader, error)
	r    io.Reader
	err  error
}

func (l *lazyReader) Read(p []byte) (int, error) {
	if l.r == nil && l.err == nil {
		l.r, l.err = l.open()
		if l.r == nil && l.err == nil {
			l.err = io.EOF
		}
	}
	if l.err != nil {
		return 0, l.err
	}
	return l.r.Read(p)
}

func (d *decoder) push(coding string) error {
	src := d.r
	switch coding {
	case "gzip", "x-gzip":
		var zr *gzip.Reader
		d.closers = append(d.closers, func() {
			if zr != nil {
				gzipPool.Put(zr)
			}
		})
		d.r = &lazyReader{open: func() (io.Reader, error) {
			if v, ok := gzipPool.Get().(*gzip.Reader); ok {
				if err := v.Reset(src); err != nil {
					gzipPool.Put(v)
					return nil, emptyOK(err, "gzip")
				}
				zr = v
				return zr, nil
			}
			v, err := gzip.NewReader(src)
			if err != nil {
				return nil, emptyOK(err, "gzip")
			}
			zr = v
			return zr, nil
		}}
	case "deflate":
		// "deflate" is meant to be zlib-wrapped, but many servers send raw deflate
		d.r = &lazyReader{open: func() (io.Reader, error) {
			br := bufio.NewReader(src)
			hdr, err := br.Peek(2)
			if len(hdr) == 0 && err != nil {
				return nil, emptyOK(err, "deflate")
			}
			if len(hdr) == 2 && hdr[0]&0x0f == 8 && (uint16(hdr[0])<<8|uint16(hdr[1]))%31 == 0 {
				zr, err := zlib.NewReader(br)
				if err != nil {
					return nil, fmt.Errorf("deflate: %w", err)
				}
				d.closers = append(d.closers, func() { zr.Close() })
				return zr, nil
			}
			fr := flate.NewReader(br)
			d.closers = append(d.closers, func() { fr.Close() })
			return fr, nil
		}}
	case "br":
		d.r = &lazyReader{open: func() (io.Reader, error) { return brotli.NewReader(src), nil }}
	case "zstd":
		zd, _ := zstdPool.Get().(*zstd.Decoder)
		if zd == nil {
			return errors.New("zstd: cannot create decoder")
		}
		d.closers = append(d.closers, func() {
			_ = zd.Reset(nil)
			zstdPool.Put(zd)
		})
		d.r = &lazyReader{open: func() (io.Reader, error) {
			if err := zd.Reset(src); err != nil {
				return nil, fmt.Errorf("zstd: %w", err)
			}
			return zd, nil
		}}
	}
	return nil
}

// emptyOK turns the EOF of an empty encoded body into an empty body.
func emptyOK(err error, coding string) error {
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	return fmt.Errorf("%s: %w", coding, err)
}

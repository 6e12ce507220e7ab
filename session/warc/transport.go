package warc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMemoryBody is how much of one response body a Transport holds in
// memory while it records the exchange: 256 KiB.
const DefaultMemoryBody = 256 << 10

// indexTimeout bounds one Index call: a slow index costs deduplication,
// never the crawl.
const indexTimeout = 5 * time.Second

// Transport is an http.RoundTripper middleware that records every exchange
// it carries as a request record and a response record (or a revisit
// record) in Writer. Set its fields before the first request; it is safe
// for concurrent use.
//
// The response body is recorded as the caller reads it: Transport passes
// it on unchanged and keeps a copy (in memory up to MemoryBody, in a
// temporary file beyond), and it writes the records when the caller closes
// the body. A body closed before its end is recorded as far as it was read,
// with WARC-Truncated: length (or disconnect / time when the read failed).
type Transport struct {
	// Next sends the requests. nil means http.DefaultTransport.
	Next http.RoundTripper
	// Writer receives the records. It must not be nil.
	Writer *Writer
	// Index deduplicates payloads: a complete, non-empty response whose
	// payload digest it holds is written as a revisit record. nil means no
	// deduplication: every response in full.
	Index Index
	// MemoryBody is how many bytes of a body are kept in memory until its
	// record is written; the rest goes to a temporary file. 0 means
	// DefaultMemoryBody.
	MemoryBody int64
	// TempDir is where those temporary files go. "" means os.TempDir().
	TempDir string
	// Now is the clock of WARC-Date. nil means time.Now.
	Now func() time.Time
	// OnError, when set, is called when an exchange could not be recorded
	// (the Writer failed; the archive misses the exchange). It is called on
	// the goroutine that closes the response body, possibly concurrently,
	// and must not block. nil means the error is only returned by the
	// body's Close. Index failures are not reported: the response is then
	// written in full.
	OnError func(url string, err error)
}

var _ http.RoundTripper = (*Transport)(nil)

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Writer == nil {
		return nil, errors.New("warc: Transport.Writer is nil")
	}
	next := t.Next
	if next == nil {
		next = http.DefaultTransport
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	ex := &exchange{t: t, date: now(), uri: req.URL.String(), method: req.Method}
	reqBody, err := requestBody(req)
	if err != nil {
		return nil, fmt.Errorf("warc: request body: %w", err)
	}
	ex.request = requestHead(req, int64(len(reqBody)))
	ex.reqBody = reqBody
	ctx := httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			if info.Conn != nil {
				if host, _, err := net.SplitHostPort(info.Conn.RemoteAddr().String()); err == nil {
					ex.ip.Store(&host)
				}
			}
		},
	})
	resp, err := next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	ex.contentLength = resp.ContentLength
	b := &body{rc: resp.Body, ex: ex, digests: newDigests()}
	b.limit = t.MemoryBody
	if b.limit <= 0 {
		b.limit = DefaultMemoryBody
	}
	// The record's block, the head and then the body, is kept in one
	// buffer: the writer copies it from there in one piece.
	b.mem = memPool.Get().(*bytes.Buffer)
	b.mem.Reset()
	appendResponseHead(b.mem, resp)
	ex.head = b.mem.Bytes()
	b.digests.writeHead(ex.head)
	resp.Body = b
	return resp, nil
}

// requestBody returns the request's body, leaving req able to send it.
func requestBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	return b, nil
}

// requestHead serializes the request line and headers as net/http writes
// them for HTTP/1.1: Host, User-Agent, Content-Length, then the others
// sorted.
func requestHead(req *http.Request, bodyLen int64) []byte {
	var b bytes.Buffer
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	b.WriteString(method + " " + req.URL.RequestURI() + " HTTP/1.1\r\n")
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	b.WriteString("Host: " + host + "\r\n")
	ua := "Go-http-client/1.1"
	if v, ok := req.Header["User-Agent"]; ok {
		ua = ""
		if len(v) > 0 {
			ua = v[0]
		}
	}
	if ua != "" {
		b.WriteString("User-Agent: " + ua + "\r\n")
	}
	if bodyLen > 0 || (req.Body != nil && req.Body != http.NoBody) {
		b.WriteString("Content-Length: " + strconv.FormatInt(bodyLen, 10) + "\r\n")
	}
	_ = req.Header.WriteSubset(&b, map[string]bool{"Host": true, "User-Agent": true,
		"Content-Length": true, "Transfer-Encoding": true, "Trailer": true})
	b.WriteString("\r\n")
	return b.Bytes()
}

// appendResponseHead writes the status line and the header fields of resp
// to b. net/http has removed the chunked transfer coding from the body
// below this point, and with it the Transfer-Encoding field, so the
// message recorded is framed by the record's length.
func appendResponseHead(b *bytes.Buffer, resp *http.Response) {
	proto := resp.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	status := resp.Status
	if status == "" {
		status = strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)
	}
	b.WriteString(proto)
	b.WriteByte(' ')
	b.WriteString(status)
	b.WriteString("\r\n")
	_ = resp.Header.Write(b)
	b.WriteString("\r\n")
}

// exchange is what RoundTrip knows of one request and its response.
type exchange struct {
	t             *Transport
	date          time.Time
	uri, method   string
	request       []byte // request line and headers
	reqBody       []byte
	head          []byte // status line and headers: the start of body.mem
	contentLength int64
	ip            atomic.Pointer[string]
}

var memPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// body passes the response body on and keeps a copy for the record.
type body struct {
	rc    io.ReadCloser
	ex    *exchange
	limit int64

	mem     *bytes.Buffer // the head, then the body while n <= limit
	file    *os.File      // the head, then the body, once n > limit
	n       int64         // bytes of the body read
	digests *digests
	eof     bool
	readErr error
	keepErr error
	done    bool
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.keep(p[:n])
	}
	if errors.Is(err, io.EOF) {
		b.eof = true
	} else if err != nil && b.readErr == nil {
		b.readErr = err
	}
	return n, err
}

// keep hashes and stores bytes read.
func (b *body) keep(p []byte) {
	b.n += int64(len(p))
	b.digests.write(p)
	if b.keepErr != nil {
		return
	}
	if b.file == nil {
		if b.n <= b.limit {
			b.mem.Write(p)
			return
		}
		f, err := os.CreateTemp(b.ex.t.TempDir, "trawl-warc-*")
		if err != nil {
			b.keepErr = err
			return
		}
		b.file = f
		if _, err := f.Write(b.mem.Bytes()); err != nil {
			b.keepErr = err
			return
		}
	}
	if _, err := b.file.Write(p); err != nil {
		b.keepErr = err
	}
}

// Close closes the body and writes the exchange's records.
func (b *body) Close() error {
	err := b.rc.Close()
	if b.done {
		return err
	}
	b.done = true
	werr := b.record()
	b.release()
	if werr != nil {
		if b.ex.t.OnError != nil {
			b.ex.t.OnError(b.ex.uri, werr)
		}
		if err == nil {
			err = werr
		}
	}
	return err
}

func (b *body) release() {
	if b.mem != nil {
		if b.mem.Cap() <= 4*DefaultMemoryBody {
			memPool.Put(b.mem)
		}
		b.mem, b.ex.head = nil, nil
	}
	if b.file != nil {
		b.file.Close()
		os.Remove(b.file.Name())
		b.file = nil
	}
}

// truncated says why the body recorded is not the whole body, or "".
func (b *body) truncated() string {
	ex := b.ex
	if b.eof || b.rc == http.NoBody || ex.method == http.MethodHead ||
		(ex.contentLength >= 0 && b.n >= ex.contentLength) {
		return ""
	}
	if b.readErr != nil {
		var ne net.Error
		if errors.Is(b.readErr, context.DeadlineExceeded) || (errors.As(b.readErr, &ne) && ne.Timeout()) {
			return "time"
		}
		return "disconnect"
	}
	return "length"
}

func (b *body) record() error {
	ex, t := b.ex, b.ex.t
	if b.keepErr != nil {
		return fmt.Errorf("warc: keeping the body of %s: %w", ex.uri, b.keepErr)
	}
	trunc := b.truncated()
	blockSum, payloadSum := b.digests.sums()
	payloadDigest := DigestOf(payloadSum[:])
	fields := []Field{{"WARC-Target-URI", ex.uri}}
	if ip := ex.ip.Load(); ip != nil {
		fields = append(fields, Field{"WARC-IP-Address", *ip})
	}
	common := len(fields)

	resp := &Record{Type: TypeResponse, ID: NewID(), Date: ex.date}
	dedup := t.Index != nil && trunc == "" && b.n > 0
	if dedup {
		ctx, cancel := context.WithTimeout(context.Background(), indexTimeout)
		c, found, err := t.Index.Lookup(ctx, payloadDigest)
		cancel()
		if err == nil && found {
			resp.Type = TypeRevisit
			resp.Fields = append(fields,
				Field{"Content-Type", "application/http; msgtype=response"},
				Field{"WARC-Profile", ProfileIdenticalPayload},
				Field{"WARC-Refers-To", c.ID},
				Field{"WARC-Refers-To-Target-URI", c.URI},
				Field{"WARC-Refers-To-Date", FormatDate(c.Date)},
				Field{"WARC-Block-Digest", Digest(ex.head)},
				Field{"WARC-Payload-Digest", payloadDigest},
			)
			resp.Block = bytes.NewReader(ex.head)
			resp.Length = int64(len(ex.head))
		}
	}
	if resp.Type == TypeResponse {
		resp.Fields = append(fields[:common:common],
			Field{"Content-Type", "application/http; msgtype=response"},
			Field{"WARC-Block-Digest", DigestOf(blockSum[:])},
			Field{"WARC-Payload-Digest", payloadDigest},
		)
		if trunc != "" {
			resp.Fields = append(resp.Fields, Field{"WARC-Truncated", trunc})
		}
		if b.file != nil {
			if _, err := b.file.Seek(0, io.SeekStart); err != nil {
				return fmt.Errorf("warc: %w", err)
			}
			resp.Block = b.file
		} else {
			resp.Block = bytes.NewReader(b.mem.Bytes())
		}
		resp.Length = int64(len(ex.head)) + b.n
	}

	reqBlock := ex.request
	if len(ex.reqBody) > 0 {
		reqBlock = append(reqBlock[:len(reqBlock):len(reqBlock)], ex.reqBody...)
	}
	req := &Record{Type: TypeRequest, ID: NewID(), Date: ex.date,
		Fields: append(fields[:common:common],
			Field{"WARC-Concurrent-To", resp.ID},
			Field{"Content-Type", "application/http; msgtype=request"},
			Field{"WARC-Block-Digest", Digest(reqBlock)},
		),
		Block:  bytes.NewReader(reqBlock),
		Length: int64(len(reqBlock)),
	}
	if len(ex.reqBody) > 0 {
		req.Fields = append(req.Fields, Field{"WARC-Payload-Digest", Digest(ex.reqBody)})
	}
	if _, err := t.Writer.Write(resp, req); err != nil {
		return err
	}
	if dedup && resp.Type == TypeResponse {
		ctx, cancel := context.WithTimeout(context.Background(), indexTimeout)
		_ = t.Index.Store(ctx, payloadDigest, Capture{ID: resp.ID, URI: ex.uri, Date: ex.date})
		cancel()
	}
	return nil
}

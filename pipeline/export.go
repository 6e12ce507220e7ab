package pipeline

import (
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ErrExporterClosed is returned by an exporter's Process after its Close.
var ErrExporterClosed = errors.New("pipeline: exporter closed")

// bufPool holds encoding buffers; buffers that grew past maxPooledBuf are
// dropped rather than kept alive.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

const maxPooledBuf = 64 << 10

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooledBuf {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// writer serializes whole-record writes to w and implements the shared
// part of the exporters: one Write call per record under a mutex, flush
// and idempotent close.
type writer struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
	n      int64
}

// write writes b in one Write call. prefix, when non-nil, is called under
// the lock and may return bytes to write first in the same call (the CSV
// header).
func (w *writer) write(b []byte, prefix func(b []byte) []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrExporterClosed
	}
	if prefix != nil {
		if h := prefix(nil); len(h) > 0 {
			b = append(h, b...)
		}
	}
	if _, err := w.w.Write(b); err != nil {
		return err
	}
	w.n++
	return nil
}

func (w *writer) flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

func (w *writer) flushLocked() error {
	if f, ok := w.w.(interface{ Flush() error }); ok && !w.closed {
		return f.Flush()
	}
	return nil
}

func (w *writer) count() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// JSONL is an exporter writing one JSON object per line (see
// Record.MarshalJSON). Each record, newline included, goes to the
// underlying writer in one Write call, under a mutex: lines are never
// interleaved or split, and a record is handed to the OS (for an *os.File)
// before Process returns. JSONL is safe for concurrent use.
type JSONL struct {
	w writer
}

var _ Exporter = (*JSONL)(nil)

// NewJSONL returns an exporter writing to w. Close does not close w.
func NewJSONL(w io.Writer) *JSONL { return &JSONL{w: writer{w: w}} }

// String names the stage in error messages.
func (j *JSONL) String() string { return "jsonl" }

// Process writes the page's record.
func (j *JSONL) Process(_ context.Context, p *Page) error {
	return j.WriteRecord(p.Record())
}

// WriteRecord writes r as one line.
func (j *JSONL) WriteRecord(r Record) error {
	bp := getBuf()
	b := append(r.AppendJSON(*bp), '\n')
	err := j.w.write(b, nil)
	*bp = b
	putBuf(bp)
	if err != nil && !errors.Is(err, ErrExporterClosed) {
		return &exportError{"jsonl", err}
	}
	return err
}

// Records returns the number of records written.
func (j *JSONL) Records() int64 { return j.w.count() }

// Flush flushes the underlying writer if it has a Flush() error method
// (a *bufio.Writer, say). Records are written unbuffered otherwise.
func (j *JSONL) Flush() error { return j.w.flush() }

// Close flushes and makes later writes fail with ErrExporterClosed. It does
// not close the underlying writer. Close is idempotent.
func (j *JSONL) Close() error { return j.w.close() }

func (w *writer) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	err := w.flushLocked()
	w.closed = true
	return err
}

type exportError struct {
	format string
	err    error
}

func (e *exportError) Error() string { return "pipeline: " + e.format + " write: " + e.err.Error() }
func (e *exportError) Unwrap() error { return e.err }

// CSVColumns are the columns of a CSV export made by NewCSV, in order: the
// record's JSON field names. links holds the links separated by single
// spaces (normalized URLs contain none); data holds the data object as
// JSON ({"price":["9.99"]}); fetched_at is RFC 3339 in UTC; truncated is
// true or false.
var CSVColumns = []string{
	"url", "final_url", "status", "depth", "referrer", "content_type", "title",
	"bytes", "truncated", "elapsed_ms", "fetched_at", "links", "data", "error",
}

// CSV is an exporter writing RFC 4180 CSV (comma-separated, fields quoted
// when needed, lines ending in \n), with a header line. Each record, and
// the header with the first record, goes to the underlying writer in one
// Write call under a mutex, as with JSONL. CSV is safe for concurrent use.
type CSV struct {
	w       writer
	data    []string // data columns; nil means one JSON "data" column
	recrawl bool     // the CSVRecrawlColumns after "error"
	header  bool     // header written
	columns []string
}

// CSVRecrawlColumns are the columns CSVOptions.Recrawl adds after "error",
// from the record's fields of the same names: not_modified is true for a
// 304 to a recrawl's conditional request, else empty; changed is true or
// false for a page fetched in an earlier pass (its body's digest differs,
// or not), empty otherwise; gone is true for a known page that now
// answers 404 or 410, else empty.
var CSVRecrawlColumns = []string{"not_modified", "changed", "gone"}

// CSVOptions choose the columns of NewCSVWith. The zero value gives
// CSVColumns.
type CSVOptions struct {
	// DataColumns, when not empty, replace the JSON "data" column with
	// one column per data name, after all others (see NewCSVColumns).
	DataColumns []string
	// Recrawl adds CSVRecrawlColumns after "error".
	Recrawl bool
}

// NewCSVWith returns a CSV exporter with the columns opt chooses: CSVColumns
// (without "data" when DataColumns are given), then CSVRecrawlColumns when
// Recrawl is set, then DataColumns.
func NewCSVWith(w io.Writer, opt CSVOptions) *CSV {
	c := &CSV{w: writer{w: w}, recrawl: opt.Recrawl}
	for _, col := range CSVColumns {
		if col != "data" || len(opt.DataColumns) == 0 {
			c.columns = append(c.columns, col)
		}
	}
	if opt.Recrawl {
		c.columns = append(c.columns, CSVRecrawlColumns...)
	}
	if len(opt.DataColumns) > 0 {
		c.data = append([]string{}, opt.DataColumns...)
		c.columns = append(c.columns, opt.DataColumns...)
	}
	return c
}

var _ Exporter = (*CSV)(nil)

// NewCSV returns an exporter writing CSVColumns to w. The header is written
// with the first record, or by Close when there was none. Close does not
// close w.
func NewCSV(w io.Writer) *CSV { return NewCSVWith(w, CSVOptions{}) }

// NewCSVColumns returns a CSV exporter that writes one column per data
// name instead of the JSON data column: the header is CSVColumns without
// "data", followed by dataColumns. A cell holds that data field's values
// joined by newlines ("" when the page has none).
func NewCSVColumns(w io.Writer, dataColumns ...string) *CSV {
	c := NewCSVWith(w, CSVOptions{DataColumns: dataColumns})
	if len(dataColumns) == 0 { // no data column at all
		c.data = []string{}
		c.columns = slices.DeleteFunc(c.columns, func(s string) bool { return s == "data" })
	}
	return c
}

// Columns returns the header's column names.
func (c *CSV) Columns() []string { return append([]string(nil), c.columns...) }

// String names the stage in error messages.
func (c *CSV) String() string { return "csv" }

// Process writes the page's record.
func (c *CSV) Process(_ context.Context, p *Page) error { return c.WriteRecord(p.Record()) }

// WriteRecord writes r as one CSV line (preceded by the header the first
// time).
func (c *CSV) WriteRecord(r Record) error {
	bp := getBuf()
	b := c.appendRecord(*bp, &r)
	err := c.w.write(b, c.headerOnce)
	*bp = b
	putBuf(bp)
	if err != nil && !errors.Is(err, ErrExporterClosed) {
		return &exportError{"csv", err}
	}
	return err
}

// headerOnce returns the header line the first time it is called (under
// the writer's lock), nil later.
func (c *CSV) headerOnce(b []byte) []byte {
	if c.header {
		return nil
	}
	c.header = true
	return appendCSVLine(b, c.columns)
}

func (c *CSV) appendRecord(b []byte, r *Record) []byte {
	var num [24]byte
	fields := [...]string{
		r.URL, r.FinalURL, strconv.Itoa(r.Status), strconv.Itoa(r.Depth),
		r.Referrer, r.ContentType, r.Title, strconv.FormatInt(r.Bytes, 10), strconv.FormatBool(r.Truncated),
		strconv.FormatInt(r.ElapsedMS, 10), string(r.FetchedAt.UTC().AppendFormat(num[:0], timeLayout)),
		strings.Join(r.Links, " "),
	}
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSVField(b, f)
	}
	if c.data == nil {
		b = append(b, ',')
		b = appendCSVField(b, string(appendData(nil, r.Data)))
	}
	b = append(b, ',')
	b = appendCSVField(b, r.Error)
	if c.recrawl {
		if r.NotModified {
			b = append(b, ",true"...)
		} else {
			b = append(b, ',')
		}
		switch {
		case r.Changed == nil:
			b = append(b, ',')
		case *r.Changed:
			b = append(b, ",true"...)
		default:
			b = append(b, ",false"...)
		}
		if r.Gone {
			b = append(b, ",true"...)
		} else {
			b = append(b, ',')
		}
	}
	if c.data != nil {
		for _, name := range c.data {
			b = append(b, ',')
			b = appendCSVField(b, strings.Join(r.Data[name], "\n"))
		}
	}
	return append(b, '\n')
}

// appendCSVLine appends fields as one CSV line, newline included.
func appendCSVLine(b []byte, fields []string) []byte {
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSVField(b, f)
	}
	return append(b, '\n')
}

// appendCSVField appends s, quoted when it contains a comma, quote, CR or
// LF, begins with a space or tab, or is `\.` (as encoding/csv does).
func appendCSVField(b []byte, s string) []byte {
	if !csvNeedsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '"')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}

func csvNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` || s[0] == ' ' || s[0] == '\t' {
		return true
	}
	return strings.ContainsAny(s, ",\"\r\n")
}

// Records returns the number of records written.
func (c *CSV) Records() int64 { return c.w.count() }

// Flush flushes the underlying writer if it has a Flush() error method.
func (c *CSV) Flush() error { return c.w.flush() }

// Close writes the header if no record was written, flushes, and makes
// later writes fail with ErrExporterClosed. It does not close the
// underlying writer. Close is idempotent.
func (c *CSV) Close() error {
	c.w.mu.Lock()
	if !c.w.closed && !c.header {
		if h := c.headerOnce(nil); len(h) > 0 {
			if _, err := c.w.w.Write(h); err != nil {
				c.w.mu.Unlock()
				return &exportError{"csv", err}
			}
		}
	}
	c.w.mu.Unlock()
	return c.w.close()
}

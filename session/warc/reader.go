package warc

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// maxHeader bounds the named fields of one record.
const maxHeader = 1 << 20

// Reader reads the records of a WARC file, gzip-compressed with one member
// per record (as Writer writes, and as indexes and replay tools expect) or
// not compressed. It reads each record in
// full, checking its length, its end and, compressed, the gzip checksum,
// before returning it, so that a record it returns is complete; it holds
// one record's block in memory. It is not safe for concurrent use.
type Reader struct {
	in    *countReader
	gz    bool
	zr    *gzip.Reader
	br    *bufio.Reader // the current member's decompressed bytes, or in
	block bytes.Buffer
	err   error
	start bool
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader) *Reader {
	return &Reader{in: &countReader{r: bufio.NewReaderSize(r, 64<<10)}}
}

// countReader counts the bytes read, for offsets; it is an io.ByteReader so
// that the gzip reader does not read ahead of a member's end.
type countReader struct {
	r *bufio.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// Next returns the next record and its location (File is empty): the
// offset of its gzip member and the member's length, or, uncompressed, of
// the record and its trailing blank lines. At the end of the input it
// returns io.EOF; for a torn or damaged record, an error (and every later
// call the same error).
func (r *Reader) Next() (*Record, Location, error) {
	if r.err != nil {
		return nil, Location{}, r.err
	}
	rec, loc, err := r.next()
	if err != nil {
		r.err = err
	}
	return rec, loc, err
}

func (r *Reader) next() (*Record, Location, error) {
	if !r.start {
		r.start = true
		magic, _ := r.in.r.Peek(2)
		r.gz = len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b
		if !r.gz {
			r.br = bufio.NewReaderSize(r.in, 64<<10)
		}
	}
	if !r.gz {
		// the bufio layer reads ahead: offsets come from its buffer
		off := r.in.n - int64(r.br.Buffered())
		if _, err := r.br.Peek(1); err != nil {
			return nil, Location{}, eof(err)
		}
		rec, err := r.record(r.br)
		if err != nil {
			return nil, Location{}, err
		}
		return rec, Location{Offset: off, Length: r.in.n - int64(r.br.Buffered()) - off}, nil
	}
	off := r.in.n
	if _, err := r.in.r.Peek(1); err != nil {
		return nil, Location{}, eof(err)
	}
	if r.zr == nil {
		zr, err := gzip.NewReader(r.in)
		if err != nil {
			return nil, Location{}, fmt.Errorf("warc: offset %d: %w", off, err)
		}
		r.zr = zr
		r.br = bufio.NewReaderSize(zr, 64<<10)
	} else {
		if err := r.zr.Reset(r.in); err != nil {
			return nil, Location{}, fmt.Errorf("warc: offset %d: %w", off, err)
		}
		r.br.Reset(r.zr)
	}
	r.zr.Multistream(false)
	rec, err := r.record(r.br)
	if err != nil {
		return nil, Location{}, fmt.Errorf("warc: offset %d: %w", off, err)
	}
	// The member must end here; reading to its end checks the checksum.
	if _, err := r.br.Peek(1); err == nil {
		return nil, Location{}, fmt.Errorf("warc: offset %d: more than one record in a gzip member", off)
	} else if !errors.Is(err, io.EOF) {
		return nil, Location{}, fmt.Errorf("warc: offset %d: %w", off, err)
	}
	return rec, Location{Offset: off, Length: r.in.n - off}, nil
}

func eof(err error) error {
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	return fmt.Errorf("warc: %w", err)
}

// record parses one record from br, its block into r.block.
func (r *Reader) record(br *bufio.Reader) (*Record, error) {
	line, err := readLine(br, maxHeader)
	if err != nil {
		return nil, torn(err)
	}
	if !strings.HasPrefix(line, "WARC/") {
		return nil, fmt.Errorf("not a WARC record: %.40q", line)
	}
	rec := &Record{Length: -1}
	size := len(line)
	for {
		line, err := readLine(br, maxHeader)
		if err != nil {
			return nil, torn(err)
		}
		if size += len(line); size > maxHeader {
			return nil, errors.New("record header too long")
		}
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(rec.Fields) == 0 {
				return nil, errors.New("continuation line before the first field")
			}
			rec.Fields[len(rec.Fields)-1].Value += " " + strings.TrimSpace(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("bad field line %.40q", line)
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "warc-type":
			rec.Type = value
		case "warc-record-id":
			rec.ID = value
		case "warc-date":
			if rec.Date, err = time.Parse(time.RFC3339Nano, value); err != nil {
				return nil, fmt.Errorf("bad WARC-Date %q", value)
			}
		case "content-length":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("bad Content-Length %q", value)
			}
			rec.Length = n
		default:
			rec.Fields = append(rec.Fields, Field{name, value})
		}
	}
	if rec.Length < 0 {
		return nil, errors.New("record without Content-Length")
	}
	if rec.Type == "" {
		return nil, errors.New("record without WARC-Type")
	}
	r.block.Reset()
	if n, err := io.CopyN(&r.block, br, rec.Length); err != nil {
		return nil, fmt.Errorf("block: %d of %d bytes: %w", n, rec.Length, torn(err))
	}
	var end [4]byte
	if _, err := io.ReadFull(br, end[:]); err != nil {
		return nil, fmt.Errorf("record end: %w", torn(err))
	}
	if string(end[:]) != "\r\n\r\n" {
		return nil, fmt.Errorf("record end: got %q, want CRLF CRLF", end[:])
	}
	rec.Block = bytes.NewReader(r.block.Bytes())
	return rec, nil
}

// torn turns an early end into io.ErrUnexpectedEOF.
func torn(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readLine reads a line ending in CRLF (or LF) without its end.
func readLine(br *bufio.Reader, max int) (string, error) {
	var b []byte
	for {
		chunk, err := br.ReadSlice('\n')
		b = append(b, chunk...)
		if len(b) > max {
			return "", errors.New("line too long")
		}
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", err
		}
	}
	b = bytes.TrimSuffix(b[:len(b)-1], []byte("\r"))
	return string(b), nil
}

package warc

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// cdxRecord is one line of the CDXJ index: the fields warcio and pywb
// write by default (urlkey, timestamp, url, mime, status, digest, length,
// offset, filename).
type cdxRecord struct {
	url, mime, status, digest, ts string
	loc                           Location
}

// cdxOf returns the index entry of a response or revisit record; br reads
// the start of its block.
func cdxOf(r *Record, br *bufio.Reader) (cdxRecord, bool) {
	if r.Type != TypeResponse && r.Type != TypeRevisit {
		return cdxRecord{}, false
	}
	c := cdxRecord{
		url: r.Get("WARC-Target-URI"),
		ts:  r.Date.UTC().Format("20060102150405"),
	}
	if d := r.Get("WARC-Payload-Digest"); d != "" {
		if _, v, ok := strings.Cut(d, ":"); ok {
			c.digest = v
		} else {
			c.digest = d
		}
	}
	if strings.HasPrefix(strings.ToLower(r.Get("Content-Type")), "application/http") && br != nil {
		head, _ := br.Peek(int(min(r.Length, int64(br.Size()))))
		c.status, c.mime = parseHTTPHead(head)
	}
	if r.Type == TypeRevisit {
		c.mime = "warc/revisit"
	}
	return c, true
}

// peekable wraps a block so that its start can be peeked.
func peekable(r io.Reader) (io.Reader, *bufio.Reader) {
	if r == nil {
		r = bytes.NewReader(nil)
	}
	br := bufio.NewReaderSize(r, 4096)
	return br, br
}

// parseHTTPHead returns the status code and the media type (Content-Type
// before its parameters) of the start of an HTTP response.
func parseHTTPHead(head []byte) (status, mime string) {
	line, rest, _ := bytes.Cut(head, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) >= 2 && strings.HasPrefix(f[0], "HTTP/") {
		status = f[1]
	}
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if ok && strings.EqualFold(string(bytes.TrimSpace(name)), "Content-Type") {
			v, _, _ := strings.Cut(string(value), ";")
			mime = strings.TrimSpace(v)
			break
		}
	}
	return status, mime
}

// appendLine appends the record's CDXJ line.
func (c *cdxRecord) appendLine(b []byte) []byte {
	b = append(b, surt(c.url)...)
	b = append(b, ' ')
	b = append(b, c.ts...)
	b = append(b, ` {"url":`...)
	b = appendJSONString(b, c.url)
	if c.mime != "" {
		b = append(b, `,"mime":`...)
		b = appendJSONString(b, c.mime)
	}
	if c.status != "" {
		b = append(b, `,"status":`...)
		b = appendJSONString(b, c.status)
	}
	if c.digest != "" {
		b = append(b, `,"digest":`...)
		b = appendJSONString(b, c.digest)
	}
	b = append(b, `,"length":"`...)
	b = strconv.AppendInt(b, c.loc.Length, 10)
	b = append(b, `","offset":"`...)
	b = strconv.AppendInt(b, c.loc.Offset, 10)
	b = append(b, `","filename":`...)
	b = appendJSONString(b, c.loc.File)
	b = append(b, "}\n"...)
	return b
}

// appendJSONString appends s as a JSON string escaped as JavaScript's
// JSON.stringify does (the CDXJ writers of pywb and warcio).
func appendJSONString(b []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c == '\t':
			b = append(b, `\t`...)
		case c == '\b':
			b = append(b, `\b`...)
		case c == '\f':
			b = append(b, `\f`...)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

var wwwPrefix = regexp.MustCompile(`^(https?://)www\d*\.`)

// surt returns the sort-friendly URL key of the CDXJ index, as warcio and
// pywb compute it: lower case, "www." dropped, host labels reversed and
// comma-separated, ")" then the path and the query arguments sorted.
func surt(raw string) string {
	if !strings.HasPrefix(raw, "http:") && !strings.HasPrefix(raw, "https:") {
		return raw
	}
	lower := strings.ToLower(wwwPrefix.ReplaceAllString(raw, "$1"))
	u, err := url.Parse(lower)
	if err != nil || u.Host == "" {
		return raw
	}
	host := u.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	labels := strings.Split(host, ".")
	slices.Reverse(labels)
	var b strings.Builder
	b.WriteString(strings.Join(labels, ","))
	if p := u.Port(); p != "" && !(p == "80" && u.Scheme == "http") && !(p == "443" && u.Scheme == "https") {
		b.WriteString(":" + p)
	}
	b.WriteString(")")
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	if u.RawQuery != "" {
		args := strings.Split(u.RawQuery, "&")
		slices.Sort(args)
		b.WriteString("?" + strings.Join(args, "&"))
	}
	return b.String()
}

// openCDX opens the index for appending: it cuts a line torn by a killed
// writer and adds the lines of lastFile's records (recs) that are missing
// (a kill between a record and its line).
func openCDX(path, lastFile string, recs []cdxRecord) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("warc: cdxj index: %w", err)
	}
	fail := func(err error) (*os.File, error) {
		f.Close()
		return nil, fmt.Errorf("warc: cdxj index %s: %w", path, err)
	}
	have := map[int64]bool{}
	var good int64
	br := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return fail(err)
			}
			break // a line without its newline is torn
		}
		good += int64(len(line))
		if lastFile == "" {
			continue
		}
		_, js, _ := bytes.Cut(line, []byte(" {"))
		var v struct{ Offset, Filename string }
		if json.Unmarshal(append([]byte("{"), js...), &v) == nil && v.Filename == lastFile {
			if off, err := strconv.ParseInt(v.Offset, 10, 64); err == nil {
				have[off] = true
			}
		}
	}
	if err := f.Truncate(good); err != nil {
		return fail(err)
	}
	var b []byte
	for i := range recs {
		if !have[recs[i].loc.Offset] {
			b = recs[i].appendLine(b)
		}
	}
	if _, err := f.Write(b); err != nil {
		return fail(err)
	}
	return f, nil
}

// sortChunk is how many bytes of index lines sortCDX sorts in memory at
// once; a larger index is sorted in runs merged from temporary files.
var sortChunk = 32 << 20

// sortCDX sorts the lines of the index file in byte order (as LC_ALL=C
// sort does), in bounded memory.
func sortCDX(path string) error {
	fail := func(err error) error { return fmt.Errorf("warc: sorting cdxj index %s: %w", path, err) }
	in, err := os.Open(path)
	if err != nil {
		return fail(err)
	}
	defer in.Close()
	dir := filepath.Dir(path)
	var runs []*os.File
	defer func() {
		for _, r := range runs {
			r.Close()
			os.Remove(r.Name())
		}
	}()
	br := bufio.NewReaderSize(in, 64<<10)
	var lines []string
	size := 0
	sorted := true
	flush := func() error {
		slices.Sort(lines)
		t, err := os.CreateTemp(dir, ".cdxj-run-*")
		if err != nil {
			return err
		}
		runs = append(runs, t)
		bw := bufio.NewWriterSize(t, 64<<10)
		for _, l := range lines {
			bw.WriteString(l)
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		_, err = t.Seek(0, io.SeekStart)
		lines, size = lines[:0], 0
		return err
	}
	prev := ""
	for {
		l, err := br.ReadString('\n')
		if l != "" {
			if !strings.HasSuffix(l, "\n") {
				l += "\n"
			}
			if l < prev {
				sorted = false
			}
			prev = l
			lines = append(lines, l)
			size += len(l)
			if size >= sortChunk {
				if err := flush(); err != nil {
					return fail(err)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(err)
		}
	}
	if sorted {
		return nil
	}
	out, err := os.CreateTemp(dir, ".cdxj-sorted-*")
	if err != nil {
		return fail(err)
	}
	defer os.Remove(out.Name()) // after the rename, a no-op
	bw := bufio.NewWriterSize(out, 64<<10)
	if len(runs) == 0 {
		slices.Sort(lines)
		for _, l := range lines {
			bw.WriteString(l)
		}
	} else {
		if len(lines) > 0 {
			if err := flush(); err != nil {
				out.Close()
				return fail(err)
			}
		}
		if err := merge(bw, runs); err != nil {
			out.Close()
			return fail(err)
		}
	}
	if err := bw.Flush(); err != nil {
		out.Close()
		return fail(err)
	}
	if err := out.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(out.Name(), path); err != nil {
		return fail(err)
	}
	return nil
}

// merge writes the lines of the sorted runs in order.
func merge(w io.Writer, runs []*os.File) error {
	h := &lineHeap{}
	for _, r := range runs {
		br := bufio.NewReaderSize(r, 64<<10)
		if l, err := br.ReadString('\n'); l != "" {
			heap.Push(h, headLine{l, br})
		} else if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
	}
	for h.Len() > 0 {
		top := (*h)[0]
		if _, err := io.WriteString(w, top.line); err != nil {
			return err
		}
		l, err := top.r.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if l == "" {
			heap.Pop(h)
			continue
		}
		(*h)[0].line = l
		heap.Fix(h, 0)
	}
	return nil
}

type headLine struct {
	line string
	r    *bufio.Reader
}

type lineHeap []headLine

func (h lineHeap) Len() int           { return len(h) }
func (h lineHeap) Less(i, j int) bool { return h[i].line < h[j].line }
func (h lineHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *lineHeap) Push(x any)        { *h = append(*h, x.(headLine)) }
func (h *lineHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

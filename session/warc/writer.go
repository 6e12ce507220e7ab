package warc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Defaults used when the corresponding Config field is zero.
const (
	// DefaultMaxSize is the size at which a WARC file is closed and the next
	// one started: 1 GiB, the size most archives use.
	DefaultMaxSize = 1 << 30
)

// DefaultLevel is the gzip level used when Config.Level is 0: the fastest
// level that still finds repeated strings (HTML shrinks to about a third).
// Records are compressed on the goroutine that closes the response body.
const DefaultLevel = gzip.BestSpeed

// HuffmanOnly is the Config.Level that only entropy-codes: about three
// times less CPU than DefaultLevel, files about 1.7 times larger for HTML.
const HuffmanOnly = gzip.HuffmanOnly

// Store is the Config.Level that does not compress: every record is still
// its own gzip member (stored blocks, with its CRC), so files stay .warc.gz
// that every reader indexes and seeks, about the size of the raw
// exchanges. It costs the least CPU: a CPU-bound crawl keeps the most
// speed.
const Store = -100

// gzLevel is the gzip package's level for a Config.Level.
func gzLevel(level int) int {
	if level == Store {
		return gzip.NoCompression
	}
	return level
}

// memRecord is the largest record set compressed in memory, off the lock;
// larger ones are compressed straight into the file under it.
const memRecord = 1 << 20

// Config configures a Writer. Prefix is required; the zero value of every
// other field works.
type Config struct {
	// Prefix names the files: Prefix-00000.warc.gz, Prefix-00001.warc.gz...,
	// and Prefix.cdxj for the index. It may hold a directory, which must
	// exist.
	Prefix string
	// MaxSize is the size at which a file is closed and the next one
	// started; a file exceeds it by at most the records of one Write. 0
	// means DefaultMaxSize; negative means one file.
	MaxSize int64
	// Info are the fields of the warcinfo record at the head of every file
	// (software, isPartOf, the crawl's settings...), after "format" and
	// "conformsTo", which the writer adds. nil means those two only.
	Info []Field
	// CDX also writes a CDXJ index of the response and revisit records to
	// Prefix.cdxj, sorted (by URL key, then time) when the writer closes:
	// the index pywb and replayweb.page read. false means no index.
	CDX bool
	// Level is the gzip compression level, 1 (fastest) to 9 (smallest),
	// HuffmanOnly or Store (no compression). 0 means DefaultLevel.
	Level int
	// Buffer is how many bytes of records the Writer may hold in memory
	// before it writes them out, together: one large write costs the
	// system far less than one per record (a third of the CPU of a
	// stored archive's writes). Records held are lost if the process is
	// killed (Flush, and Close, write them out), and an Index that outlives
	// the process may then refer to one of them: use it with MemoryIndex.
	// 0 means no buffer: the records of a Write are in the file (the
	// operating system's cache) when Write returns, so that they survive
	// the process, as a crawl that resumes after a kill needs.
	Buffer int
	// Now is the clock for WARC-Date when a record has none. nil means time.Now.
	Now func() time.Time
}

// Location is where a record was written: the file (base name), the
// offset of its gzip member and the member's length.
type Location struct {
	File   string
	Offset int64
	Length int64
}

// Writer writes WARC records to a set of rotating gzip-compressed files,
// each record its own gzip member so that a record can be read from its
// offset alone, and each file headed by a warcinfo record. It never
// overwrites a file: Open continues the set after its last file. It is
// safe for concurrent use; the records of one Write are written together,
// in order, in one file.
type Writer struct {
	cfg     Config
	maxSize int64

	mu     sync.Mutex
	f      *os.File
	bw     *batch // buffers the writes to f; nil without Config.Buffer
	name   string // base name of f
	size   int64
	next   int // number of the next file
	cdx    *os.File
	lines  []byte // with bw, index lines of records that may still be in it
	err    error  // sticky: a failed write leaves a file that must not grow
	closed bool

	repairedFile string
	repairedCut  int64
}

// gzPools holds a pool of gzip writers per level.
var gzPools sync.Map // int -> *sync.Pool of *gzip.Writer

func gzPool(level int) *sync.Pool {
	if p, ok := gzPools.Load(level); ok {
		return p.(*sync.Pool)
	}
	p, _ := gzPools.LoadOrStore(level, &sync.Pool{New: func() any {
		w, _ := gzip.NewWriterLevel(nil, gzLevel(level))
		return w
	}})
	return p.(*sync.Pool)
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Open starts writing the file set cfg.Prefix names. When files of the set
// exist, the last one is checked record by record and cut after its last
// complete record (a record torn by a killed writer), its missing index
// lines are added to the CDXJ index, and new records go to a new file after
// it. A Writer locks the file it writes (flock, where available), and Open
// leaves a last file locked by another Writer as it is; two Writers on one
// set never write into the same file, but share its numbering and index
// file, so give each its own prefix.
func Open(cfg Config) (*Writer, error) {
	if cfg.Prefix == "" {
		return nil, errors.New("warc: Config.Prefix is empty")
	}
	w := &Writer{cfg: cfg, maxSize: cfg.MaxSize}
	if w.cfg.Level == 0 {
		w.cfg.Level = DefaultLevel
	}
	if _, err := gzip.NewWriterLevel(nil, gzLevel(w.cfg.Level)); err != nil || w.cfg.Level == gzip.DefaultCompression {
		return nil, fmt.Errorf("warc: Config.Level %d: want 1 to 9, HuffmanOnly or Store", cfg.Level)
	}
	if w.maxSize == 0 {
		w.maxSize = DefaultMaxSize
	}
	if w.cfg.Now == nil {
		w.cfg.Now = time.Now
	}
	nums, err := existing(cfg.Prefix)
	if err != nil {
		return nil, err
	}
	var lastRecs []cdxRecord
	var lastName string
	if len(nums) > 0 {
		last := nums[len(nums)-1]
		w.next = last + 1
		lastName = fileName(cfg.Prefix, last)
		lastRecs, w.repairedCut, err = repair(lastName)
		if err != nil {
			return nil, err
		}
		if w.repairedCut > 0 {
			w.repairedFile = lastName
		}
	}
	if cfg.CDX {
		if w.cdx, err = openCDX(cfg.Prefix+".cdxj", filepath.Base(lastName), lastRecs); err != nil {
			return nil, err
		}
	}
	if err := w.rotate(); err != nil {
		if w.cdx != nil {
			w.cdx.Close()
		}
		return nil, err
	}
	return w, nil
}

// Repaired reports the file Open cut and how many bytes it cut from its end
// (a record torn by a killed writer); "" and 0 when nothing was cut.
func (w *Writer) Repaired() (file string, cut int64) { return w.repairedFile, w.repairedCut }

// fileName is the name of file n of the set.
func fileName(prefix string, n int) string { return fmt.Sprintf("%s-%05d.warc.gz", prefix, n) }

// existing lists the numbers of the set's files, in order.
func existing(prefix string) ([]int, error) {
	dir, base := filepath.Split(prefix)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("warc: %w", err)
	}
	var nums []int
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), base+"-")
		if !ok {
			continue
		}
		digits, ok := strings.CutSuffix(rest, ".warc.gz")
		if !ok || len(digits) < 5 || strings.Trim(digits, "0123456789") != "" {
			continue
		}
		n, err := strconv.Atoi(digits)
		if err != nil {
			continue
		}
		nums = append(nums, n)
	}
	sort.Ints(nums)
	return nums, nil
}

// repair cuts the file after its last complete record and returns the
// index entries of its records and the bytes cut.
func repair(name string) ([]cdxRecord, int64, error) {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("warc: %w", err)
	}
	defer f.Close()
	if err := lockFile(f); errors.Is(err, errLocked) {
		return nil, 0, nil // another writer's file, being written: not ours to cut
	}
	st, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("warc: %w", err)
	}
	var magic [2]byte
	if n, _ := f.ReadAt(magic[:], 0); n > 0 && (n < 2 || magic != [2]byte{0x1f, 0x8b}) {
		return nil, 0, fmt.Errorf("warc: %s is not a WARC file written by this package (not gzip); move it away", name)
	}
	var recs []cdxRecord
	var good int64
	r := NewReader(f)
	for {
		rec, loc, err := r.Next()
		if err != nil {
			break // io.EOF, or the torn (or damaged) tail
		}
		if c, ok := cdxOf(rec, bufio.NewReader(io.LimitReader(rec.Block, 64<<10))); ok {
			c.loc = Location{File: filepath.Base(name), Offset: loc.Offset, Length: loc.Length}
			recs = append(recs, c)
		}
		good = loc.Offset + loc.Length
	}
	if good < st.Size() {
		if err := f.Truncate(good); err != nil {
			return nil, 0, fmt.Errorf("warc: cutting the torn end of %s: %w", name, err)
		}
	}
	return recs, st.Size() - good, nil
}

// rotate closes the current file and starts the next. Called with mu held
// (or before the Writer is shared).
func (w *Writer) rotate() error {
	if w.f != nil {
		if err := w.flushBuffer(); err != nil {
			return err
		}
		if err := w.f.Close(); err != nil {
			return fmt.Errorf("warc: %w", err)
		}
		w.f = nil
	}
	for {
		name := fileName(w.cfg.Prefix, w.next)
		w.next++
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue // never overwrite: another writer's, or a file left behind
		}
		if err != nil {
			return fmt.Errorf("warc: %w", err)
		}
		if err := lockFile(f); err != nil {
			f.Close()
			return fmt.Errorf("warc: locking %s: %w", name, err)
		}
		w.f, w.name, w.size = f, filepath.Base(name), 0
		break
	}
	info := w.warcinfo()
	buf := bufPool.Get().(*bytes.Buffer)
	defer putBuffer(buf)
	buf.Reset()
	if _, err := writeMember(buf, info, w.cfg.Level); err != nil {
		return err
	}
	if _, err := w.f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("warc: %w", err)
	}
	w.size = int64(buf.Len())
	if w.cfg.Buffer > 0 {
		if w.bw == nil {
			w.bw = &batch{size: w.cfg.Buffer}
		}
		w.bw.reset(w.f, w.size)
	}
	return nil
}

// batch holds writes to a file and writes them out, once it holds size
// bytes, up to the last page boundary (4 KiB) of the file it reaches: the
// system then fills whole pages, about a fifth cheaper than pieces
// straddling them. After a failed write every call fails. mu is held.
type batch struct {
	f    *os.File
	buf  []byte
	size int
	off  int64 // file offset of buf[0]
	err  error
}

func (b *batch) reset(f *os.File, off int64) {
	b.f, b.off, b.buf, b.err = f, off, b.buf[:0], nil
}

func (b *batch) Write(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	b.buf = append(b.buf, p...)
	if len(b.buf) >= b.size {
		n := len(b.buf) - int((b.off+int64(len(b.buf)))%4096)
		if err := b.write(n); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// write writes the first n bytes held.
func (b *batch) write(n int) error {
	if _, err := b.f.Write(b.buf[:n]); err != nil {
		b.err = err
		return err
	}
	b.off += int64(n)
	b.buf = b.buf[:copy(b.buf, b.buf[n:])]
	return nil
}

// Flush writes out everything held.
func (b *batch) Flush() error {
	if b.err != nil || len(b.buf) == 0 {
		return b.err
	}
	return b.write(len(b.buf))
}

func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= 4*memRecord {
		bufPool.Put(b)
	}
}

// warcinfo builds the record at the head of the current file.
func (w *Writer) warcinfo() *Record {
	var b bytes.Buffer
	b.WriteString("format: WARC File Format 1.1\r\n")
	b.WriteString("conformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n")
	for _, f := range w.cfg.Info {
		b.WriteString(f.Name)
		b.WriteString(": ")
		b.WriteString(clean(f.Value))
		b.WriteString("\r\n")
	}
	return &Record{
		Type: TypeWarcinfo,
		ID:   NewID(),
		Date: w.cfg.Now(),
		Fields: []Field{
			{"WARC-Filename", w.name},
			{"Content-Type", "application/warc-fields"},
		},
		Block:  bytes.NewReader(b.Bytes()),
		Length: int64(b.Len()),
	}
}

// Write writes the records together, in order, in one file, and returns
// where each went. A record's ID and Date are filled in when empty. After a
// failed write every later Write fails: the file may end in a torn record,
// which the next Open cuts. With Config.Buffer, the records may still be in
// the buffer when Write returns, and a failed write of the buffer fails the
// Write that caused it (or Flush, or Close) and loses the records held.
func (w *Writer) Write(recs ...*Record) ([]Location, error) {
	var total int64
	for _, r := range recs {
		if err := checkRecord(r); err != nil {
			return nil, err
		}
		if r.ID == "" {
			r.ID = NewID()
		}
		if r.Date.IsZero() {
			r.Date = w.cfg.Now()
		}
		total += r.Length
	}
	if total > memRecord || (w.cfg.Level == Store && w.bw != nil) {
		// Large records, and stored ones going to the buffer: straight
		// in, under the lock (stored members cost only a copy).
		return w.writeStream(recs)
	}
	// Compress off the lock, so that workers compress in parallel, into
	// one buffer written with one call.
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer putBuffer(buf)
	sizes := make([]int64, len(recs))
	cdxs := make([]cdxRecord, len(recs))
	hasCDX := make([]bool, len(recs))
	for i, r := range recs {
		if w.cfg.CDX {
			var br *bufio.Reader
			r.Block, br = peekable(r.Block)
			cdxs[i], hasCDX[i] = cdxOf(r, br)
		}
		n, err := writeMember(buf, r, w.cfg.Level)
		if err != nil {
			return nil, err
		}
		sizes[i] = n
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.ready(); err != nil {
		return nil, err
	}
	locs := make([]Location, len(recs))
	off := w.size
	for i, n := range sizes {
		locs[i] = Location{File: w.name, Offset: off, Length: n}
		off += n
	}
	if err := w.put(buf.Bytes()); err != nil {
		w.err = fmt.Errorf("warc: %w", err)
		return nil, w.err
	}
	w.size = off
	return locs, w.index(locs, cdxs, hasCDX)
}

// writeStream writes records straight into the file (or the buffer), under
// the lock.
func (w *Writer) writeStream(recs []*Record) ([]Location, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.ready(); err != nil {
		return nil, err
	}
	cdxs := make([]cdxRecord, len(recs))
	hasCDX := make([]bool, len(recs))
	locs := make([]Location, len(recs))
	var bw interface {
		io.Writer
		Flush() error
	} = w.bw
	if w.bw == nil {
		bw = bufio.NewWriterSize(w.f, 256<<10)
	}
	for i, r := range recs {
		if w.cfg.CDX {
			var br *bufio.Reader
			r.Block, br = peekable(r.Block)
			cdxs[i], hasCDX[i] = cdxOf(r, br)
		}
		n, err := writeMember(bw, r, w.cfg.Level)
		if err == nil && w.bw == nil {
			err = bw.Flush()
		}
		if err != nil {
			w.err = err
			return nil, err
		}
		locs[i] = Location{File: w.name, Offset: w.size, Length: n}
		w.size += n
	}
	return locs, w.index(locs, cdxs, hasCDX)
}

// put writes p to the file, through the buffer if there is one. mu is held.
func (w *Writer) put(p []byte) error {
	if w.bw != nil {
		_, err := w.bw.Write(p)
		return err
	}
	_, err := w.f.Write(p)
	return err
}

// flushBuffer writes out the records buffered, then their index lines. mu
// is held.
func (w *Writer) flushBuffer() error {
	if w.bw == nil {
		return nil
	}
	if err := w.bw.Flush(); err != nil {
		if w.err == nil {
			w.err = fmt.Errorf("warc: %w", err)
		}
		return w.err
	}
	if len(w.lines) > 0 {
		if _, err := w.cdx.Write(w.lines); err != nil {
			if w.err == nil {
				w.err = fmt.Errorf("warc: cdxj index: %w", err)
			}
			return w.err
		}
		w.lines = w.lines[:0]
	}
	return nil
}

// Flush writes out the records held in the buffer (Config.Buffer). It is
// safe to call at any time, concurrently with Write: a periodic Flush
// bounds how long a record stays only in memory.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.f == nil {
		return w.err
	}
	if w.err != nil {
		return w.err
	}
	return w.flushBuffer()
}

// ready checks the writer can write and rotates a full file. mu is held.
func (w *Writer) ready() error {
	if w.closed {
		return errors.New("warc: writer closed")
	}
	if w.err != nil {
		return w.err
	}
	if w.maxSize > 0 && w.size >= w.maxSize {
		if err := w.rotate(); err != nil {
			w.err = err
			return err
		}
	}
	return nil
}

// index appends the CDXJ lines of records just written. mu is held.
func (w *Writer) index(locs []Location, cdxs []cdxRecord, has []bool) error {
	if w.cdx == nil {
		return nil
	}
	var b []byte
	for i := range locs {
		if has[i] {
			cdxs[i].loc = locs[i]
			b = cdxs[i].appendLine(b)
		}
	}
	if len(b) == 0 {
		return nil
	}
	if w.bw != nil {
		// A line is written after its record: when the buffer is.
		w.lines = append(w.lines, b...)
		return nil
	}
	if _, err := w.cdx.Write(b); err != nil {
		w.err = fmt.Errorf("warc: cdxj index: %w", err)
		return w.err
	}
	return nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// hdrPool holds the buffers record headers are serialized into.
var hdrPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// copyPool holds the buffers of blocks that are copied through a buffer.
var copyPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// recordEnd is what follows every record's block.
var recordEnd = []byte("\r\n\r\n")

// writeMember writes r as one gzip member to dst and returns its length.
func writeMember(dst io.Writer, r *Record, level int) (int64, error) {
	hp := hdrPool.Get().(*[]byte)
	defer func() {
		if cap(*hp) <= 64<<10 {
			hdrPool.Put(hp)
		}
	}()
	hdr := appendHeader((*hp)[:0], r)
	*hp = hdr
	if level == Store {
		return writeStored(dst, r, hdr)
	}
	cw := countWriter{w: dst}
	pool := gzPool(level)
	zw := pool.Get().(*gzip.Writer)
	defer pool.Put(zw)
	zw.Reset(&cw)
	if _, err := zw.Write(hdr); err != nil {
		return 0, fmt.Errorf("warc: %w", err)
	}
	if err := copyBlock(zw, r); err != nil {
		return 0, err
	}
	if _, err := zw.Write(recordEnd); err != nil {
		return 0, fmt.Errorf("warc: %w", err)
	}
	if err := zw.Close(); err != nil {
		return 0, fmt.Errorf("warc: %w", err)
	}
	return cw.n, nil
}

// copyBlock writes r's block to dst: Length bytes, or an error.
func copyBlock(dst io.Writer, r *Record) error {
	if r.Length == 0 {
		return nil
	}
	var n int64
	var err error
	if br, ok := r.Block.(*bytes.Reader); ok && int64(br.Len()) == r.Length {
		n, err = br.WriteTo(dst) // no copy through a buffer
	} else {
		bp := copyPool.Get().(*[]byte)
		n, err = io.CopyBuffer(dst, io.LimitReader(r.Block, r.Length), *bp)
		copyPool.Put(bp)
		if err == nil && n < r.Length {
			err = io.ErrUnexpectedEOF
		}
	}
	if err != nil {
		return fmt.Errorf("warc: %s record: block: %d of %d bytes: %w", r.Type, n, r.Length, err)
	}
	return nil
}

// storedBlock is the largest stored deflate block (RFC 1951 §3.2.4).
const storedBlock = 65535

// gzipStoredHeader is the header of a gzip member (RFC 1952) of stored
// blocks: deflate, no flags, no time, no extra flags, unknown OS.
var gzipStoredHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}

// writeStored writes r as a gzip member of stored (not compressed) deflate
// blocks: the header, the block and the record's end, framed and checksummed
// as they are copied, with no compressor in the way.
func writeStored(dst io.Writer, r *Record, hdr []byte) (int64, error) {
	s := storedWriter{w: dst, left: int64(len(hdr)) + r.Length + int64(len(recordEnd))}
	if _, err := dst.Write(gzipStoredHeader); err != nil {
		return 0, fmt.Errorf("warc: %w", err)
	}
	s.n = int64(len(gzipStoredHeader))
	size := uint32(s.left) // ISIZE: the length modulo 2^32
	if _, err := s.Write(hdr); err != nil {
		return 0, err
	}
	if err := copyBlock(&s, r); err != nil {
		return 0, err
	}
	if _, err := s.Write(recordEnd); err != nil {
		return 0, err
	}
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[:4], s.crc)
	binary.LittleEndian.PutUint32(trailer[4:], size)
	if _, err := dst.Write(trailer[:]); err != nil {
		return 0, fmt.Errorf("warc: %w", err)
	}
	return s.n + int64(len(trailer)), nil
}

// storedWriter frames what it is given as stored deflate blocks, the last
// one final, knowing in advance how many bytes are to come (left).
type storedWriter struct {
	w    io.Writer
	n    int64  // bytes written to w
	left int64  // bytes still to come
	room int    // bytes left in the current block
	crc  uint32 // CRC-32 of the bytes given so far
}

var errStoredLength = errors.New("warc: block longer than its Length")

func (s *storedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > s.left {
		return 0, errStoredLength
	}
	s.crc = crc32.Update(s.crc, crc32.IEEETable, p)
	done := 0
	for done < len(p) {
		if s.room == 0 {
			size := min(s.left, storedBlock)
			var h [5]byte
			if s.left <= storedBlock {
				h[0] = 1 // BFINAL, BTYPE 00 (stored)
			}
			binary.LittleEndian.PutUint16(h[1:], uint16(size))
			binary.LittleEndian.PutUint16(h[3:], ^uint16(size))
			if _, err := s.w.Write(h[:]); err != nil {
				return done, fmt.Errorf("warc: %w", err)
			}
			s.n += int64(len(h))
			s.room = int(size)
		}
		k := min(len(p)-done, s.room)
		if _, err := s.w.Write(p[done : done+k]); err != nil {
			return done, fmt.Errorf("warc: %w", err)
		}
		s.n += int64(k)
		s.room -= k
		s.left -= int64(k)
		done += k
	}
	return done, nil
}

// Close closes the current file and, with Config.CDX, sorts and closes the
// index. Later Writes fail. Close is idempotent.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	var errs []error
	if w.f != nil {
		if err := w.flushBuffer(); err != nil {
			errs = append(errs, err)
		}
		if err := w.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("warc: %w", err))
		}
	}
	if w.cdx != nil {
		name := w.cdx.Name()
		if err := w.cdx.Close(); err != nil {
			errs = append(errs, fmt.Errorf("warc: cdxj index: %w", err))
		} else if err := sortCDX(name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Err returns the error that stopped the writer, or nil.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

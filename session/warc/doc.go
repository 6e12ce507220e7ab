// Package warc writes web archives: WARC/1.1 files (ISO 28500) of the HTTP
// exchanges a client makes, with a CDXJ index, and reads them back.
//
// It knows WARC, not crawling. Transport is an http.RoundTripper
// middleware: put it under any client (session.Config.WrapTransport for a
// trawl session) and every request it carries, each redirect hop and
// robots.txt included, is archived in a Writer as a request record and a
// response record, or a revisit record when Index already holds the
// payload. Writer writes records to rotating files Prefix-00000.warc.gz,
// Prefix-00001.warc.gz..., each record its own gzip member and each file
// headed by a warcinfo record; Reader reads them.
//
// # What is recorded
//
// The middleware sits where a Go client hands a request to its transport
// and gets the response back, so it records the message as net/http sent
// and parsed it: the request line and header fields as net/http writes
// them for HTTP/1.1 (Host, User-Agent, Content-Length, then the others in
// sorted order), and the status line and header fields received, in
// canonical case and sorted order. The body is recorded byte for byte as it
// came off the connection, content coding (gzip, br, zstd...) kept: a trawl
// session decompresses above the middleware. net/http has already removed
// the chunked transfer coding and the Transfer-Encoding field with it; the
// recorded message is framed by the record's length, and its payload (the
// entity body that WARC-Payload-Digest covers) is the block after the
// header. Both digests are SHA-1 in base32, computed while the body
// streams through. WARC-Date is the time the request was sent, with
// microseconds; WARC-IP-Address is the peer of the connection used
// (httptrace), a proxy's when there is one.
//
// # Truncation
//
// A trawl session caps a body after decompression (Config.MaxBodySize) and
// stops reading the wire there. The record then holds the wire bytes read
// up to that point, which for a compressed body is a prefix of the
// compressed stream (enough to decompress the capped body), marked
// WARC-Truncated: length; the same holds for redirect bodies the session
// drains only partly. A body whose read failed is marked disconnect (or
// time, for a timeout). Truncated payloads are never deduplicated.
//
// # Deduplication
//
// With Transport.Index, a complete non-empty response whose payload digest
// was archived before is written as a revisit record (profile
// identical-payload-digest, with WARC-Refers-To, -Target-URI and -Date) that
// keeps the header and drops the payload. MemoryIndex serves one process;
// the Index interface lets a crawl keep the digests on disk or share them.
// A digest is stored only once its record is written, so a revisit never
// refers to a record that a crash lost.
//
// # Crashes and resume
//
// Writer writes each record set (a response and its request) with one write
// call once compressed (sets over 1 MiB are streamed), so a killed process
// leaves at most one torn record at the end of the last file. Open cuts it, adds the index lines a kill may
// have left out, and continues in a new file; it never overwrites one.
// With Config.Buffer, record sets are held in memory and written together
// (far cheaper for the system than a write per exchange); a kill loses
// those held. So a crawl that resumes must Flush before it records pages
// as done, and an Index that outlives the process must keep a digest only
// once a Flush has written its record out (trawl crawl --state does both
// in the frontier's commits); otherwise use Buffer 0.
//
// # Cost
//
// Recording a 16 KiB page costs its two SHA-1 digests (computed together in
// one pass; about 10 us with the SHA extensions), the copies of the body
// into the record, and, stored (Level Store), little else: 33-47 us in all
// on the benchmark machine, against some 170 us of a trawl crawl's own CPU
// per page. Compression costs more than all of that (gzip level 1: about
// 50 us more per 16 KiB of HTML, for records about 3 times smaller).
//
// # Why not a WARC library
//
// github.com/internetarchive/gowarc records by owning the HTTP client
// (its own dialer, TLS via utls, DNS via miekg/dns, SOCKS) and pulls about
// fifteen modules, cobra included; it cannot sit under a client it does not
// own, which is what a middleware must do. github.com/nlnwa/gowarc/v3 has
// light dependencies but builds each record in a buffer and digests it when
// the record is built, a second pass over every body, and writes through
// its own goroutines into ".open" files renamed on close, which does not
// fit records streamed as the session reads them nor the cut-and-continue
// resume. The format is small, so this package writes it itself.
//
// Files: record.go holds Record, fields and digests; writer.go the Writer
// and its files; transport.go the middleware; digest.go the two digests of
// a response computed together (sha1x2_amd64.s: two SHA-1 streams
// interleaved with the SHA extensions); index.go Index and
// MemoryIndex; cdx.go the CDXJ index; reader.go the Reader; lock_unix.go
// the lock on the file being written.
package warc

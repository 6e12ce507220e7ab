package warc

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Version is the WARC version this package writes.
const Version = "WARC/1.1"

// Record types this package writes.
const (
	TypeWarcinfo = "warcinfo"
	TypeRequest  = "request"
	TypeResponse = "response"
	TypeRevisit  = "revisit"
)

// ProfileIdenticalPayload is the WARC-Profile of a revisit record whose
// payload is identical to the one of the record it refers to.
const ProfileIdenticalPayload = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"

// DateFormat is the layout of WARC-Date: RFC 3339 in UTC with the sub-second
// precision WARC/1.1 allows (microseconds).
const DateFormat = "2006-01-02T15:04:05.000000Z"

// Field is one WARC named field.
type Field struct {
	Name, Value string
}

// Record is one WARC record.
type Record struct {
	// Type is the WARC-Type: "warcinfo", "request", "response", "revisit"...
	Type string
	// ID is the WARC-Record-ID, angle brackets included ("<urn:uuid:...>").
	// Writing: "" means a new one (NewID).
	ID string
	// Date is the WARC-Date. Writing: the zero time means the writer's clock.
	Date time.Time
	// Fields are the other named fields, in order. Writing: WARC-Type,
	// WARC-Record-ID, WARC-Date and Content-Length are written from the
	// fields above and must not be among them.
	Fields []Field
	// Block is the content block, Length bytes. Writing: nil means empty.
	// Reading: valid until the next call to Reader.Next.
	Block io.Reader
	// Length is the length of Block (Content-Length).
	Length int64
}

// Get returns the value of the first field named name (case-insensitive),
// or "".
func (r *Record) Get(name string) string {
	for _, f := range r.Fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// NewID returns a new record ID: a random (version 4) UUID URN in angle
// brackets.
func NewID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // never fails (crypto/rand)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return "<urn:uuid:" + string(b[:]) + ">"
}

// Digest returns the WARC digest of b: "sha1:" and the base32 SHA-1.
func Digest(b []byte) string {
	s := sha1.Sum(b)
	return DigestOf(s[:])
}

// DigestOf formats a SHA-1 sum as a WARC digest ("sha1:BASE32").
func DigestOf(sum []byte) string {
	return "sha1:" + base32.StdEncoding.EncodeToString(sum)
}

// FormatDate formats t as a WARC-Date (DateFormat).
func FormatDate(t time.Time) string { return t.UTC().Format(DateFormat) }

// appendHeader appends the record's header (version line to the blank
// line) to b.
func appendHeader(b []byte, r *Record) []byte {
	b = append(b, Version...)
	b = append(b, "\r\nWARC-Type: "...)
	b = append(b, r.Type...)
	b = append(b, "\r\nWARC-Record-ID: "...)
	b = append(b, r.ID...)
	b = append(b, "\r\nWARC-Date: "...)
	b = r.Date.UTC().AppendFormat(b, DateFormat)
	b = append(b, "\r\n"...)
	for _, f := range r.Fields {
		b = append(b, f.Name...)
		b = append(b, ": "...)
		b = append(b, clean(f.Value)...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, r.Length, 10)
	b = append(b, "\r\n\r\n"...)
	return b
}

// clean keeps a field value on one line.
func clean(v string) string {
	if strings.IndexByte(v, '\n') < 0 && strings.IndexByte(v, '\r') < 0 {
		return v
	}
	return strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(v)
}

// checkRecord reports a record the writer cannot write.
// isToken reports whether s is a non-empty token (RFC 9110 §5.6.2), as a
// WARC record type and a field name must be (ISO 28500 §5): no spaces,
// controls or separators, which a reader would trim or split on.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func checkRecord(r *Record) error {
	if !isToken(r.Type) {
		return fmt.Errorf("warc: bad record type %q", r.Type)
	}
	if r.Length < 0 || (r.Block == nil && r.Length != 0) {
		return fmt.Errorf("warc: %s record: bad block length %d", r.Type, r.Length)
	}
	for _, f := range r.Fields {
		if !isToken(f.Name) {
			return fmt.Errorf("warc: %s record: bad field name %q", r.Type, f.Name)
		}
		if strings.EqualFold(f.Name, "WARC-Type") || strings.EqualFold(f.Name, "WARC-Record-ID") ||
			strings.EqualFold(f.Name, "WARC-Date") || strings.EqualFold(f.Name, "Content-Length") {
			return fmt.Errorf("warc: %s record: field %s is written from the Record's own fields", r.Type, f.Name)
		}
	}
	return nil
}

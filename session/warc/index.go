package warc

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
)

// Capture is the record that holds a payload: what a revisit record refers
// to (WARC-Refers-To, WARC-Refers-To-Target-URI, WARC-Refers-To-Date).
type Capture struct {
	// ID is the WARC-Record-ID of the response record, angle brackets included.
	ID string
	// URI is its WARC-Target-URI.
	URI string
	// Date is its WARC-Date.
	Date time.Time
}

// MarshalText encodes c on one line: date, record ID and URI separated by
// spaces (a URI has no spaces), for indexes that store strings.
func (c Capture) MarshalText() ([]byte, error) {
	return []byte(FormatDate(c.Date) + " " + c.ID + " " + c.URI), nil
}

// UnmarshalText decodes what MarshalText encoded.
func (c *Capture) UnmarshalText(b []byte) error {
	f := strings.SplitN(string(b), " ", 3)
	if len(f) != 3 {
		return errors.New("warc: bad capture encoding")
	}
	d, err := time.Parse(time.RFC3339Nano, f[0])
	if err != nil {
		return errors.New("warc: bad capture date")
	}
	*c = Capture{Date: d, ID: f[1], URI: f[2]}
	return nil
}

// Index remembers which record holds each payload digest, so that a payload
// archived once is written again as a revisit record. Implementations must
// be safe for concurrent use; a failing call (an error) only costs the
// deduplication of one response, which is then written in full.
type Index interface {
	// Lookup returns the capture stored for digest ("sha1:BASE32"), and
	// false when there is none.
	Lookup(ctx context.Context, digest string) (Capture, bool, error)
	// Store records that c holds the payload with digest. It is called
	// once c's record is written; when digest already has a capture, the
	// first one is kept.
	Store(ctx context.Context, digest string, c Capture) error
}

// MemoryIndex is an Index in memory, for one process and one run. Its zero
// value is ready to use; it is safe for concurrent use. It holds every
// distinct payload digest with its capture (about 150 bytes each).
type MemoryIndex struct {
	mu sync.RWMutex
	m  map[string]Capture
}

var _ Index = (*MemoryIndex)(nil)

// Lookup implements Index.
func (x *MemoryIndex) Lookup(_ context.Context, digest string) (Capture, bool, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	c, ok := x.m[digest]
	return c, ok, nil
}

// Store implements Index.
func (x *MemoryIndex) Store(_ context.Context, digest string, c Capture) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.m == nil {
		x.m = make(map[string]Capture)
	}
	if _, ok := x.m[digest]; !ok {
		x.m[digest] = c
	}
	return nil
}

// Len returns the number of digests stored.
func (x *MemoryIndex) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.m)
}

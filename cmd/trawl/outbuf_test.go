package main

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
)

// countingWriter records each Write call.
type countingWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	fail   error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return 0, c.fail
	}
	c.writes++
	return c.buf.Write(p)
}

// TestOutBuffer: records from many goroutines reach the writer whole and
// in few writes; Flush empties the buffer; a record larger than the buffer
// goes through; Close writes the rest.
func TestOutBuffer(t *testing.T) {
	w := &countingWriter{}
	b := newOutBuffer(w)
	var wg sync.WaitGroup
	const goroutines, each = 8, 500
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				rec := []byte(strings.Repeat(string(rune('a'+g)), 10+i%50) + "\n")
				if _, err := b.Write(rec); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	lines := strings.Split(strings.TrimSuffix(w.buf.String(), "\n"), "\n")
	writes := w.writes
	w.mu.Unlock()
	if len(lines) != goroutines*each {
		t.Fatalf("%d lines, want %d", len(lines), goroutines*each)
	}
	for _, l := range lines {
		if strings.Trim(l, l[:1]) != "" {
			t.Fatalf("a record was split or interleaved: %q", l)
		}
	}
	if writes > goroutines*each/20 {
		t.Errorf("%d writes for %d records: not batched", writes, goroutines*each)
	}
	big := bytes.Repeat([]byte("x"), 2*outBufferSize)
	if _, err := b.Write([]byte("small\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Write(big); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Write([]byte("last\n")); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got := w.buf.String(); !strings.HasSuffix(got, "small\n"+string(big)+"last\n") {
		t.Errorf("the output does not end with the last three records in order (%d bytes)", len(got))
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestOutBufferError: a failed write is returned by Flush and by every
// later Write.
func TestOutBufferError(t *testing.T) {
	boom := errors.New("no space left on device")
	w := &countingWriter{fail: boom}
	b := newOutBuffer(w)
	defer b.Close()
	if _, err := b.Write([]byte("a\n")); err != nil {
		t.Fatalf("buffered Write = %v", err)
	}
	if err := b.Flush(); !errors.Is(err, boom) {
		t.Fatalf("Flush = %v, want %v", err, boom)
	}
	if _, err := b.Write([]byte("b\n")); !errors.Is(err, boom) {
		t.Errorf("Write after a failed flush = %v, want %v", err, boom)
	}
}

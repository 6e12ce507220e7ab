package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/disk"
)

func TestRepairTail(t *testing.T) {
	tests := []struct {
		name    string
		csv     bool
		in      string
		want    string
		wantCut int64
	}{
		{"empty", false, "", "", 0},
		{"whole lines", false, "{\"a\":1}\n{\"a\":2}\n", "{\"a\":1}\n{\"a\":2}\n", 0},
		{"torn line", false, "{\"a\":1}\n{\"a\":", "{\"a\":1}\n", 5},
		{"only a torn line", false, "{\"a\":", "", 5},
		{"csv whole", true, "url,title\nhttp://x/,\"a\nb\"\n", "url,title\nhttp://x/,\"a\nb\"\n", 0},
		{"csv torn inside quotes", true, "url,title\nhttp://x/,t\nhttp://y/,\"a\nb", "url,title\nhttp://x/,t\n", 14},
		{"csv escaped quotes", true, "u,t\nx,\"say \"\"hi\"\"\n\"\nz,\"", "u,t\nx,\"say \"\"hi\"\"\n\"\n", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "out")
			if err := os.WriteFile(p, []byte(tc.in), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(p, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			size, cut, err := repairTail(f, tc.csv)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(p)
			if string(got) != tc.want || size != int64(len(tc.want)) || cut != tc.wantCut {
				t.Errorf("repairTail(%q) left %q (size %d, cut %d); want %q (cut %d)", tc.in, got, size, cut, tc.want, tc.wantCut)
			}
		})
	}
}

func TestSkipHeader(t *testing.T) {
	var buf bytes.Buffer
	w := &skipHeader{w: &buf}
	for _, s := range []string{"url,title\nhttp://a/,A\n", "http://b/,B\n"} {
		if n, err := w.Write([]byte(s)); err != nil || n != len(s) {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got := buf.String(); got != "http://a/,A\nhttp://b/,B\n" {
		t.Errorf("wrote %q; want the records without the header", got)
	}
}

// TestOutputCutBack: lateFlush saves where the records file ends in each
// commit that marks pages done; a resumed run cuts the file back there
// (the records of pages not marked done are fetched again), keeps a file
// the note is not about, and a fresh run notes an empty file.
func TestOutputCutBack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	out := filepath.Join(dir, "pages.jsonl")
	cfg := &Config{State: filepath.Join(dir, "state"), Output: out}
	flush := &lateFlush{}
	fr, closeFr, err := openDiskFrontier(cfg, flush.flush)
	if err != nil {
		t.Fatal(err)
	}
	d := fr.(*disk.Disk)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := &resume{d: d, logger: logger}
	w, closeOut, err := r.openOutput(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ob := newOutBuffer(w)
	if err := ob.setFile(r.outFile, r.outPath, true); err != nil {
		t.Fatal(err)
	}
	flush.set(ob)
	if _, err := d.Push(ctx, frontier.Entry{URL: "http://a.test/1"}, frontier.Entry{URL: "http://a.test/2"}); err != nil {
		t.Fatal(err)
	}
	// Page 1: record, then Ack (its commit writes the record out and
	// notes the end); page 2: its record written out early (a full
	// buffer), and the run stops before its Ack.
	l, err := d.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(ob, `{"url":"`+l.URL+`"}`+"\n")
	if err := d.Ack(ctx, l); err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	io.WriteString(ob, `{"url":"http://a.test/2"}`+"\n")
	if err := ob.Flush(); err != nil {
		t.Fatal(err)
	}
	closeOut()
	closeFr()
	b, _ := os.ReadFile(out)
	if n := bytes.Count(b, []byte("\n")); n != 2 {
		t.Fatalf("file holds %d records before the resume, want 2:\n%s", n, b)
	}

	fr, closeFr, err = openDiskFrontier(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFr()
	r = &resume{d: fr.(*disk.Disk), resumed: true, logger: logger}
	_, closeOut, err = r.openOutput(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	closeOut()
	b, _ = os.ReadFile(out)
	if string(b) != `{"url":"http://a.test/1"}`+"\n" {
		t.Fatalf("after the resume the file holds %q; want page 1's record alone", b)
	}

	// A file shorter than the note (a power loss without --state-sync)
	// is kept, with a warning.
	if err := os.Truncate(out, 3); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	r.logger = slog.New(slog.NewTextHandler(&logs, nil))
	_, closeOut, err = r.openOutput(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	closeOut()
	if !bytes.Contains(logs.Bytes(), []byte("shorter than at the last commit")) {
		t.Errorf("no warning for a records file shorter than the last commit's; log: %s", logs.Bytes())
	}
	r.logger = logger

	// A note about another file leaves this one alone.
	other := &Config{State: cfg.State, Output: filepath.Join(dir, "other.jsonl")}
	if err := os.WriteFile(other.Output, []byte("{}\n{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, closeOut, err = r.openOutput(ctx, other, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	closeOut()
	if b, _ := os.ReadFile(other.Output); string(b) != "{}\n{}\n" {
		t.Errorf("another file was cut to %q", b)
	}
}

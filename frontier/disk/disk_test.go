package disk_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/disk"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func open(t *testing.T, dir string, cfg disk.Config) *disk.Disk {
	t.Helper()
	d, err := disk.Open(dir, cfg)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func urls(host string, n int) []frontier.Entry {
	es := make([]frontier.Entry, n)
	for i := range es {
		es[i] = frontier.Entry{URL: fmt.Sprintf("http://%s/p/%d", host, i), Depth: i % 3}
	}
	return es
}

func TestOpenBadState(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		want    error
		inMsg   string
	}{
		{
			name: "foreign files",
			prepare: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
			},
			want: disk.ErrForeign, inMsg: "notes.txt",
		},
		{
			name: "a file, not a directory",
			prepare: func(t *testing.T, dir string) {
				os.Remove(dir)
				os.WriteFile(dir, []byte("x"), 0o644)
			},
			want: disk.ErrForeign, inMsg: "not a directory",
		},
		{
			name: "garbage store",
			prepare: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "frontier.db"), []byte(strings.Repeat("garbage!", 4096)), 0o644)
			},
			want: disk.ErrCorrupt, inMsg: "frontier.db",
		},
		{
			name: "truncated store",
			prepare: func(t *testing.T, dir string) {
				d := open(t, dir, disk.Config{})
				d.Push(ctxT(t), urls("trunc.test", 50)...)
				d.Close()
				p := filepath.Join(dir, "frontier.db")
				os.Truncate(p, 100)
			},
			want: disk.ErrCorrupt,
		},
		{
			// Cut short in the middle (a copy or a full disk): bbolt's
			// map then reaches past the file's end. This crashed the
			// process (SIGBUS, or "bad sweepgen" from the map trimming
			// releasing memory past the map) before Open checked the size
			// and faults became panics.
			name: "cut short",
			prepare: func(t *testing.T, dir string) {
				d := open(t, dir, disk.Config{NoSync: true, SeenLog: 100})
				for i := range 20 {
					d.Push(ctxT(t), urls(fmt.Sprintf("cut%d.test", i), 500)...)
				}
				d.Close()
				p := filepath.Join(dir, "frontier.db")
				st, _ := os.Stat(p)
				os.Truncate(p, st.Size()/3/4096*4096)
			},
			want: disk.ErrCorrupt,
		},
		{
			name: "bbolt store of another program",
			prepare: func(t *testing.T, dir string) {
				db, err := bolt.Open(filepath.Join(dir, "frontier.db"), 0o644, nil)
				if err != nil {
					t.Fatal(err)
				}
				db.Update(func(tx *bolt.Tx) error {
					_, err := tx.CreateBucket([]byte("users"))
					return err
				})
				db.Close()
			},
			want: disk.ErrForeign, inMsg: "another program",
		},
		{
			name: "newer format",
			prepare: func(t *testing.T, dir string) {
				d := open(t, dir, disk.Config{})
				d.Close()
				db, err := bolt.Open(filepath.Join(dir, "frontier.db"), 0o644, nil)
				if err != nil {
					t.Fatal(err)
				}
				db.Update(func(tx *bolt.Tx) error {
					return tx.Bucket([]byte("meta")).Put([]byte("format"), []byte{0, 0, 0, 9})
				})
				db.Close()
			},
			want: disk.ErrIncompatible, inMsg: "format 9",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			os.Mkdir(dir, 0o755)
			tc.prepare(t, dir)
			before := snapshot(t, dir)
			d, err := disk.Open(dir, disk.Config{})
			if err == nil {
				d.Close()
				t.Fatalf("Open succeeded; want %v", tc.want)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open = %v; want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.inMsg) || !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not name %q and the directory", err, tc.inMsg)
			}
			if after := snapshot(t, dir); after != before {
				t.Errorf("Open modified the refused directory:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// snapshot describes the files at path (names, sizes, contents' lengths).
func snapshot(t *testing.T, path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return "missing"
	}
	if !st.IsDir() {
		b, _ := os.ReadFile(path)
		return fmt.Sprintf("file %d %x", len(b), b[:min(len(b), 16)])
	}
	var sb strings.Builder
	ents, _ := os.ReadDir(path)
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(path, e.Name()))
		fmt.Fprintf(&sb, "%s:%d:%x ", e.Name(), len(b), b[:min(len(b), 64)])
	}
	return sb.String()
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir, disk.Config{})
	_, err := disk.Open(dir, disk.Config{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, disk.ErrLocked) {
		t.Fatalf("second Open = %v; want ErrLocked", err)
	}
	if want := fmt.Sprintf("pid %d", os.Getpid()); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name the holder (%s)", err, want)
	}
	// The holder is unaffected, and the lock goes with Close.
	if _, err := d.Push(ctxT(t), urls("lock.test", 3)...); err != nil {
		t.Fatalf("Push by the holder: %v", err)
	}
	d.Close()
	d2 := open(t, dir, disk.Config{})
	if st, _ := d2.Stats(ctxT(t)); st.Queued != 3 {
		t.Errorf("Queued after reopen = %d; want 3", st.Queued)
	}
}

func TestOpenCreatesDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	d := open(t, dir, disk.Config{})
	if d.Resumed() {
		t.Error("fresh directory reported as resumed")
	}
	if _, err := os.Stat(filepath.Join(dir, "frontier.db")); err != nil {
		t.Errorf("store not created: %v", err)
	}
	if _, err := disk.Open("", disk.Config{}); err == nil {
		t.Error("Open(\"\") succeeded")
	}
}

func TestState(t *testing.T) {
	dir := t.TempDir()
	ctx := ctxT(t)
	d := open(t, dir, disk.Config{})
	if v, err := d.LoadState(ctx, "cookies"); err != nil || v != nil {
		t.Fatalf("LoadState of a missing key = %q, %v; want nil, nil", v, err)
	}
	val := []byte(`[{"name":"sid"}]`)
	if err := d.SaveState(ctx, "cookies", val); err != nil {
		t.Fatal(err)
	}
	val[0] = 'X' // the store keeps its own copy
	if err := d.SaveState(ctx, "", nil); err == nil {
		t.Error("SaveState with an empty key succeeded")
	}
	d.Close()
	d = open(t, dir, disk.Config{})
	if !d.Resumed() {
		t.Error("directory with saved state not reported as resumed")
	}
	v, err := d.LoadState(ctx, "cookies")
	if err != nil || string(v) != `[{"name":"sid"}]` {
		t.Errorf("LoadState after reopen = %q, %v", v, err)
	}
	d.Close()
	if _, err := d.LoadState(ctx, "cookies"); !errors.Is(err, frontier.ErrClosed) {
		t.Errorf("LoadState after Close = %v; want ErrClosed", err)
	}
	if err := d.SaveState(ctx, "k", nil); !errors.Is(err, frontier.ErrClosed) {
		t.Errorf("SaveState after Close = %v; want ErrClosed", err)
	}
}

// TestResumeOrder checks what a restarted crawl sees: the entries leased at
// the "kill" come first on their host, then the rest in push order; settled
// entries never come back; retries keep their attempt and time.
func TestResumeOrder(t *testing.T) {
	dir := t.TempDir()
	ctx := ctxT(t)
	cfg := disk.Config{Policy: frontier.HostPolicy{MaxInFlight: 3}}
	d := open(t, dir, cfg)
	if _, err := d.Push(ctx, urls("ro.test", 10)...); err != nil {
		t.Fatal(err)
	}
	var ls []*frontier.Lease
	for range 3 {
		l, err := d.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	if err := d.Ack(ctx, ls[0]); err != nil { // p/0 done
		t.Fatal(err)
	}
	if err := d.Retry(ctx, ls[1], time.Now().Add(time.Hour)); err != nil { // p/1 waits
		t.Fatal(err)
	}
	// ls[2] (p/2) is outstanding when the process goes away.
	d.Close()

	d = open(t, dir, cfg)
	st, _ := d.Stats(ctx)
	want := frontier.Stats{Queued: 9, Seen: 10, Hosts: 1, Delayed: 1}
	if st != want {
		t.Errorf("Stats after reopen = %+v; want %+v", st, want)
	}
	var got []string
	for range 8 {
		l, err := d.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.TrimPrefix(l.URL, "http://ro.test"))
		if err := d.Ack(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if w := "[/p/2 /p/3 /p/4 /p/5 /p/6 /p/7 /p/8 /p/9]"; fmt.Sprint(got) != w {
		t.Errorf("order after reopen %v; want %s", got, w)
	}
	// Only the delayed retry is left: not done, nothing ready.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := d.Next(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Next with only a delayed retry = %v; want to block", err)
	}
	d.Close()

	// An hour later (injected clock), the retry is due with Attempt 1.
	later := time.Now().Add(2 * time.Hour)
	d = open(t, dir, disk.Config{Now: func() time.Time { return later }})
	l, err := d.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l.URL != "http://ro.test/p/1" || l.Attempt != 1 || l.Depth != 1 {
		t.Errorf("retried lease %s attempt %d depth %d; want p/1 attempt 1 depth 1", l.URL, l.Attempt, l.Depth)
	}
	if err := d.Ack(ctx, l); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Next(ctx); !errors.Is(err, frontier.ErrDone) {
		t.Errorf("Next = %v; want ErrDone", err)
	}
	if n, _ := d.Push(ctx, urls("ro.test", 10)...); n != 0 {
		t.Errorf("re-pushing the finished crawl's URLs added %d; want 0", n)
	}
}

func TestPushRejectsHostlessURL(t *testing.T) {
	d := open(t, t.TempDir(), disk.Config{})
	_, err := d.Push(ctxT(t), frontier.Entry{URL: "http://ok.test/"}, frontier.Entry{URL: "mailto:x@y"})
	if err == nil || !strings.Contains(err.Error(), "mailto:x@y") {
		t.Errorf("Push of a host-less URL = %v; want an error naming it", err)
	}
	if st, _ := d.Stats(ctxT(t)); st.Seen != 0 {
		t.Errorf("a rejected Push added %d URLs; want none", st.Seen)
	}
}

// TestCommitInterval checks batching: many concurrent pushes share commits
// and all of them are durable when they return.
func TestCommitInterval(t *testing.T) {
	dir := t.TempDir()
	ctx := ctxT(t)
	d := open(t, dir, disk.Config{CommitInterval: 2 * time.Millisecond, MaxBatch: 16})
	errs := make(chan error, 64)
	for w := range 64 {
		go func() {
			_, err := d.Push(ctx, urls(fmt.Sprintf("h%d.test", w%8), 40)...)
			errs <- err
		}()
	}
	for range 64 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	d.Close()
	d = open(t, dir, disk.Config{})
	st, _ := d.Stats(ctx)
	if st.Seen != 8*40 || st.Queued != 8*40 || st.Hosts != 8 {
		t.Errorf("Stats after reopen = %+v; want 320 seen and queued on 8 hosts", st)
	}
}

// TestAckedAcrossRuns checks that Acked counts this run's acknowledgements
// and the committed ones of earlier runs, and that an acknowledgement that
// was not committed before the process stopped is not counted (its URL is
// leased again instead).
func TestAckedAcrossRuns(t *testing.T) {
	dir := t.TempDir()
	ctx := ctxT(t)
	d, err := disk.Open(dir, disk.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Push(ctx, urls("a.test", 10)...); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		l, err := d.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Ack(ctx, l); err != nil {
			t.Fatal(err)
		}
		if got := d.Acked(); got != int64(i+1) {
			t.Fatalf("Acked after %d acks = %d", i+1, got)
		}
	}
	// A lease outstanding at Close is not acknowledged.
	if _, err := d.Next(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d = open(t, dir, disk.Config{})
	if got := d.Acked(); got != 4 {
		t.Fatalf("Acked after reopening = %d; want 4", got)
	}
	st, err := d.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Queued != 6 {
		t.Fatalf("queued after reopening = %d; want 6", st.Queued)
	}
	l, err := d.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Ack(ctx, l); err != nil {
		t.Fatal(err)
	}
	if got := d.Acked(); got != 5 {
		t.Fatalf("Acked = %d; want 5", got)
	}
}

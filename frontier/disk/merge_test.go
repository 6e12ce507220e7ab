package disk

import (
	"context"
	"fmt"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/trawlhq/trawl/frontier"
)

// levels counts the fingerprints in the seen set's tree and in its log.
func levels(t *testing.T, d *Disk) (tree, logged int) {
	t.Helper()
	err := d.view(func(tx *bolt.Tx) error {
		tree = tx.Bucket(bucketSeen).Stats().KeyN
		return tx.Bucket(bucketLog).ForEach(func(_, v []byte) error {
			logged += len(v) / 8
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree, logged
}

// TestSeenLogMerge pushes URLs in many small commits with a small seen log,
// and checks that the committer merges the log into the tree, that every
// fingerprint is in exactly one level (or both, only during a merge), that
// deduplication holds across merges and a reopen, and that a merge cut
// short by Close is done again after the next Open.
func TestSeenLogMerge(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dir := t.TempDir()
	cfg := Config{NoSync: true, SeenLog: 50, MaxBatch: 8}
	d, err := Open(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	url := func(i int) string { return fmt.Sprintf("http://h%d.test/p/%d", i%7, i) }
	push := func(d *Disk, from, to int) int {
		t.Helper()
		added := 0
		for i := from; i < to; i += 37 {
			var es []frontier.Entry
			for j := i; j < min(i+37, to); j++ {
				es = append(es, frontier.Entry{URL: url(j)})
			}
			k, err := d.Push(ctx, es...)
			if err != nil {
				t.Fatal(err)
			}
			added += k
		}
		return added
	}
	if got := push(d, 0, n); got != n {
		t.Fatalf("pushed %d new URLs; want %d", got, n)
	}
	if err := d.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// Idle, the committer merges until less than SeenLog is logged.
	deadline := time.Now().Add(10 * time.Second)
	for {
		tree, logged := levels(t, d)
		if logged < cfg.SeenLog {
			if tree+logged != n {
				t.Fatalf("tree %d + log %d fingerprints; want %d", tree, logged, n)
			}
			d.pushMu.Lock()
			um := len(d.unmerged)
			d.pushMu.Unlock()
			if um != logged {
				t.Fatalf("%d fingerprints unmerged in RAM; want the %d in the log", um, logged)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log not merged: tree %d, log %d", tree, logged)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := push(d, 0, n); got != 0 {
		t.Fatalf("pushing the same URLs again added %d", got)
	}

	// More URLs, then Close at once: a merge is cut short or never starts.
	if got := push(d, n, 2*n); got != n {
		t.Fatalf("pushed %d new URLs; want %d", got, n)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = Open(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, logged := levels(t, d)
	d.pushMu.Lock()
	um := len(d.unmerged)
	d.pushMu.Unlock()
	if um != logged {
		t.Fatalf("after Open: %d fingerprints unmerged in RAM; want the %d in the log", um, logged)
	}
	if got := push(d, 0, 2*n); got != 0 {
		t.Fatalf("after reopening, pushing the same URLs again added %d", got)
	}
	st, err := d.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Seen != 2*n || st.Queued != 2*n {
		t.Fatalf("stats %+v; want %d seen and queued", st, 2*n)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		tree, logged := levels(t, d)
		if logged < cfg.SeenLog && tree+logged == 2*n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log not merged after reopening: tree %d, log %d", tree, logged)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestUpgradeFormat1 opens a directory written in format 1 (no seen log):
// Open adds the log and records format 2, and what format 1 had seen stays
// seen.
func TestUpgradeFormat1(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dir := t.TempDir()
	d, err := Open(dir, Config{NoSync: true, SeenLog: 1})
	if err != nil {
		t.Fatal(err)
	}
	es := []frontier.Entry{{URL: "http://a.test/1"}, {URL: "http://a.test/2"}}
	if _, err := d.Push(ctx, es...); err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// Let the merge empty the log, as format 1 had none.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, logged := levels(t, d); logged == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("log not merged")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(dir+"/"+dbFile, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketLog); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keyFormat, []byte{0, 0, 0, 1})
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	d, err = Open(dir, Config{NoSync: true})
	if err != nil {
		t.Fatalf("Open of a format 1 directory: %v", err)
	}
	defer d.Close()
	if n, err := d.Push(ctx, es...); n != 0 || err != nil {
		t.Fatalf("Push of URLs seen in format 1 = %d, %v; want 0", n, err)
	}
	if n, err := d.Push(ctx, frontier.Entry{URL: "http://a.test/3"}); n != 1 || err != nil {
		t.Fatalf("Push of a new URL = %d, %v; want 1", n, err)
	}
	var format []byte
	_ = d.view(func(tx *bolt.Tx) error {
		format = append(format, tx.Bucket(bucketMeta).Get(keyFormat)...)
		return nil
	})
	if string(format) != "\x00\x00\x00\x02" {
		t.Fatalf("format after the upgrade = %x; want 2", format)
	}
}

package bolttrim

import (
	"fmt"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// rssFileKB is the process's resident file-backed memory, in KiB.
func rssFileKB(t *testing.T) int64 {
	t.Helper()
	n, err := ResidentFile()
	if err != nil {
		t.Fatal(err)
	}
	return n >> 10
}

// TestTrim: reading a 48 MiB store through its map puts it in the resident
// set; Touched during the read and All after it keep the set small.
func TestTrim(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	val := make([]byte, 1000)
	for batch := range 48 {
		err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("b"))
			if err != nil {
				return err
			}
			for i := range 1000 {
				if err := b.Put(fmt.Appendf(nil, "%03d-%04d", batch, i), val); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	readAll := func(tr *Trimmer) {
		err := db.View(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("b")).ForEach(func(k, v []byte) error {
				_ = v[len(v)-1]
				if tr != nil {
					tr.Touched(tx, int64(len(k)+len(v)))
				}
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	tr := &Trimmer{DB: db, Every: DefaultEvery}
	tr.All()
	base := rssFileKB(t)
	readAll(nil)
	untrimmed := rssFileKB(t) - base
	tr.All()
	afterAll := rssFileKB(t) - base
	readAll(tr)
	whileTrimming := rssFileKB(t) - base
	t.Logf("resident file pages above the start: %d KiB after an untrimmed read, %d after All, %d after a read that trims as it goes", untrimmed, afterAll, whileTrimming)
	if untrimmed < 32<<10 {
		t.Fatalf("reading 48 MiB added only %d KiB to the resident set: the test cannot see what trimming does", untrimmed)
	}
	if afterAll > 4<<10 {
		t.Errorf("after All, %d KiB of the store still resident; want under 4 MiB", afterAll)
	}
	if whileTrimming > 24<<10 {
		t.Errorf("a read trimming as it goes left %d KiB resident; want under 24 MiB (the trim budget is 8 MiB)", whileTrimming)
	}
}

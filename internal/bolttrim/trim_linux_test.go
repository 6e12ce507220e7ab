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

// fill writes a 48 MiB store.
func fill(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
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
	return db
}

// readAll reads every value of db, telling tr (if not nil).
func readAll(t *testing.T, db *bolt.DB, tr *Trimmer) {
	t.Helper()
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

// TestTrim: reading a 48 MiB store through its map puts it in the resident
// set; All drops it, and Touched during a read keeps the set within the
// budget.
func TestTrim(t *testing.T) {
	db := fill(t)
	const budget = 8 << 20
	tr := &Trimmer{DB: db, Every: budget}
	tr.All()
	base := rssFileKB(t)
	readAll(t, db, nil)
	untrimmed := rssFileKB(t) - base
	tr.All()
	afterAll := rssFileKB(t) - base
	readAll(t, db, tr)
	whileTrimming := rssFileKB(t) - base
	t.Logf("resident file pages above the start: %d KiB after an untrimmed read, %d after All, %d after a read that trims as it goes", untrimmed, afterAll, whileTrimming)
	if untrimmed < 32<<10 {
		t.Fatalf("reading 48 MiB added only %d KiB to the resident set: the test cannot see what trimming does", untrimmed)
	}
	if afterAll > 4<<10 {
		t.Errorf("after All, %d KiB of the store still resident; want under 4 MiB", afterAll)
	}
	if whileTrimming > (budget+4<<20)>>10 {
		t.Errorf("a read trimming as it goes left %d KiB resident; want under 12 MiB (the budget is 8 MiB)", whileTrimming)
	}
}

// TestUnderBudget: a store smaller than the budget is never trimmed, since
// trimming would only cost faults; a smaller budget trims it.
func TestUnderBudget(t *testing.T) {
	db := fill(t)
	(&Trimmer{DB: db, Every: 1}).All()
	base := rssFileKB(t)
	big := &Trimmer{DB: db, Every: 1 << 30}
	readAll(t, db, big)
	big.Committed(1 << 20)
	big.Check()
	kept := rssFileKB(t) - base
	small := &Trimmer{DB: db, Every: 4 << 20}
	small.Check()
	trimmed := rssFileKB(t) - base
	t.Logf("resident file pages above the start: %d KiB under a 1 GiB budget, %d after a look with a 4 MiB one", kept, trimmed)
	if kept < 32<<10 {
		t.Errorf("a 1 GiB budget kept only %d KiB of a 48 MiB store resident: it was trimmed", kept)
	}
	if trimmed > 8<<10 {
		t.Errorf("a 4 MiB budget left %d KiB resident after Check; want under 8 MiB", trimmed)
	}
}

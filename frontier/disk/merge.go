package disk

import (
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// The seen set has two levels. A commit that pushes entries appends their
// fingerprints to the seen log, one value per commit: an append touches
// only the log's last page. Once Config.SeenLog fingerprints are logged,
// the committer merges them, sorted, into the seen set's B+tree, in chunks
// of mergeChunk between ordinary commits, and deletes them from the log in
// the chunk that ends the merge. Sorted inserts walk the tree's leaves in
// order, so a merge rewrites each leaf once at most; inserting the same
// fingerprints one commit at a time, in hash order, rewrote a whole page
// (and mapped 64 KiB of the file, see trim_linux.go) per URL.
//
// Until their merge ends, the fingerprints stay in Disk.unmerged, which
// Push checks before the tree; Open loads the log into it. A kill during a
// merge leaves the log whole: the next run merges it again (a put of a key
// present is a no-op).

// mergeChunk is how many fingerprints one merge transaction inserts.
const mergeChunk = 1024

// merger is the committer's merge state. Only the committer goroutine uses
// it (Open sets logged before the committer starts).
type merger struct {
	logged int      // fingerprints logged and not in a merge
	fps    []uint64 // the merge's fingerprints, sorted; nil when none
	pos    int      // how many of fps are inserted
	last   []byte   // the merge's last log key
}

// loadLog reads the seen log into d.unmerged. Called by Open.
func (d *Disk) loadLog(tx *bolt.Tx) error {
	return tx.Bucket(bucketLog).ForEach(func(k, v []byte) error {
		if len(k) != 8 || len(v)%8 != 0 {
			return fmt.Errorf("%w: %s: seen log record", ErrCorrupt, d.dir)
		}
		for i := 0; i < len(v); i += 8 {
			d.unmerged[binary.BigEndian.Uint64(v[i:])] = struct{}{}
		}
		d.merge.logged += len(v) / 8
		d.trimmer.Touched(tx, int64(len(v)))
		return nil
	})
}

// mergeStep does the next step of the merge: starting one when enough is
// logged, or inserting its next chunk. Called by the committer between
// commits.
func (d *Disk) mergeStep() {
	m := &d.merge
	if m.fps == nil {
		if m.logged < d.cfg.SeenLog {
			return
		}
		if err := d.startMerge(); err != nil {
			_ = d.fail(err)
		}
		return
	}
	end := min(m.pos+mergeChunk, len(m.fps))
	chunk := m.fps[m.pos:end]
	done := end == len(m.fps)
	err := d.update(func(tx *bolt.Tx) error {
		seen := tx.Bucket(bucketSeen)
		for _, fp := range chunk {
			if err := seen.Put(u64(fp), seenMark); err != nil {
				return err
			}
		}
		if !done {
			return nil
		}
		log := tx.Bucket(bucketLog)
		var keys [][]byte
		c := log.Cursor()
		for k, _ := c.First(); k != nil && string(k) <= string(m.last); k, _ = c.Next() {
			keys = append(keys, append([]byte(nil), k...))
		}
		for _, k := range keys {
			if err := log.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = d.fail(err)
		return
	}
	d.trimmer.Check()
	m.pos = end
	if !done {
		return
	}
	d.pushMu.Lock()
	for _, fp := range m.fps {
		delete(d.unmerged, fp)
		d.cache.add(fp)
	}
	d.pushMu.Unlock()
	*m = merger{logged: m.logged}
}

// startMerge takes every fingerprint logged so far into a new merge.
func (d *Disk) startMerge() error {
	m := &d.merge
	var fps []uint64
	var last []byte
	err := d.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLog).ForEach(func(k, v []byte) error {
			if len(k) != 8 || len(v)%8 != 0 {
				return fmt.Errorf("%w: %s: seen log record", ErrCorrupt, d.dir)
			}
			for i := 0; i < len(v); i += 8 {
				fps = append(fps, binary.BigEndian.Uint64(v[i:]))
			}
			last = append(last[:0], k...)
			d.trimmer.Touched(tx, int64(len(v)))
			return nil
		})
	})
	if err != nil {
		return err
	}
	if len(fps) == 0 {
		m.logged = 0
		return nil
	}
	slices.Sort(fps)
	m.fps = slices.Compact(fps)
	m.pos = 0
	m.last = last
	m.logged = 0
	return nil
}

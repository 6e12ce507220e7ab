package linkcheck

import (
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"time"
)

// snapshotVersion is the format of Save's output.
const snapshotVersion = 1

// snapshot is what Save writes: everything the checker knows.
type snapshot struct {
	Version int
	Pages   []PageInfo
	Docs    []uint64
	Targets []snapEntry
}

type snapEntry struct {
	URL         string
	OK          bool
	Status      int
	Error       string
	Skipped     string
	Kind        Kind
	Redirects   []string
	Sources     []Source
	MoreSources int
	Depth       int
	Elapsed     time.Duration
	State       uint8
	Fetched     bool
	HTML        bool
	Scanned     bool // Anchors is meaningful (nil and empty differ)
	Anchors     []uint64
	Base        string // KindFragment: the page's key
	Frag        string
}

// Save writes the checker's state (targets, their sources and outcomes, the
// pages seen and their anchors) so that a later Checker can Restore it and
// go on: a check resumed with a persistent frontier then reports the links
// of the earlier runs' pages too. Save may be called after Run returned.
func (c *Checker) Save(w io.Writer) error {
	c.docsMu.Lock()
	docs := make([]uint64, 0, len(c.docs))
	for fp := range c.docs {
		docs = append(docs, fp)
	}
	c.docsMu.Unlock()
	c.mu.Lock()
	s := snapshot{Version: snapshotVersion, Pages: c.pages, Docs: docs}
	for _, e := range c.targets {
		se := snapEntry{URL: e.URL, OK: e.OK, Status: e.Status, Error: e.Error, Skipped: e.Skipped, Kind: e.Kind,
			Redirects: e.Redirects, Sources: e.Sources, MoreSources: e.MoreSources, Depth: e.Depth, Elapsed: e.Elapsed,
			State: uint8(e.state), Fetched: e.fetched, HTML: e.html, Scanned: e.anchors != nil, Anchors: e.anchors, Frag: e.frag}
		if e.base != nil {
			se.Base = e.base.URL
		}
		s.Targets = append(s.Targets, se)
	}
	err := gob.NewEncoder(w).Encode(&s)
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("linkcheck: save: %w", err)
	}
	return nil
}

// Restore loads what Save wrote into a Checker that has not run yet. The
// targets that were waiting for a check are checked again by Run; those
// waiting for the crawl wait for it (or are checked at its end).
func (c *Checker) Restore(r io.Reader) error {
	var s snapshot
	if err := gob.NewDecoder(r).Decode(&s); err != nil {
		return fmt.Errorf("linkcheck: restore: %w", err)
	}
	if s.Version != snapshotVersion {
		return fmt.Errorf("linkcheck: restore: format %d, want %d", s.Version, snapshotVersion)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.targets) > 0 || len(c.pages) > 0 {
		return errors.New("linkcheck: restore: the checker is not new")
	}
	c.pages = s.Pages
	c.pagesN.Store(int64(len(s.Pages)))
	c.docsMu.Lock()
	for _, fp := range s.Docs {
		c.docs[fp] = struct{}{}
	}
	c.docsMu.Unlock()
	for _, se := range s.Targets {
		e := c.newEntry(se.URL, se.Kind)
		e.Target = Target{URL: se.URL, OK: se.OK, Status: se.Status, Error: se.Error, Skipped: se.Skipped, Kind: se.Kind,
			Redirects: se.Redirects, Sources: se.Sources, MoreSources: se.MoreSources, Depth: se.Depth, Elapsed: se.Elapsed}
		e.state, e.fetched, e.html, e.frag = state(se.State), se.Fetched, se.HTML, se.Frag
		if se.Scanned {
			e.anchors = anchorSet(se.Anchors)
			if e.anchors == nil {
				e.anchors = anchorSet{}
			}
		}
		switch {
		case e.state == stateDone:
			c.checkedN.Add(1)
			switch {
			case e.Skipped != "":
				c.skippedN.Add(1)
			case !e.OK:
				c.brokenN.Add(1)
			}
		case e.state == stateQueued && e.Kind != KindFragment:
			c.restored = append(c.restored, e)
		}
	}
	for _, se := range s.Targets {
		if se.Base != "" {
			e := c.targets[se.URL]
			if e.base = c.targets[se.Base]; e.base == nil {
				return fmt.Errorf("linkcheck: restore: fragment %s without its page", se.URL)
			}
		}
	}
	return nil
}

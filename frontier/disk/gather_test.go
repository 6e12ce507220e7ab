package disk

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
)

// waitOps waits until n ops are queued for the committer.
func waitOps(t *testing.T, d *Disk, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(d.ops) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d ops queued, want %d", len(d.ops), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGatherBeforeNewPass: the ops BeforeCommit's gather takes in for the
// commit of the ops before a NewPass do not overwrite the NewPass or the
// ops after it in the committer's batch (commitOps commits the part before
// the NewPass, which shares the batch's array).
func TestGatherBeforeNewPass(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hooks := make(chan func(gather func()), 2) // what the next commits' hooks do
	d, err := Open(t.TempDir(), Config{NoSync: true, CommitInterval: 20 * time.Millisecond,
		BeforeCommit: func(gather func(), _ func(string, []byte) error) error {
			select {
			case f := <-hooks:
				f(gather)
			default:
				gather()
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Push(ctx, frontier.Entry{URL: "http://a.test/1"}, frontier.Entry{URL: "http://a.test/2"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	l1, err := d.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l2, err := d.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 5)
	saveState := func(key string) { go func() { errs <- d.SaveState(ctx, key, []byte(key)) }() }

	// The first commit (l1's Ack) holds the committer while l2's Ack, a
	// NewPass and a SaveState queue up in that order: the next batch.
	release := make(chan struct{})
	hooks <- func(gather func()) {
		gather()
		go func() {
			waitOps(t, d, 0)
			go func() { errs <- d.Ack(ctx, l2) }()
			waitOps(t, d, 1)
			go func() {
				ok, err := d.NewPass(ctx)
				if err == nil && !ok {
					err = fmt.Errorf("NewPass did not start a pass")
				}
				errs <- err
			}()
			waitOps(t, d, 2)
			saveState("after")
			waitOps(t, d, 3)
			close(release)
		}()
		<-release
	}
	// That batch's first part (l2's Ack) takes in two late ops.
	hooks <- func(gather func()) {
		saveState("late1")
		waitOps(t, d, 1)
		saveState("late2")
		waitOps(t, d, 2)
		gather()
	}
	if err := d.Ack(ctx, l1); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatal(err)
			}
		case <-ctx.Done():
			t.Fatal("an operation never returned: lost from the committer's batch")
		}
	}
	for _, k := range []string{"after", "late1", "late2"} {
		if v, err := d.LoadState(ctx, k); err != nil || string(v) != k {
			t.Errorf("state %q = %q, %v; want it saved", k, v, err)
		}
	}
	if started, _ := d.PassStarted(ctx); started.IsZero() {
		t.Error("no pass start")
	}
}

package disk

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
)

// TestCloseWaitsForPromote checks that Close returns only once the
// goroutine Next starts to move due retries (promote) has exited: every
// goroutine a Disk starts is drained by Close.
func TestCloseWaitsForPromote(t *testing.T) {
	d, err := Open(t.TempDir(), Config{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := d.Push(ctx, frontier.Entry{URL: "http://promote.test/a"}); err != nil {
		t.Fatal(err)
	}
	l, err := d.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A retry that is due at once: the next Next starts a promote.
	if err := d.Retry(ctx, l, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	started, proceed := make(chan struct{}), make(chan struct{})
	d.testHookPromote = func() {
		close(started)
		<-proceed
	}
	nextErr := make(chan error, 1)
	go func() {
		_, err := d.Next(ctx)
		nextErr <- err
	}()
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("Next started no promote goroutine")
	}
	closed := make(chan error, 1)
	go func() { closed <- d.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while the promote goroutine was still running", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(proceed)
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Close did not return once the promote goroutine could exit")
	}
	buf := make([]byte, 1<<20)
	if st := string(buf[:runtime.Stack(buf, true)]); strings.Contains(st, "(*Disk).promote") {
		t.Errorf("a promote goroutine is still running after Close:\n%s", st)
	}
	if err := <-nextErr; !errors.Is(err, frontier.ErrClosed) {
		t.Errorf("Next blocked across Close = %v; want ErrClosed", err)
	}
}

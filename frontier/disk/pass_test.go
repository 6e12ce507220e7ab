package disk_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/disk"
)

// drainAll leases and acknowledges everything d has and returns how many.
func drainAll(ctx context.Context, t *testing.T, d *disk.Disk) int {
	t.Helper()
	n := 0
	for {
		l, err := d.Next(ctx)
		if errors.Is(err, frontier.ErrDone) {
			return n
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if err := d.Ack(ctx, l); err != nil {
			t.Fatalf("Ack: %v", err)
		}
		n++
	}
}

// TestNewPassAckedAndState checks that Acked counts per pass, across
// reopening, and that the state area survives a new pass.
func TestNewPassAckedAndState(t *testing.T) {
	dir := t.TempDir()
	ctx := ctxT(t)
	cfg := disk.Config{NoSync: true}
	d, err := disk.Open(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SaveState(ctx, "stats", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Push(ctx, urls("a.test", 10)...); err != nil {
		t.Fatal(err)
	}
	if n := drainAll(ctx, t, d); n != 10 {
		t.Fatalf("first pass leased %d; want 10", n)
	}
	if got := d.Acked(); got != 10 {
		t.Fatalf("Acked after the first pass = %d; want 10", got)
	}
	if started, err := d.NewPass(ctx); err != nil || !started {
		t.Fatalf("NewPass = %v, %v; want true", started, err)
	}
	if got := d.Acked(); got != 0 {
		t.Errorf("Acked after NewPass = %d; want 0", got)
	}
	if _, err := d.Push(ctx, urls("a.test", 10)...); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		l, err := d.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Ack(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = open(t, dir, cfg)
	if got := d.Acked(); got != 3 {
		t.Errorf("Acked after 3 acks in the new pass and reopening = %d; want 3", got)
	}
	v, err := d.LoadState(ctx, "stats")
	if err != nil || string(v) != "kept" {
		t.Errorf("LoadState after NewPass = %q, %v; want %q", v, err, "kept")
	}
	if !d.Resumed() {
		t.Error("Resumed = false for a directory with a pass in progress")
	}
	if n := drainAll(ctx, t, d); n != 7 {
		t.Errorf("rest of the pass leased %d; want 7", n)
	}
}

// TestNewPassDuringMerge crawls pass after pass with seen-log merges all
// the time (a small SeenLog and cache): every pass must find every URL new
// once, also after reopening right after a NewPass, so nothing of the old
// seen set (tree, log, cache) survives it.
func TestNewPassDuringMerge(t *testing.T) {
	dir := t.TempDir()
	// Generous: thousands of commits, slow under -race on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := disk.Config{NoSync: true, SeenLog: 64, MaxBatch: 32, SeenCache: 256, AckWindow: 8}
	d := open(t, dir, cfg)
	const n = 1500
	es := urls("m.test", n)
	for pass := range 4 {
		if added, err := d.Push(ctx, es...); err != nil || added != n {
			t.Fatalf("pass %d: Push = %d, %v; want %d", pass, added, err, n)
		}
		if added, err := d.Push(ctx, es...); err != nil || added != 0 {
			t.Fatalf("pass %d: second Push = %d, %v; want 0", pass, added, err)
		}
		if got := drainAll(ctx, t, d); got != n {
			t.Fatalf("pass %d: leased %d; want %d", pass, got, n)
		}
		if started, err := d.NewPass(ctx); err != nil || !started {
			t.Fatalf("pass %d: NewPass = %v, %v; want true", pass, started, err)
		}
		if pass == 2 {
			// Reopen right after a new pass: nothing of the old seen set
			// may be loaded back.
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			d = open(t, dir, cfg)
		}
		if st, err := d.Stats(ctx); err != nil || st.Seen != 0 {
			t.Fatalf("pass %d: Stats after NewPass = %+v, %v; want Seen 0", pass, st, err)
		}
	}
}

// passChildEnv names the state directory of TestNewPassKill's child.
const passChildEnv = "TRAWL_DISK_PASS_CHILD"

// passURLs is the number of URLs each pass of the child crawls.
const passURLs = 400

var passConfig = disk.Config{NoSync: true, SeenLog: 64, MaxBatch: 16, AckWindow: 4}

// passChild crawls the same passURLs URLs pass after pass, starting a new
// pass (and printing "new") each time the crawl is finished, until killed.
func passChild(dir string) {
	ctx := context.Background()
	d, err := disk.Open(dir, passConfig)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	es := urls("pass.test", passURLs)
	for {
		if _, err := d.NewPass(ctx); err != nil {
			fmt.Println("newpass:", err)
			os.Exit(3)
		}
		fmt.Println("new")
		if _, err := d.Push(ctx, es...); err != nil {
			fmt.Println("push:", err)
			os.Exit(3)
		}
		for {
			l, err := d.Next(ctx)
			if errors.Is(err, frontier.ErrDone) {
				break
			}
			if err != nil {
				fmt.Println("next:", err)
				os.Exit(3)
			}
			if err := d.Ack(ctx, l); err != nil {
				fmt.Println("ack:", err)
				os.Exit(3)
			}
		}
	}
}

// TestNewPassKill SIGKILLs a child that crawls pass after pass at random
// moments (also during NewPass) and checks, after each kill, that the
// directory opens and is consistent: either in the old pass or in the new
// one, never between. Pushing every URL adds exactly those not seen in the
// current pass, and the queue then holds exactly the URLs not acknowledged
// in it (Acked), so the pass completes with every URL acknowledged once.
func TestNewPassKill(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 9))
	es := urls("pass.test", passURLs)
	passes := 0
	for run := range 12 {
		cmd, out, stderr := startChild(t, []string{passChildEnv + "=" + dir})
		// Kill after a few passes, at a random moment.
		want := 2 + rng.IntN(4)
		s := bufio.NewScanner(out)
		var other []string
		n := 0
		for s.Scan() {
			if s.Text() != "new" {
				other = append(other, s.Text())
				continue
			}
			if n++; n == want {
				time.AfterFunc(time.Duration(rng.IntN(3000))*time.Microsecond, func() {
					_ = cmd.Process.Signal(syscall.SIGKILL)
				})
			}
		}
		err := cmd.Wait()
		if len(other) > 0 {
			t.Fatalf("run %d: child printed:\n%s\n%s", run, strings.Join(other, "\n"), stderr.String())
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("run %d: child ended without being killed: %v\n%s", run, err, stderr.String())
		}
		passes += n

		ctx := ctxT(t)
		d, err := disk.Open(dir, passConfig)
		if err != nil {
			t.Fatalf("run %d: Open after kill: %v", run, err)
		}
		st, err := d.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		acked := d.Acked()
		added, err := d.Push(ctx, es...)
		if err != nil {
			t.Fatal(err)
		}
		if int64(added) != passURLs-st.Seen {
			t.Errorf("run %d: Push of all URLs after the kill added %d; Stats.Seen was %d of %d", run, added, st.Seen, passURLs)
		}
		if got := drainAll(ctx, t, d); int64(got) != passURLs-acked {
			t.Errorf("run %d: leased %d after the kill; want %d (all %d but the %d acknowledged in this pass; Stats %+v)",
				run, got, passURLs-acked, passURLs, acked, st)
		}
		if started, err := d.NewPass(ctx); err != nil || !started {
			t.Errorf("run %d: NewPass after finishing the pass = %v, %v; want true", run, started, err)
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d passes started over 12 kills", passes)
}

// TestPassStarted: the first pass began when the store was created, a new
// one when NewPass started it; both survive a reopen.
func TestPassStarted(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := time.Unix(1_800_000_000, 5)
	cfg := disk.Config{NoSync: true, Now: func() time.Time { return clock }}
	d, err := disk.Open(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	created := clock
	clock = clock.Add(time.Hour)
	if got, err := d.PassStarted(ctx); err != nil || !got.Equal(created) {
		t.Fatalf("PassStarted = %v, %v; want the creation %v", got, err, created)
	}
	if _, err := d.Push(ctx, frontier.Entry{URL: "http://a.test/"}); err != nil {
		t.Fatal(err)
	}
	if n := drainAll(ctx, t, d); n != 1 {
		t.Fatalf("drained %d; want 1", n)
	}
	d.Close()
	if d, err = disk.Open(dir, cfg); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.PassStarted(ctx); !got.Equal(created) {
		t.Fatalf("after reopening: PassStarted = %v; want %v", got, created)
	}
	if ok, err := d.NewPass(ctx); !ok || err != nil {
		t.Fatalf("NewPass = %v, %v", ok, err)
	}
	if got, _ := d.PassStarted(ctx); !got.Equal(clock) {
		t.Fatalf("after NewPass: PassStarted = %v; want %v", got, clock)
	}
	d.Close()
	if d, err = disk.Open(dir, cfg); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got, _ := d.PassStarted(ctx); !got.Equal(clock) {
		t.Fatalf("after reopening: PassStarted = %v; want the new pass's %v", got, clock)
	}
}

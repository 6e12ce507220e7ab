package disk_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/frontier/disk"
)

// crashChildEnv names the state directory of a crash test's child process.
const crashChildEnv = "TRAWL_DISK_CRASH_CHILD"

// crashPages, crashWorkers and crashConfig describe the crawl the child runs:
// page i links to 2i+1, 2i+2 and i/2; a small seen log and small batches
// keep merges and commits going all the time.
const crashPages, crashWorkers = 20000, 4

var crashConfig = disk.Config{NoSync: true, SeenLog: 64, MaxBatch: 16, AckWindow: crashWorkers}

func crashURL(i int) string { return fmt.Sprintf("http://h%d.crash.test/p/%d", i%5, i) }

// TestMain runs crashChild (passChild) instead of the tests in a child
// process of TestKillResume (TestNewPassKill).
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		os.Exit(0)
	}
	if dir := os.Getenv(passChildEnv); dir != "" {
		passChild(dir)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashChild crawls with crashWorkers workers, printing "done N" for each
// page before it acknowledges it (as the crawler writes a record before
// Ack), until the frontier is done or the parent kills it.
func crashChild(dir string) {
	ctx := context.Background()
	d, err := disk.Open(dir, crashConfig)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	if _, err := d.Push(ctx, frontier.Entry{URL: crashURL(0)}); err != nil {
		fmt.Println("push:", err)
		os.Exit(3)
	}
	var outMu sync.Mutex
	var wg sync.WaitGroup
	for range crashWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				l, err := d.Next(ctx)
				if errors.Is(err, frontier.ErrDone) {
					return
				}
				if err != nil {
					fmt.Println("next:", err)
					os.Exit(3)
				}
				i, _ := strconv.Atoi(l.URL[strings.LastIndexByte(l.URL, '/')+1:])
				var links []frontier.Entry
				for _, j := range []int{2*i + 1, 2*i + 2, i / 2} {
					if j < crashPages {
						links = append(links, frontier.Entry{URL: crashURL(j), Depth: l.Depth + 1})
					}
				}
				if _, err := d.Push(ctx, links...); err != nil {
					fmt.Println("push:", err)
					os.Exit(3)
				}
				outMu.Lock()
				fmt.Printf("done %d\n", i) // unbuffered: one write
				outMu.Unlock()
				if err := d.Ack(ctx, l); err != nil {
					fmt.Println("ack:", err)
					os.Exit(3)
				}
			}
		}()
	}
	wg.Wait()
	if err := d.Close(); err != nil {
		fmt.Println("close:", err)
		os.Exit(3)
	}
}

// TestKillResume runs crashChild in a child process, SIGKILLs it at
// random moments (during commits and seen-log merges: both run all the
// time), and starts it again until the crawl completes. Every page must be
// done at least once across the runs, and the pages done more than once
// are at most the leases outstanding plus the acknowledgement window, per
// kill.
func TestKillResume(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			rng := rand.New(rand.NewPCG(seed, 7))
			done := map[int]int{}
			kills := 0
			for run := 0; ; run++ {
				if run == 30 {
					t.Fatalf("crawl not finished after %d runs", run)
				}
				cmd := exec.Command(os.Args[0])
				cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
				out, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				var stderr strings.Builder
				cmd.Stderr = &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				killed := false
				var timer *time.Timer
				if run < 12 {
					timer = time.AfterFunc(time.Duration(20+rng.IntN(200))*time.Millisecond, func() {
						_ = cmd.Process.Signal(syscall.SIGKILL)
					})
				}
				var other []string
				s := bufio.NewScanner(out)
				for s.Scan() {
					line := s.Text()
					if n, ok := strings.CutPrefix(line, "done "); ok {
						i, err := strconv.Atoi(n)
						if err != nil {
							t.Fatalf("child printed %q", line)
						}
						done[i]++
						continue
					}
					other = append(other, line)
				}
				err = cmd.Wait()
				if timer != nil && !timer.Stop() {
					killed = true
				}
				if killed {
					kills++
					continue
				}
				if err != nil {
					t.Fatalf("run %d: %v\n%s\n%s", run, err, strings.Join(other, "\n"), stderr.String())
				}
				if len(other) > 0 {
					t.Fatalf("run %d printed:\n%s", run, strings.Join(other, "\n"))
				}
				break
			}
			dups := 0
			for i := range crashPages {
				switch c := done[i]; {
				case c == 0:
					t.Errorf("page %d never done after %d kills", i, kills)
				case c > 1:
					dups += c - 1
				}
			}
			if bound := kills * (crashWorkers + crashConfig.AckWindow); dups > bound {
				t.Errorf("%d pages done again after %d kills; want at most %d", dups, kills, bound)
			}
			t.Logf("%d kills, %d pages done again", kills, dups)

			d, err := disk.Open(dir, crashConfig)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			st, err := d.Stats(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if st.Queued != 0 || st.Leased != 0 || st.Seen != crashPages {
				t.Errorf("stats after the crawl %+v; want nothing queued and %d seen", st, crashPages)
			}
			if n, err := d.Push(context.Background(), frontier.Entry{URL: crashURL(crashPages / 2)}); n != 0 || err != nil {
				t.Errorf("Push of a URL done = %d, %v; want 0 (seen)", n, err)
			}
		})
	}
}

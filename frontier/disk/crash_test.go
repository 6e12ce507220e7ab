package disk_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
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

// crashModeEnv, when set, names the file a child writes its "done N" lines
// to, from BeforeCommit (TestKillResumeOutput), with crashOutConfig; it
// saves where the file ends under crashOutKey.
const (
	crashModeEnv = "TRAWL_DISK_CRASH_OUT"
	crashOutKey  = "test/out-end"
)

var crashOutConfig = disk.Config{NoSync: true, SeenLog: 64, MaxBatch: 64, AckWindow: 64, CommitInterval: 2 * time.Millisecond}

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
	cfg := crashConfig
	var outMu sync.Mutex
	var buf []byte // lines not yet written out (output mode)
	outPath := os.Getenv(crashModeEnv)
	var outFile *os.File
	if outPath != "" {
		f, err := os.OpenFile(outPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Println("open output:", err)
			os.Exit(3)
		}
		outFile = f
		cfg = crashOutConfig
		cfg.BeforeCommit = func(gather func(), save func(string, []byte) error) error {
			outMu.Lock()
			defer outMu.Unlock()
			gather()
			if _, err := f.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
			st, err := f.Stat()
			if err != nil {
				return err
			}
			return save(crashOutKey, binary.BigEndian.AppendUint64(nil, uint64(st.Size())))
		}
	}
	d, err := disk.Open(dir, cfg)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	if _, err := d.Push(ctx, frontier.Entry{URL: crashURL(0)}); err != nil {
		fmt.Println("push:", err)
		os.Exit(3)
	}
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
				if outPath != "" {
					buf = fmt.Appendf(buf, "done %d\n", i)
					if len(buf) > 512 {
						// Written out early, as the CLI's buffer is when
						// full: ahead of the commit of these pages.
						if _, err := outFile.Write(buf); err != nil {
							fmt.Println("write:", err)
							os.Exit(3)
						}
						buf = buf[:0]
					}
				} else {
					fmt.Printf("done %d\n", i) // unbuffered: one write
				}
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
			done, kills := crashRuns(t, dir, seed, nil, nil)
			checkCrashCrawl(t, dir, crashConfig, done, kills, crashWorkers+crashConfig.AckWindow)
		})
	}
}

// TestKillResumeOutput is TestKillResume for a caller that keeps its output
// in line with the commits, as the CLI does with a records file: the child
// buffers its "done N" lines, BeforeCommit writes them to a file and saves
// where the file ends, and after each kill the file is cut back there. With
// a wide AckWindow and a long CommitInterval, the pages done more than once
// must still be at most the leases outstanding per kill: none of the
// window's.
func TestKillResumeOutput(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{3, 4} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			out := dir + ".out"
			cut := 0
			done, kills := crashRuns(t, dir, seed, []string{crashModeEnv + "=" + out}, func() {
				d, err := disk.Open(dir, crashOutConfig)
				if err != nil {
					t.Fatal(err)
				}
				b, err := d.LoadState(context.Background(), crashOutKey)
				d.Close()
				if err != nil {
					t.Fatal(err)
				}
				var end int64
				if len(b) == 8 {
					end = int64(binary.BigEndian.Uint64(b))
				}
				st, err := os.Stat(out)
				if errors.Is(err, os.ErrNotExist) {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if st.Size() < end {
					t.Fatalf("output file of %d bytes, but a commit saved %d", st.Size(), end)
				}
				if st.Size() > end {
					cut++
					if err := os.Truncate(out, end); err != nil {
						t.Fatal(err)
					}
				}
			})
			if len(done) > 0 {
				t.Fatalf("child printed %d pages on stdout in output mode", len(done))
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
				n, ok := strings.CutPrefix(line, "done ")
				i, err := strconv.Atoi(n)
				if !ok || err != nil {
					t.Fatalf("output line %q", line)
				}
				done[i]++
			}
			checkCrashCrawl(t, dir, crashOutConfig, done, kills, crashWorkers)
			t.Logf("output cut back after %d of %d kills", cut, kills)
		})
	}
}

// crashRuns runs crashChild (with env added) on dir, SIGKILLing it at a
// random moment in each of the first 12 runs and calling afterKill after
// each kill, until a run completes. It returns how often each page was
// printed "done" on stdout, and the kills.
func crashRuns(t *testing.T, dir string, seed uint64, env []string, afterKill func()) (map[int]int, int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	done := map[int]int{}
	kills := 0
	for run := 0; ; run++ {
		if run == 30 {
			t.Fatalf("crawl not finished after %d runs", run)
		}
		cmd, out, stderr := startChild(t, append([]string{crashChildEnv + "=" + dir}, env...))
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
		err := cmd.Wait()
		if timer != nil && !timer.Stop() {
			killed = true
		}
		if killed {
			kills++
			if afterKill != nil {
				afterKill()
			}
			continue
		}
		if err != nil {
			t.Fatalf("run %d: %v\n%s\n%s", run, err, strings.Join(other, "\n"), stderr.String())
		}
		if len(other) > 0 {
			t.Fatalf("run %d printed:\n%s", run, strings.Join(other, "\n"))
		}
		return done, kills
	}
}

// startChild starts this test binary again, running no test, with env
// added to its environment (TestMain then runs the child named there); it
// returns the process, its standard output and what it writes to standard
// error.
func startChild(t *testing.T, env []string) (*exec.Cmd, io.ReadCloser, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, out, stderr
}

// checkCrashCrawl checks a finished crash crawl: every page done, at most
// perKill pages done again per kill, nothing left in the frontier.
func checkCrashCrawl(t *testing.T, dir string, cfg disk.Config, done map[int]int, kills, perKill int) {
	t.Helper()
	dups := 0
	for i := range crashPages {
		switch c := done[i]; {
		case c == 0:
			t.Errorf("page %d never done after %d kills", i, kills)
		case c > 1:
			dups += c - 1
		}
	}
	if bound := kills * perKill; dups > bound {
		t.Errorf("%d pages done again after %d kills; want at most %d", dups, kills, bound)
	}
	t.Logf("%d kills, %d pages done again", kills, dups)

	d, err := disk.Open(dir, cfg)
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
}

package disk_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trawlhq/trawl/crawler/recrawl"
	"github.com/trawlhq/trawl/crawler/recrawl/disk"
	"github.com/trawlhq/trawl/crawler/recrawl/recrawltest"
)

// killChildEnv names the store file of TestKill's child process, and
// killRunEnv the run number (which picks the child's URLs).
const (
	killChildEnv = "TRAWL_RECRAWL_DISK_CHILD"
	killRunEnv   = "TRAWL_RECRAWL_DISK_RUN"
	killSavers   = 16
)

// TestMain runs killChild instead of the tests in TestKill's child.
func TestMain(m *testing.M) {
	if p := os.Getenv(killChildEnv); p != "" {
		run, _ := strconv.Atoi(os.Getenv(killRunEnv))
		killChild(p, run)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func killURL(run, i int) string { return fmt.Sprintf("http://h%d.kill.example/r%d/p/%d", i%7, run, i) }

// killChild saves pages with killSavers goroutines until killed, printing
// "saved I" once Save of page I returned, and for every fifth page then
// deletes it and prints "deleted I" once Delete returned. Writes to stdout
// are unbuffered: a line printed is a line the parent reads.
func killChild(path string, run int) {
	ctx := context.Background()
	s, err := disk.Open(path, disk.Config{})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		fmt.Printf(format, args...)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for g := range killSavers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; ; i += killSavers {
				if err := s.Save(ctx, recrawltest.Sample(killURL(run, i), i)); err != nil {
					say("save: %v\n", err)
					os.Exit(3)
				}
				say("saved %d\n", i)
				if i%5 == 0 {
					if err := s.Delete(ctx, killURL(run, i)); err != nil {
						say("delete: %v\n", err)
						os.Exit(3)
					}
					say("deleted %d\n", i)
				}
			}
		}()
	}
	wg.Wait()
}

// TestKill runs killChild in a child process and SIGKILLs it at a random
// moment, several times on one file. After each kill the file must open
// cleanly, every Save that returned must be there (unless its page's
// Delete may have landed), every Delete that returned must have removed
// its page, and Len must count what Range sees.
func TestKill(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "pages.db")
	rng := rand.New(rand.NewPCG(5, 8))
	ctx := context.Background()
	for run := range 6 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), killChildEnv+"="+p, killRunEnv+"="+strconv.Itoa(run))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill once the child has saved a random number of pages, plus a
		// random fraction of a millisecond: mid-commit as often as not.
		killAt := 200 + rng.IntN(3000)
		saved := map[int]bool{}
		deleted := map[int]bool{}
		var other []string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			verb, num, _ := strings.Cut(line, " ")
			i, err := strconv.Atoi(num)
			switch {
			case err == nil && verb == "saved":
				saved[i] = true
				if len(saved) == killAt {
					time.AfterFunc(time.Duration(rng.IntN(1000))*time.Microsecond, func() {
						_ = cmd.Process.Signal(syscall.SIGKILL)
					})
				}
			case err == nil && verb == "deleted":
				deleted[i] = true
			default:
				other = append(other, line)
			}
		}
		err = cmd.Wait()
		if len(other) > 0 {
			t.Fatalf("run %d: child printed:\n%s\n%s", run, strings.Join(other, "\n"), stderr.String())
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("run %d: child ended without being killed: %v\n%s", run, err, stderr.String())
		}

		s, err := disk.Open(p, disk.Config{})
		if err != nil {
			t.Fatalf("run %d: Open after kill -9: %v", run, err)
		}
		lost := 0
		for i := range saved {
			u := killURL(run, i)
			got, err := s.Load(ctx, u)
			if err != nil {
				t.Fatalf("run %d: Load %s: %v", run, u, err)
			}
			switch {
			case deleted[i]:
				if got != nil {
					t.Errorf("run %d: %s deleted before the kill is back", run, u)
				}
			case got == nil:
				if i%5 != 0 { // else its Delete may have landed unreported
					lost++
					if lost <= 5 {
						t.Errorf("run %d: %s saved before the kill is missing", run, u)
					}
				}
			default:
				if d := recrawltest.Equal(got, recrawltest.Sample(u, i)); d != "" {
					t.Errorf("run %d: %s: %s", run, u, d)
				}
			}
		}
		if lost > 0 {
			t.Errorf("run %d: %d of %d saved pages lost", run, lost, len(saved))
		}
		n := 0
		if err := s.Range(ctx, func(u string, depth int) error { n++; return nil }); err != nil {
			t.Fatalf("run %d: Range: %v", run, err)
		}
		if l, err := s.Len(ctx); err != nil || int64(n) != l {
			t.Errorf("run %d: Range saw %d pages, Len says %d, %v", run, n, l, err)
		}
		// The store still takes writes.
		if err := s.Save(ctx, &recrawl.Page{URL: fmt.Sprintf("http://after.kill/%d", run)}); err != nil {
			t.Errorf("run %d: Save after reopening: %v", run, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("run %d: killed after %d saves returned (%d deletes); %d pages in the file", run, len(saved), len(deleted), n)
	}
}

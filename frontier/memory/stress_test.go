package memory

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
)

// TestCancelledWaitersLoseNothing has many workers whose Next calls often
// give up (short deadlines) while hosts become ready at staggered times: a
// wake-up meant for a worker that gave up must reach another, so every URL
// is still delivered exactly once.
func TestCancelledWaitersLoseNothing(t *testing.T) {
	m := New(Config{Policy: frontier.HostPolicy{MaxInFlight: 1, Interval: 2 * time.Millisecond}})
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const hosts, per = 20, 15
	var es []frontier.Entry
	for h := range hosts {
		for i := range per {
			es = append(es, frontier.Entry{URL: fmt.Sprintf("http://s%d.test/%d", h, i)})
		}
	}
	if _, err := m.Push(ctx, es...); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		got  = map[string]int{}
		done atomic.Int32
	)
	var wg sync.WaitGroup
	for w := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for ctx.Err() == nil {
				wctx, wcancel := context.WithTimeout(ctx, time.Duration(r.IntN(3000))*time.Microsecond)
				l, err := m.Next(wctx)
				wcancel()
				switch {
				case errors.Is(err, frontier.ErrDone):
					done.Add(1)
					return
				case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
					continue
				case err != nil:
					t.Errorf("Next: %v", err)
					return
				}
				mu.Lock()
				got[l.URL]++
				mu.Unlock()
				if err := m.Ack(ctx, l); err != nil {
					t.Errorf("Ack: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(got) != len(es) {
		t.Errorf("delivered %d distinct URLs; want %d", len(got), len(es))
	}
	for u, n := range got {
		if n != 1 {
			t.Errorf("%s delivered %d times", u, n)
		}
	}
	if done.Load() != 40 {
		t.Errorf("%d workers saw ErrDone; want 40", done.Load())
	}
}

package redis

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/internal/redistest"
)

// lossyProxy forwards TCP between clients and a real Redis. When armed
// with a script's SHA-1, it lets the next call of that script through to
// Redis, so that it runs, and then cuts the connection instead of passing
// the reply on: the client sees its request fail after Redis applied it.
// Other traffic (the lease heartbeat's script) passes, so it cannot take
// the cut meant for the call under test.
type lossyProxy struct {
	ln     net.Listener
	target string
	armed  atomic.Pointer[string] // the SHA-1 of the script whose reply to cut
	cuts   atomic.Int32
	wg     sync.WaitGroup
}

// arm makes the proxy cut the reply to the next call of s.
func (p *lossyProxy) arm(s *goredis.Script) {
	h := s.Hash()
	p.armed.Store(&h)
}

func newLossyProxy(t *testing.T, target string) *lossyProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &lossyProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *lossyProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		var cut atomic.Bool // this connection's next reply is to be dropped
		p.wg.Add(2)
		go func() { // client -> server
			defer p.wg.Done()
			buf := make([]byte, 64<<10)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					if h := p.armed.Load(); h != nil && bytes.Contains(buf[:n], []byte(*h)) && p.armed.CompareAndSwap(h, nil) {
						cut.Store(true)
					}
					if _, werr := s.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			s.Close()
		}()
		go func() { // server -> client
			defer p.wg.Done()
			buf := make([]byte, 64<<10)
			for {
				n, err := s.Read(buf)
				if n > 0 && cut.Load() {
					p.cuts.Add(1)
					break // the reply is lost
				}
				if n > 0 {
					if _, werr := c.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			c.Close()
			s.Close()
		}()
	}
}

// drainInto leases and acknowledges everything f has, counting each URL in
// got.
func drainInto(ctx context.Context, t *testing.T, f *Frontier, got map[string]int) {
	t.Helper()
	for {
		l, err := f.Next(ctx)
		if errors.Is(err, frontier.ErrDone) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		got[l.URL]++
		if err := f.Ack(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLostReplies: when Redis applies a Push, Ack, Next or AckLease but the
// reply never arrives, the retried operation neither loses nor
// double-counts anything: Push reports the first attempt's count, Ack and
// AckLease succeed, and a lease whose reply was lost comes back after the
// visibility timeout.
func TestLostReplies(t *testing.T) {
	c := redistest.Client(t)
	proxy := newLossyProxy(t, c.Options().Addr)
	ctx := ctxT(t, 20*time.Second)
	// Load the scripts, so that the first attempt of each call runs (a
	// NOSCRIPT reply would be lost instead, and prove nothing).
	for _, s := range []*goredis.Script{pushScript, nextScript, ackScript, ackLeaseScript} {
		if err := s.Load(ctx, c).Err(); err != nil {
			t.Fatal(err)
		}
	}
	u, err := url.Parse(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Host = proxy.ln.Addr().String() // same credentials and database, through the proxy
	f, err := Open(ctx, u.String(), Config{
		Name:              redistest.Name(t),
		VisibilityTimeout: 300 * time.Millisecond,
		Logger:            slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Drop(context.Background()); f.Close() })

	proxy.arm(pushScript)
	n, err := f.Push(ctx, urls("lost.test", 3)...)
	if err != nil || n != 3 {
		t.Errorf("Push with its reply lost = %d, %v; want 3, nil", n, err)
	}
	if proxy.cuts.Load() != 1 {
		t.Fatalf("proxy cut %d replies; want 1 (the test did not exercise the loss)", proxy.cuts.Load())
	}
	if st, _ := f.Stats(ctx); st.Seen != 3 || st.Queued != 3 {
		t.Errorf("Stats after the retried Push = %+v; want Seen 3, Queued 3", st)
	}

	l, err := f.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.seen.view(); !ok {
		t.Error("no seen-cache epoch after a lease")
	}
	proxy.arm(ackScript)
	if err := f.Ack(ctx, l); err != nil {
		t.Errorf("Ack with its reply lost = %v; want nil (the first attempt was applied)", err)
	}
	if _, ok := f.seen.view(); ok {
		t.Error("the seen cache outlived a retried call (Redis may have lost what it saw)")
	}
	if proxy.cuts.Load() != 2 {
		t.Fatalf("proxy cut %d replies; want 2", proxy.cuts.Load())
	}

	// A Next whose reply is lost leaves a lease no one holds; it comes back.
	proxy.arm(nextScript)
	got := map[string]int{l.URL: 1}
	drainInto(ctx, t, f, got)
	if proxy.cuts.Load() != 3 {
		t.Fatalf("proxy cut %d replies; want 3", proxy.cuts.Load())
	}
	for _, e := range urls("lost.test", 3) {
		if got[e.URL] != 1 {
			t.Errorf("URL %s delivered %d times; want 1", e.URL, got[e.URL])
		}
	}
	if cs, _ := f.Counters(ctx); cs["expired"] != 1 {
		t.Errorf("Counters = %v; want the orphaned lease expired once", cs)
	}

	// An AckLease whose reply is lost: the retry finds the ack done and
	// leases nothing; what the first call leased comes back like any
	// orphaned lease.
	if _, err := f.Push(ctx, urls("lost2.test", 2)...); err != nil {
		t.Fatal(err)
	}
	l, err = f.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	proxy.arm(ackLeaseScript)
	if n, err := f.AckLease(ctx, l); err != nil || n != nil {
		t.Errorf("AckLease with its reply lost = %v, %v; want nil, nil (the first attempt was applied)", n, err)
	}
	if proxy.cuts.Load() != 4 {
		t.Fatalf("proxy cut %d replies; want 4", proxy.cuts.Load())
	}
	got = map[string]int{l.URL: 1}
	drainInto(ctx, t, f, got)
	for _, e := range urls("lost2.test", 2) {
		if got[e.URL] != 1 {
			t.Errorf("URL %s delivered %d times; want 1", e.URL, got[e.URL])
		}
	}
	if cs, _ := f.Counters(ctx); cs["expired"] != 2 || cs["acked"] != 5 {
		t.Errorf("Counters = %v; want 2 expired, 5 acked", cs)
	}
}

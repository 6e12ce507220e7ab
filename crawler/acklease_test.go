package crawler

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
	fredis "github.com/trawlhq/trawl/frontier/redis"
	"github.com/trawlhq/trawl/internal/redistest"
)

// countingAckLeaser is a Redis frontier that counts its acknowledgements:
// Acks on their own, and AckLeases with what they leased.
type countingAckLeaser struct {
	*fredis.Frontier
	acks, ackLeases, leased atomic.Int64
}

func (f *countingAckLeaser) Ack(ctx context.Context, l *frontier.Lease) error {
	f.acks.Add(1)
	return f.Frontier.Ack(ctx, l)
}

func (f *countingAckLeaser) AckLease(ctx context.Context, l *frontier.Lease) (*frontier.Lease, error) {
	f.ackLeases.Add(1)
	n, err := f.Frontier.AckLease(ctx, l)
	if n != nil {
		f.leased.Add(1)
	}
	return n, err
}

// TestAckLease: with a frontier.AckLeaser (a real Redis frontier), a worker
// acknowledges a page in the call that leases its next one; only the last
// page of each worker is acknowledged on its own. Every page is fetched
// once and acknowledged once, and no lease is left.
func TestAckLease(t *testing.T) {
	const pages, workers = 300, 8
	s := newCountingSite(t, pages)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rf, err := fredis.Open(ctx, redistest.URL(t), fredis.Config{Name: redistest.Name(t), Policy: frontier.HostPolicy{MaxInFlight: workers}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rf.Drop(context.Background()); rf.Close() })
	f := &countingAckLeaser{Frontier: rf}
	r := newRigFrontier(t, Config{Workers: workers, PerHost: workers, IgnoreRobots: true}, sessionConfig(), f)
	r.col.countOnly = true
	if err := r.c.Run(ctx, s.URL+"/p/0"); err != nil {
		t.Fatal(err)
	}
	for i := range s.hits {
		if k := s.hits[i].Load(); k != 1 {
			t.Errorf("/p/%d fetched %d times; want 1", i, k)
		}
	}
	acks, ackLeases, leased := f.acks.Load(), f.ackLeases.Load(), f.leased.Load()
	if acks+ackLeases != pages || acks > workers || leased == 0 {
		t.Errorf("%d Acks and %d AckLeases (%d leased); want %d in all, at most %d Acks, some leased", acks, ackLeases, leased, pages, workers)
	}
	if cs, err := rf.Counters(ctx); err != nil || cs["acked"] != pages {
		t.Errorf("Counters = %v, %v; want %d acked", cs, err, pages)
	}
	if st, err := rf.Stats(ctx); err != nil || st.Leased != 0 || st.Queued != 0 {
		t.Errorf("Stats at the end = %+v, %v; want nothing leased or queued", st, err)
	}
}

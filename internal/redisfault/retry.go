package redisfault

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Backoff and logging of Retrier.
const (
	backoffMin    = 50 * time.Millisecond
	backoffMax    = 2 * time.Second
	outageLogEach = 10 * time.Second
)

// Retrier runs the Redis operations of one component through outages:
// an operation that fails because Redis is unreachable or not serving
// (Retryable) is tried again with exponential backoff until it succeeds,
// ctx ends, the component closes or MaxOutage passes. The outage is logged
// once when it starts, then at most every 10 s however many operations
// are retrying, and once when Redis answers again. Set the exported
// fields before the first Do; a Retrier is safe for concurrent use.
type Retrier struct {
	// Component prefixes errors and log lines ("frontier/redis").
	Component string
	// Crawl is the crawl name, in log lines.
	Crawl string
	// MaxOutage is how long an operation retries before it fails. Zero
	// means until ctx ends.
	MaxOutage time.Duration
	// Log receives the outage lines. Required.
	Log *slog.Logger
	// Done is closed when the component closes; Do then returns Closed.
	Done <-chan struct{}
	// Closed is the component's error for use after Close.
	Closed error

	mu        sync.Mutex
	outageAt  time.Time // start of the current outage; zero when none
	outageLog time.Time // last outage log line
}

func (r *Retrier) closed() bool {
	select {
	case <-r.Done:
		return true
	default:
		return false
	}
}

// Do runs fn until it succeeds, fails for a reason other than Redis being
// unavailable, ctx ends, Done is closed or MaxOutage passes. retried
// reports whether an earlier attempt failed after it may have reached the
// server (so its effect may have been applied). Errors other than ctx's
// and Closed are wrapped as "COMPONENT: OP: cause".
func (r *Retrier) Do(ctx context.Context, op string, fn func(ctx context.Context) error) (retried bool, err error) {
	backoff := backoffMin
	var start time.Time
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if r.closed() {
			return retried, r.Closed
		}
		err = fn(ctx)
		if err == nil {
			if retried {
				r.recovered()
			}
			return retried, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return retried, ctxErr
		}
		if errors.Is(err, goredis.ErrClosed) || r.closed() {
			return retried, r.Closed
		}
		if !Retryable(err) {
			return retried, fmt.Errorf("%s: %s: %w", r.Component, op, err)
		}
		if start.IsZero() {
			start = time.Now()
		}
		if r.MaxOutage > 0 && time.Since(start) >= r.MaxOutage {
			return retried, fmt.Errorf("%s: %s: Redis unavailable for %v: %w", r.Component, op, time.Since(start).Round(time.Millisecond), err)
		}
		retried = true
		r.outage(op, err, backoff)
		if timer == nil {
			timer = time.NewTimer(backoff)
		} else {
			timer.Reset(backoff)
		}
		select {
		case <-ctx.Done():
			return retried, ctx.Err()
		case <-r.Done:
			return retried, r.Closed
		case <-timer.C:
		}
		backoff = min(2*backoff, backoffMax)
	}
}

// outage logs that Redis is unavailable.
func (r *Retrier) outage(op string, err error, backoff time.Duration) {
	r.mu.Lock()
	now := time.Now()
	first := r.outageAt.IsZero()
	if first {
		r.outageAt = now
	}
	logIt := first || now.Sub(r.outageLog) >= outageLogEach
	if logIt {
		r.outageLog = now
	}
	since := now.Sub(r.outageAt)
	r.mu.Unlock()
	if logIt {
		r.Log.Warn(r.Component+": Redis unavailable, retrying",
			"crawl", r.Crawl, "op", op, "for", since.Round(time.Millisecond), "retry_in", backoff, "err", err)
	}
}

// recovered logs the end of an outage once.
func (r *Retrier) recovered() {
	r.mu.Lock()
	at := r.outageAt
	r.outageAt = time.Time{}
	r.mu.Unlock()
	if !at.IsZero() {
		r.Log.Info(r.Component+": Redis reachable again", "crawl", r.Crawl, "outage", time.Since(at).Round(time.Millisecond))
	}
}
